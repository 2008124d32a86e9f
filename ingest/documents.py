"""Find the corpus documents and read them as numbered lines.

A document is a ``.txt``, ``.md`` or ``.pdf`` file in the corpus folder with an entry in
``manifest.json`` (doc_id = file stem). Citations point at lines of the text as read here, so the
same reader serves ingest and the documents endpoint: a PDF's lines are its extracted text, page by page.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from assistant.records import DocumentInfo

SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf")
MANIFEST_NAME = "manifest.json"


class CorpusError(ValueError):
    """The corpus folder or its manifest is inconsistent; the message says how to fix it."""


@dataclass
class SourceText:
    """A document's text as 1-based lines; ``pages[i]`` is the PDF page of line i+1 when known."""

    info: DocumentInfo
    lines: list[str]
    pages: list[int | None] = field(default_factory=list)
    sha256: str = ""


def load_manifest(corpus_dir: Path) -> list[DocumentInfo]:
    """Read ``manifest.json`` and match each entry to exactly one document file."""
    manifest_path = corpus_dir / MANIFEST_NAME
    if not manifest_path.exists():
        raise CorpusError(
            f"{manifest_path} is missing: list each document there (doc_id, title, publisher, date, kind)."
        )
    try:
        raw = json.loads(manifest_path.read_text(encoding="utf-8"))
        entries = [DocumentInfo.model_validate(item) for item in raw["documents"]]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CorpusError(f"{manifest_path} is not a valid manifest: {exc}") from exc

    files = {p.stem: p for p in sorted(corpus_dir.iterdir()) if p.suffix.lower() in SUPPORTED_SUFFIXES}
    seen: set[str] = set()
    for entry in entries:
        if entry.doc_id in seen:
            raise CorpusError(f"{manifest_path}: doc_id {entry.doc_id!r} is listed twice.")
        seen.add(entry.doc_id)
        path = files.get(entry.doc_id)
        if path is None:
            raise CorpusError(
                f"{manifest_path}: no file {entry.doc_id}.txt/.md/.pdf in {corpus_dir} for doc_id {entry.doc_id!r}."
            )
        entry.path = path.name
    unlisted = sorted(set(files) - seen)
    if unlisted:
        raise CorpusError(
            f"{corpus_dir}: files without a manifest entry: {', '.join(unlisted)}. Add them to {MANIFEST_NAME}."
        )
    return entries


def read_document(corpus_dir: Path, info: DocumentInfo) -> SourceText:
    """Read one document into lines (PDF text via pypdf, page by page)."""
    path = corpus_dir / info.path
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() == ".pdf":
        lines, pages = _pdf_lines(path)
        return SourceText(info=info, lines=lines, pages=pages, sha256=digest)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path} is not UTF-8 text: {exc}") from exc
    return SourceText(info=info, lines=text.splitlines(), sha256=digest)


def _pdf_lines(path: Path) -> tuple[list[str], list[int | None]]:
    from pypdf import PdfReader  # imported lazily: only PDF documents need it

    lines: list[str] = []
    pages: list[int | None] = []
    for page_no, page in enumerate(PdfReader(path).pages, start=1):
        page_lines = (page.extract_text() or "").splitlines()
        lines.extend(page_lines)
        pages.extend([page_no] * len(page_lines))
    return lines, pages


def load_corpus(corpus_dir: Path) -> list[SourceText]:
    """All documents of the manifest, read."""
    return [read_document(corpus_dir, info) for info in load_manifest(corpus_dir)]


def corpus_fingerprint(sources: list[SourceText]) -> str:
    """A hash of every document's bytes and manifest entry: unchanged corpus → unchanged fingerprint."""
    h = hashlib.sha256()
    for src in sorted(sources, key=lambda s: s.info.doc_id):
        h.update(src.info.model_dump_json().encode())
        h.update(src.sha256.encode())
    return h.hexdigest()
