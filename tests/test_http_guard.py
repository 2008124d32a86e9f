"""The HTTP front of ``assistant serve`` (``http_guard.server_config``), over real sockets: request heads over
the cap are refused, slow clients are closed, and X-Forwarded-For counts only from trusted proxies.

A tiny ASGI app stands in for the assistant (no model needed): the bounds are the server's, not the app's.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from assistant.config import Settings
from assistant.web.http_guard import server_config
from tests.support import free_port


async def echo_client(scope, receive, send) -> None:
    """Answers with the client address the app sees and the size of the body it read."""
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = json.dumps({"client": scope["client"][0], "scheme": scope["scheme"], "body": size}).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def front(**settings: object) -> Iterator[int]:
    options = {"max_header_bytes": 16 * 1024, "http_read_timeout_seconds": 1.0} | settings
    port = free_port()
    config = server_config(
        echo_client, Settings(**options), "127.0.0.1", port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Read until the server closes the connection (True) or ``seconds`` pass (False)."""
    sock.settimeout(0.2)
    received = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            return True, received
        if not chunk:
            return True, received
        received += chunk
    return False, received


def test_a_normal_request_passes():
    with front() as port:
        response = httpx.post(f"http://127.0.0.1:{port}/", content=b"x" * 5000, headers={"X-Pad": "a" * 8000})
    assert response.status_code == 200 and response.json()["body"] == 5000


@pytest.mark.parametrize("size", [20_000, 1_000_000])
def test_a_header_over_the_cap_is_refused_with_431_and_the_connection_closed(size):
    """20 kB arrive in one read (the parser's own count catches it); 1 MB is cut off after one read
    buffer, not held whole."""
    with front() as port, socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Junk: " + b"a" * size + b"\r\n\r\n"
        with contextlib.suppress(OSError):  # the server may close before it has all been sent
            sock.sendall(head)
        closed, received = _closed_within(sock, 5)
    assert closed
    if received or size < 65536:  # a reset may swallow the answer to a head still being sent
        assert received.startswith(b"HTTP/1.1 431 ")
        assert json.loads(received.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "headers_too_large"


def test_slow_headers_and_slow_bodies_are_closed_after_the_read_timeout():
    with front(http_read_timeout_seconds=1.0) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as silent:
            closed, _ = _closed_within(silent, 4)  # never sends a byte
            assert closed
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            closed, received = False, b""
            while time.monotonic() - started < 5 and not closed:
                with contextlib.suppress(OSError):
                    slow.sendall(b"X")  # one header byte at a time, never finishing
                closed, received = _closed_within(slow, 0.3)
            assert closed and time.monotonic() - started < 4
            assert received.startswith(b"HTTP/1.1 408 ")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as trickle:
            trickle.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
            closed, received = _closed_within(trickle, 4)
            assert closed and received == b""  # mid-body: closed, the app saw a disconnect
        # a kept-alive connection gets a fresh deadline per request
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert client.get("/").status_code == 200
            time.sleep(0.5)
            assert client.get("/").status_code == 200


@pytest.mark.parametrize(("trusted", "seen"), [([], "127.0.0.1"), (["127.0.0.1"], "203.0.113.9")])
def test_x_forwarded_for_counts_only_from_trusted_proxies(trusted, seen):
    with front(trusted_proxies=trusted) as port:
        response = httpx.get(
            f"http://127.0.0.1:{port}/",
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        )
    assert response.json()["client"] == seen
    assert response.json()["scheme"] == ("https" if trusted else "http")


# -- issue 20: shares, slow readers, and the front end's own answers --------------------------------------
BIG = b"x" * 8_000_000


async def big_file(scope, receive, send) -> None:
    """Answers ``/big`` with 8 MB (a slow reader's target), and echoes anything else."""
    if scope["type"] == "http" and scope["path"] == "/big":
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"8000000")]}
        )
        await send({"type": "http.response.body", "body": BIG})
        return
    await echo_client(scope, receive, send)


def _from(address: str, port: int) -> socket.socket:
    sock = socket.socket()
    sock.bind((address, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def _json_refusal(raw: bytes, status: int, code: str) -> dict[str, str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} "), lines[0]
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert headers["content-type"].startswith("application/json")
    assert len(headers["x-request-id"]) == 32
    assert json.loads(body)["error"]["code"] == code
    return headers


@contextlib.contextmanager
def big_front(**settings: object) -> Iterator[int]:
    options = {"max_header_bytes": 16 * 1024, "http_read_timeout_seconds": 2.0} | settings
    port = free_port()
    config = server_config(
        big_file, Settings(**options), "127.0.0.1", port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_an_idle_flood_from_one_address_leaves_the_others_served():
    """505 idle connections from one address: it keeps its share (8 here), the rest are refused with a
    JSON 429 when they speak (or closed when they do not), and another address is served at once."""
    with big_front(max_connections=50, max_connections_per_client=8, http_read_timeout_seconds=30.0) as port:
        flood = [_from("127.0.0.2", port) for _ in range(505)]
        try:
            for _ in range(5):  # while the flood holds its connections, the other client is served
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                assert response.status_code == 200
            extra = _from("127.0.0.2", port)
            extra.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            closed, received = _closed_within(extra, 5)
            headers = _json_refusal(received, 429, "too_many_connections")
            assert headers["retry-after"] == "2" and closed
            time.sleep(2.5)  # refused ones that say nothing are closed after a short grace
            silent_closed = sum(_closed_within(sock, 0.2)[0] for sock in flood[8:20])
            assert silent_closed == 12
        finally:
            for sock in flood:
                sock.close()


def test_the_server_wide_cap_answers_json_503_with_retry_after():
    with big_front(max_connections=10, max_connections_per_client=10) as port:
        held = [_from(f"127.0.3.{i + 1}", port) for i in range(10)]
        try:
            late = _from("127.0.4.1", port)
            late.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            headers = _json_refusal(_closed_within(late, 5)[1], 503, "overloaded")
            assert headers["retry-after"] == "2"
        finally:
            for sock in held:
                sock.close()


def test_a_slow_reader_is_cut_after_the_write_timeout():
    with big_front(http_write_timeout_seconds=1.0) as port:
        reader = socket.socket()
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader.connect(("127.0.0.1", port))
        with reader:
            reader.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            reader.recv(1024)
            time.sleep(3)  # reads nothing for longer than the write timeout
            got = 0
            reader.settimeout(2)
            with contextlib.suppress(OSError):
                while chunk := reader.recv(1 << 20):
                    got += len(chunk)
        assert got < len(BIG) // 2, f"the stalled reader got {got} of {len(BIG)} bytes"
        assert httpx.get(f"http://127.0.0.1:{port}/big", timeout=10).content == BIG  # a reader that reads


def test_front_end_refusals_are_json_with_a_request_id():
    with big_front() as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
            _json_refusal(_closed_within(sock, 5)[1], 400, "invalid_request")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Junk: " + b"a" * 20_000 + b"\r\n\r\n")
            _json_refusal(_closed_within(sock, 5)[1], 431, "headers_too_large")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            _json_refusal(_closed_within(sock, 5)[1], 408, "request_timeout")


async def refuse_unread(scope, receive, send) -> None:
    """Answers 401 without reading the body, as the key check does."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 401, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"no"})


def test_a_refusal_before_the_body_does_not_read_a_100_mb_body():
    port = free_port()
    server = uvicorn.Server(
        server_config(refuse_unread, Settings(), "127.0.0.1", port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
            sent, chunk = 0, b"x" * 65536
            with contextlib.suppress(OSError):
                while sent < 100_000_000:
                    sock.sendall(chunk)
                    sent += len(chunk)
        assert sent < 20_000_000, f"the server read {sent / 1e6:.0f} MB of a body it had refused"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_pipelined_requests_with_bodies_are_not_mistaken_for_a_huge_head():
    with front() as port, socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        body = b"y" * 60_000
        request = (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        sock.sendall(request * 5)
        received = b""
        sock.settimeout(5)
        with contextlib.suppress(OSError):
            while received.count(b"HTTP/1.1 ") < 5:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                received += chunk
    statuses = re.findall(rb"HTTP/1\.1 (\d{3})", received)
    assert statuses == [b"200"] * 5, statuses
