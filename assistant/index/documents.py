"""The documents as the index saw them, for verbatim quotes and the documents endpoint.

Ingest stores a snapshot of every document's lines in the build (``documents/<doc_id>.txt``), so a
citation's line span and quote always refer to the text that was indexed, even if ``corpus/`` has
changed since, and a Chroma server deployment needs nothing but the build folder.

Quotes are exact substrings of a document (line breaks included). PDF extraction breaks words over
lines, so text is located by comparing with white space removed, then mapped back to raw offsets.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from assistant.records import DocumentInfo

_SPACE = re.compile(r"\s")
#: Bullet marks that open a line; a quote starts after them (the chunker prints the slides' private-use
#: Wingdings glyphs as ・, so a chunk's bullet is not the document's character).
_LEADING_BULLETS = "・•◆➢✓-－○●■□◇▶►"


def _squash_char(ch: str) -> str:
    """Private-use glyphs (Wingdings bullets) compare as ・, as the chunker prints them."""
    return "・" if "\ue000" <= ch <= "\uf8ff" else ch


@dataclass(frozen=True)
class Located:
    line_start: int
    line_end: int
    quote: str  # an exact substring of the document


@dataclass
class StoredDocument:
    info: DocumentInfo
    text: str
    lines: list[str]
    line_offsets: list[int]  # raw offset of the start of each line
    squashed: str  # text without white space
    squashed_to_raw: list[int]  # offset in ``text`` of each squashed character

    @classmethod
    def from_text(cls, info: DocumentInfo, text: str) -> StoredDocument:
        lines = text.split("\n")
        offsets, position = [], 0
        for line in lines:
            offsets.append(position)
            position += len(line) + 1
        raw_positions = [i for i, ch in enumerate(text) if not _SPACE.match(ch)]
        squashed = "".join(_squash_char(text[i]) for i in raw_positions)
        return cls(info, text, lines, offsets, squashed, raw_positions)

    def line_of_offset(self, offset: int) -> int:
        """1-based line number of a raw character offset."""
        lo, hi = 0, len(self.line_offsets) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_offsets[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def span_text(self, line_start: int, line_end: int) -> str:
        return "\n".join(self.lines[line_start - 1 : line_end])

    def locate(self, snippet: str, near: tuple[int, int] | None = None) -> Located | None:
        """Find ``snippet`` (white space ignored) and return its exact raw text and lines.

        With ``near``, the occurrence closest to that line span wins (a table repeats under many themes).
        """
        target = "".join(_squash_char(ch) for ch in _SPACE.sub("", snippet)).lstrip(_LEADING_BULLETS)
        if not target:
            return None
        starts = []
        found = self.squashed.find(target)
        while found >= 0:
            starts.append(found)
            found = self.squashed.find(target, found + 1)
        if not starts:
            return None
        if near is not None:
            anchor = self.line_offsets[max(0, min(near[0], len(self.lines)) - 1)]
            starts.sort(key=lambda s: abs(self.squashed_to_raw[s] - anchor))
        start = starts[0]
        raw_start = self.squashed_to_raw[start]
        raw_end = self.squashed_to_raw[start + len(target) - 1] + 1
        return Located(
            self.line_of_offset(raw_start), self.line_of_offset(raw_end - 1), self.text[raw_start:raw_end]
        )


class DocumentStore:
    """All document snapshots of one index build."""

    def __init__(self, documents: dict[str, StoredDocument]) -> None:
        self.documents = documents

    @classmethod
    def load(cls, build_dir: Path) -> DocumentStore:
        infos = json.loads((build_dir / "documents.json").read_text(encoding="utf-8"))
        documents = {}
        for raw in infos:
            info = DocumentInfo.model_validate(raw)
            text = (build_dir / "documents" / f"{info.doc_id}.txt").read_text(encoding="utf-8")
            documents[info.doc_id] = StoredDocument.from_text(info, text)
        return cls(documents)

    @staticmethod
    def write(build_dir: Path, documents: list[tuple[DocumentInfo, list[str]]]) -> None:
        folder = build_dir / "documents"
        folder.mkdir(parents=True, exist_ok=True)
        for info, lines in documents:
            (folder / f"{info.doc_id}.txt").write_text("\n".join(lines), encoding="utf-8")
        (build_dir / "documents.json").write_text(
            json.dumps([info.model_dump() for info, _ in documents], ensure_ascii=False, indent=1),
            encoding="utf-8",
        )

    def get(self, doc_id: str) -> StoredDocument | None:
        return self.documents.get(doc_id)
