"""The embeddable widget: a help desk's page on another origin embeds ``/widget.js`` and gets the chat in a
shadow-DOM panel, in Debian's Chromium (Playwright, no browser download).

* on an allowed origin: a question is answered with its sources; [n] opens its source (quote verbatim) and
  the source opens the document at its lines; contacts are the catalog's; 👍 is stored; the host page's
  hostile CSS does not reach in and the widget's does not leak out; no request leaves 127.0.0.1;
* a disallowed origin gets nothing (no script, no CORS, no answers);
* a server whose chat UI is not public refuses to open the widget, with a clear message;
* the door itself over HTTP: widget off by default, preflights, a request naming no origin.

``ASSISTANT_UI_SCREENSHOT_DIR=docs`` saves ``widget.png`` there (docs/integrations.md).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from pydantic import SecretStr

from assistant.config import Settings
from assistant.web.feedback import FeedbackStore
from tests.conftest import INTEGRATION_KEY
from tests.support import free_port, serve

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting.*"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
QUESTION = "共創の場形成支援プログラムの問い合わせ先は？"
PROGRAM = "共創の場形成支援プログラム"
TIMEOUT_MS = 90_000
WIDGET = "seisaku-assistant-widget"
#: A help desk's page with CSS that would wreck a widget living in its DOM.
HOSTILE_CSS = """
html { font-size: 10px; }
* { font-family: serif !important; color: #cc0000 !important; letter-spacing: 3px; line-height: 3 !important;
    box-sizing: content-box; text-align: right; }
button { background: rgb(0, 255, 0); border: 5px solid black; }
div, section, p, li, blockquote { padding: 7px; margin: 9px; display: inline; }
h1 { font-size: 40px; }
"""


class _HostPage(BaseHTTPRequestHandler):
    """``/?app=<base>``: a page of the help desk's site embedding the app's widget."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        query = parse_qs(urlparse(self.path).query)
        if urlparse(self.path).path != "/":
            self.send_error(404)
            return
        app = query.get("app", [""])[0]
        page = (
            '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>ヘルプデスク よくある質問</title>'
            f"<style>{HOSTILE_CSS}</style></head><body><h1>よくある質問</h1>"
            '<button id="own">サイトのボタン</button><p>補助事業についてのご案内です。</p>'
            f'<script src="{app}/widget.js" data-title="政策アシスタント（試験運用）" async></script>'
            "</body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def host_site(port: int) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", port), _HostPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def allowed_site(widget_host_port) -> Iterator[str]:
    with host_site(widget_host_port) as url:
        yield url


def _context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    context.set_default_timeout(TIMEOUT_MS)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    return context, requested


def _styles(pg, selector: str) -> dict:
    """Computed styles of an element inside the widget's shadow root (or of the host page)."""
    return pg.evaluate(
        """(selector) => {
            const widget = document.querySelector('seisaku-assistant-widget');
            const el = widget ? widget.shadowRoot.querySelector(selector) : null;
            const s = el ? getComputedStyle(el) : null;
            return s && {font: s.fontFamily, color: s.color, spacing: s.letterSpacing, background: s.backgroundColor,
                         display: s.display, align: s.textAlign};
        }""",
        selector,
    )


def _host_state(pg) -> dict:
    return pg.evaluate(
        """() => ({sheets: document.styleSheets.length,
                   button: getComputedStyle(document.getElementById('own')).backgroundColor,
                   h1: getComputedStyle(document.querySelector('h1')).fontSize,
                   font: getComputedStyle(document.body).fontFamily})"""
    )


def test_the_widget_answers_on_a_help_desks_page(
    browser, integrations_server, integrations_settings, allowed_site
):
    expected = httpx.post(
        f"{integrations_server}/v1/answer",
        json={"question": QUESTION},
        headers={"Authorization": f"Bearer {INTEGRATION_KEY}"},
        timeout=120,
    ).json()
    context, requested = _context(browser)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(f"{allowed_site}/?app={integrations_server}")
    before = pg.evaluate("() => getComputedStyle(document.getElementById('own')).backgroundColor")
    launcher = pg.locator(f"{WIDGET} .launcher")
    launcher.wait_for()
    host = _host_state(pg)
    assert host["sheets"] == 1 and host["button"] == before == "rgb(0, 255, 0)" and host["h1"] == "40px"
    # the host's CSS does not reach in: not its font, color, letter spacing, button color or alignment
    styles = _styles(pg, ".launcher")
    assert (
        "serif" not in styles["font"].replace("sans-serif", "") and styles["background"] != "rgb(0, 255, 0)"
    )
    assert styles["spacing"] == "normal" and styles["color"] == "rgb(255, 255, 255)"

    launcher.click()
    pg.locator(f"{WIDGET} .ask textarea").fill(QUESTION)
    pg.locator(f"{WIDGET} .send").click()
    answer = pg.locator(f"{WIDGET} .msg.bot").last
    answer.locator(".source").first.wait_for()
    assert _styles(pg, ".msg.bot .answer")["color"] == "rgb(31, 41, 55)"
    assert _styles(pg, ".msg.bot .answer")["align"] == "left"
    # the answer, its sources verbatim, the program's contacts exactly as the catalog has them
    assert answer.locator(".answer").evaluate("e => e.textContent") == expected["answer"]
    quotes = answer.locator(".quote").evaluate_all("els => els.map(e => e.textContent)")
    assert quotes == [c["quote"] for c in expected["citations"]]
    card = answer.locator(".program").filter(has_text=PROGRAM)
    program = next(p for p in expected["programs"] if p["name"] == PROGRAM)
    assert card.locator(".tel").first.inner_text() == f"TEL {program['tel'][0]}"
    assert card.locator(".mail").first.get_attribute("href") == f"mailto:{program['email'][0]}"

    # [n] opens its source: highlighted, scrolled into the panel's view
    ref = answer.locator(".ref").first
    n = ref.get_attribute("data-ref")
    ref.click()
    source = answer.locator(f'.source[id$="-src-{n}"]')
    pg.wait_for_function(
        f"() => document.querySelector('{WIDGET}').shadowRoot.querySelector('.source.flash') !== null"
    )
    pg.wait_for_timeout(700)  # smooth scrolling
    log_box, box = pg.locator(f"{WIDGET} .log").bounding_box(), source.bounding_box()
    assert log_box["y"] - 1 <= box["y"] < log_box["y"] + log_box["height"], (
        "the source is in the panel's view"
    )
    # … and the source opens the document at its lines (the app's public document view)
    with context.expect_page() as opened:
        source.locator(".open-doc").click()
    document = opened.value
    document.wait_for_load_state()
    citation = expected["citations"][int(n) - 1]
    assert urlparse(document.url).path == f"/documents/{citation['doc_id']}"
    assert citation["quote"].splitlines()[0] in document.content()

    # 👍 is stored with the server's own copy of the answer
    with pg.expect_response(lambda r: r.url.endswith("/widget/feedback")) as rated:
        answer.locator(".thumb.up").click()
    assert rated.value.ok and rated.value.json() == {"stored": True}
    rows = FeedbackStore.for_settings(integrations_settings).all()  # the app's database
    assert [(r.question, r.rating) for r in rows] == [(QUESTION, "up")]
    assert rows[0].answer["citations"] == expected["citations"]

    if folder := os.environ.get("ASSISTANT_UI_SCREENSHOT_DIR"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        pg.bring_to_front()
        pg.screenshot(path=str(Path(folder) / "widget.png"))
    assert _host_state(pg) == host, "the widget changed the host page's styles"
    hosts = {urlparse(url).hostname for url in requested if urlparse(url).scheme in ("http", "https")}
    assert hosts == {"127.0.0.1"}, requested
    assert not errors
    context.close()


def test_a_page_of_another_origin_gets_nothing(browser, integrations_server):
    with host_site(free_port()) as foreign:
        context, requested = _context(browser)
        pg = context.new_page()
        outcomes: list[str] = []  # Chromium blocks the refusal's JSON body from a <script> (ORB): a failure
        pg.on("response", lambda r: outcomes.append(f"{r.status}") if r.url.endswith("/widget.js") else None)
        pg.on("requestfailed", lambda r: outcomes.append("failed") if r.url.endswith("/widget.js") else None)
        pg.goto(f"{foreign}/?app={integrations_server}")
        pg.wait_for_function(
            "() => performance.getEntriesByType('resource').some(e => e.name.endsWith('/widget.js'))"
        )
        pg.wait_for_timeout(500)
        assert outcomes and set(outcomes) <= {"403", "failed"}, outcomes
        assert pg.locator(WIDGET).count() == 0
        # its scripts cannot read the widget's answers either (no CORS for it)
        outcome = pg.evaluate(
            """(app) => fetch(app + '/widget/answer', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                body: JSON.stringify({question: '共創の場形成支援プログラムの問い合わせ先は？'})})
                        .then(r => 'read ' + r.status, e => 'blocked')""",
            integrations_server,
        )
        assert outcome == "blocked"
        context.close()
    answer = httpx.post(
        f"{integrations_server}/widget/answer",
        json={"question": QUESTION},
        headers={"Origin": foreign},
        timeout=30,
    )
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "widget_origin_refused"
    assert "access-control-allow-origin" not in answer.headers


def test_the_widget_refuses_to_open_when_the_chat_ui_is_not_public(
    browser, allowed_site, widget_host_port, tmp_path
):
    """Keys set and ASSISTANT_UI_PUBLIC off: the widget would need a key, which it never holds. (No index here:
    the door decides before the service.)"""
    from assistant.web.app import create_app

    settings = Settings(
        data_dir=tmp_path / "data",
        api_keys=SecretStr(INTEGRATION_KEY),
        widget_origins=[f"http://127.0.0.1:{widget_host_port}"],
        embedding_model=str(tmp_path / "no-model"),
    )
    with serve(create_app(settings), wait_ready=False) as app:
        context, _ = _context(browser)
        pg = context.new_page()
        messages: list[str] = []
        pg.on("console", lambda message: messages.append(message.text))
        pg.goto(f"{allowed_site}/?app={app}")
        pg.wait_for_function(
            "() => performance.getEntriesByType('resource').some(e => e.name.endsWith('/widget/config'))"
        )
        pg.wait_for_timeout(500)
        assert pg.locator(WIDGET).count() == 0
        refusal = [m for m in messages if "政策アシスタント widget" in m]
        assert refusal and "ASSISTANT_UI_PUBLIC=true" in refusal[0]
        context.close()


def test_the_widgets_door_over_http(tmp_path, widget_host_port):
    from assistant.web.app import create_app

    page = f"http://127.0.0.1:{widget_host_port}"
    off = Settings(data_dir=tmp_path / "off", embedding_model=str(tmp_path / "no-model"))
    with serve(create_app(off), wait_ready=False) as app:
        assert httpx.get(f"{app}/widget.js").status_code == 404  # off unless origins are configured
    on = off.model_copy(
        update={
            "data_dir": tmp_path / "on",
            "widget_origins": [page],
            "rate_limit_burst": 3,  # the door's moving windows: 3 in any 30 s, 6 in any 60 s
            "rate_limit_per_minute": 6,
        }
    )
    with serve(create_app(on), wait_ready=False) as app:
        preflight = httpx.options(
            f"{app}/widget/answer",
            headers={
                "Origin": page,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == page
        assert "POST" in preflight.headers["access-control-allow-methods"]
        refused = httpx.options(
            f"{app}/widget/answer",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
        # the script: to its pages (by Referer), and to a direct load; never to a page elsewhere
        script = httpx.get(
            f"{app}/widget.js", headers={"Referer": f"{page}/faq.html", "Sec-Fetch-Site": "same-site"}
        )
        assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
        assert script.headers["access-control-allow-origin"] == page
        assert httpx.get(f"{app}/widget.js").status_code == 200
        assert httpx.get(f"{app}/widget.js", headers={"Referer": "http://evil.example/"}).status_code == 403
        assert httpx.get(f"{app}/widget.js", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
        # answers only to an allowed page's fetch (never to a request without an Origin), rate-limited per IP
        assert httpx.get(f"{app}/widget/config").status_code == 403
        responses = [httpx.get(f"{app}/widget/config", headers={"Origin": page}) for _ in range(4)]
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        refused = responses[-1]  # readable by the widget: JSON, CORS, and when to come back
        assert refused.json()["error"]["code"] == "rate_limited"
        assert refused.headers["access-control-allow-origin"] == page
        assert 1 <= int(refused.headers["retry-after"]) <= 30
