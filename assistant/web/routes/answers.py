"""``POST /v1/answer`` and its Server-Sent-Events twin ``POST /v1/answer/stream`` (sse-starlette: event
framing, keep-alive pings on a long generation, ``X-Accel-Buffering: no`` so nginx passes each event on)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from assistant.pipeline.plan import AnswerPlan
from assistant.pipeline.service import AnswerResponse, AnswerService
from assistant.web.holder import Service
from assistant.web.schemas import AnswerRequest
from assistant.web.workers import PoolBusy, PooledService

router = APIRouter(prefix="/v1", tags=["answers"])
log = logging.getLogger("assistant.web.routes.answers")
#: A comment line this often while a (generative) answer is being written keeps proxies from closing it.
PING_SECONDS = 15


def _answer(svc: AnswerService, body: AnswerRequest) -> AnswerResponse:
    filters = body.filters.model_dump() if body.filters else None
    return svc.answer(body.question, body.history, filters)


@router.post("/answer", response_model=AnswerResponse)
def answer(body: AnswerRequest, svc: Service) -> AnswerResponse:
    return _answer(svc, body)


@router.post("/answer/stream", response_class=EventSourceResponse)
def answer_stream(body: AnswerRequest, svc: Service, request: Request) -> EventSourceResponse:
    """Server-Sent Events: ``delta`` events with pieces of the answer text, then ``final`` with the full JSON.

    With a generative composer a sentence is sent only after it passed verification; a fallback to the
    deterministic answer comes as its sentences. The question is read and planned before the stream opens,
    so bad input still gets a JSON error."""
    events = planned_events(svc, body, request)
    return EventSourceResponse((_event(name, data) for name, data in events), sep="\n", ping=PING_SECONDS)


def planned_events(svc: AnswerService, body: AnswerRequest, request: Request) -> Iterator[tuple[str, Any]]:
    """Read and plan now (bad input raises before any byte is sent), then the answer's events as
    :func:`answer_events` gives them. Shared by every streaming endpoint (the OpenAI-compatible one, the
    widget's)."""
    filters = body.filters.model_dump() if body.filters else None
    plan, retrieved_ms = svc.plan_question(body.question, body.history, filters)
    # The worker pool's slot ends when the response starts; composing the streamed answer (seconds with a
    # generative composer) takes a slot of its own, so concurrent streams stay within the pool.
    pool = getattr(request.app.state, "pool", None)
    events = PooledService(svc, pool).stream(plan, retrieved_ms) if pool is not None else None
    return answer_events(svc, plan, retrieved_ms, events)


def answer_events(
    svc: AnswerService,
    plan: AnswerPlan,
    retrieved_ms: float,
    events: Iterator[tuple[str, object]] | None = None,
) -> Iterator[tuple[str, Any]]:
    """``("delta", {"text"})`` as the answer may be shown, then ``("final", the answer's JSON)`` — or one
    ``("error", {"error": {"code", "message"}})``: the stream has started, so an error goes in it."""
    try:
        for name, data in events if events is not None else svc.stream(plan, retrieved_ms):
            if name == "delta":
                yield "delta", {"text": data}
            elif isinstance(data, AnswerResponse):
                yield "final", data.model_dump()
    except PoolBusy as busy:
        yield (
            "error",
            {"error": {"code": "busy", "message": f"Server busy; retry after {busy.retry_after} s."}},
        )
    except Exception:
        log.exception("streaming an answer failed")
        yield "error", {"error": {"code": "internal", "message": "The answer could not be completed."}}


def _event(name: str, data: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(data, ensure_ascii=False), event=name, sep="\n")
