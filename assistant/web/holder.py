"""The process's one AnswerService, loaded in the background so the port opens at once.

Routes get it through the ``Service`` dependency, which answers 503 ``not_ready`` until it has loaded
(or says why it could not: no index, another model's index, an unreachable Chroma server).
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated

from fastapi import Depends, Request

from assistant.config import Settings
from assistant.index.store import IndexStateError
from assistant.pipeline.service import AnswerService
from assistant.web.errors import ApiError

log = logging.getLogger("assistant.web.app")


class ServiceHolder:
    """Loads the AnswerService once, in the background, so the port opens at once and /readyz tells."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.service: AnswerService | None = None
        self.error: str | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self.service is not None:
                return
            try:
                self.service = AnswerService(self.settings)
                self.error = None
            except IndexStateError as exc:  # no index, another model's index, Chroma server unreachable
                log.error("not ready: %s", exc)
                self.error = str(exc)
            except Exception as exc:  # reported by /readyz instead of killing the server
                log.exception("could not load the answer service")
                self.error = f"{type(exc).__name__}: {exc}"

    def get(self) -> AnswerService:
        if self.service is None:
            raise ApiError(
                503, "not_ready", self.error or "The index and model are still loading; retry shortly."
            )
        return self.service


def _service(request: Request) -> AnswerService:
    """FastAPI dependency: the process-wide AnswerService (503 JSON until it has loaded)."""
    return request.app.state.holder.get()


# Module level: with postponed annotations FastAPI resolves these names in the module's globals.
Service = Annotated[AnswerService, Depends(_service)]
