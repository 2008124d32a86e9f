"""The HTTP server in front of the app: uvicorn with bounded request heads, read deadlines and proxies.

uvicorn's httptools protocol accepts a request head of any size (a 48 MB header was held in memory) and
never closes a connection whose request does not finish arriving (300 slow-header connections stayed
open). ``GuardedHttpToolsProtocol`` adds the two bounds a reverse proxy would give:

* the request line and headers may hold ``max_header_bytes``; beyond that the client gets 431 and the
  connection is closed, after at most one read buffer more;
* a request must arrive whole (line, headers, body) within ``http_read_timeout_seconds`` of its first
  byte — or of the connection's opening; otherwise 408 (or, mid-body, a plain close).

:func:`server_config` builds the uvicorn configuration ``assistant serve`` runs: this protocol, the
connection cap (``max_connections``, then 503), and ``X-Forwarded-For``/``-Proto`` believed only from
``trusted_proxies`` (none by default: uvicorn's own default trusts loopback, so anything on the host could
claim any client address and get a fresh rate-limit bucket).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import uvicorn

from assistant.config import Settings

log = logging.getLogger("assistant.web.http_guard")

try:  # uvicorn's fast parser; without it the h11 protocol's own head limit applies (no read deadline)
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is installed with uvicorn's usual extras
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


class _HeadTooLarge(Exception):
    """Raised inside a parser callback to stop parsing a request head over the cap."""


def _raw_response(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode()
    return head + body


if HttpToolsProtocol is not None:

    class GuardedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc,valid-type]
        """uvicorn's httptools protocol with a request-head size cap and a read deadline per request."""

        max_head_bytes = 32 * 1024
        read_timeout = 10.0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._head_bytes = self._head_size = 0
            self._too_large = False
            self._in_head = False
            self._in_request = False
            self._deadline: asyncio.TimerHandle | None = None
            self._arm()  # a connection that never sends a byte is closed too

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(self.read_timeout, self._timed_out)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def data_received(self, data: bytes) -> None:
            """uvicorn's, plus the head cap: counted exactly as the parser reports the line and headers,
            and by the bytes received while a head is still incomplete (httptools buffers a header until
            it ends, so a huge one is cut off after one read buffer, not held whole)."""
            if not self._in_request:
                self._arm()  # the first bytes of the next request on a kept-alive connection
            self._unset_keepalive_if_required()
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
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
                return
            if self._in_head and not self.transport.is_closing():
                self._head_bytes += len(data)
                if self._head_bytes > self.max_head_bytes:
                    self._refuse_head()

        def _count(self, size: int) -> None:
            self._head_size += size
            if self._head_size > self.max_head_bytes:
                self._too_large = True
                raise _HeadTooLarge  # stops the parser; data_received answers 431

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_request, self._in_head = True, True
            self._head_bytes = self._head_size = 0
            self._too_large = False
            self._arm()

        def on_url(self, url: bytes) -> None:
            super().on_url(url)
            self._count(len(url) + 16)  # the method, the version and the line break

        def on_header(self, name: bytes, value: bytes) -> None:
            super().on_header(name, value)
            self._count(len(name) + len(value) + 4)

        def _refuse_head(self) -> None:
            log.warning("refused a request head over %d bytes", self.max_head_bytes)
            self._refuse(
                431,
                "Request Header Fields Too Large",
                "headers_too_large",
                f"The request line and headers exceed {self.max_head_bytes} bytes.",
            )

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_request = False
            self._disarm()

        def _timed_out(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
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

        def _refuse(self, status: int, reason: str, code: str, message: str) -> None:
            self._disarm()
            self.transport.write(_raw_response(status, reason, code, message))
            self.transport.close()


def http_protocol(settings: Settings) -> Any:
    """The protocol class for uvicorn, carrying the configured bounds."""
    if HttpToolsProtocol is None:  # pragma: no cover
        log.warning("httptools is not installed: no read deadline for slow clients (h11's head cap applies)")
        return "h11"
    return type(
        "GuardedProtocol",
        (GuardedHttpToolsProtocol,),
        {"max_head_bytes": settings.max_header_bytes, "read_timeout": settings.http_read_timeout_seconds},
    )


def server_config(app: Any, settings: Settings, host: str, port: int, **extra: Any) -> uvicorn.Config:
    """How ``assistant serve`` (and the tests that need the real front) run the app."""
    proxies = list(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=http_protocol(settings),
        h11_max_incomplete_event_size=settings.max_header_bytes,
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=5,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        server_header=False,
        **extra,
    )
