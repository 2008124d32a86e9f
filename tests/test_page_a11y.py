"""Every view of the page in Debian's Chromium, on a 1366×900 desktop and a 390×844 phone (issue 21).

* axe-core (bundled by ``axe-playwright-python``) finds no serious or critical violation in the chat after
  an answer, 事業一覧 with each filter applied (所管, 申請主体, テーマ, 新規採択, the budget range, text),
  関連事業マップ, 収録資料, 地域ネットワーク, the print view, ``/docs`` and ``/redoc``;
* no English word a Japanese reader would meet (visible text, aria labels, titles, placeholders,
  link-preview tags) besides the documents' own words, e-mail addresses and URLs;
* the budget range filters the table and the export links when typed as people write it, and bad input
  is a Japanese message;
* after a long answer the question box is less than a screen below the answer's text (出典 folded);
* the issue's grey texts reach 4.5:1, the question box shows its keyboard focus, and on a phone [n] and
  👍/👎 are 44 px touch targets; exports download as 事業一覧.csv.

One browser and one server (the session's ``live_server``) serve the whole module.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlparse

import pytest

from assistant.config import PROJECT_ROOT
from tests.page_audit import (
    CHROMIUM,
    GOAL_QUESTION,
    LONG_QUESTION,
    VIEWPORTS,
    ask,
    axe_violations,
    catalog_count,
    choose,
    chromium,
    contrast,
    english_leaks,
    open_page,
    open_tab,
    question_box_gap,
    type_budget,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting.*"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]
CORPUS = PROJECT_ROOT / "corpus"
GREY_TEXTS = {
    "subtitle": "#pa-header p",
    "source meta": ".pa-source .pa-meta",
    "定型の回答": ".pa-composer",
    "placeholder": "#pa-question textarea::placeholder",
    "[n] marker": "#pa-chat a.pa-ref",
}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    with chromium() as launched:
        yield launched


def _check(pg, view: str, problems: list[str], english: bool = True) -> None:
    for v in axe_violations(pg):
        problems.append(f"{view}: axe {v['impact']} {v['id']} ×{v['nodes']} {v['targets']} {v['summary']}")
    if english:
        for where, word, text in english_leaks(pg, CORPUS):
            problems.append(f"{view}: English {word!r} in {where}: {text!r}")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_view_passes_axe_and_speaks_japanese(browser, live_server, viewport):
    problems: list[str] = []
    pg = open_page(browser, live_server, viewport)
    answer = ask(pg, GOAL_QUESTION)
    _check(pg, "chat", problems)
    open_tab(pg, "catalog")
    for elem_id, option, param in [
        ("pa-c-ministry", "文部科学省", "ministry="),
        ("pa-c-applicant", "大学等研究機関", "applicant_type="),
        ("pa-c-new-calls", "有", "new_calls=true"),
    ]:
        choose(pg, elem_id, option, param)
        _check(pg, f"事業一覧 {elem_id}={option}", problems)
    type_budget(pg, "min", "10億円")
    type_budget(pg, "max", "100億円")
    _check(pg, "事業一覧 budget range", problems)
    text = pg.locator("#pa-c-text input, #pa-c-text textarea").first
    text.fill("人材")
    text.press("Enter")
    pg.wait_for_function("() => document.querySelector('#pa-c-exports').innerHTML.includes('q=')")
    _check(pg, "事業一覧 text", problems)
    theme_page = open_page(browser, live_server, viewport)  # a theme alone (with the others it may be empty)
    open_tab(theme_page, "catalog")
    theme_page.locator("#pa-c-theme input").first.click()
    theme_page.get_by_role("option").nth(1).click()
    theme_page.wait_for_function("() => document.querySelector('#pa-c-exports').innerHTML.includes('theme=')")
    _check(theme_page, "事業一覧 theme", problems)
    theme_page.context.close()
    for view in ("map", "documents", "networks"):
        open_tab(pg, view)
        _check(pg, view, problems)
    pg.get_by_role("tab", name="チャット", exact=True).click()
    pg.evaluate("window.print = () => {}")
    answer.locator("button.pa-print").click()
    pg.emulate_media(media="print")
    assert GOAL_QUESTION in pg.locator("#pa-print-area").inner_text()  # the print view shows the question
    _check(pg, "print", problems, english=False)
    pg.context.close()
    for path in ("/docs", "/redoc"):
        docs = open_page(browser, live_server, viewport, path)
        docs.locator(".opblock-summary, redoc h1, [role=navigation]").first.wait_for()
        docs.wait_for_timeout(1000)
        assert docs.evaluate("document.documentElement.lang") == "ja"
        _check(docs, path, problems, english=False)  # the API reference is English, marked lang="en"
        docs.context.close()
    assert not problems, "\n".join(problems)


def test_the_budget_range_filters_the_table_and_the_exports(browser, live_server):
    pg = open_page(browser, live_server, "desktop")
    open_tab(pg, "catalog")
    everything = catalog_count(pg)
    type_budget(pg, "min", "5000000")  # 千円, as the tables print budgets
    above = catalog_count(pg)
    assert 0 < above < everything
    href = pg.locator("#pa-c-csv").get_attribute("href")
    assert parse_qs(urlparse(href).query)["min_budget"] == ["5000000"]
    type_budget(pg, "min", "10億円")
    assert above < catalog_count(pg) < everything
    assert "min_budget=1000000" in pg.locator("#pa-c-csv").get_attribute("href")
    type_budget(pg, "max", "たくさん")
    assert "予算額「たくさん」を読めません" in pg.locator("#pa-catalog").inner_text()
    assert pg.locator("#pa-c-csv").count() == 0  # no export of a selection that was not made
    type_budget(pg, "max", "")
    with pg.expect_download() as download:
        pg.locator("#pa-c-csv").click()
    assert unquote(download.value.suggested_filename) == "事業一覧.csv"
    pg.context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_question_box_stays_within_a_screen_of_a_long_answer(browser, live_server, viewport):
    pg = open_page(browser, live_server, viewport)
    answer = ask(pg, LONG_QUESTION)
    sources = answer.locator("details.pa-sources-inline")
    assert answer.locator(".pa-source").count() >= 8, "the long answer should cite many passages"
    assert sources.get_attribute("open") is None, "出典 is folded by default"
    gap = question_box_gap(pg, answer)
    assert gap <= VIEWPORTS[viewport]["height"], f"the question box is {gap:.0f} px below the answer"
    answer.locator("a.pa-ref").first.click()  # a [n] still opens its source
    pg.wait_for_function("() => document.querySelector('#pa-chat .pa-answer details.pa-sources-inline').open")
    for name, selector in GREY_TEXTS.items():
        measured = contrast(pg, selector)
        assert measured and measured["ratio"] >= 4.5, f"{name}: {measured}"
    box = pg.locator("#pa-question textarea")
    box.focus()
    outline = box.evaluate("e => parseFloat(getComputedStyle(e).outlineWidth) || 0")
    assert outline >= 2, "the question box shows no keyboard focus"
    if viewport == "phone":
        targets = pg.locator(
            "#pa-chat a.pa-ref, #pa-chat .message-buttons button, #pa-chat button[aria-label*='いいね']"
        )
        small = [
            box
            for box in (targets.nth(i).bounding_box() for i in range(targets.count()))
            if box and (box["width"] < 44 or box["height"] < 44)
        ]
        assert targets.count() and not small, f"touch targets under 44 px: {small[:3]}"
    pg.context.close()
