"""``/healthz`` (the process is up) and ``/readyz`` (the index and model are loaded, or why not)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from assistant.web.errors import error_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    holder = request.app.state.holder
    if holder.service is not None:
        manifest = holder.service.index.manifest
        return JSONResponse(
            {
                "status": "ready",
                "build_id": manifest.build_id,
                "chunks": manifest.chunks,
                "programs": manifest.programs,
            }
        )
    message = holder.error or "loading the index and the embedding model"
    return error_response(503, "not_ready", message)
