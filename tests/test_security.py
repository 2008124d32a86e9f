"""API keys, rate limits, CORS and request ids, over HTTP against the real app (real index and model).

Two extra uvicorn servers run in this process: ``secured`` (a plaintext key from the settings, a hashed
key from a keys file, a CORS allow-list, a generous rate limit) and ``limited`` (a tiny rate limit).
``assistant serve`` itself runs in subprocesses, for the bind refusal and for what its logs show.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from assistant.cli import main as cli_main
from assistant.config import PROJECT_ROOT, Settings, get_settings
from assistant.web.api_keys import ApiKeyConfigError, hash_key, key_line, load_keyring, new_key
from assistant.web.rate_limit import RateLimiter
from assistant.web.request_id import RequestContextFilter
from assistant.web.serving import UnsafeBindError, startup_report
from tests.support import free_port, serve

ENV_KEY = "env-key-for-tests-0123456789"
FILE_KEY = new_key()
WRONG_KEY = "not-a-configured-key-0123456789"
ORIGIN = "https://helpdesk.example.go.jp"
QUESTION = "共創の場形成支援プログラムの問い合わせ先を教えてください"


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def keys_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "api_keys.txt"
    path.write_text(f"# help desks\n\n{key_line(FILE_KEY, 'helpdesk-a')}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def secured(index_settings, keys_file) -> Iterator[str]:
    from assistant.web.app import create_app

    settings = index_settings.model_copy(
        update={
            "api_keys": SecretStr(ENV_KEY),
            "api_keys_file": keys_file,
            "cors_origins": [ORIGIN],
            "rate_limit_per_minute": 60_000,
            "rate_limit_burst": 1_000,
            "ui_enabled": False,
        }
    )
    app = create_app(settings)

    def boom() -> None:
        raise RuntimeError("a bug, for the 500 test")

    app.add_api_route("/v1/boom", boom, include_in_schema=False)
    with serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def client(secured) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=secured, timeout=60) as c:
        yield c


def _assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    return body


# -- keys: the file format and the CLI helpers ----------------------------------------------------------
def test_keys_new_prints_a_key_once_and_a_file_line_that_accepts_it(capsys, tmp_path):
    assert cli_main(["keys", "new", "--name", "helpdesk-b"]) == 0
    out = capsys.readouterr().out
    key = re.search(r"^key:  (\S+)$", out, re.M).group(1)
    line = re.search(r"^line: (.+)$", out, re.M).group(1)
    assert line == f"sha256:{hash_key(key)} helpdesk-b" and key not in line
    path = tmp_path / "keys.txt"
    path.write_text(line + "\n", encoding="utf-8")
    ring = load_keyring(Settings(api_keys=SecretStr(""), api_keys_file=path))
    assert ring.identify(key).label == "helpdesk-b"
    assert ring.identify(key + "x") is None and ring.identify(None) is None


def test_keys_hash_reads_the_key_from_stdin(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(FILE_KEY + "\n"))
    assert cli_main(["keys", "hash", "--name", "helpdesk-a"]) == 0
    assert capsys.readouterr().out.strip() == key_line(FILE_KEY, "helpdesk-a")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli_main(["keys", "hash"]) == 2
    assert "at least 16 characters" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (f"# ok\n{key_line(FILE_KEY)}\n{FILE_KEY} helpdesk-x\n", "line 3: expected 'sha256:"),
        ("sha256:abc123 helpdesk\n", "line 1: expected"),
        (f"sha256:{hash_key(FILE_KEY).upper()}\n", "line 1: expected"),
        (f"{key_line(FILE_KEY)} two labels\n", "line 1: expected"),
        (f"{key_line(FILE_KEY)} -bad-label\n", "line 1: label"),
        ("# only a comment\n\n", "holds no keys"),
        (f"{key_line(FILE_KEY, 'a')}\n{key_line(FILE_KEY, 'b')}\n", "configured twice"),
        (f"{key_line(FILE_KEY, 'same')}\n{key_line(ENV_KEY, 'same')}\n", "share the label"),
    ],
)
def test_malformed_keys_files_are_refused_without_echoing_keys(tmp_path, content, expected):
    path = tmp_path / "keys.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ApiKeyConfigError) as info:
        load_keyring(Settings(api_keys=SecretStr(""), api_keys_file=path))
    assert expected in str(info.value) and FILE_KEY not in str(info.value)


def test_missing_keys_file_and_short_plaintext_keys_are_refused(tmp_path):
    with pytest.raises(ApiKeyConfigError, match="cannot read it"):
        load_keyring(Settings(api_keys=SecretStr(""), api_keys_file=tmp_path / "nope.txt"))
    with pytest.raises(ApiKeyConfigError, match="key #2: a key must have at least 16") as info:
        load_keyring(Settings(api_keys=SecretStr(f"{ENV_KEY},tooshort")))
    assert "tooshort" not in str(info.value)


def test_the_cli_refuses_a_bad_keys_file_with_exit_2(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "keys.txt"
    bad.write_text(f"{ENV_KEY}\n", encoding="utf-8")  # a plaintext key where a hash belongs
    monkeypatch.setenv("ASSISTANT_API_KEYS_FILE", str(bad))
    get_settings.cache_clear()
    try:
        assert cli_main(["keys", "check"]) == 2
        assert cli_main(["serve", "--host", "127.0.0.1"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert err.count("line 1: expected 'sha256:") == 2 and ENV_KEY not in err and "Traceback" not in err


def test_startup_report_says_how_the_api_is_exposed(keys_file):
    open_settings = Settings(api_keys=SecretStr(""), api_keys_file=None)
    lines = startup_report(open_settings, "127.0.0.1", allow_unauthenticated=False)
    assert "unauthenticated, so it is bound to loopback (127.0.0.1) only" in lines[0]
    for host in ("0.0.0.0", "192.168.1.5", "::", "api.example.go.jp"):
        with pytest.raises(UnsafeBindError, match="refusing to serve the API unauthenticated"):
            startup_report(open_settings, host, allow_unauthenticated=False)
    assert startup_report(open_settings, "0.0.0.0", allow_unauthenticated=True)[0].startswith("WARNING")
    keyed = Settings(api_keys=SecretStr(ENV_KEY), api_keys_file=keys_file)
    lines = startup_report(keyed, "0.0.0.0", allow_unauthenticated=False)
    assert lines[0].startswith("API keys: 2 configured (sha256:") and "helpdesk-a" in lines[0]
    assert ENV_KEY not in "\n".join(lines) and any("behind the API keys" in line for line in lines)
    public = Settings(api_keys=SecretStr(ENV_KEY), ui_public=True)
    assert any(
        line.startswith("WARNING: Chat UI at / is public") for line in startup_report(public, "::", False)
    )


def test_serve_on_a_public_host_without_keys_exits_before_loading_anything(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {"PYTHONPATH": str(PROJECT_ROOT), "ASSISTANT_DATA_DIR": str(tmp_path)}
    code = (
        "import sys; from assistant.cli import main; rc = main(['serve', '--host', '0.0.0.0']); "
        "print('loaded:', [m for m in ('assistant.web.app', 'uvicorn', 'torch') if m in sys.modules]); "
        "sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: refusing to serve the API unauthenticated on 0.0.0.0")
    assert "--allow-unauthenticated" in done.stderr and "Traceback" not in done.stderr
    assert "loaded: []" in done.stdout


# -- rate limiter ----------------------------------------------------------------------------------------
def test_moving_windows_allow_a_burst_then_wait_for_the_oldest_request():
    limiter = RateLimiter(per_minute=600, burst=3)  # 3 in any second, 600 in any minute
    assert [w.get_expiry() for w in limiter.windows] == [1, 60]
    assert [limiter.acquire("a") for _ in range(4)] == [0, 0, 0, 1]
    assert limiter.acquire("b") == 0  # windows are per client
    time.sleep(1.05)  # the oldest requests have left the window: as many pass again, no more
    assert [limiter.acquire("a") for _ in range(4)] == [0, 0, 0, 1]
    assert RateLimiter(per_minute=0, burst=1).acquire("a") == 0  # 0 disables
    assert [w.get_expiry() for w in RateLimiter(per_minute=120, burst=30).windows] == [15, 60]
    assert [w.get_expiry() for w in RateLimiter(per_minute=10, burst=10).windows] == [60]


# -- API keys over HTTP ----------------------------------------------------------------------------------
def _v1_operations(client: httpx.Client) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    operations = [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, methods in spec["paths"].items()
        if path.startswith("/v1")
        for method in methods
    ]
    assert ("POST", "/v1/answer/stream") in operations and len(operations) >= 7
    return operations + [("GET", "/v1/no-such-endpoint")]


def test_every_v1_endpoint_needs_a_key(client):
    for method, path in _v1_operations(client):
        body = {"question": QUESTION} if method == "POST" else None
        missing = client.request(method, path, json=body, params={"q": "大学"})
        _assert_error(missing, 401, "unauthorized")
        assert missing.headers["www-authenticate"] == 'Bearer realm="assistant"'
        wrong = client.request(method, path, json=body, headers=_auth(WRONG_KEY))
        _assert_error(wrong, 401, "unauthorized")
        assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
    for header in (f"Basic {ENV_KEY}", ENV_KEY, f"Bearer {ENV_KEY} extra", "Bearer"):
        response = client.get("/v1/programs", headers={"Authorization": header})
        _assert_error(response, 401, "unauthorized")


def test_good_keys_from_the_settings_and_the_keys_file_get_answers(client):
    for key in (ENV_KEY, FILE_KEY):
        response = client.post("/v1/answer", json={"question": QUESTION}, headers=_auth(key))
        assert response.status_code == 200 and "coi-next@mext.go.jp" in response.json()["answer"]
        assert client.get("/v1/programs", headers=_auth(key)).json()["programs"]
    scheme = client.get("/v1/programs", headers={"Authorization": f"bearer {FILE_KEY}"})
    assert scheme.status_code == 200  # the scheme name is case-insensitive (RFC 7235)
    with client.stream(
        "POST", "/v1/answer/stream", json={"question": QUESTION}, headers=_auth(FILE_KEY)
    ) as response:
        assert response.status_code == 200
        raw = "".join(response.iter_text())
    assert "event: final" in raw and "coi-next@mext.go.jp" in raw


def test_health_and_docs_stay_open_and_the_schema_declares_bearer_auth(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from the operator (`assistant keys new`).",
    }
    answer = spec["paths"]["/v1/answer"]["post"]
    assert answer["security"] == [{"bearerAuth": []}] and {"401", "429"} <= set(answer["responses"])
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_the_ui_can_be_switched_off(client):
    _assert_error(client.get("/"), 404, "not_found")


def test_auth_comes_before_the_body_limit_and_both_answer_in_json(client):
    big = {"question": "質問", "history": [{"role": "user", "content": "あ" * 15000}] * 2}
    _assert_error(client.post("/v1/answer", json=big), 401, "unauthorized")
    _assert_error(client.post("/v1/answer", json=big, headers=_auth(ENV_KEY)), 413, "payload_too_large")


def test_an_unexpected_error_is_json_with_the_request_id_in_header_and_log(secured, caplog):
    caplog.handler.addFilter(RequestContextFilter())
    with caplog.at_level(
        logging.ERROR, logger="assistant.web.app"
    ):  # own connection: uvicorn closes it after
        response = httpx.get(f"{secured}/v1/boom", headers={**_auth(ENV_KEY), "X-Request-ID": "boom-1"})
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal_error"
    assert response.headers["x-request-id"] == "boom-1"
    records = [r for r in caplog.records if r.getMessage() == "unexpected error"]
    assert records and records[0].request_id == "boom-1" and records[0].client.startswith("sha256:")


# -- request ids -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        ("helpdesk-4711", True),
        ("2f1c9a7e-3b7d-4c1e-9a51-6f0e2d8b9c10", True),
        ("zendesk:ticket.123_a", True),
        ("has spaces", False),
        ('quote"and<tag>', False),
        ("a" * 129, False),
        ("-starts-with-dash", False),
        ("", False),
    ],
)
def test_request_ids_are_echoed_when_sane_and_made_otherwise(client, sent, echoed):
    header = {"X-Request-ID": sent}
    for response in (
        client.get("/healthz", headers=header),  # 200
        client.get("/v1/programs", headers=header),  # 401
        client.get("/v1/programs", headers={**_auth(ENV_KEY), **header}),  # 200
        client.get("/v1/programs/none", headers={**_auth(ENV_KEY), **header}),  # 404
    ):
        got = response.headers.get_list("x-request-id")
        assert len(got) == 1
        assert got[0] == sent if echoed else re.fullmatch(r"[0-9a-f]{32}", got[0])
    ids = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


# -- CORS ----------------------------------------------------------------------------------------------------
def _preflight(client: httpx.Client, origin: str) -> httpx.Response:
    return client.options(
        "/v1/answer",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_cors_preflight_for_an_allowed_origin(client):
    response = _preflight(client, ORIGIN)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["x-request-id"]
    # the refusal of a browser call without a key is readable by the page (CORS headers on the 401)
    refused = client.post("/v1/answer", json={"question": QUESTION}, headers={"Origin": ORIGIN})
    _assert_error(refused, 401, "unauthorized")
    assert refused.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in refused.headers["access-control-expose-headers"].lower()
    ok = client.post("/v1/answer", json={"question": QUESTION}, headers={"Origin": ORIGIN, **_auth(ENV_KEY)})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ORIGIN


def test_cors_preflight_for_another_origin_is_refused_in_json(client):
    response = _preflight(client, "https://evil.example.com")
    _assert_error(response, 400, "cors_rejected")
    assert "origin" in response.json()["error"]["message"]
    assert "access-control-allow-origin" not in response.headers
    answer = client.post(
        "/v1/answer",
        json={"question": QUESTION},
        headers={"Origin": "https://evil.example.com", **_auth(ENV_KEY)},
    )
    assert "access-control-allow-origin" not in answer.headers  # the browser will not hand it to the page


def test_without_keys_v1_is_open_and_the_chat_page_is_served_with_request_ids(live_server):
    programs = httpx.get(f"{live_server}/v1/programs", timeout=60)
    assert programs.status_code == 200 and programs.json()["programs"]
    page = httpx.get(f"{live_server}/", timeout=60)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert re.fullmatch(r"[0-9a-f]{32}", page.headers["x-request-id"])
    assert "securitySchemes" not in httpx.get(f"{live_server}/openapi.json").json().get("components", {})


# -- rate limit ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def limited(index_settings) -> Iterator[str]:
    from assistant.web.app import create_app

    other = "second-key-for-tests-0123456789"
    settings = index_settings.model_copy(
        update={
            "api_keys": SecretStr(f"{ENV_KEY},{other}"),
            "rate_limit_per_minute": 30,  # and 2 in any 4 s
            "rate_limit_burst": 2,
            "ui_enabled": False,
        }
    )
    with serve(create_app(settings)) as base:
        yield base


def test_rate_limit_per_key_answers_429_with_retry_after_then_recovers(limited):
    with httpx.Client(base_url=limited, timeout=60) as c:
        assert [c.get("/v1/programs", headers=_auth(ENV_KEY)).status_code for _ in range(2)] == [200, 200]
        refused = c.get("/v1/programs", headers=_auth(ENV_KEY))
        _assert_error(refused, 429, "rate_limited")
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 4  # 2 requests in any 4 s: the first one leaves the window within 4 s
        # another key has its own bucket; health is never limited
        assert c.get("/v1/programs", headers=_auth("second-key-for-tests-0123456789")).status_code == 200
        assert all(c.get("/healthz").status_code == 200 for _ in range(5))
        time.sleep(wait)
        assert c.get("/v1/programs", headers=_auth(ENV_KEY)).status_code == 200


def test_guessing_keys_is_rate_limited_per_client_ip(limited):
    with httpx.Client(base_url=limited, timeout=60) as c:
        statuses = [c.get("/v1/documents", headers=_auth(WRONG_KEY)).status_code for _ in range(3)]
        assert statuses[:2] == [401, 401] and statuses[2] == 429
        # the callers with keys keep their own buckets
        assert c.get("/v1/documents", headers=_auth("second-key-for-tests-0123456789")).status_code == 200


def test_the_eval_client_waits_out_a_429(limited):
    from evals.runner import HttpTarget

    target = HttpTarget(limited, api_key="second-key-for-tests-0123456789")
    statuses = [target.client.get("/v1/documents").status_code for _ in range(4)]  # use up the bucket
    assert statuses[-1] == 429
    started = time.monotonic()
    assert target._get("/v1/documents")["documents"]  # retried after Retry-After
    assert time.monotonic() - started >= 1


# -- what `assistant serve` logs ------------------------------------------------------------------------------
def test_serve_logs_request_ids_and_key_labels_but_never_keys(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONUNBUFFERED": "1",
        "ASSISTANT_API_KEYS": ENV_KEY,
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),  # no index, no model: the service fails fast
        "ASSISTANT_EMBEDDING_MODEL": str(tmp_path / "no-model"),
        "ASSISTANT_UI_ENABLED": "false",
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
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        assert httpx.get(f"{base}/healthz", headers={"X-Request-ID": "log-check-1"}).status_code == 200
        known = httpx.get(f"{base}/v1/programs", headers={**_auth(ENV_KEY), "X-Request-ID": "log-check-2"})
        assert known.status_code == 503  # authenticated; the service has no index here
        wrong = httpx.get(f"{base}/v1/programs", headers={**_auth(WRONG_KEY), "X-Request-ID": "log-check-3"})
        assert wrong.status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    label = f"sha256:{hash_key(ENV_KEY)[:8]}"
    assert f"API keys: 1 configured ({label})" in output
    lines = output.splitlines()

    def line_with(*needles: str) -> str:
        found = [line for line in lines if all(n in line for n in needles)]
        assert found, f"no log line with {needles}:\n{output}"
        return found[0]

    line_with("[log-check-1 -]", '"GET /healthz HTTP/1.1" 200')
    line_with(f"[log-check-2 {label}]", '"GET /v1/programs HTTP/1.1" 503')
    line_with("[log-check-3 -]", "unknown API key on /v1/programs")
    line_with("[log-check-3 -]", '"GET /v1/programs HTTP/1.1" 401')
    assert ENV_KEY not in output and WRONG_KEY not in output and hash_key(ENV_KEY) not in output
