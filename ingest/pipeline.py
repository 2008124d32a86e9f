"""Ingest: corpus → chunks + program catalog → embeddings → a new index build, swapped in atomically.

Idempotent: when the corpus, the chunking settings and the embedding model are unchanged, the current
build is kept (``--rebuild`` forces a fresh one). Atomic: everything is written into a new build
folder and CURRENT moves only after the build's manifest is written.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
from tqdm import tqdm

from assistant.config import Settings
from assistant.index.documents import DocumentStore
from assistant.index.embeddings import Embedder, get_embedder
from assistant.index.integrity import check_build, read_current
from assistant.index.keyword import KeywordIndex
from assistant.index.store import (
    INDEX_FORMAT,
    NETWORKS_FILE,
    ChromaE5Function,
    ChromaUnavailableError,
    IndexCorruptError,
    IndexManifest,
    IndexStateError,
    builds_dir,
    check_chroma_server,
    chroma_client,
    chroma_location,
    collection_names,
    collections_complete,
    new_build_id,
    prune_builds,
    read_manifest,
    set_current_build,
    write_jsonl,
)
from assistant.records import Catalog, Chunk, Program
from ingest.catalog import CATALOG_FORMAT, extract_catalog
from ingest.chunker import chunk_document
from ingest.documents import SourceText, corpus_fingerprint, load_corpus
from ingest.networks import NETWORKS_FORMAT, build_catalog


@dataclass
class IngestReport:
    build_id: str
    up_to_date: bool
    documents: int
    chunks: int
    programs: int
    use_cases: int
    budget_lines: int
    seconds: float
    index_bytes: int
    build_dir: Path

    @classmethod
    def of(cls, manifest: IndexManifest, build_dir: Path, up_to_date: bool, seconds: float) -> IngestReport:
        return cls(
            build_id=manifest.build_id,
            up_to_date=up_to_date,
            documents=manifest.documents,
            chunks=manifest.chunks,
            programs=manifest.programs,
            use_cases=manifest.use_cases,
            budget_lines=manifest.budget_lines,
            seconds=seconds,
            index_bytes=_folder_bytes(build_dir),
            build_dir=build_dir,
        )


def settings_fingerprint(settings: Settings, model_id: str) -> str:
    """What, besides the corpus, changes the index: format, chunking, prompts, model."""
    parts = [
        str(INDEX_FORMAT),
        str(settings.chunk_min_chars),
        str(settings.chunk_max_chars),
        str(settings.chunk_overlap_chars),
        settings.passage_prompt,
        model_id,
        # The catalog overrides change extracted records, so they are part of what the index was built from.
        settings.overrides_path.read_text(encoding="utf-8") if settings.overrides_path.exists() else "",
        f"networks:{NETWORKS_FORMAT}",  # a build made before (or by an older) network extraction is redone
        f"catalog:{CATALOG_FORMAT}",  # likewise for the program catalog (fields added, e.g. budget basis)
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def chunk_corpus(sources: list[SourceText], settings: Settings) -> list[Chunk]:
    chunks: list[Chunk] = []
    for source in sources:
        chunks.extend(
            chunk_document(
                source, settings.chunk_min_chars, settings.chunk_max_chars, settings.chunk_overlap_chars
            )
        )
    return chunks


def chunk_keyword_text(chunk: Chunk) -> str:
    """For BM25 the section title helps a passage that only says 「本事業は…」 be found by its topic words.

    The dense leg embeds the chunk text alone: measured on the paraphrase queries, prefixing the heading
    path dilutes short passages (the 【人材育成】 ⇒ line fell from rank 2 to rank 20)."""
    return f"{chunk.section}\n{chunk.text}" if chunk.heading_path else chunk.text


def program_text(program: Program) -> str:
    """The searchable text of a program record (name, aliases, description, who runs it, themes)."""
    lines = [program.name + (f"（{'・'.join(program.aliases)}）" if program.aliases else "")]
    if program.description:
        lines.append(program.description)
    lines.append(f"所管: {program.ministry or ''} {program.department or ''}".strip())
    if program.applicant_types:
        lines.append("申請主体: " + "、".join(program.applicant_types))
    if program.themes:
        lines.append("テーマ: " + "、".join(program.themes))
    return "\n".join(lines)


def program_metadata(program: Program) -> dict[str, str | int | float | bool]:
    """Program fields flattened for Chroma's metadata filters (lists as |a|b| for $contains)."""
    meta: dict[str, str | int | float | bool] = {
        "program_id": program.id,
        "name": program.name,
        "doc_id": program.source.doc_id,
        "line_start": program.source.line_start,
        "line_end": program.source.line_end,
        "applicant_types": _joined(program.applicant_types),
        "themes": _joined(program.themes),
        "aliases": _joined(program.aliases),
        "tel": _joined(program.tel),
        "email": _joined(program.email),
    }
    optional = {
        "ministry": program.ministry,
        "department": program.department,
        "budget_thousand_yen": program.budget_thousand_yen,
        "budget_note": program.budget_note,
        "new_calls": program.new_calls,
    }
    meta.update({key: value for key, value in optional.items() if value is not None})
    return meta


def _joined(values: list[str]) -> str:
    return "|" + "|".join(values) + "|" if values else ""


def chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    meta: dict[str, str | int] = {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "section": chunk.section,
        "line_start": chunk.line_start,
        "line_end": chunk.line_end,
    }
    if chunk.page is not None:
        meta["page"] = chunk.page
    return meta


EMBED_STEP = 64  # texts per embedder call: the progress bar's step; the embedder batches within it


def embed_passages(embedder: Embedder, texts: list[str], label: str, show_progress: bool) -> np.ndarray:
    """Passage vectors in ``texts``' order, embedded in steps of texts sorted by length.

    Each step holds texts of similar length and the embedder cuts its own batches from it: the ONNX runtime
    sorts a step by token count, which groups Japanese and Latin text better than characters do (padding
    is work thrown away; measured with export v2, the corpus's chunks took 8.5 s so and 10.7 s in batches
    of 4 cut by characters)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for start in tqdm(
        range(0, len(texts), EMBED_STEP), desc=f"embedding {label}", unit="step", disable=not show_progress
    ):
        rows = order[start : start + EMBED_STEP]
        vectors[rows] = embedder.embed_documents_array([texts[i] for i in rows])
    return vectors


def _write_collections(
    settings: Settings,
    build_dir: Path,
    build_id: str,
    embedder: Embedder,
    chunks: list[Chunk],
    catalog: Catalog,
    show_progress: bool,
) -> tuple[str, str]:
    client = chroma_client(settings, build_dir)
    function = ChromaE5Function(embedder)
    chunk_name, program_name = collection_names(build_id)
    chunk_collection = client.create_collection(
        chunk_name, embedding_function=function, metadata={"hnsw:space": "cosine"}
    )
    program_collection = client.create_collection(
        program_name, embedding_function=function, metadata={"hnsw:space": "cosine"}
    )

    vectors = embed_passages(embedder, [c.text for c in chunks], "chunks", show_progress)
    for start in range(0, len(chunks), 500):
        part = chunks[start : start + 500]
        chunk_collection.add(
            ids=[c.chunk_id for c in part],
            documents=[c.text for c in part],
            metadatas=[chunk_metadata(c) for c in part],
            embeddings=vectors[start : start + 500],
        )
    if catalog.programs:
        texts = [program_text(p) for p in catalog.programs]
        program_collection.add(
            ids=[p.id for p in catalog.programs],
            documents=texts,
            metadatas=[program_metadata(p) for p in catalog.programs],
            embeddings=embed_passages(embedder, texts, "programs", show_progress),
        )
    return chunk_name, program_name


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_ingest(
    settings: Settings,
    rebuild: bool = False,
    show_progress: bool = True,
    log: Callable[[str], None] = print,
) -> IngestReport:
    """Build the index (or keep the current one when nothing changed) and return what was built.

    One ingest at a time per data directory (a lock file), so pruning never removes a build that
    another ingest is still writing.
    """
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.index_dir / "ingest.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexStateError(
                f"Another ingest is running on {settings.index_dir}; wait for it to finish."
            ) from exc
        return _run_ingest_locked(settings, rebuild, show_progress, log)


def _usable_current(settings: Settings, log: Callable[[str], None]) -> str | None:
    """The current build when it is whole; a damaged CURRENT or build is reported and rebuilt (so
    ``ingest`` — with or without ``--rebuild`` — repairs it) rather than crashing the ingest."""
    try:
        current = read_current(settings)
        if current is not None:
            check_build(settings, current)
        return current
    except IndexCorruptError as exc:
        log(f"{exc} Building a new index now.")
        return None


def _run_ingest_locked(
    settings: Settings, rebuild: bool, show_progress: bool, log: Callable[[str], None]
) -> IngestReport:
    started = time.perf_counter()
    sources = load_corpus(settings.corpus_dir)
    fingerprint = corpus_fingerprint(sources)
    check_chroma_server(settings)  # before minutes of embedding, not after
    # A build is a batch job: ONNX Runtime may use every core (a server's embedder keeps to
    # embedding_threads, as its requests already run side by side).
    embedder = get_embedder(settings.model_copy(update={"embedding_threads": 0}))
    settings_fp = settings_fingerprint(settings, embedder.model_id)

    current = _usable_current(settings, log)
    if current and not rebuild:
        current_dir = builds_dir(settings) / current
        manifest = read_manifest(current_dir)
        if (
            manifest.corpus_fingerprint == fingerprint
            and manifest.settings_fingerprint == settings_fp
            and manifest.embedding_model == embedder.model_id
        ):
            if collections_complete(settings, current_dir, manifest, embedder):
                prune_builds(settings)  # leftovers of a crashed ingest go even when nothing changed
                return IngestReport.of(manifest, current_dir, True, time.perf_counter() - started)
            log(f"Index {current} has no complete collections in {chroma_location(settings, current_dir)}")

    build_id = new_build_id()
    build_dir = builds_dir(settings) / build_id
    build_dir.mkdir(parents=True)
    log(f"Building index {build_id} in {build_dir}")

    chunks = chunk_corpus(sources, settings)
    catalog = extract_catalog(settings.corpus_dir, settings.overrides_path)
    write_jsonl(build_dir / "chunks.jsonl", chunks)
    DocumentStore.write(build_dir, [(src.info, src.lines) for src in sources])
    (build_dir / "catalog.json").write_text(catalog.model_dump_json(indent=1), encoding="utf-8")
    networks = build_catalog([(src.info.doc_id, src.lines) for src in sources])
    (build_dir / NETWORKS_FILE).write_text(networks.model_dump_json(indent=1), encoding="utf-8")
    KeywordIndex.build([c.chunk_id for c in chunks], [chunk_keyword_text(c) for c in chunks]).save(
        build_dir / "keyword"
    )
    KeywordIndex.build([p.id for p in catalog.programs], [program_text(p) for p in catalog.programs]).save(
        build_dir / "keyword_programs"
    )
    try:
        chunk_collection, program_collection = _write_collections(
            settings, build_dir, build_id, embedder, chunks, catalog, show_progress
        )
    except httpx.TransportError as exc:  # the Chroma server went away mid-build; the old index stays
        raise ChromaUnavailableError(
            f"Lost the connection to {chroma_location(settings, build_dir)} while writing index "
            f"{build_id} ({type(exc).__name__}: {exc}); the previous index stays in use. Run ingest again."
        ) from exc

    seconds = time.perf_counter() - started
    manifest = IndexManifest(
        build_id=build_id,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        embedding_model=embedder.model_id,
        embedding_dimension=embedder.dimension,
        corpus_fingerprint=fingerprint,
        settings_fingerprint=settings_fp,
        documents=len(sources),
        chunks=len(chunks),
        programs=len(catalog.programs),
        use_cases=len(catalog.use_cases),
        budget_lines=len(catalog.budget_lines),
        networks=len(networks.networks),
        seconds=round(seconds, 2),
        chunk_collection=chunk_collection,
        program_collection=program_collection,
    )
    # The manifest is written last: a build folder without one is unfinished and never used.
    (build_dir / "manifest.json").write_text(manifest.model_dump_json(indent=1), encoding="utf-8")
    set_current_build(settings, build_id)
    prune_builds(settings)
    return IngestReport.of(manifest, build_dir, False, seconds)
