"""The page as issue 21 measured it, against a running server: axe violations per view, the contrast of
the grey texts, English words, and how tall the page grows with a conversation.

    .venv/bin/python benchmarks/page_audit.py --url http://127.0.0.1:8000 [--json reports/page.json]
    .venv/bin/python benchmarks/page_audit.py --url http://127.0.0.1:8000 --screenshots docs

For each view (chat after an answer, 事業一覧 with a budget filter, 関連事業マップ, 収録資料, 地域ネットワーク,
/docs, /redoc, the print view) on a 1366×900 desktop and a 390×844 phone: axe-core's violations by impact,
and on the Japanese page the English words found. Then the contrast ratios of the issue's texts, the gap
between a long answer's text and the question box, and the page height after 8 questions. The server
should run without a rate limit (``ASSISTANT_RATE_LIMIT_PER_MINUTE=0``): the run asks about 20 questions.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.page_audit import (  # noqa: E402
    GOAL_QUESTION,
    VIEWPORTS,
    ask,
    axe_violations,
    chromium,
    contrast,
    english_leaks,
    open_page,
    open_tab,
    page_height,
    question_box_gap,
    type_budget,
)

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
EIGHT_TURNS = [
    GOAL_QUESTION,
    "文科省の事業で大学が申請できるものは？",
    "共創の場形成支援プログラムの問い合わせ先は？",
    "地方大学・地域産業創生交付金の予算額は？",
    "その事業の申請主体は？",
    "総合振興パッケージを具体化するために関係府省で設置した組織は何ですか？",
    "広島県のネットワークにマツダは入ってる？",
    "環境省の事業で大学が申請できるものは？",
]
CONTRAST_TARGETS = {
    "subtitle": "#pa-header p",
    "source meta": ".pa-source .pa-meta",
    "定型の回答": ".pa-composer",
    "placeholder": "#pa-question textarea::placeholder",
    "[n] marker": "#pa-chat a.pa-ref",
}


def summarise(violations: list[dict]) -> dict:
    return {
        "by_impact": dict(Counter(v["impact"] for v in violations)),
        "rules": {v["id"]: v["nodes"] for v in violations},
    }


def audit_views(browser, base: str, viewport: str) -> dict:
    out: dict[str, dict] = {}
    everything = {"minor", "moderate", "serious", "critical"}
    pg = open_page(browser, base, viewport)
    answer = ask(pg, GOAL_QUESTION)
    out["chat"] = summarise(axe_violations(pg, everything)) | {"english": english_leaks(pg, CORPUS)}
    for view in ("catalog", "map", "documents", "networks"):
        open_tab(pg, view)
        if view == "catalog":
            try:
                type_budget(pg, "min", "10億円")
            except Exception as exc:  # the budget field was broken before issue 21: record it
                out["catalog_budget_error"] = repr(exc)[:200]
        out[view] = summarise(axe_violations(pg, everything)) | {"english": english_leaks(pg, CORPUS)}
    pg.get_by_role("tab", name="チャット", exact=True).click()
    pg.evaluate("window.print = () => {}")
    answer.locator("button.pa-print").click()
    pg.emulate_media(media="print")
    out["print"] = summarise(axe_violations(pg, everything))
    pg.context.close()
    for path in ("/docs", "/redoc"):
        pg = open_page(browser, base, viewport, path)
        pg.wait_for_timeout(2500)
        out[path] = summarise(axe_violations(pg, everything)) | {
            "lang": pg.evaluate("document.documentElement.lang")
        }
        pg.context.close()
    return out


def audit_chat(browser, base: str, viewport: str) -> dict:
    pg = open_page(browser, base, viewport)
    heights, gaps = [], []
    answer = None
    for question in EIGHT_TURNS:
        answer = ask(pg, question)
        heights.append(page_height(pg))
        gaps.append(round(question_box_gap(pg, answer)))
    ratios = {name: contrast(pg, sel) for name, sel in CONTRAST_TARGETS.items()}
    pg.context.close()
    return {"page_height_per_turn": heights, "question_box_gap_per_turn": gaps, "contrast": ratios}


def screenshots(browser, base: str, folder: Path) -> None:
    """The pictures in README.md and docs/: the page after an answer down to the question box (desktop and
    phone), 事業一覧 with 「10億円」 as the budget's lower bound, 地域ネットワーク with マツダ selected (desktop)
    and as a phone shows it."""
    folder.mkdir(parents=True, exist_ok=True)
    bottom_js = "e => e.getBoundingClientRect().bottom + scrollY"
    for viewport, name in (("desktop", "page-desktop.png"), ("phone", "page-phone.png")):
        pg = open_page(browser, base, viewport)
        ask(pg, GOAL_QUESTION)
        bottom = pg.locator("#pa-ask-row").evaluate(bottom_js) + 16
        clip = {"x": 0, "y": 0, "width": VIEWPORTS[viewport]["width"], "height": bottom}
        pg.screenshot(path=str(folder / name), full_page=True, clip=clip)
        if viewport == "desktop":
            open_tab(pg, "catalog")
            type_budget(pg, "min", "10億円")
            pg.locator("#pa-tab-catalog").screenshot(path=str(folder / "catalog-budget.png"))
        open_tab(pg, "networks")
        pg.locator("#pa-net-graph[data-ready=true]").wait_for()
        if viewport == "desktop":
            pg.locator(".pa-net-pick", has_text="マツダ株式会社").first.click()
            pg.evaluate("() => window.paNet.network.fit({animation: false})")
            pg.wait_for_timeout(300)
        shot = "network.png" if viewport == "desktop" else "network-phone.png"
        pg.locator("#pa-net-tab").screenshot(path=str(folder / shot))
        pg.context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--screenshots", type=Path, help="only retake the docs' screenshots into this folder")
    args = parser.parse_args()
    report: dict[str, dict] = {}
    with chromium() as browser:
        if args.screenshots:
            screenshots(browser, args.url, args.screenshots)
            return 0
        for viewport in VIEWPORTS:
            report[viewport] = {"views": audit_views(browser, args.url, viewport)}
            report[viewport] |= audit_chat(browser, args.url, viewport)
    text = json.dumps(report, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
