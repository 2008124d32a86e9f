"""The embeddable widget's routes: its script and style sheet, its settings, answers and 👍/👎.

``/widget.js`` builds the chat in a shadow-DOM panel on the host page (``static/widget.js``); everything
it loads comes from this app. Answers stream like ``/v1/answer/stream`` (``delta`` events, then ``final``
with the full JSON plus a ``feedback_token``); ratings go to the feedback database through
:mod:`assistant.web.widget_answers`. Who may call these routes is decided by
:mod:`assistant.web.widget_gate`; they are not part of the ``/v1`` API's schema.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from assistant.web.errors import error_response
from assistant.web.holder import Service
from assistant.web.routes.answers import planned_events
from assistant.web.schemas import AnswerRequest
from assistant.web.ui_gate import client_ip
from assistant.web.widget_answers import WidgetAnswers, WidgetFeedbackError
from assistant.web.widget_gate import WIDGET_SCRIPT, WIDGET_STYLES

router = APIRouter(tags=["widget"], include_in_schema=False)
log = logging.getLogger("assistant.web.widget")

STATIC = Path(__file__).resolve().parent.parent / "static"
#: The script changes with releases; a short cache keeps a deployment's update quick to arrive.
STATIC_HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
EXAMPLES = (
    "うちの大学は地域の人材育成をしたい。使える事業と問い合わせ先は？",
    "共創の場形成支援プログラムの問い合わせ先は？",
    "文科省の事業で大学が申請できるものは？",
)


class WidgetRating(BaseModel):
    """A 👍/👎 (or its withdrawal: rating null) and an optional comment on an answer the widget showed."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    rating: Literal["up", "down"] | None = None
    comment: str | None = Field(None, max_length=1000)


_ANSWERS_LOCK = threading.Lock()


def _answers(request: Request) -> WidgetAnswers:
    """The app's one memory of widget answers (made on first use; the routes run in worker threads)."""
    state = request.app.state
    with _ANSWERS_LOCK:
        if getattr(state, "widget_answers", None) is None:
            state.widget_answers = WidgetAnswers(state.holder.settings, getattr(state, "database", None))
        return state.widget_answers


@router.get(WIDGET_SCRIPT)
def widget_script() -> FileResponse:
    return FileResponse(
        STATIC / "widget.js", media_type="text/javascript; charset=utf-8", headers=STATIC_HEADERS
    )


@router.get(WIDGET_STYLES)
def widget_styles() -> FileResponse:
    return FileResponse(STATIC / "widget.css", media_type="text/css; charset=utf-8", headers=STATIC_HEADERS)


@router.get("/widget/config")
def widget_config(request: Request) -> dict[str, Any]:
    """What the widget needs to draw itself: limits, example questions, where documents open."""
    settings = request.app.state.holder.settings
    return {
        "examples": list(EXAMPLES),
        "max_question_chars": settings.max_question_chars,
        "max_history_turns": settings.max_history_turns,
        # The chat UI's document view (public, as the widget requires): a citation opens at its lines.
        "document_url": "/documents/{doc_id}?from={line_start}&to={line_end}"
        if settings.ui_enabled
        else None,
    }


@router.post("/widget/answer")
def widget_answer(body: AnswerRequest, svc: Service, request: Request) -> StreamingResponse:
    """The answer as Server-Sent Events (``delta``, then ``final`` with ``feedback_token``, or ``error``)."""
    events = planned_events(svc, body, request)
    return StreamingResponse(
        _remembering(events, body, _answers(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


def _remembering(
    events: Iterator[tuple[str, Any]], body: AnswerRequest, answers: WidgetAnswers
) -> Iterator[str]:
    for name, data in events:
        if name == "final":
            filters = body.filters.model_dump() if body.filters else None
            history = [t.model_dump() for t in body.history]
            data = {**data, "feedback_token": answers.remember(body.question, history, filters, data)}
        yield f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/widget/feedback")
def widget_feedback(body: WidgetRating, request: Request) -> JSONResponse:
    try:
        stored = _answers(request).rate(body.token, body.rating, body.comment, client_ip(request.scope))
    except WidgetFeedbackError as exc:
        if exc.code == "feedback_full":
            log.error("widget feedback refused: the feedback database is full")
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return error_response(exc.status, exc.code, exc.message, headers)
    return JSONResponse({"stored": stored})
