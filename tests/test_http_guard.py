"""The HTTP front of ``assistant serve`` (``http_guard.server_config``), over real sockets: request heads over
the cap are refused, slow clients are closed, and X-Forwarded-For counts only from trusted proxies.

A tiny ASGI app stands in for the assistant (no model needed): the bounds are the server's, not the app's.
"""

from __future__ import annotations

import contextlib
import json
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
