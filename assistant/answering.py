"""Where a question flows: conditions → follow-up resolution → hybrid retrieval → intent → composer.

``AnswerService`` loads the model, the index and everything derived from it once per process and is
then shared by all request threads (it keeps no per-request state).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from assistant.citations import ChunkLocator, Citation
from assistant.composer import AnswerDraft, ComposeInput, DeterministicComposer, SentenceScorer
from assistant.config import Settings
from assistant.embeddings import get_embedder
from assistant.index_store import LoadedIndex, load_index
from assistant.intents import Intent, Turn, detect_intent, is_follow_up, pick_referred, programs_from_history
from assistant.jp_text import normalize, strip_controls, tokenize
from assistant.keyword_index import KeywordIndex
from assistant.query_parser import ProgramMatcher, QueryConditions, load_extra_aliases
from assistant.records import Program, UseCase
from assistant.retrieval import HybridSearcher, Mode, RetrievalResult
from assistant.sources import DocumentStore

ALIASES_FILE = "program_aliases.json"


class AnswerThresholds(BaseModel):
    """When the corpus is taken to support an answer (calibrated on the eval set, see evals/)."""

    min_coverage: float = 0.34  # IDF share of the question's words found in one sentence
    min_dense: float = 0.86  # cosine of the best chunk (e5 similarities of unrelated text sit near 0.75–0.8)
    use_case_similarity: float = 0.90  # a goal ⇒ program line counts as matching the question…
    use_case_margin: float = 0.01  # …when it is this much closer than the next goal line
    use_case_weight: float = 1.5  # its vote, in RRF units of a first-ranked hit
    fit_relative_score: float = 0.8  # further programs must score at least this share of the best one


_ERA_YEAR = re.compile(r"(令和|平成)\s*(元|\d{1,2})\s*年")
_WESTERN_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
_ERA_START = {"令和": 2018, "平成": 1988}


def mentioned_years(text: str) -> set[int]:
    """Western years of the 令和/平成 and 19xx/20xx 年 mentions in a text (令和2年 = 2020)."""
    text = normalize(text)
    years = {int(m.group(1)) for m in _WESTERN_YEAR.finditer(text)}
    for era, number in _ERA_YEAR.findall(text):
        years.add(_ERA_START[era] + (1 if number == "元" else int(number)))
    return years


class ProgramCard(BaseModel):
    id: str
    name: str
    ministry: str | None
    department: str | None
    applicant_types: list[str]
    budget_thousand_yen: int | None
    budget_note: str | None
    new_calls: bool | None
    tel: list[str]
    email: list[str]
    themes: list[str]

    @classmethod
    def of(cls, program: Program) -> ProgramCard:
        return cls.model_validate(program.model_dump(include=set(cls.model_fields)))


class Timings(BaseModel):
    retrieve: float
    compose: float
    total: float


class AnswerResponse(BaseModel):
    answer: str
    abstained: bool
    intent: Intent
    citations: list[Citation]
    programs: list[ProgramCard]
    timings_ms: Timings


@dataclass
class Support:
    coverage: float
    dense: float


class AnswerService:
    def __init__(self, settings: Settings, thresholds: AnswerThresholds | None = None) -> None:
        self.settings = settings
        self.thresholds = thresholds or AnswerThresholds()
        self.embedder = get_embedder(settings)
        self.index: LoadedIndex = load_index(settings, self.embedder)
        build = self.index.build_dir
        catalog = self.index.catalog
        self.programs: dict[str, Program] = {p.id: p for p in catalog.programs}
        self.matcher = ProgramMatcher.from_programs(
            catalog.programs, load_extra_aliases(settings.corpus_dir / ALIASES_FILE)
        )
        program_keywords = (
            KeywordIndex.load(build / "keyword_programs") if (build / "keyword_programs").exists() else None
        )
        self.searcher = HybridSearcher(
            self.index, self.embedder, KeywordIndex.load(build / "keyword"), program_keywords, self.matcher
        )
        self.store = DocumentStore.load(build)
        self.locator = ChunkLocator.from_chunks(self.index.chunks)
        self.scorer = SentenceScorer.from_texts([c.text for c in self.index.chunks])
        self.composer = DeterministicComposer(self.store, self.locator, catalog, self.scorer)
        self.chain = self.composer.as_runnable()
        self.corpus_years = {y for doc in self.store.documents.values() for y in mentioned_years(doc.text)}
        self.use_cases: list[UseCase] = [u for u in catalog.use_cases if u.program_id in self.programs]
        self.use_case_vectors = (
            self.embedder.embed_documents_array([u.goal for u in self.use_cases])
            if self.use_cases
            else np.zeros((0, 1))
        )

    # -- the flow ---------------------------------------------------------------------------------
    def answer(
        self,
        question: str,
        history: list[Turn] | None = None,
        filters: dict[str, str | None] | None = None,
        mode: Mode = "hybrid",
    ) -> AnswerResponse:
        return self.answer_with_retrieval(question, history, filters, mode)[0]

    def answer_with_retrieval(
        self,
        question: str,
        history: list[Turn] | None = None,
        filters: dict[str, str | None] | None = None,
        mode: Mode = "hybrid",
    ) -> tuple[AnswerResponse, RetrievalResult]:
        """The answer plus the retrieval it was composed from (the evaluation scores both)."""
        started = time.perf_counter()
        question = strip_controls(question)  # the UI and the CLI call here without the API's validation
        history = history or []
        conditions = self.searcher.conditions(question, filters)
        query = question
        if history and is_follow_up(question, conditions):
            referred = pick_referred(question, programs_from_history(history, self.matcher))
            if referred:
                conditions = conditions.model_copy(update={"program_ids": referred})
                query = f"{self.programs[referred[0]].name} {question}"
        retrieval = self.searcher.search(query, k=8, mode=mode, conditions=conditions)
        retrieved = time.perf_counter()

        intent = detect_intent(question, conditions)
        focus = [self.programs[pid] for pid in conditions.program_ids if pid in self.programs]
        fit = (
            self._fit_candidates(retrieval, conditions)
            if intent in ("program_fit", "contact") and not focus
            else []
        )
        support = self._support(question, retrieval)
        grounded_by_catalog = (
            bool(focus) or (intent == "list" and conditions.has_filters) or bool(fit and fit[0][1])
        )
        abstain = (not grounded_by_catalog and not self._supported(support)) or self._asks_outside_period(
            question
        )

        draft: AnswerDraft = self.chain.invoke(
            ComposeInput(
                question=question,
                intent=intent,
                retrieval=retrieval,
                focus_programs=focus,
                fit_candidates=fit,
                abstain=abstain,
            )
        )
        done = time.perf_counter()
        response = AnswerResponse(
            answer=draft.answer,
            abstained=draft.abstained,
            intent=draft.intent,
            citations=draft.citations,
            programs=[ProgramCard.of(p) for p in draft.programs],
            timings_ms=Timings(
                retrieve=round((retrieved - started) * 1000, 1),
                compose=round((done - retrieved) * 1000, 1),
                total=round((done - started) * 1000, 1),
            ),
        )
        return response, retrieval

    def search(self, question: str, k: int = 8, mode: Mode = "hybrid") -> RetrievalResult:
        return self.searcher.search(strip_controls(question), k=k, mode=mode)

    # -- decisions --------------------------------------------------------------------------------
    def _support(self, question: str, retrieval: RetrievalResult) -> Support:
        tokens = set(tokenize(question))
        if all(len(t) == 1 and t.isascii() for t in tokens):
            tokens = set()  # lone letters or digits (「x」, 「A」, 「0」) would match any line holding them
        coverage = 0.0
        for hit in retrieval.chunk_hits[:5]:
            for sentence in hit.text.replace("\n", "。").split("。"):
                coverage = max(coverage, self.scorer.coverage(tokens, sentence))
        dense = max((h.scores.dense or 0.0 for h in retrieval.chunk_hits), default=0.0)
        return Support(coverage=coverage, dense=dense)

    def _asks_outside_period(self, question: str) -> bool:
        """A year the documents never mention (「令和6年度の採択拠点」): they cannot speak for that time,
        even about a program they do describe."""
        return any(year not in self.corpus_years for year in mentioned_years(question))

    def _supported(self, support: Support) -> bool:
        return support.coverage >= self.thresholds.min_coverage or support.dense >= self.thresholds.min_dense

    def _fit_candidates(
        self, retrieval: RetrievalResult, conditions: QueryConditions
    ) -> list[tuple[Program, UseCase | None]]:
        """Programs for a goal, fused like the retrieval legs: the package's own goal ⇒ program line
        (when one goal stands out), the program hits, and programs named in the top passages.

        Exact conditions in a goal question (a ministry, an applicant type) narrow the candidates when any
        program meets them. Only close runners-up are added: every extra program is one more place a reader may be misled.
        """
        t = self.thresholds
        scores: dict[str, float] = {}
        matched_use_case: dict[str, UseCase] = {}
        if retrieval.query_vector is not None and len(self.use_cases) > 1:
            sims = self.use_case_vectors @ np.asarray(retrieval.query_vector, dtype=np.float32)
            first, second = np.argsort(-sims)[:2]
            if sims[first] >= t.use_case_similarity and sims[first] - sims[second] >= t.use_case_margin:
                use_case = self.use_cases[first]
                pid = use_case.program_id or ""
                scores[pid] = t.use_case_weight / 61
                matched_use_case[pid] = use_case
        for rank, hit in enumerate(retrieval.program_hits, start=1):
            scores[hit.id] = scores.get(hit.id, 0.0) + 1.0 / (60 + rank)
        for rank, hit in enumerate(retrieval.chunk_hits[:5], start=1):
            for pid in self.matcher.find(hit.text)[:2]:
                scores[pid] = scores.get(pid, 0.0) + 0.5 / (60 + rank)
        ranked = sorted((pid for pid in scores if pid in self.programs), key=lambda pid: -scores[pid])
        # A theme word in a goal (「ベンチャー」, 「農業」) is context, too fuzzy to exclude programs by;
        # ministry, applicant, budget and new-call conditions are exact.
        hard = conditions.model_copy(update={"theme": None})
        if hard.has_filters:
            meeting = [pid for pid in ranked if hard.matches(self.programs[pid])]
            ranked = meeting or ranked
        if not ranked:
            return []
        best_score = scores[ranked[0]]
        chosen = [pid for pid in ranked[:3] if scores[pid] >= t.fit_relative_score * best_score]
        return [(self.programs[pid], matched_use_case.get(pid)) for pid in chosen]
