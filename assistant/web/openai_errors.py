"""Errors of the OpenAI-compatible routes in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

OpenAI SDKs read ``error.message``, ``error.type`` and ``error.code``. Our refusals already carry ``code``
and ``message``; on the OpenAI paths this ASGI middleware adds ``type`` (from the status) and ``param``
to every JSON error body, whoever produced it — the key check (401), the rate limit (429), the body limit
(413), the worker pool (503 ``busy``), the not-ready service (503) or the route itself — so a client of
those paths parses one shape. Other paths keep the API's own shape.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse

#: Paths answered in OpenAI's shape.
OPENAI_PATHS = ("/v1/chat/completions", "/v1/models")


def is_openai_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in OPENAI_PATHS)


def error_type(status: int) -> str:
    """OpenAI's error type for an HTTP status."""
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def openai_error(status: int, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type(status), "param": param, "code": code}}


def openai_error_response(status: int, code: str, message: str, param: str | None = None) -> JSONResponse:
    return JSONResponse(openai_error(status, code, message, param), status_code=status)


class OpenAIErrorShapeMiddleware:
    """Rewrites ``{"error": {"code", "message"}}`` bodies on the OpenAI paths (see the module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_openai_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        held: dict[str, Any] | None = None
        chunks: list[bytes] = []

        async def reshaping_send(message: dict) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and message["status"] >= 400 and _is_json(message):
                held = message
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = _reshaped(held["status"], b"".join(chunks))
            headers = [(k, v) for k, v in held.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**held, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, reshaping_send)


def _is_json(start: dict) -> bool:
    return any(k.lower() == b"content-type" and b"json" in v.lower() for k, v in start.get("headers", []))


def _reshaped(status: int, raw: bytes) -> bytes:
    try:
        body = json.loads(raw)
        error = body["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return raw  # not our error shape: passed on as it is
    if "type" in error:
        return raw  # already OpenAI's shape (the routes' own refusals)
    return json.dumps(openai_error(status, code, message, error.get("param")), ensure_ascii=False).encode()
