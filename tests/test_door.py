"""The chat UI's door over HTTP, against the real app (real index, model and Gradio page): a keyless client
is refused by the page and its Gradio API, a key opens a session for both the page and ``/v1``, UI spam
gets 429 from the same limiter as ``/v1``, Gradio's unused surface is a JSON 404, a tab's conversation is
bound to its session, abandoned answer streams cost nothing, and the logs hold no session id, key or
question text (issue 15).

The page's Gradio calls are made as its JavaScript makes them (``queue/join`` + ``queue/data``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from assistant.config import PROJECT_ROOT, Settings
from assistant.web.feedback import FEEDBACK_FILE
from tests.support import free_port, serve

KEY = "door-test-key-0123456789abcdef"
OTHER_KEY = "door-other-key-0123456789abcdef"
QUESTION = "共創の場形成支援プログラムの問い合わせ先は？"
NO_FILTER = "指定なし"

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting.*"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


class Tab:
    """One browser tab of the chat page: its cookies (the ``httpx.Client``) and Gradio's session hash."""

    def __init__(
        self, http: httpx.Client, browser_hash: str = "tab0hash", config: dict | None = None
    ) -> None:
        self.http, self.browser_hash = http, browser_hash
        self.config = config if config is not None else http.get("/config").json()

    def fn(self, api_name: str) -> tuple[int, int]:
        dep = next(d for d in self.config["dependencies"] if d.get("api_name") == api_name)
        return dep["id"], dep["targets"][0][0]

    def join(self, api_name: str, data: list[Any], event_data: dict | None = None) -> httpx.Response:
        fn_index, trigger = self.fn(api_name)
        body = {
            "data": data,
            "event_data": event_data,
            "fn_index": fn_index,
            "trigger_id": trigger,
            "session_hash": self.browser_hash,
        }
        return self.http.post("/gradio_api/queue/join", json=body)

    def call(self, api_name: str, data: list[Any], event_data: dict | None = None) -> dict[str, Any]:
        joined = self.join(api_name, data, event_data)
        assert joined.status_code == 200, joined.text
        event_id = joined.json()["event_id"]
        with self.http.stream(
            "GET", "/gradio_api/queue/data", params={"session_hash": self.browser_hash}
        ) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
                        return message["output"]
        raise AssertionError("no process_completed message")

    def ask(self, question: str) -> list[dict[str, Any]]:
        """The chat's messages after the answer."""
        return self.call("ask", [question, NO_FILTER, NO_FILTER, NO_FILTER, None])["data"][0]


def _login(base: str, key: str = KEY, max_wait: int = 0) -> httpx.Client:
    """A logged-in client. ``max_wait``: the address's key-form attempts may still fill its window (the
    rate limit's moving windows); a 429 then names the seconds after which a login passes — obeyed once."""
    http = httpx.Client(base_url=base, timeout=60)
    form = {"data": {"key": key}, "headers": {"Sec-Fetch-Site": "same-origin"}}
    response = http.post("/auth/login", **form)
    if response.status_code == 429 and max_wait:
        wait = int(response.headers["retry-after"])
        assert 1 <= wait <= max_wait, wait
        time.sleep(wait)
        response = http.post("/auth/login", **form)
    assert response.status_code == 303 and response.headers["location"] == "/", response.text
    return http


def _assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, (response.request.url, response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]


def _own_data_dir(index_settings, tmp_path_factory) -> Path:
    """A copy of the session's index, so the feedback these tests store stays out of the shared folder."""
    data = tmp_path_factory.mktemp("door") / "data"
    shutil.copytree(index_settings.index_dir, data / "index", ignore=shutil.ignore_patterns("*.lock"))
    return data


@pytest.fixture(scope="module")
def door_settings(index_settings, tmp_path_factory) -> Settings:
    """Keys configured, the chat UI on, a generous rate limit."""
    return index_settings.model_copy(
        update={
            "data_dir": _own_data_dir(index_settings, tmp_path_factory),
            "api_keys": SecretStr(f"{KEY},{OTHER_KEY}"),
            "ui_enabled": True,
            "rate_limit_per_minute": 60_000,
            "rate_limit_burst": 1_000,
        }
    )


@pytest.fixture(scope="module")
def door(door_settings) -> Iterator[str]:
    from assistant.web.app import create_app

    with serve(create_app(door_settings)) as base:
        yield base


@pytest.fixture(scope="module")
def tight(index_settings, tmp_path_factory) -> Iterator[str]:
    """Keys configured, the chat UI on, a tiny rate limit (5 in any 10 s, 30 in any minute)."""
    from assistant.web.app import create_app

    settings = index_settings.model_copy(
        update={
            "api_keys": SecretStr(f"{KEY},{OTHER_KEY}"),
            "ui_enabled": True,
            "rate_limit_per_minute": 30,
            "rate_limit_burst": 5,
            "data_dir": _own_data_dir(index_settings, tmp_path_factory),
        }
    )
    with serve(create_app(settings)) as base:
        yield base


# -- the door ----------------------------------------------------------------------------------------------
def test_the_ui_and_its_api_refuse_a_keyless_client(door):
    with httpx.Client(base_url=door, timeout=60) as http:
        page = http.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/auth/login"
        form = http.get("/auth/login")
        assert form.status_code == 200 and 'name="key"' in form.text and "API キー" in form.text
        body = {
            "data": [QUESTION, NO_FILTER, NO_FILTER, NO_FILTER, None],
            "fn_index": 6,
            "session_hash": "x1",
        }
        for method, path, payload in [
            ("POST", "/gradio_api/queue/join", body),
            ("POST", "/gradio_api/call/ask", {"data": [QUESTION]}),
            ("POST", "/gradio_api/run/predict", {"data": []}),
            ("GET", "/gradio_api/queue/data?session_hash=x1", None),
            ("GET", "/gradio_api/heartbeat/x1", None),
            ("POST", "/gradio_api/upload", None),
            ("GET", "/config", None),
            ("GET", "/gradio_api/info", None),
            ("GET", "/theme.css", None),
            ("GET", "/assets/index.js", None),
            ("GET", "/static/app/page.css", None),
            ("GET", "/v1/programs", None),
            ("POST", "/v1/answer", {"question": QUESTION}),
        ]:
            _assert_error(http.request(method, path, json=payload), 401, "unauthorized")
        wrong = http.post("/auth/login", data={"key": "not-a-key-0123456789abcdef"})
        assert wrong.status_code == 401 and "キーが正しくありません" in wrong.text
        assert "set-cookie" not in wrong.headers
    assert httpx.get(f"{door}/healthz").status_code == 200  # health and docs stay open
    assert httpx.get(f"{door}/openapi.json").status_code == 200


def test_a_key_opens_one_session_for_the_page_and_its_api(door):
    http = httpx.Client(base_url=door, timeout=60)
    login = http.post("/auth/login", data={"key": KEY}, headers={"Origin": door})
    assert login.status_code == 303
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("pa_session=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http here; over https (or a trusted proxy's) it is Secure
    session_id = http.cookies["pa_session"]
    assert len(session_id) >= 43 and KEY not in cookie

    assert http.get("/", headers={"Accept": "text/html"}).status_code == 200
    messages = Tab(http).ask(QUESTION)
    assert "coi-next@mext.go.jp" in json.dumps(messages[-1], ensure_ascii=False)

    # The page's own JavaScript reads /v1 with the cookie (credentials: "same-origin").
    assert http.get("/v1/programs").json()["programs"]
    same = http.post("/v1/answer", json={"question": QUESTION}, headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200
    _assert_error(
        http.post("/v1/answer", json={"question": QUESTION}, headers={"Origin": "https://evil.example"}),
        403,
        "forbidden",
    )
    _assert_error(
        http.post("/v1/answer", json={"question": QUESTION}, headers={"Sec-Fetch-Site": "cross-site"}),
        403,
        "forbidden",
    )

    logout = http.post("/auth/logout", headers={"Sec-Fetch-Site": "same-origin"})
    assert logout.status_code == 303 and "Max-Age=0" in logout.headers["set-cookie"]
    with httpx.Client(base_url=door, timeout=60, cookies={"pa_session": session_id}) as stale:
        _assert_error(stale.get("/config"), 401, "unauthorized")
        _assert_error(stale.get("/v1/programs"), 401, "unauthorized")


def test_a_browser_enters_the_key_once_and_uses_the_page(door):
    """Chromium: the page sends it to the key form; after the key the page works (its Gradio calls carry
    the cookie), and another browser without the key still gets the form."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip(f"{chromium} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            context = browser.new_context(locale="ja-JP")
            context.set_default_timeout(60_000)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{door}/")
            assert page.url.endswith("/auth/login")
            page.fill("#key", "wrong-key-0123456789abcdef")
            page.click("button[type=submit]")
            page.get_by_text("キーが正しくありません").wait_for()
            page.fill("#key", KEY)
            page.click("button[type=submit]")
            page.get_by_text("準備完了").wait_for()
            box = page.locator("#pa-question textarea")
            box.fill(QUESTION)
            box.press("Enter")
            page.wait_for_function(  # the answer, finished, with its program card inline
                "() => [...document.querySelectorAll('#pa-chat .pa-answer')].some("
                "a => !a.closest('[data-testid=bot]').querySelector('.pa-cursor')"
                " && a.textContent.includes('共創の場形成支援プログラム'))"
            )
            cookie = next(c for c in context.cookies() if c["name"] == "pa_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            assert page.evaluate("document.cookie") == ""  # not readable by scripts
            assert errors == [], errors
            stranger = browser.new_context().new_page()
            stranger.goto(f"{door}/")
            assert stranger.url.endswith("/auth/login")
        finally:
            browser.close()


def test_the_key_form_refuses_cross_site_posts(door):
    refused = httpx.post(f"{door}/auth/login", data={"key": KEY}, headers={"Origin": "https://evil.example"})
    _assert_error(refused, 403, "forbidden")
    assert "set-cookie" not in refused.headers


def test_gradio_routes_the_page_does_not_use_are_json_404s_without_tracebacks(door, capfd):
    http = _login(door)
    tab = Tab(http)
    for method, path in [
        ("POST", "/gradio_api/call/ask"),
        ("POST", "/gradio_api/call/no_such_api"),
        ("GET", "/gradio_api/call/ask/123"),
        ("POST", "/gradio_api/run/predict"),
        ("POST", "/gradio_api/api/ask"),
        ("POST", "/gradio_api/upload"),
        ("GET", "/gradio_api/upload_progress"),
        ("GET", "/gradio_api/info"),
        ("GET", "/gradio_api/openapi.json"),
        ("GET", "/gradio_api/file=/etc/passwd"),
        ("GET", "/gradio_api/startup-events"),
        ("POST", "/gradio_api/component_server"),
        ("GET", "/monitoring"),
        ("POST", "/login"),
        ("GET", "/manifest.json"),
        ("GET", "/gradio_api/vibe-code"),
    ]:
        _assert_error(http.request(method, path, json={"data": []}), 404, "not_found")
    body = {"data": [], "fn_index": 9999, "trigger_id": 1, "session_hash": "abc"}
    _assert_error(http.post("/gradio_api/queue/join", json=body), 404, "not_found")
    _assert_error(http.post("/gradio_api/queue/join", json={**body, "fn_index": "x"}), 404, "not_found")
    _assert_error(
        http.post("/gradio_api/queue/join", json={**body, "session_hash": "a b"}), 422, "invalid_request"
    )
    _assert_error(http.post("/gradio_api/queue/join", content=b"{not json"), 422, "invalid_request")
    _assert_error(http.get("/gradio_api/queue/data"), 422, "invalid_request")
    assert tab.join("show_filters", [NO_FILTER, NO_FILTER, NO_FILTER]).status_code == 200
    assert "Traceback" not in "".join(capfd.readouterr())


def _raw_status(base: str, target: bytes) -> int:
    """The status of a request sent with its path exactly as given (no client normalises it)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        head = sock.recv(4096)
    return int(head.split(b" ", 2)[1])


def test_side_doors_of_issue_20_are_4xx_without_tracebacks(door, capfd):
    """Unknown tabs, deep bodies, NUL bytes and paths out of the open vendor folder: 4xx JSON, no
    traceback (Gradio logged four per unknown session hash)."""
    http = _login(door)
    Tab(http)
    for i in range(20):
        _assert_error(
            http.get("/gradio_api/queue/data", params={"session_hash": f"unknown{i}"}), 404, "not_found"
        )
    nested = '{"data": ' + "[" * 5000 + "]" * 5000 + ', "fn_index": 0, "session_hash": "abc"}'
    _assert_error(
        http.post("/gradio_api/queue/join", content=nested, headers={"Content-Type": "application/json"}),
        422,
        "invalid_request",
    )
    for target in (
        b"/static/app/page.js%00",
        b"/static/vendor/x/../../ffmpeg/ffmpeg-core.wasm",
        b"/static/vendor/../../config",
        b"/v1/x%0D%0A2026-01-01%20CRITICAL%20FORGED",
    ):
        assert _raw_status(door, target) == 400, target
    for path in ("/static/ffmpeg/ffmpeg-core.js", "/static/fonts/Inconsolata/Inconsolata-Bold.woff2"):
        _assert_error(http.get(path), 404, "not_found")  # Gradio's static folder is not the page's
    _assert_error(httpx.get(f"{door}/healthz", headers={"Host": "evil.example"}), 400, "invalid_host")
    assert "Traceback" not in "".join(capfd.readouterr())


def test_a_question_nobody_reads_is_not_computed(door, caplog):
    tab = Tab(_login(door), "abandonedtab1")
    with caplog.at_level(logging.INFO, logger="assistant.web.ui"):
        joined = tab.join("ask", [QUESTION, NO_FILTER, NO_FILTER, NO_FILTER, None])
        assert joined.status_code == 200  # … and its results are never read
        deadline = time.monotonic() + 30
        while not any("not reading its results" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the abandoned question was not skipped"
            time.sleep(0.2)
    messages = Tab(tab.http, "readingtab1").ask(QUESTION)  # a tab that reads gets its answer
    assert "coi-next@mext.go.jp" in json.dumps(messages[-1], ensure_ascii=False)


def test_made_up_values_for_the_page_functions_leave_no_traceback(door, capfd, caplog):
    """A client can send any value to a function the page does have; Gradio printed a full traceback for
    each failing event (a log a client could fill at will): now one line, and no exception text back."""
    tab = Tab(_login(door), "madeup1")
    wrong_count = tab.join("ask", [QUESTION])
    _assert_error(wrong_count, 422, "invalid_request")
    failed = tab.call("ask", [{"x": 1}, ["list"], 7, None, None])
    assert failed["error"] in (None, "") or "Value" in failed["error"]
    broken_like = tab.call("rate", [None], {"index": "zz"})
    assert broken_like.get("error") is None  # the KeyError's text is not sent to the client
    assert "Traceback" not in "".join(capfd.readouterr())
    assert any("a chat-UI event failed (KeyError)" in r.getMessage() for r in caplog.records)


def test_a_conversation_is_reachable_only_with_the_session_that_made_it(door, door_settings):
    """Gradio's session hash is chosen by the browser and visible in URLs; with the door it names a tab
    of *this* session only, so someone who learns it can neither read nor rate that conversation."""
    owner, intruder = _login(door), _login(door, OTHER_KEY)
    shared_hash = "leakedhash42"
    messages = Tab(owner, shared_hash).ask(QUESTION)
    like = {"index": len(messages) - 1, "value": messages[-1], "liked": True}

    def rows() -> int:
        path = door_settings.data_dir / FEEDBACK_FILE
        if not path.exists():
            return 0
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT count(*) FROM feedback").fetchone()[0]

    before = rows()
    Tab(intruder, shared_hash).call("rate", [None], like)  # the intruder's tab has no such answer
    assert rows() == before
    Tab(owner, shared_hash).call("rate", [None], like)
    assert rows() == before + 1


def test_without_keys_the_page_issues_an_anonymous_session(live_server):
    with httpx.Client(base_url=live_server, timeout=60) as http:
        refused = http.post("/gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"})
        _assert_error(refused, 401, "no_session")
        # the open page's own files load without a session (they carry no data); Gradio's calls do not
        for asset in ("/static/app/page.js", "/static/app/page.css", "/theme.css"):
            assert http.get(asset).status_code == 200, asset
        assert "pa_session" not in http.cookies
        _assert_error(http.get("/config"), 401, "no_session")
        page = http.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "HttpOnly" in page.headers["set-cookie"]
        assert Tab(http).join("show_filters", [NO_FILTER, NO_FILTER, NO_FILTER]).status_code == 200
        _assert_error(http.post("/gradio_api/upload"), 404, "not_found")


def test_a_public_ui_opens_anonymous_sessions_for_the_page_and_its_api(tmp_path):
    """ASSISTANT_UI_PUBLIC with keys: any browser gets a session (per-IP bucket) that also reads /v1, as the
    page's JavaScript needs; API clients without a cookie still need a key. (No index here: the door is
    decided before the service, which answers 503.)"""
    from assistant.web.app import create_app

    settings = Settings(
        data_dir=tmp_path / "data",
        api_keys=SecretStr(KEY),
        ui_public=True,
        rate_limit_per_minute=0,
        embedding_model=str(tmp_path / "no-model"),
    )
    with (
        serve(create_app(settings), wait_ready=False) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        _assert_error(http.get("/v1/programs"), 401, "unauthorized")
        page = http.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "pa_session=" in page.headers["set-cookie"]
        _assert_error(http.get("/v1/programs"), 503, "not_ready")  # past the door
        assert Tab(http).join("show_filters", [NO_FILTER, NO_FILTER, NO_FILTER]).status_code == 200
        assert http.get("/auth/login").status_code == 200  # a key still opens a keyed session


# -- the rate limit ---------------------------------------------------------------------------------------
def test_ui_spam_gets_429_from_the_same_bucket_as_the_key(tight):
    http = _login(tight)
    tab = Tab(http)  # /config: 1 of the key's 5 requests in any 10 s
    filler = [tab.join("show_filters", [NO_FILTER, NO_FILTER, NO_FILTER]).status_code for _ in range(3)]
    assert filler == [200] * 3
    # the window's last request asks a question: its join paid for its result stream, so the answer arrives
    answered = Tab(http, "askerhash", config=tab.config).ask(QUESTION)  # another tab, the page's /config
    assert "pa-answer" in str(answered[-1])
    statuses = [tab.join("show_filters", [NO_FILTER, NO_FILTER, NO_FILTER]).status_code for _ in range(8)]
    assert statuses[-1] == 429, statuses
    refused = tab.join("show_filters", [NO_FILTER, NO_FILTER, NO_FILTER])
    _assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 10  # 5 requests in any 10 s
    # the key behind the session is the bucket: its /v1 calls wait too, another key's do not
    auth = {"Authorization": f"Bearer {KEY}"}
    _assert_error(httpx.get(f"{tight}/v1/programs", headers=auth), 429, "rate_limited")
    other = httpx.get(f"{tight}/v1/programs", headers={"Authorization": f"Bearer {OTHER_KEY}"})
    assert other.status_code == 200


def test_guessing_keys_on_the_form_is_throttled(tight):
    with httpx.Client(base_url=tight, timeout=60) as http:
        statuses = [
            http.post("/auth/login", data={"key": f"guess-{i}-0123456789abcdef"}).status_code
            for i in range(8)
        ]
    assert statuses[0] == 401 and statuses[-1] == 429, statuses


def test_documents_and_the_heartbeat_spend_from_the_session_bucket(tight):
    """UI routes outside the Gradio calls cost tokens too (the rest of the surface: tests/test_edge_units)."""
    http = _login(tight, OTHER_KEY, max_wait=10)  # the address may have just guessed keys (test above)
    doc_id = http.get("/v1/documents").json()["documents"][0]["doc_id"]
    cookies = dict(http.cookies)

    def status(path: str) -> int:  # at once from 8 threads: the bucket is charged on arrival
        with (
            httpx.Client(base_url=tight, cookies=cookies, timeout=60) as client,
            client.stream("GET", path) as response,
        ):
            return response.status_code

    for path in (f"/documents/{doc_id}", "/gradio_api/heartbeat/h1"):
        time.sleep(10)  # the burst window (5 requests in any 10 s) empty again
        with ThreadPoolExecutor(8) as pool:
            statuses = sorted(pool.map(status, [path] * 8))
        assert statuses[0] == 200 and statuses.count(429) >= 2, (path, statuses)


# -- the worker pool --------------------------------------------------------------------------------------
def _abandon_streams(base: str, count: int) -> None:
    """Open ``count`` answer streams and close each at once, as a client that gives up."""
    body = json.dumps({"question": "地方大学・地域産業創生交付金の予算額は？"}, ensure_ascii=False).encode()
    port = int(base.rsplit(":", 1)[1])
    request = (
        b"POST /v1/answer/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request)


def _timed_answer(base: str) -> float:
    started = time.perf_counter()
    response = httpx.post(f"{base}/v1/answer", json={"question": QUESTION}, timeout=120)
    assert response.status_code == 200, response.text
    return time.perf_counter() - started


def test_200_abandoned_streams_do_not_delay_the_next_request_by_more_than_a_second(live_server):
    baseline = min(_timed_answer(live_server) for _ in range(3))
    _abandon_streams(live_server, 200)
    delay = _timed_answer(live_server) - baseline
    assert delay < 1.0, f"the next request waited {delay:.2f} s longer than usual ({baseline:.2f} s)"


def test_a_full_pool_answers_503_busy_with_retry_after(index_settings):
    from assistant.web.app import create_app

    settings = index_settings.model_copy(update={"answer_workers": 1, "answer_queue": 0, "ui_enabled": False})
    with serve(create_app(settings)) as base:
        results: list[httpx.Response] = []

        def ask() -> None:
            results.append(httpx.post(f"{base}/v1/answer", json={"question": QUESTION}, timeout=120))

        threads = [threading.Thread(target=ask) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses[0] == 200 and statuses[-1] == 503, statuses
    busy = next(r for r in results if r.status_code == 503)
    _assert_error(busy, 503, "busy")
    assert int(busy.headers["retry-after"]) >= 1


# -- what the logs show -------------------------------------------------------------------------------------
def test_session_ids_keys_and_query_text_are_absent_from_the_logs(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONUNBUFFERED": "1",
        "ASSISTANT_API_KEYS": KEY,
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),  # no index, no model: the page and the door suffice
        "ASSISTANT_EMBEDDING_MODEL": str(tmp_path / "no-model"),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    secret_question = "山田花子 090-4321-8765 折り返し希望"
    browser_hash = "browserhash77"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        http = _login(base)
        session_id = http.cookies["pa_session"]
        tab = Tab(http, browser_hash)
        tab.call("show_filters", [NO_FILTER, NO_FILTER, NO_FILTER])
        with http.stream("GET", f"/gradio_api/heartbeat/{browser_hash}") as beat:
            assert beat.status_code == 200
        auth = {"Authorization": f"Bearer {KEY}"}
        assert httpx.get(f"{base}/v1/search", params={"q": secret_question}, headers=auth).status_code == 503
        assert httpx.get(f"{base}/v1/programs", params={"api_key": KEY}).status_code == 401
        echoed = httpx.get(f"{base}/healthz", headers={"X-Request-ID": KEY})
        assert echoed.headers["x-request-id"] != KEY
        bad_id = httpx.get(f"{base}/healthz", headers={"X-Request-ID": 'x"<script>'})
        assert bad_id.headers["x-request-id"] != 'x"<script>'
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert '"POST /gradio_api/queue/join HTTP/1.1" 200' in output  # the access log is there
    assert '"GET /v1/search?[redacted] HTTP/1.1" 503' in output
    for secret in (KEY, session_id, browser_hash, "山田花子", "090-4321-8765", "%E5%B1%B1"):
        assert secret not in output, f"{secret!r} is in the log"
    assert "Traceback" not in output
