"""``assistant mcp``: the MCP server over stdio, for an agent tool on a staff desktop that starts it as a
subprocess (Claude Desktop, an IDE, the ``mcp`` SDK's client).

It answers ``initialize`` at once and loads the model and index in the background; a tool called before
they are ready waits for them. stdout carries the protocol only (the SDK points fd 1 at stderr while it
serves, so nothing else printed can corrupt it); logs go to stderr. No API key is involved: whoever can
start the process can read the index directly.
"""

from __future__ import annotations

import logging

import anyio

from assistant.config import Settings
from assistant.mcp_server.server import build_server
from assistant.mcp_server.source import WaitingSource
from assistant.web.holder import ServiceHolder


def run_stdio(settings: Settings) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    holder = ServiceHolder(settings)
    source = WaitingSource(holder)
    server = build_server(source)
    source.start()
    try:
        anyio.run(server.run_stdio_async)
    finally:
        holder.stop()
