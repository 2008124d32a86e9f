"""``/healthz`` (the process is up) and ``/readyz`` (the index and model are loaded, or why not — in words
that name no path and quote no exception, since it is open to anyone)."""

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
    service = holder.service
    if service is not None:
        manifest = service.index.manifest
        body = {
            "status": "ready",
            "build_id": manifest.build_id,
            "chunks": manifest.chunks,
            "programs": manifest.programs,
        }
        if holder.note:
            body["note"] = holder.note
        return JSONResponse(body)
    # Open to anyone: the reason without paths or exception text (the server log has the details).
    message = holder.public_error or "loading the index and the embedding model"
    return error_response(503, "not_ready", message)
