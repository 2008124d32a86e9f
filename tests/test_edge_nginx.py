"""The shipped public edge (``deploy/nginx/edge.conf``) in a real nginx from Debian, in front of the real
app behind ``assistant serve``'s protocol: per-address connection and rate limits answer the app's JSON
error with Retry-After and X-Request-ID, unknown Host names never reach the app, the client's address
and request id are passed on, and slow senders and readers are cut by the edge's timeouts (issue 20).

The test runs nginx in a temporary prefix with its own ports; only the listen address, the upstream port
and the timeouts (shortened, so the test takes seconds) are rewritten. ``.ci/run`` installs nginx.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from assistant.config import PROJECT_ROOT, Settings
from assistant.web.http_guard import server_config
from tests.support import free_port

EDGE_CONF = PROJECT_ROOT / "deploy" / "nginx" / "edge.conf"
HOST = "helpdesk.example.go.jp"
SHORT = {"client_header_timeout": "2s", "client_body_timeout": "2s", "send_timeout": "2s"}


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        pytest.fail("nginx is missing: `apt-get install -y nginx` (.ci/run installs it)")
    return found


def _edge_config(app_port: int, edge_port: int) -> str:
    text = EDGE_CONF.read_text(encoding="utf-8")
    for directive, value in SHORT.items():
        text, count = re.subn(rf"(\n\s*{directive}\s+)\S+;", rf"\g<1>{value};", text)
        assert count == 2, f"{directive} is not set in both servers of {EDGE_CONF.name}"
    text = text.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    text = text.replace("listen 80 default_server;", f"listen 127.0.0.1:{edge_port} default_server;")
    text = text.replace("listen 80;", f"listen 127.0.0.1:{edge_port} sndbuf=32k;")
    return text


@contextlib.contextmanager
def _nginx_in(prefix: Path, app_port: int) -> Iterator[int]:
    edge_port = free_port()
    for folder in ("logs", "tmp"):
        (prefix / folder).mkdir(parents=True)
        (prefix / folder).chmod(0o777)  # nginx's workers may run as another user
    (prefix / "edge.conf").write_text(_edge_config(app_port, edge_port), encoding="utf-8")
    temp = " ".join(
        f"{kind}_temp_path {prefix}/tmp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (prefix / "nginx.conf").write_text(
        f"daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log warn;\n"
        "events { worker_connections 512; }\n"
        f"http {{ access_log {prefix}/logs/access.log; {temp} include {prefix}/edge.conf; }}\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [_nginx(), "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, (
                process.stderr.read().decode() if process.stderr else "nginx exited"
            )
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", edge_port), timeout=1):
                break
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)
        yield edge_port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def edge(tmp_path_factory) -> Iterator[str]:
    """The real app (keyless, loopback, no index: the edge is what is tested) behind the shipped nginx."""
    from assistant.web.app import create_app

    tmp = tmp_path_factory.mktemp("edge")
    settings = Settings(
        data_dir=tmp / "data",
        embedding_model=str(tmp / "no-model"),
        trusted_proxies=["127.0.0.1"],
        allowed_hosts=[HOST],
        rate_limit_per_minute=0,  # what is measured here is the edge's limit
    )
    app_port = free_port()
    server = uvicorn.Server(
        server_config(create_app(settings), settings, "127.0.0.1", app_port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.05)
        with _nginx_in(tmp / "nginx", app_port) as edge_port:
            yield f"http://127.0.0.1:{edge_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Host": HOST}, timeout=20)


def _assert_json_refusal(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == code
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_the_edge_passes_its_host_and_request_ids_and_refuses_other_hosts(edge):
    with _client(edge) as http:
        healthy = http.get("/healthz", headers={"X-Request-ID": "edge-check-1"})
        assert healthy.status_code == 200 and healthy.headers["x-request-id"] == "edge-check-1"
        made = http.get("/healthz")
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])  # nginx's id, kept by the app
        page = http.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "pa_session=" in page.headers["set-cookie"]
    _assert_json_refusal(httpx.get(f"{edge}/healthz", headers={"Host": "evil.example"}), 400, "invalid_host")


def test_one_address_gets_20_open_requests_and_a_rate_then_json_429s(edge):
    with _client(edge) as http:
        http.get("/", headers={"Accept": "text/html"})  # a session: the heartbeat stream needs one
        streams = []
        try:
            for i in range(24):  # long-lived requests: Gradio's heartbeat stream
                stream = http.stream("GET", f"/gradio_api/heartbeat/edgetab{i}")
                streams.append((stream, stream.__enter__()))
            statuses = [response.status_code for _, response in streams]
            assert statuses.count(200) == 20 and statuses.count(429) == 4, statuses
            refused = next(response for _, response in streams if response.status_code == 429)
            refused.read()
            _assert_json_refusal(refused, 429, "rate_limited")
        finally:
            for stream, _ in streams:
                with contextlib.suppress(Exception):
                    stream.__exit__(None, None, None)
        time.sleep(4.5)  # the request rate's bucket refills
        burst = [http.get("/v1/programs") for _ in range(70)]
    refused = [r for r in burst if r.status_code == 429]
    assert 10 <= len(refused) <= 40, [r.status_code for r in burst]
    _assert_json_refusal(refused[0], 429, "rate_limited")
    assert refused[0].headers["retry-after"] == "2"
    assert all(r.status_code == 503 for r in burst if r.status_code != 429)  # the app's own answer (no index)


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(0.5)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if sock.recv(1 << 16) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def test_slow_senders_and_readers_are_cut_by_the_edge(edge):
    port = int(edge.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow_head:
        slow_head.sendall(f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\n".encode())  # never finished
        started = time.monotonic()
        assert _closed_within(slow_head, 8) and time.monotonic() - started < 6
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.connect(("127.0.0.1", port))
    with reader:
        reader.sendall(f"GET /static/vendor/vis-network.min.js HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        reader.recv(1024)  # the head and a little: then it stops reading
        time.sleep(6)  # send_timeout (2 s here) passes with the client reading nothing
        got = 0
        reader.settimeout(2)
        with contextlib.suppress(OSError):
            while chunk := reader.recv(1 << 16):
                got += len(chunk)
    assert got < 468_000, f"the stalled reader still got the whole file ({got} bytes)"


def test_the_shipped_config_names_every_bound():
    text = EDGE_CONF.read_text(encoding="utf-8")
    for directive in (
        "limit_conn ",
        "limit_req ",
        "client_header_timeout",
        "client_body_timeout",
        "send_timeout",
        "keepalive_timeout",
        "client_max_body_size",
        "proxy_set_header X-Forwarded-For $remote_addr",
    ):
        assert directive in text, directive
    assert os.path.basename(EDGE_CONF) == "edge.conf"
