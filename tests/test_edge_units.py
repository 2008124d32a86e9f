"""The edge's rules without a server or a model (issue 20): a path's normal form, the Host allow-list,
log lines escaped, bounded and without keys, request ids that hold no key, connection shares per address,
the UI's surface, and how deep a Gradio body may nest."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr, ValidationError

from assistant.config import Settings
from assistant.web.api_keys import load_keyring, new_key
from assistant.web.connections import Admission, ConnectionLedger, client_key
from assistant.web.edge_checks import host_allowed, host_name, path_is_normal
from assistant.web.log_safety import escape_controls, holds_a_key, redact_secrets, remember_keys, safe
from assistant.web.request_id import AccessLogFilter, RequestContextFilter, acceptable_request_id
from assistant.web.ui_gate import _depth
from assistant.web.ui_surface import is_asset, is_charged, is_known, is_open

PLAIN_KEY = "edge-unit-key-0123456789abcdef"  # lower case and digits: not key-shaped, known to the ring


# -- paths ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        "/static/vendor/x/../../ffmpeg/ffmpeg-core.wasm",
        "/static/vendor/../../config",
        "/static/./app/page.js",
        "/static/app/..",
        "/static/app/page.js%00",
        "/static/vendor%2f..%2fapp",
        "/static/vendor%2F..",
        "/static%5capp",
        "/static/%2e%2e/config",
        "/static/%2E%2E/config",
        "/v1/x%0D%0A2026-01-01 CRITICAL FORGED",
        "/v1/a%1b[31m",
        "/v1/a\\b",
        "relative/path",
    ],
)
def test_paths_with_dot_segments_encoded_separators_or_controls_are_not_normal(raw):
    from urllib.parse import unquote

    assert not path_is_normal(raw.encode("latin-1"), unquote(raw))


@pytest.mark.parametrize(
    "raw",
    ["/", "/v1/answer", "/static/app/page.js", "/documents/000_bc52401283c58933", "/v1/search", "/a..b/c.d"],
)
def test_ordinary_paths_are_normal(raw):
    assert path_is_normal(raw.encode(), raw)


# -- hosts ----------------------------------------------------------------------------------------------
DEFAULT_HOSTS = Settings().allowed_hosts


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        ("127.0.0.1:8000", True),
        ("localhost", True),
        ("LOCALHOST:8000", True),
        ("[::1]:8000", True),
        ("evil.example", False),
        ("evil.example:8000", False),
        ("127.0.0.1.evil.example", False),
        ("localhost.evil.example", False),
        ("", False),
        (None, False),
        ("[::1", False),
    ],
)
def test_only_loopback_names_are_allowed_by_default(header, allowed):
    assert host_allowed(header, DEFAULT_HOSTS) is allowed


def test_host_patterns_and_the_setting():
    hosts = Settings(allowed_hosts="Helpdesk.Example.go.jp, *.internal.example").allowed_hosts
    assert hosts == ["helpdesk.example.go.jp", "*.internal.example"]
    assert host_allowed("helpdesk.example.go.jp:443", hosts)
    assert host_allowed("a.internal.example", hosts) and not host_allowed("internal.example", hosts)
    assert not host_allowed("a.internal.example.evil", hosts)
    assert host_allowed("anything", ["*"])
    assert host_name("[2001:db8::1]:8443") == "2001:db8::1"
    with pytest.raises(ValidationError):
        Settings(allowed_hosts="evil.example/path")


# -- log lines ------------------------------------------------------------------------------------------
def test_controls_line_breaks_and_bidi_overrides_become_visible_escapes():
    forged = "/v1/x\r\n2026-01-01 00:00:00,000 CRITICAL FORGED\x1b[31m\x00\x7f\x85\u2028\u202e"
    escaped = escape_controls(forged)
    assert escaped == (
        "/v1/x\\x0d\\x0a2026-01-01 00:00:00,000 CRITICAL FORGED\\x1b[31m\\x00\\x7f\\x85\\u2028\\u202e"
    )
    assert "\n" not in safe(forged) and "\x1b" not in safe(forged)
    assert "日本語のパス" in safe("/documents/日本語のパス")  # ordinary text stays readable


def test_values_are_bounded():
    text = safe("a" * 5000, 300)
    assert text.startswith("a" * 300) and text.endswith("…[+4700 chars]") and len(text) < 330


def test_keys_are_redacted_wherever_they_appear():
    generated = new_key()  # 43 URL-safe characters: key-shaped even when nobody registered it
    keyring = load_keyring(Settings(api_keys=SecretStr(PLAIN_KEY)))
    for text in (
        f"/v1/{generated}",
        f"{generated}.x",
        f"Bearer {PLAIN_KEY}",
        f"/v1/programs?api_key={PLAIN_KEY}",
    ):
        assert generated not in redact_secrets(text, [keyring])
        assert PLAIN_KEY not in redact_secrets(text, [keyring])
    assert redact_secrets(f"/v1/{PLAIN_KEY}/x", [keyring]) == "/v1/[redacted]/x"  # known, not key-shaped
    assert redact_secrets(f"id {PLAIN_KEY}.x", [keyring]) == "id [redacted].x"
    for harmless in (
        "04d3385f7cb04a6cac69b6a5df109134",  # a request id: hex
        "20261124T212850775292Z",  # a build id
        "/assets/Index-Dw2QElZn2.js",
        "/documents/000_bc52401283c58933",
    ):
        assert redact_secrets(harmless, [keyring]) == harmless
    assert holds_a_key(f"x:{generated}") and not holds_a_key("helpdesk-4711")


def test_request_ids_holding_a_key_or_anything_key_shaped_are_not_accepted():
    keyring = load_keyring(Settings(api_keys=SecretStr(PLAIN_KEY)))
    assert acceptable_request_id("helpdesk-4711", keyring)
    assert acceptable_request_id("2f1c9a7e-3b7d-4c1e-9a51-6f0e2d8b9c10", keyring)
    for bad in (PLAIN_KEY, f"{PLAIN_KEY}.x", f"{new_key()}.x", "a" * 65, "has space", "x\r\ny", ""):
        assert not acceptable_request_id(bad, keyring), bad


def test_a_log_record_becomes_one_safe_line():
    keyring = load_keyring(Settings(api_keys=SecretStr(PLAIN_KEY)))
    remember_keys(keyring)
    record = logging.LogRecord(
        "assistant.web.security",
        logging.WARNING,
        __file__,
        1,
        "no API key on %s",
        (f"/v1/{PLAIN_KEY}\r\nX",),
        None,
    )
    assert RequestContextFilter().filter(record)
    assert record.getMessage() == "no API key on /v1/[redacted]\\x0d\\x0aX"
    access = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/v1/{PLAIN_KEY}%0D%0A\x1bq?q=secret", "1.1", 200),
        None,
    )
    assert AccessLogFilter().filter(access) and RequestContextFilter().filter(access)
    message = access.getMessage()
    assert PLAIN_KEY not in message and "secret" not in message and "\x1b" not in message


# -- connection shares ----------------------------------------------------------------------------------
def test_one_address_holds_at_most_its_share_and_the_total_is_capped(caplog):
    ledger = ConnectionLedger(max_total=5, max_per_client=2, exempt=["10.0.0.5"])
    with caplog.at_level(logging.WARNING, logger="assistant.web.connections"):
        assert [ledger.admit("192.0.2.1") for _ in range(3)] == [
            Admission.ADMITTED,
            Admission.ADMITTED,
            Admission.CLIENT_FULL,
        ]
        assert ledger.admit("192.0.2.2") is Admission.ADMITTED  # another client is unaffected
        assert [ledger.admit("10.0.0.5") for _ in range(3)] == [Admission.ADMITTED, Admission.ADMITTED] + [
            Admission.SERVER_FULL
        ]
        for _ in range(100):
            ledger.admit("192.0.2.1")
    assert len(caplog.records) == 2  # one line per kind of refusal per interval, not one per connection
    ledger.release("192.0.2.1")
    assert ledger.held_by("192.0.2.1") == 1 and ledger.total == 4


def test_an_ipv6_client_is_counted_by_its_64_network():
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    ledger = ConnectionLedger(max_total=100, max_per_client=2)
    assert (
        ledger.admit("2001:db8::1") is Admission.ADMITTED
        and ledger.admit("2001:db8::2") is Admission.ADMITTED
    )
    assert ledger.admit("2001:db8::3") is Admission.CLIENT_FULL


# -- the UI's surface and its bodies --------------------------------------------------------------------
def test_the_ui_surface_is_an_allow_list():
    assert is_open("/static/vendor/vis-network.min.js") and not is_open("/static/vendor/x/y")
    assert not is_known("/static/ffmpeg/ffmpeg-core.wasm") and not is_known("/static/fonts/a.woff2")
    assert is_asset("/assets/Index-Dw2QElZn2.js") and not is_known("/assets/sub/x.js")
    assert is_known("/documents/000_bc52401283c58933") and is_charged("/documents/000_bc52401283c58933")
    for charged in ("/", "/config", "/config/", "/gradio_api/queue/data", "/gradio_api/heartbeat/abc"):
        assert is_known(charged) and is_charged(charged), charged
    for unused in ("/gradio_api/upload", "/gradio_api/info", "/monitoring", "/manifest.json", "/login"):
        assert not is_known(unused), unused


def test_nesting_is_measured_without_recursion():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert _depth(deep) == 100_001
    assert _depth({"data": [1, {"a": [2]}], "fn_index": 0}) == 4


def test_serve_adds_the_address_it_binds_to_the_allowed_hosts():
    from assistant.web.serving import with_bound_host

    settings = Settings()
    assert with_bound_host(settings, "10.0.0.5").allowed_hosts == [*settings.allowed_hosts, "10.0.0.5"]
    assert with_bound_host(settings, "0.0.0.0").allowed_hosts == settings.allowed_hosts
    assert with_bound_host(settings, "::").allowed_hosts == settings.allowed_hosts
    assert with_bound_host(settings, "127.0.0.1").allowed_hosts == settings.allowed_hosts


def test_a_key_has_at_most_its_share_of_requests_in_progress():
    import asyncio
    import json

    from assistant.web.key_shares import KeyShares

    shares = KeyShares(max_per_key=2)
    release = asyncio.Event()
    sent: list[dict] = []

    async def slow_app(scope, receive, send) -> None:
        await release.wait()

    async def collect(message: dict) -> None:
        sent.append(message)

    async def scenario() -> None:
        running = [
            asyncio.create_task(shares.run("key:a", slow_app, {"type": "http"}, None, collect))
            for _ in range(2)
        ]
        await asyncio.sleep(0)
        assert shares.running("key:a") == 2
        await shares.run("key:a", slow_app, {"type": "http"}, None, collect)  # refused at once
        await shares.run(
            "ip:192.0.2.1", lambda *a: asyncio.sleep(0), {"type": "http"}, None, collect
        )  # no key: not counted
        release.set()
        await asyncio.gather(*running)
        assert shares.running("key:a") == 0

    asyncio.run(scenario())
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 429 and (b"retry-after", b"1") in start["headers"]
    body = next(m for m in sent if m["type"] == "http.response.body")["body"]
    assert json.loads(body)["error"]["code"] == "too_many_requests_in_progress"
