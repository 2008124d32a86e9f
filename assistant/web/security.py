"""Who may call ``/v1`` and the chat UI, how often, from which browser origins — ASGI middleware.

Order, outermost first: request id (every response has ``X-Request-ID``, errors included) → the Host
allow-list and the path's normal form (``edge_checks.py``) → CORS
(preflights are answered before auth, since browsers send them without the key; 401/429 still carry
the CORS headers so browser code can read them) → API keys (or the page's session) and rate limit on
``/v1`` → the UI's door on every other path (``ui_gate.py``) → the worker pool for answers
(``workers.py``) → the body-size limit (413) → the app. Guarding prefixes rather than each route means
a new endpoint or page is protected without anyone remembering to. Every refusal is the API's JSON
error shape (or a short Japanese page for a browser opening the UI).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from assistant.config import Settings
from assistant.storage import Database
from assistant.web.api_keys import KeyRing, bearer_token, load_keyring
from assistant.web.edge_checks import EdgeChecksMiddleware
from assistant.web.errors import error_response as json_error
from assistant.web.log_safety import remember_keys
from assistant.web.openai_errors import OpenAIErrorShapeMiddleware
from assistant.web.rate_limit import RateLimiter
from assistant.web.request_id import REQUEST_ID_HEADER, request_id_middleware, set_client_label
from assistant.web.ui_gate import Door, UiGateMiddleware, client_ip, cross_site, session_cookie
from assistant.web.ui_surface import API_PREFIXES
from assistant.web.widget_gate import WidgetGateMiddleware
from assistant.web.workers import PoolMiddleware, WorkerPool

log = logging.getLogger("assistant.web.security")

API_PREFIX = "/v1"
BEARER_SCHEME = "bearerAuth"


def is_api_path(path: str) -> bool:
    """``/v1`` and the MCP endpoint ``/mcp``: the paths that take API keys (``ui_surface.API_PREFIXES``)."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES)


class ApiAccessMiddleware:
    """On ``/v1``: a known Bearer key — or the chat page's session cookie — when keys are configured (401),
    then the caller's rate limit (429).

    The limit is per key (a session spends from the bucket of the key that opened it); without keys
    configured it is per client IP. Requests with a missing or wrong key count against their IP's bucket
    too, so guessing keys is throttled like any caller. A cookie-authenticated unsafe request must come
    from the page's own origin (403 otherwise): the cookie is SameSite=Strict, this is the second guard.
    """

    def __init__(self, app: Any, door: Door) -> None:
        self.app = app
        self.door = door
        self.keyring = door.keyring

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        bucket = f"ip:{client_ip(scope)}"
        refusal = None
        if self.keyring.enabled:
            authorization = Headers(scope=scope).get("authorization")
            token = bearer_token(authorization)
            if authorization is not None:
                key = self.keyring.identify(token)
                if key is None:
                    refusal = self._throttled(bucket) or self._unauthorized(token is None, scope["path"])
                else:
                    set_client_label(key.label)
                    bucket = f"key:{key.label}"
                    refusal = self._throttled(bucket)
            else:
                refusal, bucket = await self._by_session(scope, bucket)
        else:
            refusal = self._throttled(bucket)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.door.shares.run(bucket, self.app, scope, receive, send)

    async def _by_session(self, scope: dict, ip_bucket: str) -> tuple[Response | None, str]:
        """No Authorization header: the chat page's own calls carry its session cookie instead."""
        session = await asyncio.to_thread(self.door.sessions.get, session_cookie(scope))
        if session is None or not (session.keyed or self.door.settings.ui_public):
            return self._throttled(ip_bucket) or self._unauthorized(True, scope["path"]), ip_bucket
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and cross_site(scope):
            log.warning("refused a cross-site %s with a session cookie on %s", scope["method"], scope["path"])
            refusal = json_error(403, "forbidden", "Cross-site requests with the page's session are refused.")
            return refusal, session.bucket
        set_client_label(session.label)
        return self._throttled(session.bucket), session.bucket

    def _throttled(self, bucket: str) -> Response | None:
        return self.door.throttled(bucket)

    @staticmethod
    def _unauthorized(missing: bool, path: str) -> Response:
        if missing:
            log.warning("no API key on %s", path)
            message = "This endpoint needs an API key: send 'Authorization: Bearer <key>'."
            challenge = 'Bearer realm="assistant"'
        else:
            log.warning("unknown API key on %s", path)
            message = "The API key is not valid."
            challenge = 'Bearer realm="assistant", error="invalid_token"'
        return json_error(401, "unauthorized", message, {"WWW-Authenticate": challenge})


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, except that a refused preflight answers in the API's JSON error shape."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        reason = bytes(response.body).decode("utf-8", "replace")
        return json_error(
            response.status_code, "cors_rejected", f"{reason}.", {"Vary": response.headers.get("vary", "")}
        )


def document_bearer_auth(app: FastAPI, rate_limited: bool) -> None:
    """Declare the bearer scheme in the OpenAPI schema (the /docs "Authorize" button) for /v1 operations."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER_SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from the operator (`assistant keys new`).",
        }
        for path, operations in schema.get("paths", {}).items():
            if not is_api_path(path):
                continue
            for operation in operations.values():
                operation["security"] = [{BEARER_SCHEME: []}]
                responses = operation.setdefault("responses", {})
                responses["401"] = {"description": "Missing or unknown API key (`WWW-Authenticate: Bearer`)."}
                if rate_limited:
                    responses["429"] = {
                        "description": "Rate limit exceeded; retry after `Retry-After` seconds."
                    }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def request_limiter(settings: Settings) -> RateLimiter:
    """The limiter of ``/v1`` and the chat UI: in Redis when ``ASSISTANT_REDIS_URL`` is set."""
    return RateLimiter(
        settings.rate_limit_per_minute,
        settings.rate_limit_burst,
        settings.redis_url.get_secret_value() or None,
        namespace="requests",
        redis_timeout=settings.redis_timeout_seconds,
    )


def install(app: FastAPI, settings: Settings, database: Database) -> KeyRing:
    """Add the middlewares (call after the body-size limit, so they wrap it) and document the auth.

    Raises :class:`assistant.web.api_keys.ApiKeyConfigError` for unusable key settings: refuse to start
    rather than serve with fewer keys than configured.
    """
    keyring = load_keyring(settings)
    limiter = request_limiter(settings)
    door = Door(settings, keyring, limiter, database)
    pool = WorkerPool(settings.answer_workers, settings.answer_queue)
    app.state.door, app.state.pool = door, pool
    app.add_middleware(PoolMiddleware, pool=pool, max_body_bytes=settings.max_body_bytes)
    if settings.ui_enabled:  # without the page there is no UI to guard (unknown paths stay 404s)
        app.add_middleware(UiGateMiddleware, door=door)
    app.add_middleware(ApiAccessMiddleware, door=door)
    app.add_middleware(WidgetGateMiddleware, door=door)  # the widget's own paths: origins, public UI only
    if settings.cors_origins:
        app.add_middleware(
            JsonCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
        )
    app.add_middleware(EdgeChecksMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(OpenAIErrorShapeMiddleware)  # around every refusal of the OpenAI-compatible paths
    app.add_middleware(request_id_middleware, keyring=keyring)
    remember_keys(keyring)
    if keyring.enabled:
        document_bearer_auth(app, limiter.enabled)
    return keyring
