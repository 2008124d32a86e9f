"""Mounting the chat page at ``/`` of the API app, with the API's error shape for unknown paths.

The page's own script and style sheet are files under ``assistant/web/static/`` served by the app
(``/static/app/…``), so the page needs nothing from outside. Gradio writes ``<html lang="en">`` into its
page template with no setting for it; :class:`HtmlLangMiddleware` answers the page as Japanese.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
import traceback
from typing import Any

import gradio as gr
import gradio.queueing
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.routing import Match, Route

from assistant.web.assets import OWN_STATIC
from assistant.web.ui import document_view
from assistant.web.ui.chat import Holder
from assistant.web.ui.page import THEME, build_ui
from assistant.web.workers import PooledHolder

log = logging.getLogger("assistant.web.ui")


def _versioned(name: str) -> str:
    """``static/app/<name>?v=<content hash>``: browsers cache the file for a day, a new version at once."""
    digest = hashlib.sha256((OWN_STATIC / name).read_bytes()).hexdigest()[:12]
    return f"static/app/{name}?v={digest}"


#: Loaded by the page from the app itself (``assistant.web.assets``).
DESCRIPTION = "政府資料に基づいて、地方大学・産学官連携の事業と問い合わせ先を答えます。"
#: Link previews (chat tools, intranet portals) show these; Gradio's own say "Gradio" and
#: "Click to try out the app!", and :class:`HtmlLangMiddleware` removes them.
PREVIEW = (
    '<meta property="og:title" content="政策アシスタント">'
    f'<meta property="og:description" content="{DESCRIPTION}">'
    '<meta property="og:type" content="website"><meta property="og:locale" content="ja_JP">'
    '<meta name="twitter:card" content="summary"><meta name="twitter:title" content="政策アシスタント">'
    f'<meta name="twitter:description" content="{DESCRIPTION}">'
)
#: The page's head carries this tag: :func:`_own_previews` rewrites that page's HTML, no other.
MARKER_NAME = b"pa-previews"
HEAD = (
    f'<meta name="description" content="{DESCRIPTION}">'
    + f'<meta name="{MARKER_NAME.decode()}">'
    + f'<link rel="stylesheet" href="{_versioned("page.css")}">'
    f'<script src="{_versioned("page.js")}" defer></script>'
)
LANG = b"ja"


class HtmlLangMiddleware:
    """Serves the page's HTML as ``<html lang="ja">`` (screen readers pick the voice from it)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        chunks: list[bytes] = []

        async def patched(message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message["headers"]))
                if not headers.get("content-type", "").startswith("text/html"):
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = _own_previews(b"".join(chunks).replace(b'lang="en"', b'lang="' + LANG + b'"', 1))
            headers = MutableHeaders(raw=list(start["headers"]))
            headers["content-length"] = str(len(body))
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, patched)


_GRADIO_PREVIEW = re.compile(rb'<meta (?:property="og:|name="twitter:)[^>]*>\s*')


def _own_previews(body: bytes) -> bytes:
    """The page's link-preview tags only, in the HTML itself (previewers run no script): Gradio's template
    writes its own (og:title "Gradio", "Click to try out the app!", twitter:creator "@Gradio") twice."""
    if MARKER_NAME not in body or b"</head>" not in body:
        return body
    return _GRADIO_PREVIEW.sub(b"", body).replace(b"</head>", PREVIEW.encode() + b"</head>", 1)


def _api_methods(request: Request) -> list[str]:
    """The methods an API route serves at this request's path. The mount at ``/`` also receives the API's
    wrong-method requests (its full match beats the route's partial one): those are 405, not 404."""
    methods: set[str] = set()
    for route in _flat_routes(getattr(request.scope.get("router"), "routes", [])):
        if isinstance(route, Route) and route.matches(request.scope)[0] == Match.PARTIAL:
            methods |= route.methods or set()
    return sorted(methods)


def _flat_routes(routes: list) -> list:
    """Routes of the app, with those of included ``APIRouter``s (FastAPI keeps them behind a wrapper that
    matches, but does not say which methods it serves)."""
    flat = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        flat.extend(_flat_routes(inner.routes) if inner is not None else [route])
    return flat


async def _not_found_as_api_error(request: Request, exc: StarletteHTTPException):
    """Unknown paths under the mount answer like the API (``{"error": …}``); Gradio's own errors stay."""
    allowed = _api_methods(request) if exc.status_code == 404 else []
    if allowed:
        return JSONResponse(
            status_code=405,
            content={"error": {"code": "method_not_allowed", "message": f"Use {', '.join(allowed)}."}},
            headers={"Allow": ", ".join(allowed)},
        )
    if exc.status_code in (404, 405) and exc.detail in ("Not Found", "Method Not Allowed"):
        code = "not_found" if exc.status_code == 404 else "method_not_allowed"
        return JSONResponse(
            status_code=exc.status_code, content={"error": {"code": code, "message": exc.detail}}
        )
    return await http_exception_handler(request, exc)


class _OneLineTraceback:
    """Gradio's queue prints a full traceback to stderr for every event that fails — also for a value a
    client made up (a dropdown choice that does not exist, a malformed like event) — so a hostile client
    could fill the log at will. In its place: one line naming the exception type (not its message, which
    may quote what the user typed); the traceback goes to the debug log."""

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    @staticmethod
    def print_exc(*_args: Any, **_kwargs: Any) -> None:
        error = sys.exc_info()[1]
        log.warning("a chat-UI event failed (%s); the page shows an error", type(error).__name__)
        log.debug("the failed chat-UI event", exc_info=True)


def mount_ui(app: FastAPI, holder: Holder) -> FastAPI:
    """Mount the chat page at ``/``; call last, so the API's routes (``/v1``, ``/docs``, …) keep priority.

    The page's answers go through the app's worker pool (shared with ``/v1``), Gradio keeps at most the
    states of the sessions the door allows, and the door learns the page's functions (``ui_gate.py``).
    The whole-document view (``/documents/{doc_id}``) is a page of the UI too: it comes and goes with it.
    """
    app.include_router(document_view.router)
    gradio.queueing.traceback = _OneLineTraceback()  # type: ignore[assignment]
    pool = getattr(app.state, "pool", None)
    door = getattr(app.state, "door", None)
    listeners = door.listeners if door is not None else None
    database = getattr(app.state, "database", None)
    blocks = build_ui(PooledHolder(holder, pool, listeners) if pool is not None else holder, database)
    settings = holder.settings
    blocks.state_session_capacity = settings.ui_max_sessions * settings.ui_tabs_per_session
    mounted = gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        theme=THEME,
        head=HEAD,
        footer_links=[],
        run_history=False,
        show_error=False,  # an unexpected exception's text stays in the log; gr.Error/Warning still show
        app_kwargs={
            "exception_handlers": {StarletteHTTPException: _not_found_as_api_error},
            "middleware": [Middleware(HtmlLangMiddleware)],
        },
    )
    if door is not None:
        door.bind_gradio(blocks)
    return mounted
