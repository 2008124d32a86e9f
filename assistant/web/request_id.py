"""Request ids: one per HTTP request, in the ``X-Request-ID`` response header and in every log line.

A caller's own ``X-Request-ID`` is kept when it is sane (1-128 of ``A-Z a-z 0-9 . _ : -``), so a help
desk can follow one id through its tools and ours; otherwise — and when it is one of the configured API
keys, sent there by mistake — a new one is made. The id (and the API key's label, once known) live in
context variables that a logging filter copies into each record. The filter also blanks any
``Bearer <token>`` or ``api_key=…`` that might reach a log message, as a second guard.

The access log shows paths without their query strings (``/v1/search?q=…`` carries questions, names and
phone numbers; ``?api_key=`` a key; ``?session_hash=`` a session) and without the session id in
Gradio's heartbeat path.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_BEARER = re.compile(r"(Bearer\s+)[^\s'\",]+", re.IGNORECASE)
_KEY_PARAM = re.compile(r"((?:api[_-]?key|access[_-]?token|token)=)[^&\s'\",]+", re.IGNORECASE)
_SESSION_IN_PATH = re.compile(r"(/heartbeat/)[^/?\s]+")

_request_id: ContextVar[str] = ContextVar("request_id", default="-")
_client: ContextVar[str] = ContextVar("client", default="-")


def current_request_id() -> str:
    return _request_id.get()


def set_client_label(label: str) -> None:
    """Name the caller (an API key's label, never the key) in the log lines of this request."""
    _client.set(label)


def accept_request_id(incoming: str | None, is_secret: Callable[[str], bool] | None = None) -> str:
    """The caller's id when it is sane (and not a secret such as an API key), else a fresh one (32 hex)."""
    if incoming and _VALID_ID.fullmatch(incoming) and not (is_secret and is_secret(incoming)):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Outermost ASGI middleware: sets the request id and adds the header to every HTTP response.

    The context variables are set, not reset: each request runs in its own task (uvicorn), and the
    values must outlast this call so the access log and the 500 handler, which run after it, carry them.
    """

    def __init__(self, app: Any, keyring: Any = None) -> None:
        self.app = app
        self.keyring = keyring  # a KeyRing: an id that is a configured key is replaced, never echoed

    def _is_key(self, value: str) -> bool:
        return self.keyring.identify(value) is not None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers") or []:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        keyed = self.keyring is not None and self.keyring.enabled
        request_id = accept_request_id(incoming, self._is_key if keyed else None)
        _request_id.set(request_id)
        _client.set("-")
        header = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers") or [] if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        await self.app(scope, receive, send_with_id)


def _redact(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return _KEY_PARAM.sub(r"\1[redacted]", _BEARER.sub(r"\1[redacted]", value))


def redact_path(full_path: str) -> str:
    """A request target as the access log shows it: the path only, and no session id in it."""
    path, _, query = full_path.partition("?")
    path = _SESSION_IN_PATH.sub(r"\1[redacted]", path)
    return f"{path}?[redacted]" if query else path


class AccessLogFilter(logging.Filter):
    """Drops query strings and session ids from uvicorn's access log (args: client, method, path, …)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``client`` to every record and redacts bearer tokens in its text."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.client = _client.get()
        record.msg = _redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact(v) for k, v in record.args.items()}
        return True


LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s %(client)s] %(name)s: %(message)s"
ACCESS_FORMAT = (
    '%(asctime)s %(levelname)s [%(request_id)s %(client)s] access: %(client_addr)s "%(request_line)s" '
    "%(status_code)s"
)


def log_config(level: str = "INFO") -> dict[str, Any]:
    """``logging.dictConfig`` for ``uvicorn.run``: uvicorn's, the app's and the access log with the ids."""
    handler = {"class": "logging.StreamHandler", "filters": ["context"], "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": RequestContextFilter}, "access": {"()": AccessLogFilter}},
        "formatters": {
            "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": LOG_FORMAT, "use_colors": False},
            "access": {"()": "uvicorn.logging.AccessFormatter", "fmt": ACCESS_FORMAT, "use_colors": False},
        },
        "handlers": {
            "default": {**handler, "formatter": "default"},
            "access": {
                **handler,
                "filters": ["access", "context"],
                "formatter": "access",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "assistant": {"level": level},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
