"""Request and response bodies of the ``/v1`` API (the JSON contract help desks integrate against)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from assistant.config import get_settings
from assistant.jp_text import strip_controls
from assistant.pipeline.read import Turn
from assistant.pipeline.service import ProgramCard
from assistant.records import BudgetBasis, SourceSpan


class Filters(BaseModel):
    """Conditions the answer's programs must meet; values as ``/v1/programs`` lists them (an unknown value
    is a 400 ``invalid_filter`` naming the valid ones). Colloquial forms are accepted (文科省, 大学)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"ministry": "文部科学省", "applicant_type": "大学等研究機関"}]},
    )

    ministry: str | None = Field(None, description="所管府省, e.g. 文部科学省 (or 文科省).")
    applicant_type: str | None = Field(
        None, description="申請主体: 大学等研究機関, 民間事業者等, 自治体, 研究者 or 官民コンソーシアム."
    )
    theme: str | None = Field(None, description="Policy theme of the 関連事業マップ, e.g. 地域脱炭素.")


class AnswerRequest(BaseModel):
    """A question, the conversation before it (for follow-ups such as 「その事業の予算は？」) and filters."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "うちの大学は地域の人材育成をしたい。使える事業と問い合わせ先は？"},
                {
                    "question": "その事業の予算は？",
                    "history": [
                        {"role": "user", "content": "共創の場形成支援プログラムの問い合わせ先は？"},
                        {"role": "assistant", "content": "共創の場形成支援プログラムの問い合わせ先は…"},
                    ],
                    "filters": {"ministry": "文部科学省"},
                },
            ]
        },
    )

    question: Annotated[str, StringConstraints(strict=True)] = Field(
        description="The question in Japanese (or English), 1–2,000 characters after control characters are removed."
    )
    history: list[Turn] = Field(
        default_factory=list,
        description="Earlier turns, oldest first (at most 20 turns and 20,000 characters in all).",
    )
    filters: Filters | None = Field(None, description="Optional conditions on the programs an answer names.")

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
    """The hit's rank in each retrieval leg (1 = best; null when that leg did not find it)."""

    dense: int | None = Field(description="Rank by e5 embedding similarity (Chroma).")
    bm25: int | None = Field(description="Rank by BM25 over Sudachi tokens.")
    exact: int | None = Field(description="Rank among programs named in the query (program hits only).")


class SearchHit(BaseModel):
    """A passage of a document, or a program of the catalog with its whole card."""

    kind: Literal["chunk", "program"] = Field(
        description="chunk: a document passage; program: a catalog record."
    )
    text: str = Field(description="The passage text, or a one-line summary of the program.")
    name: str | None = Field(description="The program's name (program hits).")
    doc_id: str = Field(description="Document holding the passage or the program's table row.")
    line_start: int = Field(description="First line of the passage or row (1-based, inclusive).")
    line_end: int = Field(description="Last line of the passage or row (inclusive).")
    score: float = Field(description="Reciprocal-rank-fusion score; higher is better.")
    ranks: Ranks
    program: ProgramCard | None = Field(
        None,
        description="Program hits: the whole card (department, TEL, e-mail, budget with its basis), "
        "so a top hit answers a contact question by itself.",
    )


class SearchResponse(BaseModel):
    hits: list[SearchHit] = Field(description="Best first.")


class ProgramList(BaseModel):
    programs: list[ProgramCard] = Field(description="Programs meeting the filters, in the deck's order.")


class BudgetFigure(BaseModel):
    """One budget figure the documents print for the program, with what it is."""

    amount_text: str = Field(description="The figure as printed, e.g. 「【5,900百万円】」, 「59億円」.")
    basis: BudgetBasis | None = Field(
        description="What the figure is (e.g. 令和3年度補正予算額), where stated."
    )
    source: SourceSpan = Field(description="Where the figure is printed.")


class ProgramDetail(ProgramCard):
    """A program's card plus its other names, description, source row and every budget figure printed."""

    aliases: list[str] = Field(description="Other names the documents use (SPARC, 共創の場形成支援 …).")
    description: str | None = Field(description="The program's description box on the maps, verbatim.")
    source: dict[str, Any] = Field(
        description="The table row the record comes from: doc_id, line_start, line_end."
    )
    budget_figures: list[BudgetFigure] = Field(
        default_factory=list,
        description="Every budget figure the documents print for the program (maps, ◆ lists), with its basis.",
    )


class DocumentSummary(BaseModel):
    """One document of the corpus, as its manifest entry describes it."""

    doc_id: str = Field(description="File stem of the document; citations refer to it.")
    title: str = Field(description="Title of the document.")
    publisher: str = Field(description="Who issued it.")
    date: str = Field(description="When it was issued (ISO 8601: year, year-month or date).")
    kind: str = Field(description="slides, report, notice or summary.")
    lines: int = Field(description="Number of lines of the stored text (citation line numbers go up to it).")


class DocumentList(BaseModel):
    documents: list[DocumentSummary] = Field(description="The documents of the index, in manifest order.")


class PassageLine(BaseModel):
    line: int = Field(description="Line number (1-based).")
    text: str = Field(description="The line, verbatim.")
    cited: bool = Field(description="Whether the line is inside the requested range.")


class DocumentPassage(BaseModel):
    """Lines of a document around a cited range."""

    doc_id: str = Field(description="The document.")
    title: str = Field(description="Its title.")
    line_start: int = Field(description="First requested line.")
    line_end: int = Field(description="Last requested line (clipped to the document).")
    context_start: int = Field(description="First line returned (line_start minus context).")
    context_end: int = Field(description="Last line returned (line_end plus context).")
    lines: list[PassageLine] = Field(description="The lines from context_start to context_end.")


class ErrorDetail(BaseModel):
    code: str = Field(
        description="Machine-readable reason: invalid_request, invalid_filter, unauthorized, not_found, "
        "method_not_allowed, payload_too_large, rate_limited, not_ready, index_unavailable, cors_rejected, "
        "internal_error."
    )
    message: str = Field(description="What was wrong, in English, safe to show (never echoes a key).")


class ErrorResponse(BaseModel):
    """Every refusal of the API has this shape."""

    error: ErrorDetail
