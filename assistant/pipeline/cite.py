"""Stage 5, cite and verify: evidence ids become numbered citations, and every line is checked.

Whatever composer wrote the draft, its lines pass here before anyone sees them:

* a line that states something must cite evidence, and every id it cites must exist in the plan;
* every quote stands verbatim in its document, inside the cited lines;
* every phone number and e-mail address in a line stands verbatim in the quote of evidence that line
  cites (a catalog row or a quoted passage) — the rule "no contact without its source";
* quoted text 「…」 in a line is a substring of evidence that line cites, when the line cites a quote.

A line that fails is dropped (and logged without its text). Citations are numbered in the order the
answer first uses them; the same passage cited twice keeps one number.
"""

from __future__ import annotations

import bisect
import logging
import re
import unicodedata
from dataclasses import dataclass, field

from pydantic import BaseModel

from assistant.index.documents import DocumentStore
from assistant.pipeline.compose import AnswerDraft, Line
from assistant.pipeline.evidence import Evidence
from assistant.pipeline.plan import AnswerPlan
from assistant.records import Chunk
from assistant.vocabulary import contacts_in

log = logging.getLogger("assistant.pipeline.cite")


class Citation(BaseModel):
    id: int
    doc_id: str
    title: str
    section: str
    page: int | None
    line_start: int
    line_end: int
    quote: str
    #: Where the quote stands in its lines: character offsets in the text of lines line_start..line_end
    #: joined by "\n" (as /v1/documents returns them), end exclusive — a cell of a one-line table row is
    #: shown as that cell. None when the quote is not found verbatim (never, once ``check`` passed).
    char_start: int | None = None
    char_end: int | None = None


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


@dataclass
class CitedAnswer:
    text: str
    citations: list[Citation]
    dropped: int  # lines the checks removed


_QUOTED = re.compile(r"「([^「」]{6,})」")


class Citer:
    """Built once per process; ``finish`` is thread-safe (it keeps no state between calls)."""

    def __init__(self, store: DocumentStore, locator: ChunkLocator) -> None:
        self.store = store
        self.locator = locator

    def check(self, line: Line, evidence: list[Evidence]) -> str | None:
        """Why a line must not be shown, or None when it passes."""
        if line.end.strip() == "。" and not line.cites and _states_fact(line.text):
            return "uncited"
        cited = []
        for eid in line.cites:
            if not 1 <= eid <= len(evidence):
                return "unknown evidence id"
            cited.append(evidence[eid - 1])
        for item in cited:
            if not self._verbatim(item):
                return "quote not verbatim"
        sources = "\n".join(item.quote for item in cited)
        known = contacts_in(sources) | contacts_in(_squash(sources))  # cells break numbers over lines
        if not contacts_in(line.text) <= known:
            return "contact not in its cited evidence"
        if any(item.kind in ("quote", "cell", "description", "use_case", "budget_line") for item in cited):
            squashed_sources = _squash(sources)
            for quoted in _QUOTED.findall(line.text):
                if _squash(quoted) not in squashed_sources and not _is_frame(quoted, cited):
                    return "quoted text not in its evidence"
        return None

    def _verbatim(self, item: Evidence) -> bool:
        document = self.store.get(item.doc_id)
        if document is None or not item.quote:
            return False
        return item.quote in document.span_text(item.line_start, item.line_end)

    def finish(self, draft: AnswerDraft, plan: AnswerPlan) -> CitedAnswer:
        numbers: dict[tuple[str, int, int, str], int] = {}
        by_evidence: dict[int, int] = {}
        citations: list[Citation] = []
        rendered: list[str] = []
        dropped = 0
        for line in draft.lines:
            problem = self.check(line, plan.evidence)
            if problem is not None:
                dropped += 1
                log.warning("dropped an answer line (%s) of a %s answer", problem, plan.kind)
                continue
            marks = []
            for eid in dict.fromkeys(line.cites):
                if eid not in by_evidence:
                    item = plan.evidence[eid - 1]
                    key = (item.doc_id, item.line_start, item.line_end, item.quote)
                    if key not in numbers:
                        numbers[key] = len(citations) + 1
                        citations.append(self._citation(numbers[key], item))
                    by_evidence[eid] = numbers[key]
                marks.append(by_evidence[eid])
            rendered.append(line.text + "".join(f"[{n}]" for n in dict.fromkeys(marks)) + line.end)
        text = "".join(rendered).strip()
        text = re.sub(r"[。.](?=[・【])", lambda m: m.group(0) + "\n", text)
        return CitedAnswer(text=text, citations=citations, dropped=dropped)

    def _citation(self, number: int, item: Evidence) -> Citation:
        chunk = self.locator.chunk_at(item.doc_id, item.line_start)
        document = self.store.get(item.doc_id)
        at = (
            document.span_text(item.line_start, item.line_end).find(item.quote)
            if document and item.quote
            else -1
        )
        return Citation(
            id=number,
            doc_id=item.doc_id,
            title=item.title,
            section=chunk.section if chunk else "",
            page=chunk.page if chunk else None,
            line_start=item.line_start,
            line_end=item.line_end,
            quote=item.quote,
            char_start=at if at >= 0 else None,
            char_end=at + len(item.quote) if at >= 0 else None,
        )


def _squash(text: str) -> str:
    """Compared without white space and width differences (a cell broken over lines, ＤＸ / DX)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _states_fact(text: str) -> bool:
    """A line with a contact or a quote states a fact that must be cited (figures come with their row)."""
    return bool(contacts_in(text)) or "「" in text


def _is_frame(quoted: str, cited: list[Evidence]) -> bool:
    """Text in 「」 that is the template's own frame, not a quote: a goal line rephrased as a wish
    (「…したい」 from 「…体制づくり」), or a theme name — allowed when its stem stands in the evidence."""
    stem = _squash(quoted).removesuffix("をしたい")
    return any(stem in _squash(item.quote) for item in cited)
