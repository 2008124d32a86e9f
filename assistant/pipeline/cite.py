"""Citations with verbatim quotes, numbered in the order the answer uses them.

A citation is only ever made from text found in a document snapshot (``DocumentStore``): the quote
is an exact substring of the document, and its line span is where that substring stands. Nothing
here composes text, so a citation cannot point at something the corpus does not say.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from pydantic import BaseModel

from assistant.index.documents import DocumentStore
from assistant.records import Chunk, SourceSpan


class Citation(BaseModel):
    id: int
    doc_id: str
    title: str
    section: str
    page: int | None
    line_start: int
    line_end: int
    quote: str


@dataclass
class ChunkLocator:
    """Section and page of a line, from the chunks that cover it (chunks know their headings and pages)."""

    by_doc: dict[str, list[Chunk]] = field(default_factory=dict)
    starts: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def from_chunks(cls, chunks: list[Chunk]) -> ChunkLocator:
        locator = cls()
        for chunk in sorted(chunks, key=lambda c: (c.doc_id, c.line_start)):
            locator.by_doc.setdefault(chunk.doc_id, []).append(chunk)
        locator.starts = {doc: [c.line_start for c in items] for doc, items in locator.by_doc.items()}
        return locator

    def chunk_at(self, doc_id: str, line: int) -> Chunk | None:
        items = self.by_doc.get(doc_id, [])
        pos = bisect.bisect_right(self.starts.get(doc_id, []), line) - 1
        while pos >= 0:
            if items[pos].line_start <= line <= items[pos].line_end:
                return items[pos]
            pos -= 1
        return None


class CitationBuilder:
    """Collects the citations of one answer; the same passage cited twice keeps one number."""

    def __init__(self, store: DocumentStore, locator: ChunkLocator) -> None:
        self.store = store
        self.locator = locator
        self.citations: list[Citation] = []
        self._keys: dict[tuple[str, int, int, str], int] = {}

    def _add(self, doc_id: str, line_start: int, line_end: int, quote: str) -> int | None:
        document = self.store.get(doc_id)
        if document is None or not quote or quote not in document.text:
            return None
        key = (doc_id, line_start, line_end, quote)
        if key in self._keys:
            return self._keys[key]
        chunk = self.locator.chunk_at(doc_id, line_start)
        citation = Citation(
            id=len(self.citations) + 1,
            doc_id=doc_id,
            title=document.info.title,
            section=chunk.section if chunk else "",
            page=chunk.page if chunk else None,
            line_start=line_start,
            line_end=line_end,
            quote=quote,
        )
        self.citations.append(citation)
        self._keys[key] = citation.id
        return citation.id

    def span(self, span: SourceSpan) -> int | None:
        """Cite whole lines (a program's table row, a use-case line)."""
        document = self.store.get(span.doc_id)
        if document is None:
            return None
        quote = document.span_text(span.line_start, span.line_end).strip()
        located = document.locate(quote, near=(span.line_start, span.line_end)) if quote else None
        if located is None:
            return None
        return self._add(span.doc_id, located.line_start, located.line_end, located.quote)

    def snippet(self, doc_id: str, text: str, near: tuple[int, int] | None = None) -> int | None:
        """Cite a piece of text (a sentence of a chunk, a description) where it stands in the document."""
        document = self.store.get(doc_id)
        located = document.locate(text, near=near) if document else None
        if located is None:
            return None
        return self._add(doc_id, located.line_start, located.line_end, located.quote)
