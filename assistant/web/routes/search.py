"""``GET /v1/search``: the fused hybrid hits with their per-leg ranks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from assistant.config import get_settings
from assistant.pipeline.hits import MODES, Mode
from assistant.pipeline.service import AnswerService, ProgramCard
from assistant.web.errors import ApiError
from assistant.web.holder import Service
from assistant.web.schemas import SearchHit, SearchResponse

router = APIRouter(prefix="/v1", tags=["retrieval"])

MAX_QUESTION_CHARS = get_settings().max_question_chars  # the q limit is the question limit


@router.get("/search", response_model=SearchResponse)
def search(
    svc: Service,
    q: Annotated[
        str,
        Query(
            min_length=1, max_length=MAX_QUESTION_CHARS, description="The query, e.g. 共創の場 問い合わせ先."
        ),
    ],
    k: Annotated[int, Query(ge=1, le=50, description="How many hits to return.")] = 8,
    mode: Annotated[
        Mode, Query(description="hybrid (dense + BM25 + program names, fused by RRF), dense or bm25.")
    ] = "hybrid",
) -> SearchResponse:
    if not q.strip():
        raise ApiError(422, "invalid_request", "q must not be empty")
    if mode not in MODES:
        raise ApiError(422, "invalid_request", f"mode must be one of {', '.join(MODES)}")
    return search_hits(svc, q, k, mode)


def search_hits(svc: AnswerService, q: str, k: int = 8, mode: Mode = "hybrid") -> SearchResponse:
    """The fused hits of ``q``, a program hit with its whole card — for this route and the MCP ``search``."""
    result = svc.search(q, k=k, mode=mode)
    hits = []
    for h in result.hits:
        hit = SearchHit.model_validate(h.model_dump(include=set(SearchHit.model_fields) - {"program"}))
        program = svc.programs.get(h.id) if h.kind == "program" else None
        if program is not None:
            hit.program = ProgramCard.of(program)
        hits.append(hit)
    return SearchResponse(hits=hits)
