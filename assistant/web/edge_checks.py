"""Checks on every request before any routing: the ``Host`` it names and the form of its path.

* **Host.** A page on ``evil.example`` whose name resolves to 127.0.0.1 (DNS rebinding) reached the
  loopback-only, keyless server with ``Host: evil.example`` and got answers and a session (issue 20). Only
  the names in ``ASSISTANT_ALLOWED_HOSTS`` are answered — loopback names by default, exact names or
  ``*.suffix`` patterns — in every mode; anything else is ``400 invalid_host``.
* **Path.** ``/static/vendor/x/../../ffmpeg/…`` (sent as is) walked out of the open vendor folder into
  Gradio's, and ``/static/app/page.js%00`` reached ``Path.resolve`` (500). A path must already be in
  normal form: no ``.``/``..`` segments, no encoded ``/``, ``\\`` or ``.``, no backslash, NUL or other
  control character; otherwise ``400 invalid_path``. Refusing rather than normalising means the guards
  behind (API prefix, the UI's door, Gradio's routes) all see the same path the client sent.

Both refusals are the API's JSON error; the message never repeats what was sent.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import Headers

from assistant.web.errors import error_response

#: Encoded separators, encoded dots and NUL in the raw path; backslash and controls raw or decoded.
_ENCODED = re.compile(rb"%(?:2[fFeE]|5[cC]|00)")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")


def path_is_normal(raw_path: bytes, path: str) -> bool:
    """True when the path has no dot-segments, encoded separators or dots, backslashes or controls."""
    if not path.startswith("/") or _ENCODED.search(raw_path) or _UNSAFE.search(path):
        return False
    if _UNSAFE.search(raw_path.decode("latin-1")):
        return False
    return not any(segment in (".", "..") for segment in path.split("/"))


def host_name(host_header: str) -> str:
    """The name in a ``Host`` header, without the port (``[::1]:8000`` → ``::1``), lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else ""
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host


def host_allowed(host_header: str | None, allowed: list[str]) -> bool:
    """``allowed`` holds names, ``*.suffix`` patterns or ``*`` (anything)."""
    if "*" in allowed:
        return True
    name = host_name(host_header or "")
    if not name:
        return False
    for pattern in allowed:
        pattern = pattern.strip().lower().strip("[]")
        if pattern.startswith("*."):
            if name.endswith(pattern[1:]) and len(name) > len(pattern) - 1:
                return True
        elif name == pattern:
            return True
    return False


class EdgeChecksMiddleware:
    """Refuses a request for a host not allowed (400 ``invalid_host``) or with a path not in normal
    form (400 ``invalid_path``) before anything else sees it."""

    def __init__(self, app: Any, allowed_hosts: list[str]) -> None:
        self.app, self.allowed_hosts = app, list(allowed_hosts)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = None
        if not host_allowed(Headers(scope=scope).get("host"), self.allowed_hosts):
            refusal = error_response(
                400,
                "invalid_host",
                "This server does not answer for that host name (ASSISTANT_ALLOWED_HOSTS).",
            )
        elif not path_is_normal(scope.get("raw_path") or scope["path"].encode(), scope["path"]):
            refusal = error_response(
                400,
                "invalid_path",
                "The path is not in normal form: no '.' or '..' segments, encoded separators or control "
                "characters.",
            )
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await refusal(scope, receive, send)
