"""What the page's browser tests measure, shared by tests/test_page_a11y.py and benchmarks/page_audit.py.

A view is opened the way a user reaches it (a tab, a question, a filter typed into the catalog, the
print button), then checked three ways: axe-core's rules (``axe-playwright-python`` bundles axe, so
nothing is downloaded), English words a Japanese reader would meet (visible text, aria labels, titles,
placeholders and link-preview tags; words the documents print themselves, e-mail addresses and URLs are
allowed), and how far the question box is below an answer. Chromium is Debian's (``/usr/bin/chromium``):
Playwright's own browser downloads are not used.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
TIMEOUT_MS = 60_000
#: A list question whose answer cites many table rows (11 sources, ~1,000 characters: a long answer).
LONG_QUESTION = "自治体が申請できる事業は？"
GOAL_QUESTION = "うちの大学は地域の人材育成をしたい。使える事業と問い合わせ先は？"
#: Words of the page's own vocabulary that are English by name (formats, products, keys to press).
UI_WORDS = {
    "API",
    "CSV",
    "Excel",
    "PNG",
    "TEL",
    "Markdown",
    "Swagger",
    "UI",
    "ReDoc",
    "Enter",
    "Shift",
    "PDF",
}
#: axe impacts that fail a test.
BLOCKING = {"serious", "critical"}
TABS = {
    "catalog": "事業一覧",
    "map": "関連事業マップ",
    "documents": "収録資料",
    "networks": "地域ネットワーク",
}


@contextmanager
def chromium() -> Iterator[object]:
    """One headless Debian Chromium for a module's tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, base: str, viewport: str, path: str = "/"):
    """A fresh context (its own session) on ``path``; the chat page waits until the index is ready."""
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], locale="ja-JP", accept_downloads=True, is_mobile=viewport == "phone"
    )
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.goto(f"{base}{path}")
    if path == "/":
        pg.get_by_text("準備完了").wait_for()
    return pg


def open_tab(pg, view: str) -> None:
    """Click the view's tab (every tab is in the bar, also on a phone) and wait for its content."""
    tab = pg.get_by_role("tab", name=TABS[view], exact=True)
    if tab.count() == 0 or not tab.is_visible():  # Gradio's overflow menu (before issue 21 on a phone)
        pg.locator(".overflow-menu > button").click()
        pg.locator(".overflow-dropdown button", has_text=TABS[view]).click()
    else:
        tab.click()
    ready = {
        "catalog": "#pa-catalog .pa-catalog",
        "map": "#pa-map",
        "documents": "#pa-documents",
        "networks": "#pa-net-graph canvas",
    }[view]
    pg.locator(ready).first.wait_for(state="visible")
    pg.wait_for_timeout(300)


def ask(pg, question: str):
    """Ask and wait until the answer is complete (its tools are shown after the last sentence)."""
    count = pg.locator("#pa-chat .pa-answer").count()
    box = pg.locator("#pa-question textarea")
    box.fill(question)
    box.press("Enter")
    pg.wait_for_function(
        "(n) => { const a = document.querySelectorAll('#pa-chat .pa-answer');"
        " return a.length > n && a[a.length - 1].querySelector('.pa-tools'); }",
        arg=count,
        timeout=TIMEOUT_MS,
    )
    pg.wait_for_timeout(200)
    return pg.locator("#pa-chat .pa-answer").last


def catalog_count(pg) -> int:
    """Rows the catalog table shows."""
    return pg.locator("#pa-catalog tr.pa-row").count()


def _wait_for_filter(pg, param: str | None, message: str | None = None) -> None:
    """Wait until the export links carry ``param`` (the table is drawn with them) or ``message`` shows."""
    pg.wait_for_function(
        """([param, message]) => {
             const links = document.querySelector('#pa-c-exports');
             const table = document.querySelector('#pa-catalog');
             if (message) return table && table.innerText.includes(message);
             return links && links.innerHTML.includes(param);
           }""",
        arg=[param, message],
        timeout=TIMEOUT_MS,
    )
    pg.wait_for_timeout(150)


def type_budget(pg, which: str, text: str) -> None:
    """Type a budget bound into 事業一覧 (``min`` or ``max``) and press Enter, as a user would; waits
    for the table of that bound (read the way the server reads it), or for the message about it."""
    from assistant.web.catalog_table import budget_bound

    try:
        bound = budget_bound(text)
        expected, message = f"{which}_budget={bound}", None
    except ValueError:
        bound, expected, message = None, None, "読めません"
    field = pg.locator(f"#pa-c-{which} input, #pa-c-{which} textarea").first
    field.fill(text)
    field.press("Enter")
    if message is None and bound is None:  # an emptied field: links again, without that bound
        pg.wait_for_function(
            """(name) => { const links = document.querySelector('#pa-c-exports');
                           return links && links.innerHTML.includes('format=csv') && !links.innerHTML.includes(name); }""",
            arg=f"{which}_budget=",
            timeout=TIMEOUT_MS,
        )
        return
    _wait_for_filter(pg, expected, message)


def choose(pg, elem_id: str, option: str, param: str) -> None:
    """Pick ``option`` in a Gradio dropdown (or radio) of 事業一覧; waits for exports carrying ``param``."""
    root = pg.locator(f"#{elem_id}")
    if root.locator("input[type=radio]").count():
        root.get_by_label(option, exact=True).check()
    else:
        root.locator("input").first.click()
        pg.get_by_role("option", name=option, exact=True).first.click()
    _wait_for_filter(pg, param)


def axe_violations(pg, impacts: set[str] = BLOCKING) -> list[dict]:
    """axe-core's violations of the given impacts: rule id, impact, how many elements, the first targets."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(pg)
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "nodes": len(v["nodes"]),
            "targets": [" ".join(map(str, n["target"])) for n in v["nodes"][:3]],
            "summary": v["nodes"][0].get("failureSummary", "")[:300] if v["nodes"] else "",
        }
        for v in results.response["violations"]
        if v["impact"] in impacts
    ]


#: The text a reader meets: visible text nodes, and the labels and previews assistive tech and link
#: previews show (aria-label, title, placeholder, alt, the document title, og:/twitter: and description).
TEXTS_JS = """
() => {
  const out = [];
  const visible = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden') return false;
      if (e.getAttribute('aria-hidden') === 'true') return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!p || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(p.tagName)) continue;
    const t = n.nodeValue.trim();
    if (t && visible(p)) out.push(['text', t]);
  }
  for (const el of document.querySelectorAll('[aria-label],[title],[placeholder],[alt],[aria-roledescription]')) {
    if (el.tagName === 'svg' || el.closest('svg')) continue;
    for (const a of ['aria-label', 'title', 'placeholder', 'alt', 'aria-roledescription']) {
      const v = el.getAttribute(a);
      if (v && (a !== 'title' || visible(el))) out.push([a, v]);
    }
  }
  out.push(['document.title', document.title]);
  const previews = 'meta[property$=":title"], meta[name$=":title"], meta[property$=":description"], '
    + 'meta[name$=":description"], meta[name$=":creator"], meta[property$=":site_name"], meta[name="description"]';
  for (const m of document.querySelectorAll(previews)) {
    out.push([m.getAttribute('property') || m.getAttribute('name'), m.getAttribute('content') || '']);
  }
  return out;
}
"""

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
URL = re.compile(r"(https?://|www\.)\S+|\b[\w-]+(\.[\w-]+)+/\S*|(?<![\w/])/[\w/.-]+")


@cache
def document_words(corpus: Path) -> frozenset[str]:
    """Latin words the documents print (program names such as SPARC, J-Startup, MaaS): allowed."""
    words: set[str] = set()
    for path in corpus.glob("*.txt"):
        words |= set(re.findall(r"[A-Za-z]{2,}", unicodedata.normalize("NFKC", path.read_text("utf-8"))))
    return frozenset(words)


def english_leaks(pg, corpus: Path) -> list[tuple[str, str, str]]:
    """(where, word, text) for each Latin word of 2+ letters neither the documents nor the UI's own
    vocabulary hold; e-mail addresses and URLs are left out first."""
    allowed = document_words(corpus) | UI_WORDS
    leaks = []
    for where, text in pg.evaluate(TEXTS_JS):
        plain = URL.sub(" ", EMAIL.sub(" ", unicodedata.normalize("NFKC", text)))
        for word in re.findall(r"[A-Za-z]{2,}", plain):
            if word not in allowed:
                leaks.append((where, word, text[:80]))
    return leaks


def question_box_gap(pg, answer) -> float:
    """Pixels from the end of the answer's text to the top of the question box (≤ a screen: reachable)."""
    text_bottom = answer.locator(".pa-text").evaluate("e => e.getBoundingClientRect().bottom + scrollY")
    box_top = pg.locator("#pa-question textarea").evaluate("e => e.getBoundingClientRect().top + scrollY")
    return box_top - text_bottom


def page_height(pg) -> int:
    return int(pg.evaluate("document.documentElement.scrollHeight"))


#: Colour pairs the issue measured, by selector: (text colour, effective background, contrast ratio).
CONTRAST_JS = """
([sel, pseudo]) => {
  const el = document.querySelector(sel);
  if (!el) return null;
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bg = null;
  for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) { bg = c; break; }
  }
  bg = bg || [255, 255, 255];
  const fg = parse(getComputedStyle(el, pseudo).color);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return { fg: getComputedStyle(el, pseudo).color, bg: 'rgb(' + bg.slice(0, 3).join(', ') + ')',
           ratio: Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100 };
}
"""


def contrast(pg, selector: str) -> dict | None:
    """The contrast ratio of the first element matching ``selector`` against its nearest opaque background."""
    pseudo = "::placeholder" if selector.endswith("::placeholder") else None
    return pg.evaluate(CONTRAST_JS, [selector.removesuffix("::placeholder"), pseudo])
