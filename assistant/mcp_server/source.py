"""Where the MCP tools get the AnswerService: the web app's (behind its worker pool) or one loaded for stdio.

Either way a tool asks for the service when it runs, so the server answers ``initialize`` and lists its
tools at once while the model and index load (seconds), and a build switched to by an ingest is used by
the next call. While nothing is loaded a tool fails with the reason, not a traceback.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from mcp.server.mcpserver.exceptions import ToolError

from assistant.web.errors import ApiError
from assistant.web.holder import LOADING, ServiceHolder
from assistant.web.workers import PooledService, WorkerPool


class ServiceSource(Protocol):
    def __call__(self) -> Any:
        """The AnswerService (or a pooled view of it); raises ToolError when there is none."""
        ...


class HolderSource:
    """The web app's holder; heavy calls (answers, searches) wait for a worker of the app's pool."""

    def __init__(self, holder: ServiceHolder, pool: WorkerPool | None = None) -> None:
        self.holder, self.pool = holder, pool

    def __call__(self) -> Any:
        try:
            service = self.holder.get()
        except ApiError as exc:
            raise ToolError(exc.message) from None
        return PooledService(service, self.pool) if self.pool is not None else service


class WaitingSource(HolderSource):
    """For ``assistant mcp`` over stdio: a tool called while the service loads waits for it (a desktop
    client starts the server and calls a tool at once), up to ``wait_seconds``."""

    def __init__(self, holder: ServiceHolder, wait_seconds: float = 180.0) -> None:
        super().__init__(holder)
        self.wait_seconds = wait_seconds
        self._loaded = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._load, name="load-service", daemon=True).start()
        self.holder.start_watching()

    def _load(self) -> None:
        try:
            self.holder.load()
        finally:
            self._loaded.set()

    def __call__(self) -> Any:
        deadline = time.monotonic() + self.wait_seconds
        while self.holder.service is None and not self._loaded.wait(0.2):
            if time.monotonic() > deadline:
                raise ToolError(LOADING)
        return super().__call__()
