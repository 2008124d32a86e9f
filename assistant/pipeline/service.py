"""Where a question flows: conditions → follow-up resolution → hybrid retrieval → intent → composer.

``AnswerService`` loads the model, the index and everything derived from it once per process and is
then shared by all request threads (it keeps no per-request state).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from pydantic import BaseModel, Field

from assistant.config import Settings
from assistant.index.documents import DocumentStore
from assistant.index.embeddings import get_embedder
from assistant.index.keyword import KeywordIndex
from assistant.index.store import LoadedIndex, load_index
from assistant.jp_text import normalize, strip_controls, tokenize
from assistant.pipeline.cite import ChunkLocator, Citation
from assistant.pipeline.compose import AnswerDraft, ComposeInput, DeterministicComposer
from assistant.pipeline.intents import (
    Intent,
    Turn,
    asks_budget_ranking,
    asks_contacts,
    asks_list_explicitly,
    detect_intent,
    goal_of,
    is_follow_up,
    pick_referred,
    programs_from_history,
    ranking_size,
    theme_only,
)
from assistant.pipeline.query_parser import (
    ProgramMatcher,
    QueryConditions,
    filter_programs,
    load_extra_aliases,
)
from assistant.pipeline.recommend import ProgramRecommender, Recommendation
from assistant.pipeline.retrieve import HybridSearcher, Mode, RetrievalResult
from assistant.pipeline.scoring import SentenceScorer
from assistant.records import BudgetBasis, Program

ALIASES_FILE = "program_aliases.json"
#: How many programs a 「一番予算が大きい事業は？」 answer shows (the first answers it; two more for context).
RANKED_PROGRAMS = 3


class AnswerThresholds(BaseModel):
    """When the corpus is taken to support an answer (calibrated on the eval set, see evals/)."""

    min_coverage: float = 0.34  # IDF share of the question's words found in one sentence
    min_dense: float = 0.86  # cosine of the best chunk (e5 similarities of unrelated text sit near 0.75–0.8)


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
    budget_basis: BudgetBasis | None = Field(
        None,
        description="What budget_thousand_yen is, as the document states it (label, fiscal year, where).",
    )

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
    suggestions: list[str] = Field(
        default_factory=list,
        description="Questions the documents can answer, offered when the answer abstains.",
    )
    composer: str = Field("deterministic", description="Which composer wrote the answer text.")
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
        self.recommender = ProgramRecommender(catalog, self.embedder, self.scorer)

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
        ranked: list[Program] = []
        if not focus and asks_budget_ranking(question):
            intent = "list"
            ranked = self._ranked_by_budget(conditions, ranking_size(question, default=RANKED_PROGRAMS))
        # 「地方気象台と連携するにはどこに連絡すればいい？」 names no program, but one program's purpose is it.
        asks_whom = intent == "fact" and asks_contacts(question)
        # 「脱炭素先行地域の構想を支援してくれる事業はありますか」 names a theme, but a program whose purpose
        # matches it closely answers it better than every program of the theme.
        theme_question = (
            intent == "list" and theme_only(conditions) and not ranked and not asks_list_explicitly(question)
        )
        fit: list[Recommendation] = []
        if not focus and (intent in ("program_fit", "contact") or asks_whom or theme_question):
            goal = goal_of(query)
            vector = retrieval.query_vector if goal == query else None
            fit = self.recommender.recommend(goal, conditions, vector)
            if fit and (asks_whom or theme_question):
                intent = "program_fit"
        support = self._support(question, retrieval)
        grounded_by_catalog = (
            bool(focus) or (intent == "list" and (conditions.has_filters or bool(ranked))) or bool(fit)
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
                ranked_programs=ranked,
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
    def _ranked_by_budget(self, conditions: QueryConditions, size: int) -> list[Program]:
        """The programs meeting the question's conditions, largest budget first (the table's figures)."""
        unnamed = conditions.model_copy(update={"program_ids": []})
        pool = list(self.programs.values())
        if unnamed.has_filters:
            pool = filter_programs(unnamed, pool)
        budgeted = [p for p in pool if p.budget_thousand_yen is not None]
        return sorted(budgeted, key=lambda p: -(p.budget_thousand_yen or 0))[:size]

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
