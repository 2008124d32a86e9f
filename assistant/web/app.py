"""The answer API (FastAPI): one app holding the routes, the access-control middleware and the chat UI.

The service (model + index) loads once at start-up in a background thread; ``/readyz`` says when it is
ready, or why not (no index → run ``assistant ingest``). Every error is JSON
``{"error": {"code", "message"}}``; user input never produces a 5xx.
"""

from __future__ import annotations

import contextlib
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI

from assistant.config import Settings, get_settings
from assistant.storage import Database
from assistant.web.api_docs import install_docs
from assistant.web.errors import ApiError, error_response, install_error_handlers
from assistant.web.holder import ServiceHolder
from assistant.web.limits import BodyLimitMiddleware
from assistant.web.routes import ROUTERS
from assistant.web.security import install as install_security

__all__ = ["ApiError", "ServiceHolder", "create_app", "error_response"]


def create_app(settings: Settings | None = None, load_in_background: bool = True) -> FastAPI:
    settings = settings or get_settings()
    holder = ServiceHolder(settings)
    mcp_running = None  # the MCP transport's session manager, run for the app's lifetime
    database = Database.from_settings(settings)  # feedback and UI sessions; connects on first use

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # Migrate the schema now rather than at the first rating; a database that is down is logged and
        # tried again by the first call that needs it (answers never wait for it).
        threading.Thread(target=database.prepare, name="migrate-database", daemon=True).start()
        if load_in_background:
            threading.Thread(target=holder.load, name="load-service", daemon=True).start()
        else:
            holder.load()
        holder.start_watching()  # switch to new index builds without a restart
        async with mcp_running() if mcp_running is not None else contextlib.nullcontext():
            yield
        holder.stop()
        database.dispose()

    app = FastAPI(
        title="政策アシスタント API",
        version="1.0",
        description="Grounded answers about 産学官連携 policy documents, with verified citations and contacts.",
        lifespan=lifespan,
        docs_url=None,  # served offline by assistant.web.api_docs
        redoc_url=None,
    )
    app.state.holder, app.state.database = holder, database
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    keyring = install_security(app, settings, database)  # keys, limits, CORS, ids — around the body limit
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    if settings.mcp_enabled:
        from assistant.mcp_server.http import mount_mcp  # MCP over Streamable HTTP at /mcp

        mcp_running = mount_mcp(app, holder)
    install_docs(app, settings, keyring.enabled)

    if not settings.ui_enabled:
        return app
    from assistant.web.ui import mount_ui  # the chat page at "/", mounted last so the routes above win

    return mount_ui(app, holder)
