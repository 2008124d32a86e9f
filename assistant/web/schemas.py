"""Request and response bodies of the ``/v1`` API (the JSON contract help desks integrate against)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from assistant.config import get_settings
from assistant.jp_text import strip_controls
from assistant.pipeline.read import Turn
from assistant.pipeline.service import ProgramCard


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
