"""What retrieval returns: fused hits (chunks and program records) with their per-leg ranks and scores.

Kept apart from the search itself (:mod:`assistant.pipeline.retrieve`, which needs the vector store), so the
planner and its tests can handle retrieval results without loading an index.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.pipeline.conditions import ProgramFilter
from assistant.records import Program

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")


class LegRanks(BaseModel):
    dense: int | None = None
    bm25: int | None = None
    exact: int | None = None


class LegScores(BaseModel):
    dense: float | None = None  # cosine similarity
    bm25: float | None = None


class Hit(BaseModel):
    """One fused result: a chunk of a document or a program record."""

    kind: Literal["chunk", "program"]
    id: str
    text: str
    name: str | None = None  # program name for program hits
    doc_id: str
    line_start: int
    line_end: int
    page: int | None = None
    section: str = ""
    score: float = 0.0
    ranks: LegRanks = Field(default_factory=LegRanks)
    scores: LegScores = Field(default_factory=LegScores)
    merged_ids: list[str] = Field(default_factory=list)  # identical chunks folded into this hit

    def metadata(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "doc_id": self.doc_id,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "page": self.page,
            "section": self.section,
            "score": self.score,
            "ranks": self.ranks.model_dump(),
            "scores": self.scores.model_dump(),
        }


class RetrievalResult(BaseModel):
    question: str
    mode: Mode
    program_filter: ProgramFilter = Field(default_factory=ProgramFilter)
    hits: list[Hit]  # fused, best first (chunks and programs)
    programs: list[Program]  # structured program matches: named first, then condition matches
    seconds: float = 0.0
    query_vector: list[float] | None = Field(
        default=None, exclude=True, repr=False
    )  # reused by the answer engine

    @property
    def chunk_hits(self) -> list[Hit]:
        return [h for h in self.hits if h.kind == "chunk"]
