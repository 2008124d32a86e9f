"""Where a question flows: read → retrieve → plan → compose → cite and verify.

``AnswerService`` loads the model, the index and everything derived from it once per process and is
then shared by all request threads (it keeps no per-request state). Each stage is a module of its own
(:mod:`read`, :mod:`retrieve`, :mod:`plan`, :mod:`compose`, :mod:`cite`) with one job.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from pydantic import BaseModel, Field

from assistant.config import Settings
from assistant.index.documents import DocumentStore
from assistant.index.embeddings import Embedder, get_embedder
from assistant.index.keyword import KeywordIndex
from assistant.index.store import LoadedIndex, load_index
from assistant.pipeline.check import AnswerChecker
from assistant.pipeline.cite import ChunkLocator, Citation, Citer
from assistant.pipeline.compose import COMPOSERS, AnswerDraft, Composer, Line
from assistant.pipeline.compose import deterministic as _deterministic  # noqa: F401 - registers the default
from assistant.pipeline.compose import generative as _generative  # noqa: F401 - registers openai, local
from assistant.pipeline.compose.verify import Verification
from assistant.pipeline.matching import ProgramMatcher, load_extra_aliases
from assistant.pipeline.names import NameIndex, entity_names
from assistant.pipeline.networks import graph_for_build
from assistant.pipeline.plan import AnswerPlan, PlanKind, Planner
from assistant.pipeline.quotes import QuotePicker
from assistant.pipeline.read import Question, QuestionReader, Turn, mentioned_years
from assistant.pipeline.recommend import ProgramRecommender, target_name
from assistant.pipeline.retrieve import HybridSearcher, Mode, RetrievalResult
from assistant.pipeline.scoring import SentenceScorer
from assistant.records import BudgetBasis, Program

ALIASES_FILE = "program_aliases.json"

__all__ = ["AnswerResponse", "AnswerService", "PlanView", "ProgramCard", "Turn"]


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


class PlanView(BaseModel):
    """Why the answer has its shape: the plan's kind, what it rests on and the conditions it applied."""

    kind: PlanKind = Field(
        description="What kind of answer: abstain, clarify, fit, list, ranking, compare, yes_no, attribute, "
        "contact, prose, network, not_stated or not_found."
    )
    programs: list[str] = Field(description="Program ids the answer rests on, the leading one first.")
    conditions: list[dict[str, object]] = Field(
        description="Conditions read from the question or set by the caller: field, op, value, "
        "role (asked = applied, background = about the asker and not applied, filter = set by the caller)."
    )
    asked: list[str] = Field(
        description="Attributes the question asks about (budget, contact, applicants …)."
    )
    verdict: str | None = Field(None, description="yes / no of a yes/no question or a 'same?' comparison.")
    winner: str | None = Field(None, description="Program id that wins a comparison or ranking.")
    missing: list[str] = Field(default_factory=list, description="What the documents do not state.")
    reasons: list[str] = Field(description="Why this kind of answer, in words.")
    unapplied: list[str] = Field(
        default_factory=list,
        description="Words of the question shaped like conditions that could not be applied (the answer names "
        "them): 「10件以上」, 「東北地方の大学向け」.",
    )
    unknown: list[str] = Field(
        default_factory=list,
        description="Names the question asks about that the documents do not contain (a look-alike program "
        "name, a region no table covers, a round never mentioned); the answer is then not_found.",
    )
    vetoed: list[str] = Field(
        default_factory=list,
        description="Why a verdict or winner was withdrawn by the check stage (it was not about what was asked).",
    )
    degraded_from: PlanKind | None = Field(
        None, description="The kind the planner chose before the check stage made the answer safer."
    )


class Timings(BaseModel):
    retrieve: float
    compose: float
    total: float


class AnswerResponse(BaseModel):
    answer: str
    abstained: bool
    intent: PlanKind = Field(description="The plan's kind (the same as plan.kind).")
    plan: PlanView
    citations: list[Citation]
    programs: list[ProgramCard]
    suggestions: list[str] = Field(
        default_factory=list,
        description="Questions the documents can answer, offered when the answer abstains or asks back.",
    )
    composer: str = Field("deterministic", description="Which composer wrote the answer text.")
    verification: Verification | None = Field(
        None, description="How a generative answer was checked (null for the deterministic composer)."
    )
    timings_ms: Timings


class AnswerService:
    def __init__(self, settings: Settings, composer: str | None = None) -> None:
        self.settings = settings
        self.embedder: Embedder = get_embedder(settings)
        self.index: LoadedIndex = load_index(settings, self.embedder)
        build = self.index.build_dir
        catalog = self.index.catalog
        self.programs: dict[str, Program] = {p.id: p for p in catalog.programs}
        self.matcher = ProgramMatcher.from_programs(
            catalog.programs, load_extra_aliases(settings.corpus_dir / ALIASES_FILE)
        )
        self.networks = graph_for_build(build)
        self.store = DocumentStore.load(build)
        self.names = NameIndex(
            (doc.text for doc in self.store.documents.values()), entity_names(catalog, self.networks)
        )
        measures = [b.program_name for b in catalog.budget_lines if b.program_id is None]
        measures += [target_name(u) for u in catalog.use_cases if u.program_id is None]
        self.reader = QuestionReader(catalog.programs, self.matcher, self.networks, self.names, measures)
        program_keywords = (
            KeywordIndex.load(build / "keyword_programs") if (build / "keyword_programs").exists() else None
        )
        self.searcher = HybridSearcher(
            self.index, self.embedder, KeywordIndex.load(build / "keyword"), program_keywords
        )
        self.locator = ChunkLocator.from_chunks(self.index.chunks)
        self.scorer = SentenceScorer.from_texts([c.text for c in self.index.chunks])
        self.quotes = QuotePicker(self.store, catalog, self.scorer, self.index.chunks)
        self.recommender = ProgramRecommender(catalog, self.embedder, self.scorer)
        corpus_years = {y for doc in self.store.documents.values() for y in mentioned_years(doc.text)}
        self.planner = Planner(
            catalog, self.store, self.quotes, self.scorer, self.recommender, corpus_years, self.networks
        )
        self.composer: Composer = COMPOSERS.create(composer or settings.composer, self)
        self.checker = AnswerChecker()
        self.citer = Citer(self.store, self.locator)

    # -- the flow ---------------------------------------------------------------------------------
    def read(
        self, question: str, history: list[Turn] | None = None, filters: dict[str, str | None] | None = None
    ) -> Question:
        return self.reader.read(question, history or [], filters)

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
        plan, retrieval, _ = self.plan_with_retrieval(question, history, filters, mode)
        retrieved = time.perf_counter()
        response = self.respond(plan)
        done = time.perf_counter()
        response.timings_ms = Timings(
            retrieve=round((retrieved - started) * 1000, 1),
            compose=round((done - retrieved) * 1000, 1),
            total=round((done - started) * 1000, 1),
        )
        return response, retrieval

    def retrieve(self, q: Question, mode: Mode = "hybrid", k: int = 8) -> RetrievalResult:
        """Search for the question (and the names of the programs it refers back to)."""
        text = q.matching_text
        if not q.named_ids and q.program_ids:
            names = " ".join(self.programs[pid].name for pid in q.program_ids if pid in self.programs)
            text = f"{names} {q.text}"
        elif q.topic:
            text = f"{q.topic} {text}"
        program_filter = q.filter
        deliberate = program_filter.explicit or q.has("list") or q.has("ranking")
        return self.searcher.search(
            text,
            k=k,
            mode=mode,
            program_ids=q.program_ids,
            program_filter=program_filter,
            deliberate_filter=deliberate,
        )

    def respond(self, plan: AnswerPlan) -> AnswerResponse:
        """Compose the plan's answer, cite and verify it."""
        return self._response(plan, self.composer.compose(plan))

    def plan_question(
        self,
        question: str,
        history: list[Turn] | None = None,
        filters: dict[str, str | None] | None = None,
    ) -> tuple[AnswerPlan, float]:
        """Read, retrieve, plan and check (what may fail on bad input happens here, before any streaming);
        returns the plan and the milliseconds reading and retrieval took."""
        plan, _, retrieved_ms = self.plan_with_retrieval(question, history, filters)
        return plan, retrieved_ms

    def plan_with_retrieval(
        self,
        question: str,
        history: list[Turn] | None = None,
        filters: dict[str, str | None] | None = None,
        mode: Mode = "hybrid",
    ) -> tuple[AnswerPlan, RetrievalResult, float]:
        """The one path from a question to its checked plan: read → retrieve → plan → check."""
        started = time.perf_counter()
        q = self.read(question, history, filters)
        retrieval = self.retrieve(q, mode)
        retrieved_ms = (time.perf_counter() - started) * 1000
        return self.checker.check(self.planner.plan(q, retrieval)), retrieval, retrieved_ms

    def stream(self, plan: AnswerPlan, retrieved_ms: float = 0.0) -> Iterator[tuple[str, object]]:
        """``("delta", text)`` events as the answer may be shown, then ``("final", AnswerResponse)``.

        A generative composer yields verified lines while it writes; each is cited like the whole answer
        will be, so the deltas add up to the final answer text. A deterministic answer (also a fallback)
        comes as one delta per sentence."""
        started = time.perf_counter()
        stream = getattr(self.composer, "stream", None)
        items = stream(plan) if stream is not None else iter([self.composer.compose(plan)])
        lines: list[Line] = []
        shown = ""
        draft: AnswerDraft | None = None
        for item in items:
            if isinstance(item, Line):
                lines.append(item)
                text = self.citer.finish(AnswerDraft(lines, [], ""), plan).text
                if text.startswith(shown) and len(text) > len(shown):
                    yield "delta", text[len(shown) :]
                    shown = text
            else:
                draft = item
        assert draft is not None
        response = self._response(plan, draft)
        rest = response.answer[len(shown) :] if response.answer.startswith(shown) else ""
        for piece in _sentences(rest):
            yield "delta", piece
        composed_ms = (time.perf_counter() - started) * 1000
        response.timings_ms = Timings(
            retrieve=round(retrieved_ms, 1),
            compose=round(composed_ms, 1),
            total=round(retrieved_ms + composed_ms, 1),
        )
        yield "final", response

    def _response(self, plan: AnswerPlan, draft: AnswerDraft) -> AnswerResponse:
        cited = self.citer.finish(draft, plan)
        return AnswerResponse(
            answer=cited.text,
            abstained=plan.abstained,
            intent=plan.kind,
            plan=PlanView.model_validate(plan.view()),
            citations=cited.citations,
            programs=[ProgramCard.of(p) for p in draft.programs],
            suggestions=plan.suggestions,
            composer=draft.composer,
            verification=getattr(draft, "verification", None),
            timings_ms=Timings(retrieve=0, compose=0, total=0),
        )

    def search(self, question: str, k: int = 8, mode: Mode = "hybrid") -> RetrievalResult:
        return self.retrieve(self.read(question), mode, k)


def _sentences(text: str) -> Iterator[str]:
    """Text in sentence-sized pieces (after 。 and line breaks), for streaming an answer already complete."""
    piece = ""
    for ch in text:
        piece += ch
        if ch in "。\n":
            yield piece
            piece = ""
    if piece:
        yield piece
