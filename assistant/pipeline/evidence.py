"""Evidence: the numbered passages an answer may rest on, each located verbatim in a document.

The planner gathers evidence (a program's table row, its description box, a goal ⇒ program line, a
budget line, a quoted sentence, a table cell); composers refer to it by id only, so no composer can cite
text that is not in the corpus. Citations are made from the evidence an answer actually uses
(:mod:`assistant.pipeline.cite`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from assistant.index.documents import DocumentStore
from assistant.records import SourceSpan

EvidenceKind = Literal["row", "description", "use_case", "budget_line", "quote", "cell"]


@dataclass(frozen=True)
class Evidence:
    """One located passage: ``quote`` is an exact substring of the document at ``line_start``–``line_end``."""

    id: int
    kind: EvidenceKind
    doc_id: str
    line_start: int
    line_end: int
    quote: str
    title: str  # the document's title
    program_id: str | None = None
    label: str = ""  # what the passage is: a table cell's row/column headers, a budget line's program

    def as_prompt(self) -> str:
        """One line for a generative composer: ``[E3] (row, 共創の場…) 「…」``."""
        about = f", {self.label}" if self.label else ""
        return f"[E{self.id}] ({self.kind}{about}) 「{' '.join(self.quote.split())}」"


@dataclass
class EvidenceBuilder:
    """Collects the evidence of one plan; the same passage located twice keeps one id."""

    store: DocumentStore
    items: list[Evidence] = field(default_factory=list)
    _keys: dict[tuple[str, int, int, str], int] = field(default_factory=dict)

    def _add(
        self, kind: EvidenceKind, doc_id: str, start: int, end: int, quote: str, **extra: str | None
    ) -> int:
        key = (doc_id, start, end, quote)
        if key in self._keys:
            return self._keys[key]
        document = self.store.get(doc_id)
        evidence = Evidence(
            id=len(self.items) + 1,
            kind=kind,
            doc_id=doc_id,
            line_start=start,
            line_end=end,
            quote=quote,
            title=document.info.title if document else doc_id,
            program_id=extra.get("program_id"),
            label=extra.get("label") or "",
        )
        self.items.append(evidence)
        self._keys[key] = evidence.id
        return evidence.id

    def span(self, kind: EvidenceKind, span: SourceSpan, **extra: str | None) -> int | None:
        """Whole lines (a program's table row, a goal ⇒ program line, a budget line)."""
        document = self.store.get(span.doc_id)
        if document is None:
            return None
        quote = document.span_text(span.line_start, span.line_end).strip()
        located = document.locate(quote, near=(span.line_start, span.line_end)) if quote else None
        if located is None:
            return None
        return self._add(kind, span.doc_id, located.line_start, located.line_end, located.quote, **extra)

    def snippet(
        self,
        kind: EvidenceKind,
        doc_id: str,
        text: str,
        near: tuple[int, int] | None = None,
        **extra: str | None,
    ) -> int | None:
        """A piece of text (a sentence, a description, a cell) where it stands in the document."""
        document = self.store.get(doc_id)
        located = document.locate(text, near=near) if document else None
        if located is None:
            return None
        return self._add(kind, doc_id, located.line_start, located.line_end, located.quote, **extra)

    def get(self, evidence_id: int) -> Evidence:
        return self.items[evidence_id - 1]
