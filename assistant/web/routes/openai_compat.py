"""OpenAI-compatible Chat Completions: ``POST /v1/chat/completions``, ``GET /v1/models`` and ``/v1/models/{id}``.

A help desk's chat front-end, bot builder or SDK that speaks to "an OpenAI-compatible model" gets our
grounded answer: ``choices[0].message.content`` is the answer with its [n] markers and a plain-text sources
block (title, lines, verbatim quote); the full structured answer (``/v1/answer``'s JSON: citations,
programs with their contacts, plan, verification, abstained) rides in the extension field
``seisaku_answer``. ``stream: true`` sends OpenAI's ``chat.completion.chunk`` events built on the verified
streaming of ``/v1/answer/stream`` and ends with ``data: [DONE]``. How each request parameter is treated
is in :mod:`assistant.web.chat_completions`. The same keys, rate limit and worker pool as ``/v1`` apply
(they guard the prefix); errors come in OpenAI's shape with our codes (:mod:`assistant.web.openai_errors`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.pipeline.service import AnswerService
from assistant.web.chat_completions import ChatQuestion, ChatRequestError, read_chat_request
from assistant.web.openai_errors import openai_error_response
from assistant.web.plain_answer import appendix
from assistant.web.routes.answers import planned_events

#: Not in /openapi.json: the contract is OpenAI's (its SDKs and API reference), with OpenAI's error shape, while
#: the schema documents the /v1 API's own shapes; docs/integrations.md says what differs.
router = APIRouter(prefix="/v1", tags=["openai-compatible"], include_in_schema=False)

EXTENSION_FIELD = "seisaku_answer"
OWNER = "seisaku-assistant"
#: Fixed so that clients caching model lists see one stable entry.
MODEL_CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z


def _model_card(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": MODEL_CREATED, "owned_by": OWNER}


@router.get("/models", summary="The one model id this server answers as (OpenAI's model list)")
def models(request: Request) -> dict[str, Any]:
    return {"object": "list", "data": [_model_card(request.app.state.holder.settings.openai_model_id)]}


@router.get("/models/{model_id}", summary="One model (OpenAI's model retrieval)")
def model(model_id: Annotated[str, Path(max_length=200)], request: Request) -> JSONResponse:
    ours = request.app.state.holder.settings.openai_model_id
    if model_id != ours:
        return openai_error_response(
            404, "model_not_found", f"The model does not exist; this server has one: {ours!r}.", "model"
        )
    return JSONResponse(_model_card(ours))


async def _json_body(request: Request) -> Any:
    """The body as JSON; read here (not by FastAPI) so a malformed one is OpenAI's 400, not a 422."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # also invalid UTF-8 and nesting deeper than the parser allows
        raise ChatRequestError("The body must be a JSON object (Content-Type: application/json).") from None


@router.post(
    "/chat/completions",
    summary="OpenAI-compatible chat completion: the grounded answer with its sources",
    response_description="A chat.completion object (or chat.completion.chunk events with stream: true); the "
    "structured answer is in 'seisaku_answer'.",
)
async def chat_completions(request: Request) -> Any:
    holder = request.app.state.holder
    try:
        asked = read_chat_request(await _json_body(request), holder.settings)
    except ChatRequestError as exc:
        return openai_error_response(exc.status, exc.code, exc.message, exc.param)
    svc: AnswerService = holder.get()  # 503 not_ready until the index is loaded
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    build = svc.index.manifest.build_id
    if asked.stream:
        events = await run_in_threadpool(planned_events, svc, asked.request, request)
        chunks = _chunks(events, completion_id, asked.model, build)
        return StreamingResponse(
            chunks, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )
    answer = await run_in_threadpool(_answer, svc, asked)
    return JSONResponse(_completion(answer, completion_id, asked.model, build))


def _answer(svc: AnswerService, asked: ChatQuestion) -> dict[str, Any]:
    body = asked.request
    filters = body.filters.model_dump() if body.filters else None
    return svc.answer(body.question, body.history, filters).model_dump()


def _completion(answer: dict[str, Any], completion_id: str, model_id: str, build: str) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_id,
        "system_fingerprint": build,  # the index build that answered
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": answer["answer"] + appendix(answer),
                    "refusal": None,
                },
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": None,  # answers are not counted in tokens (no sampled model wrote them)
        EXTENSION_FIELD: answer,
    }


def _chunks(
    events: Iterator[tuple[str, Any]], completion_id: str, model_id: str, build: str
) -> Iterator[str]:
    """OpenAI's stream: a role chunk, content deltas, the sources block, a final chunk carrying
    ``finish_reason`` and the structured answer, then ``[DONE]`` (an error mid-stream is one
    ``{"error": …}`` event, which the OpenAI SDK raises)."""
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        data = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model_id,
            "system_fingerprint": build,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for name, data in events:
        if name == "delta":
            yield chunk({"content": data["text"]})
        elif name == "final":
            rest = appendix(data)
            if rest:
                yield chunk({"content": rest})
            yield chunk({}, "stop", **{EXTENSION_FIELD: data})
        else:
            error = data["error"]
            yield (
                "data: "
                + json.dumps({"error": {**error, "type": "server_error", "param": None}}, ensure_ascii=False)
                + "\n\n"
            )
    yield "data: [DONE]\n\n"
