"""The answer API (FastAPI): /v1/answer (+ SSE stream), /v1/search, /v1/programs, /v1/documents, health.

The service (model + index) loads once at start-up in a background thread; ``/readyz`` says when it is
ready, or why not (no index → run ``assistant ingest``). Every error is JSON
``{"error": {"code", "message"}}``; user input never produces a 5xx.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import httpx
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.answering import AnswerResponse, AnswerService, ProgramCard
from assistant.config import Settings, get_settings
from assistant.index_store import IndexStateError
from assistant.intents import Turn
from assistant.jp_text import strip_controls
from assistant.query_parser import InvalidFilterError, QueryConditions, apply_filters, filter_programs
from assistant.request_id import REQUEST_ID_HEADER, current_request_id
from assistant.retrieval import MODES, Mode
from assistant.security import install as install_security

log = logging.getLogger("assistant.api")

MAX_QUESTION_CHARS = get_settings().max_question_chars  # also the /v1/search q limit


class BodyLimitMiddleware:
    """Refuses request bodies over the limit with 413, whether announced by Content-Length or streamed."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _error(413, "payload_too_large", self._message())(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise StarletteHTTPException(413, self._message())
            return message

        await self.app(scope, limited_receive, send)

    def _message(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


# -- request / response models ------------------------------------------------------------------
class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ministry: str | None = None
    applicant_type: str | None = None
    theme: str | None = None


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Annotated[str, StringConstraints(strict=True)]
    history: list[Turn] = Field(default_factory=list)
    filters: Filters | None = None

    @field_validator("question")
    @classmethod
    def _question_is_usable(cls, value: str) -> str:
        value = strip_controls(value)
        limit = get_settings().max_question_chars
        if not value.strip():
            raise ValueError("question must not be empty")
        if len(value) > limit:
            raise ValueError(f"question is longer than {limit} characters")
        return value

    @field_validator("history")
    @classmethod
    def _history_is_bounded(cls, turns: list[Turn]) -> list[Turn]:
        settings = get_settings()
        if len(turns) > settings.max_history_turns:
            raise ValueError(f"history has more than {settings.max_history_turns} turns")
        cleaned = [Turn(role=t.role, content=strip_controls(t.content)) for t in turns]
        if sum(len(t.content) for t in cleaned) > settings.max_history_chars:
            raise ValueError(f"history is longer than {settings.max_history_chars} characters in all")
        return cleaned


class Ranks(BaseModel):
    dense: int | None
    bm25: int | None
    exact: int | None


class SearchHit(BaseModel):
    kind: Literal["chunk", "program"]
    text: str
    name: str | None
    doc_id: str
    line_start: int
    line_end: int
    score: float
    ranks: Ranks


class SearchResponse(BaseModel):
    hits: list[SearchHit]


class ProgramList(BaseModel):
    programs: list[ProgramCard]


class ProgramDetail(ProgramCard):
    aliases: list[str]
    description: str | None
    source: dict[str, Any]


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    publisher: str
    date: str
    kind: str
    lines: int


class DocumentList(BaseModel):
    documents: list[DocumentSummary]


class DocumentPassage(BaseModel):
    doc_id: str
    title: str
    line_start: int
    line_end: int
    context_start: int
    context_end: int
    lines: list[dict[str, Any]]  # {"line": n, "text": str, "cited": bool}


# -- service lifecycle ----------------------------------------------------------------------------
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


def create_app(settings: Settings | None = None, load_in_background: bool = True) -> FastAPI:
    settings = settings or get_settings()
    holder = ServiceHolder(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if load_in_background:
            threading.Thread(target=holder.load, name="load-service", daemon=True).start()
        else:
            holder.load()
        yield

    app = FastAPI(
        title="政策アシスタント API",
        version="1.0",
        description="Grounded answers about 産学官連携 policy documents, with verified citations and contacts.",
        lifespan=lifespan,
    )
    app.state.holder = holder
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    install_security(app, settings)  # API keys, rate limit, CORS, request ids — around the body limit

    # -- errors -----------------------------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
        return _error(422, "invalid_request", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            400: "invalid_request",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
        }
        return _error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(InvalidFilterError)
    async def _filter_error(_request: Request, exc: InvalidFilterError) -> JSONResponse:
        return _error(400, "invalid_filter", str(exc))

    @app.exception_handler(httpx.TransportError)
    async def _vector_store_down(_request: Request, exc: httpx.TransportError) -> JSONResponse:
        # Only the Chroma HttpClient makes outgoing calls while answering (ASSISTANT_CHROMA_MODE=http).
        log.error("the Chroma server is unreachable: %s: %s", type(exc).__name__, exc)
        return _error(503, "index_unavailable", "The index's Chroma server cannot be reached; retry shortly.")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        response = _error(500, "internal_error", "An internal error occurred; it has been logged.")
        response.headers[REQUEST_ID_HEADER] = current_request_id()  # sent outside the request-id middleware
        return response

    # -- health -----------------------------------------------------------------------------------
    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
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
        return _error(503, "not_ready", message)

    # -- answers ----------------------------------------------------------------------------------
    def _answer(svc: AnswerService, body: AnswerRequest) -> AnswerResponse:
        filters = body.filters.model_dump() if body.filters else None
        return svc.answer(body.question, body.history, filters)

    @app.post("/v1/answer", response_model=AnswerResponse, tags=["answers"])
    def answer(body: AnswerRequest, svc: Service) -> AnswerResponse:
        return _answer(svc, body)

    @app.post("/v1/answer/stream", tags=["answers"], response_class=StreamingResponse)
    def answer_stream(body: AnswerRequest, svc: Service) -> StreamingResponse:
        """Server-Sent Events: ``delta`` events with pieces of the answer text, then ``final`` with the full JSON."""
        result = _answer(svc, body)  # computed before streaming, so errors still return JSON
        return StreamingResponse(
            _sse(result), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    # -- search and catalog ---------------------------------------------------------------------
    @app.get("/v1/search", response_model=SearchResponse, tags=["retrieval"])
    def search(
        svc: Service,
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION_CHARS)],
        k: Annotated[int, Query(ge=1, le=50)] = 8,
        mode: Mode = "hybrid",
    ) -> SearchResponse:
        if not q.strip():
            raise ApiError(422, "invalid_request", "q must not be empty")
        if mode not in MODES:
            raise ApiError(422, "invalid_request", f"mode must be one of {', '.join(MODES)}")
        result = svc.search(q, k=k, mode=mode)
        return SearchResponse(
            hits=[
                SearchHit.model_validate(h.model_dump(include=set(SearchHit.model_fields)))
                for h in result.hits
            ]
        )

    @app.get("/v1/programs", response_model=ProgramList, tags=["catalog"])
    def programs(
        svc: Service,
        ministry: str | None = None,
        applicant_type: str | None = None,
        theme: str | None = None,
        min_budget: Annotated[int | None, Query(ge=0, description="thousand yen")] = None,
        max_budget: Annotated[int | None, Query(ge=0, description="thousand yen")] = None,
        new_calls: bool | None = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
    ) -> ProgramList:
        catalog = list(svc.programs.values())
        conditions = apply_filters(
            QueryConditions(min_budget=min_budget, max_budget=max_budget, new_calls=new_calls),
            {"ministry": ministry, "applicant_type": applicant_type, "theme": theme},
            catalog,
        )
        found = filter_programs(conditions, catalog)
        if q and q.strip():
            named = set(svc.matcher.find(q))
            needle = q.strip()
            found = [p for p in found if p.id in named or needle in p.name or needle in (p.description or "")]
        return ProgramList(programs=[ProgramCard.of(p) for p in found])

    @app.get("/v1/programs/{program_id}", response_model=ProgramDetail, tags=["catalog"])
    def program(program_id: str, svc: Service) -> ProgramDetail:
        found = svc.programs.get(program_id)
        if found is None:
            raise ApiError(404, "not_found", f"No program with id {program_id!r}. List them at /v1/programs.")
        data = found.model_dump()
        return ProgramDetail.model_validate({**data, "source": found.source.model_dump()})

    @app.get("/v1/documents", response_model=DocumentList, tags=["documents"])
    def documents(svc: Service) -> DocumentList:
        return DocumentList(
            documents=[
                DocumentSummary(**doc.info.model_dump(exclude={"path"}), lines=len(doc.lines))
                for doc in svc.store.documents.values()
            ]
        )

    @app.get("/v1/documents/{doc_id}", response_model=DocumentPassage, tags=["documents"])
    def document(
        doc_id: str,
        svc: Service,
        line_start: Annotated[int, Query(ge=1)] = 1,
        line_end: Annotated[int | None, Query(ge=1)] = None,
        context: Annotated[int, Query(ge=0, le=50)] = 5,
    ) -> DocumentPassage:
        stored = svc.store.get(doc_id)
        if stored is None:
            raise ApiError(
                404, "not_found", f"No document {doc_id!r}. Known: {', '.join(sorted(svc.store.documents))}."
            )
        total = len(stored.lines)
        end = line_end if line_end is not None else line_start
        if line_start > total or end < line_start:
            raise ApiError(
                422, "invalid_request", f"line range {line_start}-{end} is outside 1-{total} or reversed"
            )
        end = min(end, total)
        lo, hi = max(1, line_start - context), min(total, end + context)
        return DocumentPassage(
            doc_id=doc_id,
            title=stored.info.title,
            line_start=line_start,
            line_end=end,
            context_start=lo,
            context_end=hi,
            lines=[
                {"line": n, "text": stored.lines[n - 1], "cited": line_start <= n <= end}
                for n in range(lo, hi + 1)
            ],
        )

    if not settings.ui_enabled:
        return app
    from assistant.ui import mount_ui  # the chat page at "/", mounted last so the routes above win

    return mount_ui(app, holder)


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
