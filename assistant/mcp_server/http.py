"""MCP over Streamable HTTP at ``/mcp``, inside the web app: behind the same API keys, rate limit and
worker pool as ``/v1`` (the access middleware guards ``/mcp`` as it guards ``/v1``).

The SDK's transport runs stateless with JSON responses: each POST is complete in itself, so any replica
can answer it (no sticky sessions) and nothing is kept per client. DNS-rebinding protection is left to
the API keys (a browser page cannot send them) — the SDK's own check would refuse every Host name but
loopback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route

from assistant.mcp_server.server import build_server
from assistant.mcp_server.source import HolderSource
from assistant.web.holder import ServiceHolder

MCP_PATH = "/mcp"


class _AppPoolSource(HolderSource):
    """The holder's service behind the app's worker pool (``app.state.pool``, set once the middleware is
    installed)."""

    def __init__(self, holder: ServiceHolder, app: FastAPI) -> None:
        super().__init__(holder)
        self.app = app

    def __call__(self) -> Any:
        self.pool = getattr(self.app.state, "pool", None)
        return super().__call__()


def mount_mcp(app: FastAPI, holder: ServiceHolder) -> Any:
    """Add the ``/mcp`` route; returns the async context manager the app's lifespan must enter (it runs the
    SDK's session manager)."""
    server = build_server(_AppPoolSource(holder, app))
    server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        max_request_body_size=holder.settings.max_body_bytes,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = server.session_manager
    app.router.routes.append(
        Route(MCP_PATH, endpoint=StreamableHTTPASGIApp(manager), include_in_schema=False)
    )

    @asynccontextmanager
    async def running() -> AsyncIterator[None]:
        async with manager.run():
            yield

    return running
