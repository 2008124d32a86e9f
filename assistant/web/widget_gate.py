"""The door of the embeddable widget: ``/widget.js`` and ``/widget/*`` answer only the page origins in
``ASSISTANT_WIDGET_ORIGINS``, and only while the chat UI is public.

A help desk puts ``<script src="https://<app>/widget.js">`` on its own site, so every widget request is
cross-origin. This ASGI middleware (outside the API-key check, which the widget never passes: it holds no
key) decides for the widget's paths alone:

* **Origins.** The page's origin is the ``Origin`` header (sent on every fetch and preflight), or for the
  script and its style sheet — loaded by ``<script>``/``<link>``, which send none — the origin of the
  ``Referer``. An origin not in the list, or a cross-site request that names none, gets a 403 without any
  CORS header: nothing is served to it. A request with neither that a browser did not mark cross-site
  (curl, the operator opening the URL) may fetch the script and style sheet, which are public code, but
  never the widget's answers. Allowed origins get CORS headers for these paths only; the ``/v1`` CORS
  setting (``ASSISTANT_CORS_ORIGINS``) is separate.
* **Public only.** The widget spends the public UI's policy: anonymous, rate-limited per client IP. With
  API keys configured and ``ASSISTANT_UI_PUBLIC`` off, its calls get 403 ``widget_unavailable`` (with CORS
  headers, so the widget can say why in the browser console) and it does not open.
* **Limits.** Config, answers and ratings spend from the client IP's rate limit (the door's moving
  windows), like the UI's page loads and questions; answers also wait for the worker pool
  (``workers.HEAVY_PATHS``); ratings also spend the client's feedback limit.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import Response

from assistant.web.errors import error_response
from assistant.web.ui_gate import Door, client_ip

log = logging.getLogger("assistant.web.widget")

WIDGET_SCRIPT = "/widget.js"
WIDGET_PREFIX = "/widget/"
WIDGET_STYLES = "/widget/widget.css"
#: Files a ``<script>`` / ``<link>`` tag loads (no CORS mode, so no Origin header).
STATIC_PATHS = frozenset({WIDGET_SCRIPT, WIDGET_STYLES})
ALLOWED_HEADERS = "Content-Type, X-Request-ID"
EXPOSED_HEADERS = "X-Request-ID, Retry-After"
PREFLIGHT_MAX_AGE = "600"


def is_widget_path(path: str) -> bool:
    return path == WIDGET_SCRIPT or path.startswith(WIDGET_PREFIX)


def page_origin(headers: Headers, static: bool) -> str | None:
    """The origin of the page making the request: ``Origin``, or for a static file the ``Referer``'s."""
    origin = headers.get("origin")
    if origin:
        return origin.rstrip("/")
    referer = headers.get("referer") if static else None
    if referer:
        parts = urlsplit(referer)
        if parts.scheme in ("http", "https") and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return None


def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
        (b"vary", b"Origin, Referer"),
    ]


def _refused(status: int, code: str, message: str, origin: str | None = None) -> Response:
    response = error_response(status, code, message)
    if origin is not None:
        for key, value in _cors_headers(origin):
            response.headers.append(key.decode(), value.decode())
    return response


class WidgetGateMiddleware:
    """Guards the widget's paths as the module docstring says; other paths pass untouched."""

    def __init__(self, app: Any, door: Door) -> None:
        self.app, self.door = app, door
        self.origins = frozenset(door.settings.widget_origins)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_widget_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        refusal, origin = self._check(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if origin is not None and scope["method"] == "OPTIONS":
            await self._preflight(origin)(scope, receive, send)
            return
        if origin is not None:
            send = _with_cors(send, origin, static=scope["path"] in STATIC_PATHS)
        await self.app(scope, receive, send)

    def _check(self, scope: dict) -> tuple[Response | None, str | None]:
        """(a refusal, None) or (None, the allowed origin — None for a direct load of a static file)."""
        if not self.origins:
            return _refused(404, "not_found", "The widget is off (ASSISTANT_WIDGET_ORIGINS is empty)."), None
        headers = Headers(scope=scope)
        static = scope["path"] in STATIC_PATHS
        origin = page_origin(headers, static)
        if origin is None:
            direct = headers.get("sec-fetch-site") in (None, "none", "same-origin")
            if static and direct:
                return None, None
            return self._foreign("a request that names no page origin"), None
        if origin not in self.origins:
            return self._foreign("a page origin not in ASSISTANT_WIDGET_ORIGINS"), None
        if static or scope["method"] == "OPTIONS":
            return None, origin
        if not self.door.ui_open:
            return _refused(
                403,
                "widget_unavailable",
                "The widget needs the public chat UI (ASSISTANT_UI_PUBLIC=true while API keys are set): it "
                "never holds a key.",
                origin,
            ), None
        throttled = self.door.throttled(f"ip:{client_ip(scope)}")
        if throttled is not None:
            for key, value in _cors_headers(origin):
                throttled.headers.append(key.decode(), value.decode())
            return throttled, None
        return None, origin

    @staticmethod
    def _foreign(what: str) -> Response:
        log.warning("refused a widget request from %s", what)
        return _refused(
            403,
            "widget_origin_refused",
            "The widget answers only the pages of the origins it is configured for.",
        )

    @staticmethod
    def _preflight(origin: str) -> Response:
        response = Response(status_code=204)
        for key, value in _cors_headers(origin):
            response.headers.append(key.decode(), value.decode())
        response.headers["access-control-allow-methods"] = "GET, POST"
        response.headers["access-control-allow-headers"] = ALLOWED_HEADERS
        response.headers["access-control-max-age"] = PREFLIGHT_MAX_AGE
        return response


def _with_cors(send: Any, origin: str, static: bool) -> Any:
    extra = _cors_headers(origin)
    if static:  # loadable by the host page although it is another origin
        extra.append((b"cross-origin-resource-policy", b"cross-origin"))

    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"vary"]
            message = {**message, "headers": [*kept, *extra]}
        await send(message)

    return wrapped
