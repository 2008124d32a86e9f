"""The HTTP server in front of the app: uvicorn with bounded request heads, read and write deadlines,
per-client connection shares and proxies.

uvicorn's httptools protocol accepts a request head of any size (a 48 MB header was held in memory),
never closes a connection whose request does not finish arriving, lets a client that stops reading hold
its connection (and the response buffered for it) forever, and has one connection cap for everyone.
``GuardedHttpToolsProtocol`` adds the bounds a reverse proxy would give:

* the request line and headers may hold ``max_header_bytes``; beyond that the client gets 431 and the
  connection is closed, after at most one read buffer more (counted per request, so pipelined requests
  with bodies are not mistaken for a huge head);
* a request must arrive whole (line, headers, body) within ``http_read_timeout_seconds`` of its first
  byte — or of the connection's opening; otherwise 408 (or, mid-body, a plain close). Time the server
  itself paused reading (a pipelined request waiting its turn) does not count;
* a response the client stops reading is cut ``http_write_timeout_seconds`` after the server had to stop
  writing to it (510 readers that never read a 31.7 MB file held every slot for minutes);
* connections are admitted by a :class:`~assistant.web.connections.ConnectionLedger`: one client address
  holds at most ``max_connections_per_client`` of the ``max_connections`` slots; beyond its share a
  connection's request gets 429, beyond the total 503 — JSON with ``Retry-After`` — and is closed;
* a response sent before the request's body arrived (401, 413, 429 …) closes the connection after a short
  linger instead of reading a 100 MB body to its end;
* every refusal of the front end (400, 408, 429, 431, 503) is the API's JSON error with an
  ``X-Request-ID``.

:func:`server_config` builds the uvicorn configuration ``assistant serve`` runs: this protocol, and
``X-Forwarded-For``/``-Proto`` believed only from ``trusted_proxies`` (none by default: uvicorn's own
default trusts loopback, so anything on the host could claim any client address and get a fresh
rate-limit bucket).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import uvicorn

from assistant.config import Settings
from assistant.web.api_keys import load_keyring
from assistant.web.connections import Admission, ConnectionLedger
from assistant.web.errors import error_response
from assistant.web.request_id import REQUEST_ID_HEADER, new_request_id, request_id_middleware

log = logging.getLogger("assistant.web.http_guard")

try:  # uvicorn's fast parser (a declared dependency); without it uvicorn's h11 protocol runs, unguarded
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

#: After a response that did not wait for its request's body: how long and how much more is read.
LINGER_SECONDS = 2.0
LINGER_BYTES = 256 * 1024
#: A connection beyond its client's share gets this long to send the request its refusal answers.
REFUSAL_GRACE_SECONDS = 2.0
RETRY_AFTER_SECONDS = 2


class _HeadTooLarge(Exception):
    """Raised inside a parser callback to stop parsing a request head over the cap."""


def raw_error(
    status: int, reason: str, code: str, message: str, headers: dict[str, str] | None = None
) -> bytes:
    """A whole JSON error response for the transport, with a fresh request id; the connection closes."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n{REQUEST_ID_HEADER.lower()}: {new_request_id()}\r\n{extra}"
        "connection: close\r\n\r\n"
    ).encode()
    return head + body


def refusal_app(admission: Admission, keyring: Any) -> Any:
    """The ASGI app that answers every request of a connection that was not admitted (JSON, Retry-After,
    an X-Request-ID like any response), closing the connection afterwards."""
    if admission is Admission.CLIENT_FULL:
        status, code = 429, "too_many_connections"
        message = "This client has too many connections open; close some or retry shortly."
    else:
        status, code = 503, "overloaded"
        message = "The server has no free connection slot; retry shortly."
    response = error_response(
        status, code, message, {"Retry-After": str(RETRY_AFTER_SECONDS), "Connection": "close"}
    )
    return request_id_middleware(response, keyring)


if HttpToolsProtocol is not None:

    class GuardedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc,valid-type]
        """uvicorn's httptools protocol with the bounds of the module docstring."""

        max_head_bytes = 32 * 1024
        read_timeout = 10.0
        write_timeout = 20.0
        ledger: ConnectionLedger | None = None
        refusals: dict[Admission, Any] = {}  # Admission -> the ASGI app answering its requests

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._head_bytes = self._head_size = 0
            self._too_large = False
            self._in_head = self._in_request = self._began_here = False
            self._lingering: int | None = None  # bytes read since a response ended an unread request
            self._deadline: asyncio.TimerHandle | None = None
            self._write_deadline: asyncio.TimerHandle | None = None
            self._peer = self.client[0] if self.client else "unknown"
            admission = self.ledger.admit(self._peer) if self.ledger else Admission.ADMITTED
            self._holds_slot = admission is Admission.ADMITTED
            if self._holds_slot:
                self._arm()  # a connection that never sends a byte is closed too
            else:
                self.app = self.refusals[admission]
                self._arm(min(self.read_timeout, REFUSAL_GRACE_SECONDS))

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self._write_deadline is not None:
                self._write_deadline.cancel()
                self._write_deadline = None
            if self.ledger is not None and self._holds_slot:
                self.ledger.release(self._peer)
                self._holds_slot = False
            super().connection_lost(exc)

        # -- the read deadline --------------------------------------------------------------------
        def _arm(self, seconds: float | None = None) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(seconds or self.read_timeout, self._timed_out)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _timed_out(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            if self.flow.read_paused and self._holds_slot:
                self._arm()  # the server stopped reading (a pipelined request waits): not the client's time
                return
            if self._in_request and not self._in_head:
                self.transport.close()  # mid-body: the app sees a disconnect
                return
            self._refuse(
                408,
                "Request Timeout",
                "request_timeout",
                f"The request did not arrive within {self.read_timeout:g} s.",
            )

        # -- reading --------------------------------------------------------------------------------
        def data_received(self, data: bytes) -> None:
            """uvicorn's, plus the head cap: counted exactly as the parser reports the line and headers,
            and by the bytes received while a head is still incomplete (httptools buffers a header until
            it ends, so a huge one is cut off after a read buffer or two, not held whole)."""
            if self._lingering is not None:
                self._lingering += len(data)  # the rest of a body nobody will read
                if self._lingering > LINGER_BYTES:
                    self.transport.close()
                return
            if not self._in_request:
                self._arm()  # the first bytes of the next request on a kept-alive connection
            self._unset_keepalive_if_required()
            self._began_here = False
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
                return
            except httptools.HttpParserError:
                if self._too_large:
                    self._refuse_head()
                    return
                log.warning("refused a request that is not valid HTTP")
                self.send_400_response("The request is not valid HTTP/1.1.")
                return
            if self._in_head and not self._began_here and not self.transport.is_closing():
                self._head_bytes += len(data)  # a head still incomplete after a whole read
                if self._head_bytes > self.max_head_bytes:
                    self._refuse_head()

        def send_400_response(self, msg: str) -> None:
            self._refuse(400, "Bad Request", "invalid_request", msg)

        def _count(self, size: int) -> None:
            self._head_size += size
            if self._head_size > self.max_head_bytes:
                self._too_large = True
                raise _HeadTooLarge  # stops the parser; data_received answers 431

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_request, self._in_head, self._began_here = True, True, True
            self._head_bytes = self._head_size = 0
            self._too_large = False
            self._arm()

        def on_url(self, url: bytes) -> None:
            super().on_url(url)
            self._count(len(url) + 16)  # the method, the version and the line break

        def on_header(self, name: bytes, value: bytes) -> None:
            super().on_header(name, value)
            self._count(len(name) + len(value) + 4)

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_request = False
            self._disarm()

        def _refuse_head(self) -> None:
            log.warning("refused a request head over %d bytes", self.max_head_bytes)
            self._refuse(
                431,
                "Request Header Fields Too Large",
                "headers_too_large",
                f"The request line and headers exceed {self.max_head_bytes} bytes.",
            )

        def _refuse(self, status: int, reason: str, code: str, message: str) -> None:
            self._disarm()
            self.transport.write(raw_error(status, reason, code, message))
            self.transport.close()

        # -- after a response -----------------------------------------------------------------------
        def on_response_complete(self) -> None:
            """A response that did not wait for its request's body (401, 413, a refusal…) ends the
            connection: the rest of the body is read for ``LINGER_SECONDS`` or ``LINGER_BYTES`` at most,
            then the connection closes (the client has its answer; nothing reads a 100 MB upload)."""
            cycle = self.cycle
            unread = cycle is not None and cycle.response_complete and cycle.more_body
            if not self._holds_slot or (unread and not self.transport.is_closing()):
                self.server_state.total_requests += 1
                self._linger()
                return
            super().on_response_complete()

        def _linger(self) -> None:
            self._disarm()
            if self.transport.is_closing():
                return
            self._lingering = 0
            self.flow.resume_reading()
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)

        # -- the write deadline ---------------------------------------------------------------------
        def pause_writing(self) -> None:
            """The client is not reading as fast as the response is written: start the write deadline."""
            super().pause_writing()
            if self._write_deadline is None:
                self._write_deadline = self.loop.call_later(self.write_timeout, self._write_timed_out)

        def resume_writing(self) -> None:
            super().resume_writing()
            if self._write_deadline is not None:
                self._write_deadline.cancel()
                self._write_deadline = None

        def _write_timed_out(self) -> None:
            self._write_deadline = None
            if self.flow.write_paused and not self.transport.is_closing():
                log.info("cut a connection whose client read nothing for %g s", self.write_timeout)
                self.transport.abort()  # drops what was buffered for it, too


def http_protocol(settings: Settings, ledger: ConnectionLedger | None = None) -> Any:
    """The protocol class for uvicorn, carrying the configured bounds (one ledger per server)."""
    if HttpToolsProtocol is None:  # pragma: no cover
        log.warning("httptools is not installed: the front end's bounds do not apply (h11's head cap does)")
        return "h11"
    if ledger is None:
        ledger = ConnectionLedger(
            settings.max_connections, settings.max_connections_per_client, list(settings.trusted_proxies)
        )
    keyring = load_keyring(settings)
    refusals = {why: refusal_app(why, keyring) for why in (Admission.CLIENT_FULL, Admission.SERVER_FULL)}
    return type(
        "GuardedProtocol",
        (GuardedHttpToolsProtocol,),
        {
            "max_head_bytes": settings.max_header_bytes,
            "read_timeout": settings.http_read_timeout_seconds,
            "write_timeout": settings.http_write_timeout_seconds,
            "ledger": ledger,
            "refusals": refusals,
        },
    )


def server_config(app: Any, settings: Settings, host: str, port: int, **extra: Any) -> uvicorn.Config:
    """How ``assistant serve`` (and the tests that need the real front) run the app. uvicorn's own
    ``limit_concurrency`` stays off: the ledger admits connections, and its refusals are JSON."""
    proxies = list(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=http_protocol(settings),
        h11_max_incomplete_event_size=settings.max_header_bytes,
        timeout_keep_alive=5,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        server_header=False,
        **extra,
    )
