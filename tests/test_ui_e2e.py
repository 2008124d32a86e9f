"""The chat page end to end: the real app (API + Gradio UI on one port, real index) in headless Chromium.

One browser session walks through what a university staff member does: asks a goal question, watches
the answer stream in, reads the program and source cards under it, rates the answer 👍 (checked in
SQLite), asks a follow-up that only resolves from the conversation, applies a filter, and clears the
conversation. ``tests/test_page_e2e.py`` checks the rest of the page (citations, catalog, docs, phone).

Needs Debian's ``chromium`` (``apt-get install -y chromium``; ``.ci/run`` installs it) driven by
Playwright with ``executable_path`` — Playwright's own browser downloads do not work here.
Set ``ASSISTANT_UI_SCREENSHOT=docs/screenshot.png`` to save a screenshot of the first answer.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from assistant.web.feedback import FEEDBACK_FILE
from assistant.web.ui import answer_html, program_cards_html, question_html, source_cards_html

# Gradio's queue calls pandas APIs that pandas 3 deprecates; not ours to fix.
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting.*"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

CHROMIUM = Path("/usr/bin/chromium")
GOAL = "うちの大学は地域の人材育成をしたい。使える事業と問い合わせ先は？"
FOLLOW_UP = "その事業の予算は？"
TIMEOUT_MS = 60_000

BOT = '#pa-chat [data-testid="bot"]'
USER = '#pa-chat [data-testid="user"]'

# Records every text the newest bot message shows while it streams (set up before asking).
WATCH_STREAM = """
() => {
  window.__snapshots = [];
  const chat = document.querySelector('#pa-chat');
  const seen = () => {
    const bots = chat.querySelectorAll('[data-testid="bot"]');
    if (bots.length) {
      const text = bots[bots.length - 1].innerText;
      const snaps = window.__snapshots;
      if (snaps[snaps.length - 1] !== text) snaps.push(text);
    }
  };
  new MutationObserver(seen).observe(chat, {subtree: true, childList: true, characterData: true});
}
"""

ANSWER_DONE = """
([count, needle]) => {
  const bots = document.querySelectorAll('#pa-chat [data-testid="bot"]');
  if (bots.length < count) return false;
  const last = bots[bots.length - 1];
  const answer = last.querySelector('.pa-answer');
  return !!answer && !last.querySelector('.pa-cursor') && answer.textContent.includes(needle);
}
"""


# -- escaping, without a browser ----------------------------------------------------------------------
def test_corpus_and_user_text_are_escaped():
    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    assert "<img" not in question_html(evil) and "&lt;img" in question_html(evil)
    rendered = answer_html(f"{evil}[1]\n次の行", {"ministry": evil})
    assert "<img" not in rendered and "<script" not in rendered
    assert '<sup class="pa-ref">[1]</sup>' in rendered and "<br>" in rendered
    linked = answer_html("本文[2]。", None, turn=3)
    assert 'href="#pa-src-3-2"' in linked
    cards = program_cards_html(
        [
            {
                "name": evil,
                "ministry": evil,
                "department": evil,
                "applicant_types": [evil],
                "budget_thousand_yen": 1450000,
                "budget_note": evil,
                "new_calls": True,
                "tel": ["03-5253-4111（内線3034）"],
                "email": ['x@y.jp" onclick="alert(3)', "daikaika@mext.go.jp"],
            }
        ]
    )
    assert "<img" not in cards and "<script" not in cards and 'onclick="' not in cards
    assert 'href="tel:0352534111;ext=3034"' in cards and 'href="mailto:daikaika@mext.go.jp"' in cards
    assert "1,450,000千円" in cards and "<dd>有</dd>" in cards
    sources = source_cards_html(
        [
            {
                "id": 1,
                "doc_id": evil,
                "title": evil,
                "section": evil,
                "page": 3,
                "line_start": 1,
                "line_end": 1,
                "quote": evil,
            }
        ],
        None,
    )
    assert "<img" not in sources and "&lt;img" in sources and "<mark>" in sources


# -- the page in a browser ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def page(live_server):
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="ja-JP")
        context.set_default_timeout(TIMEOUT_MS)
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.goto(f"{live_server}/")
        pg.get_by_text("準備完了").wait_for()
        yield pg
        assert errors == [], errors
        browser.close()


def _ask(pg, question: str, count: int, card_needle: str, submit: str = "enter") -> str:
    """Type a question, send it, wait until answer number ``count`` has finished streaming."""
    box = pg.locator("#pa-question textarea")
    box.fill(question)
    if submit == "enter":
        box.press("Enter")
    else:
        pg.locator("#pa-send").click()
    pg.wait_for_function(ANSWER_DONE, arg=[count, card_needle])
    return pg.locator(BOT).nth(count - 1).inner_text()


def _feedback_rows(data_dir: Path) -> list[dict]:
    with sqlite3.connect(data_dir / FEEDBACK_FILE) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM feedback ORDER BY id")]


def test_chat_page_end_to_end(page, index_settings):
    pg = page
    started = time.perf_counter()
    assert pg.title() == "政策アシスタント"
    # Filter choices come from the catalog once the service is ready (the filters start collapsed).
    pg.locator("#pa-filters").get_by_text("絞り込み条件").first.click()
    pg.locator("#pa-f-ministry input").click()
    assert pg.locator('li[role="option"][aria-label="文部科学省"]').count() == 1
    pg.keyboard.press("Escape")

    # 1. A goal question; the answer streams in sentence by sentence.
    pg.evaluate(WATCH_STREAM)
    answer = _ask(pg, GOAL, 1, "地域活性化人材育成事業")
    assert "地域活性化人材育成事業" in answer
    assert "<文>地域活性化人材育成事業" in answer  # corpus text shown as text, not parsed as a tag
    streamed = [s for s in pg.evaluate("window.__snapshots") if "▍" in s]
    assert len(streamed) >= 3, f"the answer did not stream: {streamed}"
    assert len(streamed[0]) < len(answer) and answer.startswith(streamed[0].rstrip("▍").strip()[:10])
    assert pg.locator(USER).first.inner_text() == GOAL

    # Program card (under the answer, collapsed): name, ministry, 申請主体, budget, 新規採択, tel:, mailto:.
    first_answer = pg.locator(BOT).first
    first_answer.locator("details.pa-programs-inline > summary").click()
    card = first_answer.locator(".pa-program", has_text="地域活性化人材育成事業")
    assert card.count() == 1
    card_text = card.inner_text()
    for expected in ("文部科学省", "大学等研究機関", "1,450,000千円", "新規採択", "有"):
        assert expected in card_text, expected
    assert card.locator('a[href="mailto:daikaika@mext.go.jp"]').inner_text() == "daikaika@mext.go.jp"
    assert card.locator('a[href^="tel:03525341"]').count() == 1

    # Source cards (under the answer, folded until opened): title, page/lines, the quote marked in its passage.
    first_answer.locator("details.pa-sources-inline > summary").click()
    sources = first_answer.locator(".pa-source")
    assert sources.count() >= 2
    first = sources.first
    assert "総合振興パッケージ" in first.inner_text() and "行目" in first.inner_text()
    assert first.locator("mark").count() >= 1
    assert first.locator(".pa-context").count() >= 1  # context around the cited lines

    # 2. 👍 on the answer → one row in <data_dir>/feedback.sqlite3, then an optional comment.
    pg.locator(BOT).first.hover()
    pg.locator('#pa-chat button[aria-label="いいね"], #pa-chat button[aria-label="Like"]').last.click()
    pg.get_by_text("評価を保存しました").wait_for()
    if shot := os.environ.get("ASSISTANT_UI_SCREENSHOT"):
        pg.evaluate("window.scrollTo(0, 0)")
        Path(shot).parent.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=shot, full_page=True)
    [row] = _feedback_rows(index_settings.data_dir)
    assert row["question"] == GOAL and row["rating"] == "up" and json.loads(row["history"]) == []
    stored = json.loads(row["answer"])
    assert stored["intent"] == "fit" and stored["answer"].startswith(answer.splitlines()[0])
    assert "地域活性化人材育成事業" in [p["name"] for p in stored["programs"]]
    pg.locator("#pa-comment textarea, #pa-comment input").first.fill("問い合わせ先まで分かって助かりました")
    pg.locator("#pa-comment-send").click()
    pg.get_by_text("コメントを保存しました").wait_for()
    [row] = _feedback_rows(index_settings.data_dir)
    assert row["comment"] == "問い合わせ先まで分かって助かりました"

    # 3. A follow-up that names no program: resolved from the conversation.
    follow = _ask(pg, FOLLOW_UP, 2, "地域活性化人材育成事業", submit="button")
    assert "1,450,000" in follow or "14.5億円" in follow, follow
    assert pg.locator(USER).nth(1).inner_text() == FOLLOW_UP

    # 4. A filter applies to the next question, visibly (above the chat and on the answer).
    pg.locator("#pa-f-ministry input").click()
    pg.locator('li[role="option"][aria-label="文部科学省"]').click()
    pg.wait_for_function(
        "() => document.querySelector('#pa-active-filters').innerText.includes('所管府省：文部科学省')"
    )
    pg.get_by_role("button", name="【事業の一覧】文科省の事業で大学が申請できるものは？").click()
    pg.wait_for_function(ANSWER_DONE, arg=[3, "共創の場形成支援プログラム"])
    listed = pg.locator(BOT).nth(2).inner_text()
    assert "絞り込み条件 所管府省：文部科学省" in listed and "共創の場形成支援プログラム" in listed

    # 5. User text is shown as text.
    evil = '<img src=x onerror="window.__pwned=1"><b>太字</b>は？'
    pg.locator("#pa-question textarea").fill(evil)
    pg.locator("#pa-question textarea").press("Enter")
    pg.wait_for_function(ANSWER_DONE, arg=[4, ""])
    assert pg.locator(USER).nth(3).inner_text() == evil
    assert pg.evaluate("window.__pwned") is None

    # 6. Clearing the conversation empties the chat.
    pg.locator("#pa-clear").click()
    pg.wait_for_function("() => !document.querySelector('#pa-chat [data-testid=\"bot\"]')")
    print(f"\nUI walk-through: {time.perf_counter() - started:.1f} s")
