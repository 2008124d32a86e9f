"""An OpenAI Chat Completions request read as our question: what applies, what is ignored, what is refused.

Chat front-ends and SDKs send a model's sampling knobs and features this service does not have. Each
parameter OpenAI defines is sorted here, so none is silently misread:

* **applied** — ``model`` (must be ours), ``messages``, ``stream``, ``stream_options``; and our extension
  ``filters`` (the ``/v1/answer`` filters);
* **accepted and ignored** — knobs of a sampling model (``temperature``, ``top_p``, ``seed``, penalties …),
  ``max_tokens`` / ``max_completion_tokens`` (an answer is never cut: a cut answer would lose its
  sources), bookkeeping (``user``, ``metadata``, ``service_tier`` …): the answer is composed from the
  documents and verified, so they have nothing to change;
* **refused unless neutral** — what would change the reply's shape or promise something we cannot do:
  ``n`` > 1, ``tools`` / ``functions`` / a forcing ``tool_choice``, ``response_format`` other than text,
  ``logprobs``, ``logit_bias``, ``stop``, audio, predictions, web search, ``store: true``;
* anything else is refused as OpenAI refuses it: "Unrecognized request argument".

``messages``: the last one must be the user's question; earlier user and assistant turns are the history
(the oldest dropped past the history limits, as the chat UI does); system and developer messages are
accepted and do not change the grounding (answers come from the documents only). Only text content parts
are read. Our own sources block is cut from earlier replies (:func:`strip_sources`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from assistant.config import Settings
from assistant.pipeline.read import Turn
from assistant.web.plain_answer import strip_sources
from assistant.web.schemas import AnswerRequest, Filters

#: Accepted and ignored (see the module docstring).
IGNORED = frozenset(
    {
        "temperature",
        "top_p",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "top_k",
        "min_p",
        "repetition_penalty",
        "max_tokens",
        "max_completion_tokens",
        "user",
        "metadata",
        "service_tier",
        "reasoning_effort",
        "verbosity",
        "parallel_tool_calls",
        "prompt_cache_key",
        "safety_identifier",
    }
)


def _absent(value: Any) -> bool:
    return value is None or value in ("", [], {}) or value is False


#: Parameter → (is the value neutral?, why another value is refused).
REFUSED_UNLESS_NEUTRAL: dict[str, tuple[Any, str]] = {
    "n": (lambda v: v is None or v == 1, "only n=1 is supported: there is one grounded answer per question"),
    "tools": (_absent, "tools are not supported: this model answers from its documents and calls no tools"),
    "functions": (_absent, "functions are not supported: this model calls no functions"),
    "tool_choice": (
        lambda v: v in (None, "none", "auto"),
        "tool_choice can only be 'none' or 'auto': this model calls no tools",
    ),
    "function_call": (
        lambda v: v in (None, "none", "auto"),
        "function_call can only be 'none' or 'auto': this model calls no functions",
    ),
    "response_format": (
        lambda v: v is None or (isinstance(v, dict) and v.get("type") == "text"),
        "only response_format {'type': 'text'} is supported; the structured answer is in the reply's "
        "'seisaku_answer' field",
    ),
    "logprobs": (_absent, "logprobs are not available: the answer is not sampled token by token"),
    "top_logprobs": (lambda v: v in (None, 0), "top_logprobs are not available"),
    "logit_bias": (_absent, "logit_bias is not supported: the answer is not sampled"),
    "stop": (_absent, "stop sequences are not supported: they would cut the answer and its sources"),
    "modalities": (lambda v: v in (None, ["text"]), "only the text modality is supported"),
    "audio": (_absent, "audio output is not supported"),
    "prediction": (_absent, "predicted outputs are not supported"),
    "web_search_options": (_absent, "web search is not supported: answers come from the documents only"),
    "store": (_absent, "store is not supported: this server keeps no completions"),
}

APPLIED = frozenset({"model", "messages", "stream", "stream_options", "filters"})
CONTENT_ROLES = ("user", "assistant")
IGNORED_ROLES = ("system", "developer")


class ChatRequestError(ValueError):
    """A request this endpoint refuses: 400 (or 404 for an unknown model), naming the parameter."""

    def __init__(self, message: str, param: str | None = None, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code
        self.status = 404 if code == "model_not_found" else 400


@dataclass
class ChatQuestion:
    """What the request asks: the question, its history and filters, and how to send the reply."""

    model: str
    request: AnswerRequest
    stream: bool = False
    ignored: list[str] = field(default_factory=list)  # parameters accepted and ignored, for the docs/logs


def read_chat_request(body: Any, settings: Settings) -> ChatQuestion:
    """The question a Chat Completions body asks; raises :class:`ChatRequestError` for what cannot apply."""
    if not isinstance(body, dict):
        raise ChatRequestError("The body must be a JSON object.")
    for name in body:
        if name not in APPLIED and name not in IGNORED and name not in REFUSED_UNLESS_NEUTRAL:
            raise ChatRequestError(f"Unrecognized request argument supplied: {name[:60]}", param=name[:60])
    for name, (neutral, why) in REFUSED_UNLESS_NEUTRAL.items():
        if name in body and not neutral(body[name]):
            raise ChatRequestError(why, param=name, code="unsupported_parameter")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ChatRequestError("model is required: use the id /v1/models lists.", param="model")
    if model != settings.openai_model_id:
        raise ChatRequestError(
            f"The model does not exist; this server has one: {settings.openai_model_id!r} (see /v1/models).",
            param="model",
            code="model_not_found",
        )
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise ChatRequestError("stream must be true or false.", param="stream")
    _check_stream_options(body.get("stream_options"), stream)
    question, history = _conversation(body.get("messages"), settings)
    try:
        request = AnswerRequest(question=question, history=history, filters=_filters(body.get("filters")))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'messages'}: {err['msg']}" for err in exc.errors()
        )
        raise ChatRequestError(problems.replace("question:", "the last user message:"), "messages") from None
    ignored = sorted(name for name in body if name in IGNORED)
    return ChatQuestion(model=model, request=request, stream=stream, ignored=ignored)


def _check_stream_options(options: Any, stream: bool) -> None:
    if options is None:
        return
    if not stream:
        raise ChatRequestError("stream_options is only allowed with stream: true.", param="stream_options")
    if not isinstance(options, dict) or not set(options) <= {"include_usage", "include_obfuscation"}:
        raise ChatRequestError(
            "stream_options may hold include_usage (and include_obfuscation) only.", param="stream_options"
        )


def _filters(value: Any) -> Filters | None:
    if value is None:
        return None
    try:
        return Filters.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'filters'}: {e['msg']}" for e in exc.errors())
        raise ChatRequestError(f"filters: {problems}", param="filters") from None


def _conversation(messages: Any, settings: Settings) -> tuple[str, list[Turn]]:
    """The last user message and the user/assistant turns before it (the newest that fit the limits)."""
    if not isinstance(messages, list) or not messages:
        raise ChatRequestError("messages must be a non-empty list.", param="messages")
    turns: list[Turn] = []
    for position, message in enumerate(messages):
        where = f"messages[{position}]"
        if not isinstance(message, dict):
            raise ChatRequestError(f"{where} must be an object with role and content.", param=where)
        role = message.get("role")
        if role in IGNORED_ROLES:
            _text(message.get("content"), where)  # still checked: a malformed message is refused
            continue
        if role not in CONTENT_ROLES:
            raise ChatRequestError(
                f"{where}: role {str(role)[:20]!r} is not supported (user, assistant, system or developer; "
                "this model calls no tools).",
                param=where,
            )
        if message.get("tool_calls") or message.get("function_call"):
            raise ChatRequestError(f"{where}: tool calls are not supported.", param=where)
        text = _text(message.get("content"), where)
        if role == "assistant":
            text = strip_sources(text)
        if text.strip():
            turns.append(Turn(role=role, content=text))
    if not turns or turns[-1].role != "user":
        raise ChatRequestError("The last message must be the user's question.", param="messages")
    return turns[-1].content, _bounded(turns[:-1], settings)


def _text(content: Any, where: str) -> str:
    """A message's text: a string, or text parts joined by line breaks (other parts are refused)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ChatRequestError(f"{where}.content must be a string or a list of text parts.", param=where)
    texts = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("text", "refusal") and isinstance(part.get(kind), str):
            texts.append(part[kind])
        else:
            raise ChatRequestError(
                f"{where}.content: only text parts are supported (got {str(kind)[:20]!r}).", param=where
            )
    return "\n".join(texts)


def _bounded(turns: list[Turn], settings: Settings) -> list[Turn]:
    """The newest turns within max_history_turns and max_history_chars; older ones are dropped, as the
    chat UI drops them (a long chat must not start failing at its 21st turn)."""
    kept: list[Turn] = []
    budget = settings.max_history_chars
    for turn in reversed(turns[-settings.max_history_turns :] if settings.max_history_turns else []):
        if len(turn.content) > budget:
            break
        kept.append(turn)
        budget -= len(turn.content)
    return kept[::-1]
