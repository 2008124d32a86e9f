"""Request ids: one per HTTP request, in the ``X-Request-ID`` response header and in every log line.

The middleware is asgi-correlation-id's: it keeps the caller's own ``X-Request-ID`` when
:func:`acceptable_request_id` says it is sane — 1-64 of ``A-Z a-z 0-9 . _ : -``, starting with a letter
or digit, so a help desk can follow one id through its tools and ours — and makes a new one (32 hex
digits) otherwise. An id that holds an API key or anything key-shaped (``<key>.x`` was accepted, echoed
and logged before issue 20) is never accepted. The front end's own refusals (408, 431, the connection
caps) carry an id too (:func:`new_request_id`).

The id (and the API key's label, once known) live in context variables that a logging filter copies
into each record; the same filter makes every record one escaped, bounded line without secrets
(``log_safety``). The access log shows paths without their query strings (``/v1/search?q=…`` carries
questions, names and phone numbers; ``?api_key=`` a key; ``?session_hash=`` a session) and without the
session id in Gradio's heartbeat path.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware, correlation_id

from assistant.web.log_safety import MAX_MESSAGE_CHARS, holds_a_key, safe

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_SESSION_IN_PATH = re.compile(r"(/heartbeat/)[^/?\s]+")

_client: ContextVar[str] = ContextVar("client", default="-")


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    return correlation_id.get() or "-"


def set_client_label(label: str) -> None:
    """Name the caller (an API key's label, never the key) in the log lines of this request."""
    _client.set(label)


def acceptable_request_id(value: str, keyring: Any = None) -> bool:
    """A caller's id is kept when it is short, plain and holds no secret (a configured key, or any
    key-shaped run; ``keyring`` is the app's ``KeyRing``)."""
    if not _VALID_ID.fullmatch(value):
        return False
    return not holds_a_key(value, [keyring] if keyring is not None and keyring.enabled else [])


def request_id_middleware(app: Any, keyring: Any = None) -> CorrelationIdMiddleware:
    """asgi-correlation-id around ``app``, validating incoming ids with :func:`acceptable_request_id`."""
    return CorrelationIdMiddleware(
        app,
        header_name=REQUEST_ID_HEADER,
        generator=new_request_id,
        validator=lambda value: acceptable_request_id(value, keyring),
    )


def redact_path(full_path: str) -> str:
    """A request target as the access log shows it: the path only, and no session id in it."""
    path, _, query = full_path.partition("?")
    path = _SESSION_IN_PATH.sub(r"\1[redacted]", path)
    return f"{path}?[redacted]" if query else path


class AccessLogFilter(logging.Filter):
    """uvicorn's access record (args: client, method, path, version, status): the path without query or
    session id, and every value escaped, bounded and without secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 4:
            client, method, path, version, *rest = args
            record.args = (safe(client, 64), safe(method, 16), safe(redact_path(str(path))), safe(version, 8))
            record.args += tuple(rest)
        return True


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``client`` to every record; other records become one safe line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        record.client = _client.get()
        if record.name != "uvicorn.access":  # formatted by field; AccessLogFilter made them safe
            try:
                message = record.getMessage()
            except Exception:  # arguments that do not fit the format: keep what there is
                message = f"{record.msg} {record.args!r}"
            record.msg, record.args = safe(message, MAX_MESSAGE_CHARS), None
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
            # its "generated a new id" warning would add a line per request with a bad id
            "asgi_correlation_id": {"level": "ERROR"},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
