"""Stage 2, retrieve. Hybrid retrieval: dense (Chroma, e5 ``query:``) + Sudachi BM25 + exact program look-up, fused by RRF.

Three legs see the question differently: dense finds paraphrases (「教育課程を作り直したい」 →
「教育プログラムを再構築」), BM25 finds exact words the embedding blurs (KCみやぎ, 03-5253-…), and the
exact leg finds programs by name or alias and by structured conditions (所管, 申請主体, テーマ, 予算,
新規採択). Reciprocal rank fusion merges them; a program the question names is pinned first. Every hit
keeps its per-leg ranks and scores, so the UI and the evaluation can see why it was found.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.index.embeddings import Embedder
from assistant.index.keyword import KeywordIndex
from assistant.index.store import IndexReadError, LoadedIndex
from assistant.jp_text import tokenize
from assistant.pipeline.conditions import ProgramFilter
from assistant.pipeline.hits import Hit, Mode, RetrievalResult
from assistant.records import Chunk, Program
from assistant.tuning import RETRIEVAL


@dataclass
class _Candidate:
    hit: Hit
    fused: float = 0.0


class HybridSearcher:
    """Holds the index, the model and the keyword indexes; one instance per process, thread-safe to call."""

    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        chunk_keywords: KeywordIndex,
        program_keywords: KeywordIndex | None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.chunk_keywords = chunk_keywords
        self.program_keywords = program_keywords
        self.chunks: dict[str, Chunk] = {c.chunk_id: c for c in index.chunks}
        self.programs: dict[str, Program] = {p.id: p for p in index.catalog.programs}

    # -- legs ---------------------------------------------------------------------------------
    def _dense(self, vector: list[float]) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The vector legs: the one read of the store while serving, so a failure here means the build is
        damaged (``IndexReadError``); an unreachable Chroma server stays a transport error (retry)."""
        try:
            chunks = self.index.chunk_collection.query(
                query_embeddings=[vector], n_results=RETRIEVAL.leg_depth, include=["distances"]
            )
            programs = self.index.program_collection.query(
                query_embeddings=[vector],
                n_results=min(RETRIEVAL.leg_depth, len(self.programs)) or 1,
                include=["distances"],
            )
        except httpx.TransportError:
            raise
        except Exception as exc:
            raise IndexReadError(self.index.manifest.build_id, exc) from exc
        return _similarities(chunks), _similarities(programs)

    def _bm25(self, question: str) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        tokens = tokenize(question)
        chunks = self.chunk_keywords.search_tokens(tokens, RETRIEVAL.leg_depth)
        programs = (
            self.program_keywords.search_tokens(tokens, RETRIEVAL.leg_depth) if self.program_keywords else []
        )
        return chunks, programs

    def _exact(self, program_ids: tuple[str, ...], program_filter: ProgramFilter) -> list[Program]:
        named = [self.programs[pid] for pid in program_ids if pid in self.programs]
        if not program_filter.active:
            return named
        matching = program_filter.apply(self.programs.values())
        matching.sort(key=lambda p: -(p.budget_thousand_yen or 0))
        return named + [p for p in matching if p not in named]

    # -- fusion -------------------------------------------------------------------------------
    def search(
        self,
        text: str,
        k: int = 8,
        mode: Mode = "hybrid",
        program_ids: tuple[str, ...] = (),
        program_filter: ProgramFilter | None = None,
        deliberate_filter: bool = False,
        vector: list[float] | None = None,
    ) -> RetrievalResult:
        """Fused hits for ``text``. ``program_ids``: programs the question names or refers to (pinned
        first); ``program_filter``: its conditions (the exact leg); ``deliberate_filter``: the conditions were
        set by the caller or asked for as a list, so programs meeting them rank like named ones."""
        started = time.perf_counter()
        program_filter = program_filter or ProgramFilter()
        candidates: dict[str, _Candidate] = {}
        program_weight = RETRIEVAL.open_question_program_weight
        condition_weight = 1.0 if deliberate_filter else RETRIEVAL.open_question_program_weight

        if mode in ("dense", "hybrid"):
            if vector is None:
                vector = list(self.embedder.embed_query(text))
            dense_chunks, dense_programs = self._dense(vector)
            self._add_leg(candidates, dense_chunks, "chunk", "dense")
            self._add_leg(candidates, dense_programs, "program", "dense", program_weight)
        if mode in ("bm25", "hybrid"):
            bm25_chunks, bm25_programs = self._bm25(text)
            self._add_leg(candidates, bm25_chunks, "chunk", "bm25")
            self._add_leg(candidates, bm25_programs, "program", "bm25", program_weight)
        exact = self._exact(program_ids, program_filter) if mode == "hybrid" else []
        named_ids = set(program_ids)
        self._add_leg(candidates, [(p.id, 1.0) for p in exact if p.id in named_ids], "program", "exact")
        # Programs that only meet a condition (a theme word, a ministry) are many and loosely related
        # to a prose question; they rank after the named ones and weigh like an open-question leg.
        self._add_leg(
            candidates,
            [(p.id, 1.0) for p in exact if p.id not in named_ids],
            "program",
            "exact",
            condition_weight,
            first_rank=len(named_ids) + 1,
        )
        ordered = sorted(
            candidates.values(),
            key=lambda c: (c.hit.kind == "program" and c.hit.id in named_ids, c.fused),
            reverse=True,
        )
        hits = _merge_duplicates([c.hit for c in ordered])
        return RetrievalResult(
            question=text,
            mode=mode,
            program_filter=program_filter,
            hits=hits[:k],
            programs=exact,
            seconds=time.perf_counter() - started,
            query_vector=vector,
        )

    def _add_leg(
        self,
        candidates: dict[str, _Candidate],
        ranked: Iterable[tuple[str, float]],
        kind: Literal["chunk", "program"],
        leg: Literal["dense", "bm25", "exact"],
        weight: float = 1.0,
        first_rank: int = 1,
    ) -> None:
        for rank, (item_id, score) in enumerate(ranked, start=first_rank):
            key = f"{kind}:{item_id}"
            candidate = candidates.get(key)
            if candidate is None:
                hit = self._make_hit(kind, item_id)
                if hit is None:
                    continue
                candidate = candidates[key] = _Candidate(hit)
            setattr(candidate.hit.ranks, leg, rank)
            if leg != "exact":
                setattr(candidate.hit.scores, leg, round(float(score), 4))
            candidate.fused += weight / (RETRIEVAL.rrf_k + rank)
            candidate.hit.score = round(candidate.fused, 6)

    def _make_hit(self, kind: Literal["chunk", "program"], item_id: str) -> Hit | None:
        if kind == "chunk":
            chunk = self.chunks.get(item_id)
            if chunk is None:
                return None
            return Hit(
                kind="chunk",
                id=chunk.chunk_id,
                text=chunk.text,
                doc_id=chunk.doc_id,
                line_start=chunk.line_start,
                line_end=chunk.line_end,
                page=chunk.page,
                section=chunk.section,
            )
        program = self.programs.get(item_id)
        if program is None:
            return None
        return Hit(
            kind="program",
            id=program.id,
            text=program_summary(program),
            name=program.name,
            doc_id=program.source.doc_id,
            line_start=program.source.line_start,
            line_end=program.source.line_end,
        )


def program_summary(program: Program) -> str:
    """One line that shows a program hit in search results."""
    parts = [program.name]
    if program.ministry:
        parts.append(program.ministry)
    if program.applicant_types:
        parts.append("申請主体: " + "、".join(program.applicant_types))
    if program.budget_thousand_yen is not None:
        parts.append(
            f"予算額: {program.budget_thousand_yen:,}千円"
            + (f"（{program.budget_note}）" if program.budget_note else "")
        )
    return " / ".join(parts)


def _similarities(result: dict[str, Any]) -> list[tuple[str, float]]:
    ids = result["ids"][0] if result["ids"] else []
    distances = result["distances"][0] if result.get("distances") else [0.0] * len(ids)
    return [(item_id, 1.0 - distance) for item_id, distance in zip(ids, distances, strict=True)]


_SPACE = re.compile(r"\s+")


def _merge_duplicates(hits: list[Hit]) -> list[Hit]:
    """The same program table is repeated under several themes: keep the best of identical chunks."""
    seen: dict[str, Hit] = {}
    merged: list[Hit] = []
    for hit in hits:
        key = hit.kind + ":" + (_SPACE.sub("", hit.text) if hit.kind == "chunk" else hit.id)
        first = seen.get(key)
        if first is None:
            seen[key] = hit
            merged.append(hit)
        else:
            first.merged_ids.append(hit.id)
    return merged


class HybridRetriever(BaseRetriever):
    """The hybrid search as a LangChain retriever: documents with kind, ids, spans and per-leg ranks."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: HybridSearcher
    k: int = 8
    mode: Mode = "hybrid"

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        result = self.searcher.search(query, k=self.k, mode=self.mode)
        return [Document(page_content=hit.text, metadata=hit.metadata()) for hit in result.hits]
