"""``POST /v1/answer`` and its Server-Sent-Events twin ``POST /v1/answer/stream``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from assistant.pipeline.service import AnswerResponse, AnswerService
from assistant.web.holder import Service
from assistant.web.schemas import AnswerRequest

router = APIRouter(prefix="/v1", tags=["answers"])


def _answer(svc: AnswerService, body: AnswerRequest) -> AnswerResponse:
    filters = body.filters.model_dump() if body.filters else None
    return svc.answer(body.question, body.history, filters)


@router.post("/answer", response_model=AnswerResponse)
def answer(body: AnswerRequest, svc: Service) -> AnswerResponse:
    return _answer(svc, body)


@router.post("/answer/stream", response_class=StreamingResponse)
def answer_stream(body: AnswerRequest, svc: Service) -> StreamingResponse:
    """Server-Sent Events: ``delta`` events with pieces of the answer text, then ``final`` with the full JSON."""
    result = _answer(svc, body)  # computed before streaming, so errors still return JSON
    return StreamingResponse(
        _sse(result), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


def _sse(result: AnswerResponse) -> Iterator[str]:
    """The answer in sentence-sized deltas, then the complete JSON."""
    text = result.answer
    piece = ""
    for ch in text:
        piece += ch
        if ch in "。\n" and piece:
            yield _event("delta", {"text": piece})
            piece = ""
    if piece:
        yield _event("delta", {"text": piece})
    yield _event("final", result.model_dump())


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
