"""Stage 3, plan: what kind of answer a question gets, and what it rests on.

``Planner.plan(question, retrieval) -> AnswerPlan``. The kind is decided in one place, by rules over the
:class:`~assistant.pipeline.read.Question` (each rule states the general pattern it serves, in order):

1. a reference that cannot be resolved (「その事業」 with nothing before it, or several candidates) → clarify;
2. about programs the question names or refers to: a comparison, a ranking among them, a yes/no about
   one of their attributes, a look-alike the documents never state (締切, 担当者名, a later round, a year
   they do not cover) → not_stated, their contact → contact, their table attributes → attribute, anything
   else → prose quoted from the documents about them (their card when the prose is silent);
3. about no particular program: a superlative → ranking, a goal → fit (goal → program), conditions or a
   list request → list (every condition, AND), otherwise prose — and abstain when nothing supports it.

The plan carries the evidence (located verbatim) its answer may cite, the conditions it applied, the
verdict of a yes/no or comparison, and human-readable ``reasons``. Composers only render a plan.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, Protocol

from assistant.index.documents import DocumentStore
from assistant.jp_text import tokenize
from assistant.pipeline import cues
from assistant.pipeline.amounts import amounts
from assistant.pipeline.conditions import Condition, ProgramFilter, describe
from assistant.pipeline.evidence import Evidence, EvidenceBuilder
from assistant.pipeline.hits import Hit, RetrievalResult
from assistant.pipeline.names import UnknownName
from assistant.pipeline.networks import NetworkAnswer, NetworkGraph, answer_network_query
from assistant.pipeline.prose_verdict import judge as judge_claim
from assistant.pipeline.quotes import BARE_VERBS, QuotePicker, contact_blocks, is_cell, squash
from assistant.pipeline.read import Question
from assistant.pipeline.scoring import SentenceScorer
from assistant.records import BudgetLine, Catalog, Program, SourceSpan, TextSpan, UseCase
from assistant.tuning import PLAN, RECOMMEND, SUPPORT
from assistant.vocabulary import ENGLISH_STOPWORDS, THEME_KEYWORDS, prefecture_stem

if TYPE_CHECKING:  # the recommender needs the embedding model; the plan only reads its results
    from assistant.pipeline.check import AnswerCheck
    from assistant.pipeline.recommend import Recommendation

PlanKind = Literal[
    "abstain",
    "clarify",
    "fit",
    "list",
    "ranking",
    "compare",
    "yes_no",
    "attribute",
    "contact",
    "prose",
    "network",
    "not_stated",
    "not_found",
]
PLAN_KINDS: tuple[str, ...] = PlanKind.__args__  # type: ignore[attr-defined]

#: Words any question about programs uses; what remains besides them is what the question is about.
_ASKING_WORDS = frozenset(
    tokenize(
        "事業 プログラム 制度 支援 支援策 交付金 補助金 助成 予算 予算額 金額 いくら 億円 千円 百万円 規模 申請 応募 "
        "主体 対象 誰 所管 省 府省 担当 部署 課 室 連絡 連絡先 問い合わせ 問合せ 電話 番号 メール アドレス 窓口 "
        "新規 採択 課題 有無 教える 知る 知りたい 概要 内容 目的 詳しい 大学 直接 できる 方 ほう 全部 一覧 "
        # the frame around a theme: 「脱炭素の分野で…と一緒にやれる／組める事業」
        "分野 領域 関係 関連 一緒 組む 組める やる やれる 取り組む 取り組める 使う 使える 活用 利用 "
        "budget program programs contact phone email apply university ministry department which what tell about"
    )
)
#: Words that only ask (「何」「どう」): an earlier turn's question lends its subject, not these.
_QUESTION_WORDS = frozenset(
    tokenize("何 なに どう どんな いつ どこ 誰 だれ どれ なぜ 教える ある いる する なる")
)
#: Verbs that say nothing of their own, 「できる」 included (「あの賞はいつできましたか」: できる is the asking).
_BARE_VERBS = BARE_VERBS | {"できる"}
#: Words too broad to ground an answer by themselves.
_BROAD_WORDS = frozenset(["大学", "地域", "研究", "事業", "支援", "国", "日本"])


class Recommender(Protocol):
    def recommend(
        self,
        question: str,
        program_filter: ProgramFilter | None = None,
        query_vector: list[float] | None = None,
        min_score: float | None = None,
        min_margin: float = 0.0,
        lexical: str | None = None,
    ) -> list[Recommendation]: ...


@dataclass
class ProgramFacts:
    """A catalog program in the answer and the evidence about it."""

    program: Program
    row: int | None = None  # its table row (申請主体, 予算額, 新規採択, 担当部署, 連絡先)
    description: int | None = None  # its description box
    use_case: int | None = None  # the goal ⇒ program line that recommends it (fit)
    use_case_goal: str = ""
    budget_lines: list[int] = field(default_factory=list)  # other printed figures (関連事業マップ, ◆ lists)
    score: float | None = None  # recommendation score (fit)
    figures: list[BudgetFigure] = field(
        default_factory=list
    )  # when the question asks which budget (当初/補正)


@dataclass(frozen=True)
class BudgetFigure:
    """One printed budget figure and what it is, as the documents say (「1,733百万円【3,606百万円】」 prints two:
    the 令和4年度予算政府案 and, in 【】, the 令和3年度補正予算額)."""

    amount: str  # as printed, brackets removed
    basis: str | None  # the document's label of the figure (令和3年度補正予算額)
    supplementary: bool  # a 補正 figure
    cite: int  # the line that prints it
    basis_cite: int | None = None  # where the document says what it is (「【】内は補正予算額」)
    kind: str = "unlabelled"  # initial (the year's own budget), supplementary (補正), unlabelled


@dataclass
class TargetFacts:
    """A measure the package names only on a goal ⇒ program line (no table row: no contact to give)."""

    name: str
    use_case: int | None
    use_case_goal: str
    budget_lines: list[int] = field(default_factory=list)
    score: float | None = None
    figures: list[BudgetFigure] = field(default_factory=list)


@dataclass
class AnswerPlan:
    kind: PlanKind
    question: Question
    evidence: list[Evidence]
    programs: list[ProgramFacts] = field(default_factory=list)  # leading first
    targets: list[TargetFacts] = field(default_factory=list)
    quotes: list[int] = field(default_factory=list)  # prose evidence, in order
    conditions: tuple[Condition, ...] = ()
    asked: tuple[str, ...] = ()
    verdict: Literal["yes", "no"] | None = None
    verdict_attribute: str | None = None  # the attribute the verdict turns on (the first failing one)
    verdict_attributes: tuple[str, ...] = ()  # every attribute a yes/no verdict checked
    #: A verdict on a date or count the question claims (attribute "claim"): the quote's evidence id and
    #: the value it states (:mod:`assistant.pipeline.prose_verdict`).
    claim_evidence: int | None = None
    claim_stated: str = ""
    claim_kind: str = "when"  # a date ("when") or a count ("count")
    winner: str | None = None  # program id of a comparison's or ranking's winner
    compared: tuple[str, ...] = ()  # attributes a comparison is about
    missing: tuple[str, ...] = ()  # what the documents do not state (not_stated)
    options: tuple[Program, ...] = ()  # the programs a clarifying question offers
    reasons: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    ranked_within: bool = False  # a ranking over the programs of the conversation (「その中で」)
    network: NetworkAnswer | None = None  # the regional network table's answer (kind network)
    absent_regions: tuple[str, ...] = ()  # regions of the table without the asked scheme's network
    #: What a membership verdict is about: the regions, or the networks' names, the question scoped it to.
    network_scope: tuple[str, ...] = ()
    network_scope_named: bool = False  # the scope is networks named by the question (else regions)
    network_scope_sources: tuple[TextSpan, ...] = ()  # the name cells of the scope's networks
    network_unlisted: tuple[str, ...] = ()  # organisations asked about that no network lists
    network_evidence: dict[tuple[str, int, int, str], int] = field(default_factory=dict)  # cell → evidence id
    #: What the check stage found (:mod:`assistant.pipeline.check`): withdrawn verdicts, conditions not
    #: applied, names the documents do not print.
    check: AnswerCheck | None = None
    #: Real names nearest to a name the documents do not print (not_found), labelled as other things.
    nearest: tuple[str, ...] = ()
    #: What the planner itself found missing from the documents (a region no table covers); the reader's
    #: unknown names join these in the check stage.
    unknown: tuple[UnknownName, ...] = ()
    #: An empty list: the condition that empties it, and the programs meeting every other one (labelled).
    relaxed: Condition | None = None
    near_misses: list[ProgramFacts] = field(default_factory=list)

    def cell(self, span: TextSpan | None) -> list[int]:
        """The evidence id of a network cell, as a citation list."""
        eid = self.network_evidence.get(_span_key(span)) if span is not None else None
        return [eid] if eid is not None else []

    @property
    def abstained(self) -> bool:
        """The question itself is not answered from the documents (not_stated still gives what is stated)."""
        return self.kind in ("abstain", "not_stated", "not_found")

    @property
    def leading(self) -> Program | None:
        return self.programs[0].program if self.programs else None

    def facts(self, program_id: str) -> ProgramFacts | None:
        return next((f for f in self.programs if f.program.id == program_id), None)

    def view(self) -> dict[str, object]:
        """The public part of the plan (returned by the API so an integrator can see why)."""
        return {
            "kind": self.kind,
            "programs": [f.program.id for f in self.programs],
            "conditions": [c.as_dict() for c in self.conditions],
            "asked": list(self.asked),
            "verdict": self.verdict,
            "winner": self.winner,
            "missing": list(self.missing),
            "reasons": list(self.reasons),
            **(self.check.view() if self.check is not None else {}),
            "unknown": [u.text for u in self.all_unknown],
        }

    @property
    def all_unknown(self) -> tuple[UnknownName, ...]:
        """What the documents do not contain: found by the planner (a region no table covers) or the reader."""
        found = {u.text: u for u in self.unknown}
        for u in self.check.unknown if self.check is not None else ():
            found.setdefault(u.text, u)
        return tuple(found.values())


@dataclass(frozen=True)
class _Decision:
    kind: PlanKind
    reason: str


class Planner:
    """Built once per process; ``plan`` is thread-safe (the evidence builder is per call)."""

    def __init__(
        self,
        catalog: Catalog,
        store: DocumentStore,
        quotes: QuotePicker,
        scorer: SentenceScorer,
        recommender: Recommender | None,
        corpus_years: set[int],
        networks: NetworkGraph | None = None,
    ) -> None:
        self.networks = networks
        self.catalog = catalog
        self.programs = {p.id: p for p in catalog.programs}
        self.store = store
        self.quotes = quotes
        self.scorer = scorer
        self.recommender = recommender
        self.corpus_years = corpus_years
        self.budget_lines: dict[str, list[BudgetLine]] = {}
        for line in catalog.budget_lines:
            if line.program_id:
                self.budget_lines.setdefault(line.program_id, []).append(line)
        self.use_cases: dict[str, list[UseCase]] = {}
        for case in catalog.use_cases:
            if case.program_id:
                self.use_cases.setdefault(case.program_id, []).append(case)

    # -- the decision ------------------------------------------------------------------------------
    def decide(self, q: Question) -> _Decision:
        """The answer kind, from the question alone (no retrieval): table-driven tests check this."""
        outside = q.years - self.corpus_years
        if outside and not q.program_ids:
            return _Decision("abstain", f"asks about {sorted(outside)}, a period the documents do not cover")
        if outside:
            return _Decision(
                "not_stated", f"asks about {sorted(outside)}, a period the documents do not cover"
            )
        if self._about_networks(q):
            return _Decision("network", "asks about the regional network table")
        ref = q.reference
        if not q.named_ids and ref is not None and ref.status == "missing":
            return _Decision("clarify", "the question refers to a program, but nothing was discussed before")
        if not q.named_ids and ref is not None and ref.status == "ambiguous":
            return _Decision("clarify", "the reference could mean several programs discussed before")
        if q.program_ids:
            return self._decide_about_programs(q)
        if q.measures and q.asks("budget") and not q.has("goal") and not q.has("list"):
            return _Decision(
                "attribute", "names a measure without a program row: what the documents print of it"
            )
        return self._decide_open(q)

    def _about_networks(self, q: Question) -> bool:
        """The network table answers when the question names a region, a network or a member of one, or
        speaks of networks / members outright — and is not a question about programs (their rows, a list
        or a recommendation), which a scheme's name (共創の場) or a word like 参加 would otherwise pull in."""
        network = q.network
        if network is None or self.networks is None:
            return False
        if q.has("case_word"):
            return False  # 「…している事例は？」 asks for a case of the survey's prose
        outright = q.has("network_word") or q.asks("members")
        joined = q.has("joined")
        # A word shared with a network's name (委員会, 拠点) names it only when the question speaks of networks,
        # names the network whole, or a turn before did.
        named_whole = self._names_network_whole(q)
        scoped = bool(
            network.regions
            or (network.network_ids and (outright or named_whole or q.network_from_history))
            or (network.member_ids and (outright or joined))
        )
        if not (scoped or outright):
            return False
        if q.has("plan_name") and not outright and network.regions and not self._uncovered_regions(q):
            return False  # a plan's name in a covered region: the prose names it, the table only the body
        if network.relation == "summary" and not outright and not network.regions:
            return False  # what a named network does: the documents' prose says more than its table cell
        regions_asked = outright and q.asks("region")  # 「…ネットワークの例に挙がっているのはどこの県？」
        if q.named_ids and not network.regions and not q.asks("members") and not regions_asked:
            return False  # a named program and no region or member list asked: about the program's row
        if q.named_ids and q.asked & cues.CATALOG_ATTRIBUTES and not q.asks("members"):
            return False
        about_programs = q.has("program_word")
        if about_programs and not network.regions and not q.asks("members"):
            return False  # asks for programs (事業/制度/支援): a network word there is a goal or a condition
        return not (q.has("goal") and not network.regions and not network.network_ids)

    def _decide_about_programs(self, q: Question) -> _Decision:
        ids = q.program_ids
        if q.reference is not None and q.reference.scope == "set" and (q.has("ranking") or q.has("compare")):
            return _Decision("ranking", "a superlative over the programs just discussed")
        if q.reference is not None and q.reference.scope == "set" and q.filter.active:
            return _Decision("list", "the programs just discussed that meet its conditions")
        if len(ids) >= 2 and (q.has("compare") or q.has("ranking")):
            return _Decision("compare", "two or more programs compared")
        if q.has("yes_no") and self._yes_no_attribute(q) is not None:
            return _Decision("yes_no", "a yes/no question about the program's table row")
        if q.asked & cues.UNSTATED_ATTRIBUTES:
            return _Decision("not_stated", "asks for something no table states; prose is checked first")
        table_asks = q.asked & cues.CATALOG_ATTRIBUTES
        if table_asks and table_asks <= {"contact", "department"} and not self._asks_beyond(q, table_asks):
            return _Decision("contact", "asks for the program's department and contact")
        if table_asks and not self._asks_beyond(q, table_asks):
            return _Decision("attribute", "asks for attributes the program's table row states")
        if self._asks_beyond(q, table_asks):
            return _Decision("prose", "asks about the program beyond its table row")
        return _Decision("attribute", "names the program without asking anything narrower: its card")

    def _decide_open(self, q: Question) -> _Decision:
        asked_filter = q.filter
        about_programs = q.has("program_word") or q.language == "en"
        if q.has("ranking") and (about_programs or q.asks("budget")):
            return _Decision("ranking", "a superlative over the catalog (by budget)")
        if q.has("goal") and not q.has("explicit_list"):
            return _Decision("fit", "states a goal: the program whose purpose matches it")
        if q.language == "en" and q.has("yes_no") and not asked_filter.active:
            # "Can a university lab do joint research with …?": whether a program makes it possible.
            return _Decision("fit", "asks whether something is possible: the program that makes it so")
        if q.has("item_set") and not asked_filter.explicit:
            return _Decision("prose", "lists items of the documents' prose (論点, 課題 …), not programs")
        if q.has("rule_content") and not q.has("explicit_list") and not asked_filter.explicit:
            # 「審査のとき、どんな事業への参画状況が加点になるの」: what the rule scores, in its own words
            return _Decision("prose", "asks what a rule scores or checks: the documents' words of the rule")
        rule_question = q.has("yes_no") and q.has("rule") and not q.has("list") and not asked_filter.explicit
        if rule_question and asked_filter.active and about_programs:
            # 「PRISMでは文科省の事業への参画も加点の対象になりますか」: whether a rule covers something, not a
            # request for the programs meeting a condition — the documents' words answer it.
            return _Decision(
                "prose", "a yes/no question about what a rule covers, not a request for programs"
            )
        if asked_filter.active and about_programs and not q.asks("when", "count", "members"):
            if asked_filter.only_theme and not q.has("explicit_list") and not asked_filter.explicit:
                if len(self._topic_words(q)) >= 3 and not q.has("need"):
                    return _Decision("prose", "a theme word in a question about something specific")
                return _Decision(
                    "fit", "names a theme: a program whose purpose matches it, else the theme's list"
                )
            return _Decision("list", "programs meeting every condition")
        if q.has("list") and about_programs and not q.asks("when", "count"):
            if q.has("explicit_list") or not q.content_words or self._generic_list(q):
                return _Decision("list", "asks for the programs")
            return _Decision("fit", "asks which programs fit what it describes")
        if q.asks("contact", "department") and about_programs:
            return _Decision("fit", "asks whom to contact about a purpose: the program for it")
        if q.asks("contact", "department") and q.has("goal"):
            return _Decision("fit", "asks whom to contact about a purpose: the program for it")
        return _Decision("prose", "a question about what the documents say")

    def _topic_words(self, q: Question) -> set[str]:
        """Content words besides asking words, condition values and theme words: what the question is about."""
        asking = [c.text for c in q.clauses if c.kind != "background"]
        # What the asker says about themself (「すでに文科省の事業をやっている」) is not what the question is about.
        source = tokenize(" ".join(asking)) if asking and len(asking) < len(q.clauses) else q.content_words
        words = set(source) - _ASKING_WORDS - _condition_words(q)
        for word in THEME_KEYWORDS:
            if word in q.masked.lower():
                words -= set(tokenize(word))
        return words

    def _sector_check(self, q: Question) -> NetworkAnswer | None:
        """For a yes/no question whether a sector is among a scope's members (「…に銀行は入ってる？」) that
        no member meets: the scope's networks without the sector filter (to answer いいえ from), else None."""
        network = q.network
        if network is None or self.networks is None or not q.has("yes_no") or not network.sectors:
            return None
        if network.relation != "members" or not (network.regions or network.network_ids):
            return None
        broader = answer_network_query(network.model_copy(update={"sectors": []}), self.networks)
        return None if broader.empty else broader

    def _membership(self, q: Question) -> tuple[bool, NetworkAnswer] | None:
        """For a question whether named members belong to a scope (a region, a scheme, a network): whether
        one does, and the networks they belong to anywhere; None when it asks no such thing."""
        network = q.network
        if network is None or self.networks is None or not network.member_ids or network.sectors:
            return None
        if not (network.regions or network.network_ids or network.programs) or network.relation == "shared":
            return None
        if network.relation not in ("networks", "members") or (
            network.relation == "members" and not q.has("yes_no")
        ):
            return None
        scope = self.networks.filter(
            regions=network.regions or None,
            programs=network.programs or None,
            network_ids=network.network_ids or None,
        )
        wanted = set(network.member_ids)
        inside = any(wanted & set(n.member_ids) for n in scope)
        everywhere = network.model_copy(
            update={"relation": "networks", "regions": [], "programs": [], "network_ids": [], "count": False}
        )
        return inside, answer_network_query(everywhere, self.networks)

    def _names_network_whole(self, q: Question) -> bool:
        if self.networks is None or q.network is None:
            return False
        text = squash(unicodedata.normalize("NFKC", q.text))
        names = [n.name.text for n in self.networks.catalog.networks if n.id in q.network.network_ids]
        return any(
            len(key) >= 6 and key in text for key in (squash(unicodedata.normalize("NFKC", n)) for n in names)
        )

    def _generic_list(self, q: Question) -> bool:
        """「事業は？」「どんな事業がありますか」: nothing besides asking words (and conditions) remains."""
        return not (set(q.content_words) - _ASKING_WORDS - _condition_words(q))

    def _asks_beyond(self, q: Question, table_asks: frozenset[str]) -> bool:
        """Words besides the program's names, the asking and the conditions: the question is about prose."""
        if q.asks("when", "members", "result") or (q.asks("count") and not q.asks("budget")):
            return True
        if table_asks or q.asks("overview"):
            return False
        rest = set(q.content_words) - self._name_tokens(q) - _ASKING_WORDS - _condition_words(q)
        return bool(rest)

    def _name_tokens(self, q: Question) -> set[str]:
        """Words of the programs' names as printed and as typed (a name with a typo or in kana)."""
        names = {t for pid in q.program_ids for t in tokenize(_names(self.programs[pid]))}
        for mention in q.mentions:
            names |= set(tokenize(mention.text))
        return names

    def _yes_no_attribute(self, q: Question) -> str | None:
        """Which table attribute a yes/no question is about: the condition it states, or 新規採択."""
        fields = {c.field for c in q.conditions if c.role != "background"}
        for name in _YES_NO_FIELDS:
            if name in fields:
                return name
        if q.asks("new_calls"):
            return "new_calls"
        if q.asks("contact", "department") and len(q.program_ids) == 1:
            return None
        return None

    # -- building the plan ---------------------------------------------------------------------------
    def plan(
        self,
        q: Question,
        retrieval: RetrievalResult,
        recommendations: list[Recommendation] | None = None,
    ) -> AnswerPlan:
        decision = self.decide(q)
        uncovered = self._uncovered_regions(q) if decision.kind == "network" else ()
        if uncovered:
            return self._plan_uncovered(q, retrieval, uncovered)
        if (
            decision.kind == "network"
            and answer_network_query(q.network, self.networks).empty  # type: ignore[arg-type]
            and self._sector_check(q) is None
            and self._membership(q) is None
        ):
            # A region or word of the table that names nothing in it (「福島の浜通りで…」): the question is
            # decided as if the table did not exist.
            decision = self.decide(replace(q, network=None))
        evidence = EvidenceBuilder(self.store)
        plan = AnswerPlan(
            kind=decision.kind,
            question=q,
            evidence=evidence.items,
            conditions=q.conditions,
            asked=tuple(sorted(q.asked)),
            reasons=[decision.reason],
        )
        build = getattr(self, f"_plan_{decision.kind}")
        build(plan, q, retrieval, evidence, recommendations)
        if plan.kind == "abstain":
            plan.suggestions = self._suggestions(q, retrieval)
        return plan

    def _uncovered_regions(self, q: Question) -> tuple[str, ...]:
        """Regions a question about the networks names that neither the table nor the survey's cases cover
        (「北海道のネットワークの構成員」) — when it names no region they do cover."""
        if self.networks is None or q.network is None or not q.network.regions:
            return ()
        if not (q.has("network_word") or q.asks("members") or q.has("joined") or q.has("plan_name")):
            return ()
        covered = {n.region for n in self.networks.catalog.networks}
        if any(r in covered for r in q.network.regions) or q.network.network_ids or q.network.member_ids:
            return ()
        # Not a region a name the documents print holds (「北海道データサイエンスネットワーク」).
        named = [r for r in q.network.regions if any(prefecture_stem(r) in name for name in q.printed_names)]
        return tuple(r for r in q.network.regions if r not in named)

    def _plan_uncovered(
        self, q: Question, retrieval: RetrievalResult, regions: tuple[str, ...]
    ) -> AnswerPlan:
        """Not found: the regions the documents do cover, labelled, and any sentence of the prose that speaks of
        the asked region's networks (「道内16の大学・高専が参画する北海道データサイエンスネットワーク」)."""
        evidence = EvidenceBuilder(self.store)
        covered = (
            tuple(dict.fromkeys(n.region for n in self.networks.catalog.networks)) if self.networks else ()
        )
        plan = AnswerPlan(
            kind="not_found",
            question=q,
            evidence=evidence.items,
            conditions=q.conditions,
            asked=tuple(sorted(q.asked)),
            reasons=[
                "asks about the networks of "
                + "、".join(regions)
                + ", which the documents' tables do not cover"
            ],
            nearest=covered,
            unknown=tuple(UnknownName(r, "region") for r in regions),
        )
        stems = [prefecture_stem(r) for r in regions]
        picked = [
            (hit, sentence)
            for hit, sentence in self.quotes.pick(
                q.matching_text, retrieval.chunk_hits[:8], PLAN.prose_quotes
            )
            if any(stem in sentence for stem in stems)
        ]
        self._quote(plan, picked, evidence)
        if plan.quotes:
            # The prose speaks of that region's networks (北海道データサイエンスネットワーク): quoted, after saying
            # the table has no row for it.
            plan.kind = "prose"
            plan.reasons.append("the prose speaks of it: quoted")
        return plan

    # each _plan_<kind> fills the plan (and may change its kind: a fit with no close program becomes a list
    # or prose, prose without support abstains).
    def _plan_clarify(self, plan, q, retrieval, evidence, recommendations) -> None:
        ref = q.reference
        plan.options = tuple(
            self.programs[pid]
            for pid in (ref.candidates if ref else ())[: PLAN.clarify_options]
            if pid in self.programs
        )
        plan.suggestions = [f"{program.name}の{_asked_label(q)}は？" for program in plan.options]

    def _plan_abstain(self, plan, q, retrieval, evidence, recommendations) -> None:
        return None

    def _plan_network(self, plan, q, retrieval, evidence, recommendations) -> None:
        """The regional network table: members, networks of a member, shared members, 取組概要 — each list
        cited to its cell."""
        if self.networks is None or q.network is None:
            plan.kind = "abstain"
            return
        answer = answer_network_query(q.network, self.networks)
        membership = self._membership(q)
        if q.network.unlisted and not q.network.member_ids and (q.has("yes_no") or q.has("joined")):
            # 「伊予銀行は高知県のネットワークにも入っていますか」: no network lists it — いいえ, and the scope's
            # members as the table prints them (never a verdict about its sector instead).
            scope = q.network.model_copy(update={"sectors": [], "relation": "members"})
            answer = answer_network_query(scope, self.networks)
            plan.verdict = "no"
            plan.network_unlisted = tuple(q.network.unlisted)
            plan.reasons.append("not listed in any network: " + "、".join(q.network.unlisted))
        elif membership is not None:
            # 「高知県のネットワークにマツダは入っていますか？」: whether the member is in the scope, then the
            # networks it does belong to (wherever they are).
            inside, answer = membership
            if q.has("yes_no") or not inside:
                plan.verdict = "yes" if inside else "no"
            plan.reasons.append(f"membership in the asked scope: {'yes' if inside else 'no'}")
        elif answer.empty and (broader := self._sector_check(q)) is not None:
            # 「高知県のネットワークに信用金庫は入ってる？」 with none: いいえ, and the members the table does list.
            answer = broader
            plan.verdict = "no"
            plan.reasons.append("no member of the asked sector; the networks' members are shown")
        elif not answer.empty and q.has("yes_no") and q.network.relation == "members" and q.network.sectors:
            plan.verdict = "yes"
        unscoped = not (q.network.regions or q.network.network_ids or q.network.programs)
        if (
            plan.verdict is None
            and q.has("yes_no")
            and q.network.member_ids
            and unscoped
            and not answer.empty
        ):
            # 「岡山大学は、表のネットワークのどれかに参加していますか」: listed → はい, in the networks that list it.
            plan.verdict = "yes"
            plan.reasons.append("the member is listed in the table's networks")
        if plan.verdict is not None:
            named = bool(q.network.network_ids) or unscoped
            if unscoped:  # the scope is where the member is listed
                listed = {e.network_id for e in answer.networks}
                in_scope = [n for n in self.networks.catalog.networks if n.id in listed]
            else:
                in_scope = self.networks.filter(
                    regions=q.network.regions or None,
                    programs=q.network.programs or None,
                    network_ids=q.network.network_ids or None,
                )
            scope = (
                [n.name.text for n in in_scope]
                if named
                else q.network.regions or [e.program_name for e in answer.networks]
            )
            plan.network_scope, plan.network_scope_named = tuple(dict.fromkeys(scope)), named
            plan.network_scope_sources = tuple(n.name.source for n in in_scope)
        if answer.empty:
            plan.kind = "abstain"
            plan.reasons.append("no network in the table meets it")
            return
        plan.network = answer
        if q.asks("region") and q.network.programs and q.has("absent"):
            # which region a scheme's column leaves empty (空欄/記載がない + どこ/どの県): the table's regions
            # without that scheme's network.
            table = [
                n
                for n in self.networks.catalog.networks
                if n.program in self.networks.programs and n.program != "cases"
            ]
            present = {n.region for n in table if n.program in q.network.programs}
            plan.absent_regions = tuple(dict.fromkeys(n.region for n in table if n.region not in present))
            for network in table:
                if network.region in plan.absent_regions:
                    source = network.name.source
                    row = evidence.span(
                        "cell",
                        SourceSpan(
                            doc_id=source.doc_id, line_start=source.line_start, line_end=source.line_start
                        ),
                    )
                    if row is not None:
                        plan.network_evidence[("row", network.region)] = row  # type: ignore[index]
                    break
        spans = []
        for entry in answer.networks:
            spans.extend(
                s for s in (entry.name_source, entry.members_cell, entry.summary_source) if s is not None
            )
        for member in answer.members:
            spans.extend(member.sources[:1])
        spans.extend(plan.network_scope_sources)
        for span in spans:
            eid = evidence.snippet("cell", span.doc_id, span.text, near=(span.line_start, span.line_end))
            if eid is not None:
                plan.network_evidence[_span_key(span)] = eid
        listed = {m.member_id for e in answer.networks for m in e.members} | {
            m.member_id for m in answer.members
        }
        plan.reasons.append(
            f"network table: {q.network.relation}, {len(answer.networks)} networks, {len(listed)} members"
        )
        beyond = [a for a in ("person", "when", "schedule", "deadline", "place") if q.asks(a)]
        if beyond and plan.verdict is None and beyond[0] != "person":
            # A date or a place may stand in the prose (a case of the survey states when it began).
            picked = self.quotes.pick(
                q.matching_text,
                retrieval.chunk_hits[:5],
                PLAN.prose_quotes,
                min_score=PLAN.prose_about_program_coverage,
                tokens=self._tokens(q),
            )
            # Only a sentence that holds what is asked answers it: a date for when, a seat for where.
            shape = _BEYOND_TABLE_SHAPES.get(beyond[0])
            picked = [(hit, s) for hit, s in picked if shape is None or shape.search(s)]
            if picked:
                plan.kind, plan.network = "prose", None
                self._quote(plan, picked, evidence)
                plan.reasons.append("the network table does not state it; the prose does")
                self._judge_claim(plan, q)
                return
        if beyond and plan.verdict is None:
            # The table prints names, members (organisations) and aims — no persons, no dates: a question
            # about those is answered with what the table does state, under a plain "not stated".
            plan.kind = "not_stated"
            plan.missing = tuple("network_" + a for a in beyond[:1])
            plan.reasons.append(f"the network table does not state {beyond[0]}")

    def _plan_contact(self, plan, q, retrieval, evidence, recommendations) -> None:
        self._focus(plan, q, evidence)

    def _plan_attribute(self, plan, q, retrieval, evidence, recommendations) -> None:
        self._focus(plan, q, evidence, with_details=True)
        if not plan.programs and q.measures:
            for name in q.measures:
                lines = [
                    b
                    for b in self.catalog.budget_lines
                    if b.program_id is None and _same_name(b.program_name, name)
                ]
                cases = [
                    u
                    for u in self.catalog.use_cases
                    if u.program_id is None and _same_name(u.program_name, name)
                ]
                use_case = evidence.span("use_case", cases[0].source, label=name) if cases else None
                target = TargetFacts(
                    name, use_case, cases[0].goal if cases else "", _unique_lines(lines, evidence, name)
                )
                target.figures = self._figures(lines, evidence, q.budget_basis)
                plan.targets.append(target)
            plan.reasons.append("measures named on goal lines and budget lists: " + "、".join(q.measures))
            if not any(t.figures or t.use_case for t in plan.targets):
                plan.kind = "abstain"
            return
        if q.budget_basis is not None:
            for facts in plan.programs:
                facts.figures = self._figures(
                    self.budget_lines.get(facts.program.id, []), evidence, q.budget_basis
                )

    def _figures(
        self, lines: list[BudgetLine], evidence: EvidenceBuilder, wanted: str | None
    ) -> list[BudgetFigure]:
        """The printed figures of a program or measure, each with what the documents say it is; 「補正を除いて」
        keeps the year's own budget, 「補正の分は」 the supplementary one, 「分けて」 both. A figure whose page
        says only what it is about (「R4年度…支援メニュー」) or that adds both budgets is unlabelled: it is
        neither asked part. The same figure printed on several theme pages is listed once."""
        figures: list[BudgetFigure] = []
        seen: set[tuple[object, str]] = set()
        for line in lines:
            amount = line.amount_text.strip("【】 ")
            basis = line.basis.label if line.basis else None
            kind = _figure_kind(line.amount_text, basis)
            if wanted in ("initial", "supplementary") and kind != wanted:
                continue
            value = amounts(amount)
            key = (value[0][2] if value else amount, kind)
            if key in seen:
                continue
            cite = evidence.span("budget_line", line.source)
            if cite is None:
                continue
            basis_cite = None
            if line.basis is not None and line.basis.source is not None:
                basis_cite = evidence.span("budget_line", line.basis.source)
            seen.add(key)
            figures.append(BudgetFigure(amount, basis, kind == "supplementary", cite, basis_cite, kind))
        return figures

    def _plan_yes_no(self, plan, q, retrieval, evidence, recommendations) -> None:
        """はい/いいえ on every asked condition of the program's row (AND): 「文科省の事業で、大学が申請できますか」
        is yes only when both hold, and the answer turns on the first that does not."""
        self._focus(plan, q, evidence)
        program = plan.programs[0].program
        conditions = [c for c in q.conditions if c.role != "background"]
        if q.asks("new_calls") and not any(c.field == "new_calls" for c in conditions):
            conditions.append(Condition("new_calls", "eq", True))
        attributes = tuple(dict.fromkeys(c.field for c in conditions if c.field in _YES_NO_FIELDS))
        if not attributes:
            plan.kind = "attribute"
            return
        for attribute in attributes:
            if attribute in ("min_budget", "max_budget") and program.budget_thousand_yen is None:
                plan.kind, plan.missing = "not_stated", ("budget",)
                plan.reasons.append("the table prints no budget for it")
                return
            if attribute == "new_calls" and program.new_calls is None:
                plan.kind, plan.missing = "not_stated", ("new_calls",)
                return
        holds = {
            a: all(ProgramFilter.of([c]).matches(program) for c in conditions if c.field == a)
            for a in attributes
        }
        failing = [a for a in attributes if not holds[a]]
        plan.verdict = "no" if failing else "yes"
        plan.verdict_attribute = failing[0] if failing else attributes[0]
        plan.verdict_attributes = (*failing, *(a for a in attributes if holds[a]))
        plan.reasons.append(
            ", ".join(f"{a}: {'yes' if holds[a] else 'no'}" for a in plan.verdict_attributes)
            + " by the table row"
        )

    def _plan_compare(self, plan, q, retrieval, evidence, recommendations) -> None:
        self._focus(plan, q, evidence, limit=PLAN.ranking_max)
        compared = _compared_attributes(q)
        plan.compared = compared
        programs = [f.program for f in plan.programs]
        if compared == ("budget",):
            budgets = [p for p in programs if p.budget_thousand_yen is not None]
            if len(budgets) >= 2:
                order = sorted(
                    budgets, key=lambda p: p.budget_thousand_yen or 0, reverse=not q.ranking_ascending
                )
                plan.winner = order[0].id
                plan.programs.sort(key=lambda f: f.program.id != plan.winner)  # the winner leads
                plan.reasons.append("compared by the budget of each table row")
        elif q.has("same") or q.has("yes_no"):
            # Same or different — only on the attribute the question names beside 同じ／違う; a question that
            # names none (「AとBは同じですか」) gets the rows side by side, without a verdict.
            attribute = q.same_attribute
            if attribute is None or attribute not in _COMPARABLE:
                plan.reasons.append("asks whether they are the same, but not in what: the rows, no verdict")
                return
            plan.compared = (attribute,)
            values = {_attribute_value(p, attribute) for p in programs}
            plan.verdict = "yes" if len(values) == 1 else "no"
            plan.verdict_attribute = attribute
            plan.reasons.append(
                f"{attribute}: {'the same' if plan.verdict == 'yes' else 'different'} in the rows"
            )

    def _plan_ranking(self, plan, q, retrieval, evidence, recommendations) -> None:
        ref = q.reference
        if q.program_ids and ref is not None and ref.scope == "set":
            pool = [self.programs[pid] for pid in ref.program_ids if pid in self.programs]
            plan.ranked_within = True
            size = q.ranking_size or len(pool)
        else:
            pool = q.filter.apply(self.programs.values())
            size = q.ranking_size or PLAN.ranking_default
        budgeted = [p for p in pool if p.budget_thousand_yen is not None]
        ordered = sorted(budgeted, key=lambda p: p.budget_thousand_yen or 0, reverse=not q.ranking_ascending)
        chosen = ordered[: max(1, min(size, PLAN.ranking_max))]
        for program in chosen:
            plan.programs.append(self._facts(program, evidence))
        if chosen:
            plan.winner = chosen[0].id
        plan.reasons.append(
            f"{len(budgeted)} of {len(pool)} programs print a budget; "
            f"{'smallest' if q.ranking_ascending else 'largest'} first"
        )

    def _plan_list(self, plan, q, retrieval, evidence, recommendations) -> None:
        pool = self.programs.values()
        if q.reference is not None and q.reference.scope == "set" and not q.named_ids:
            pool = [self.programs[pid] for pid in q.reference.program_ids if pid in self.programs]
        matching = q.filter.apply(pool)
        matching.sort(key=lambda p: -(p.budget_thousand_yen or 0))
        for program in matching:
            plan.programs.append(self._facts(program, evidence))
        plan.reasons.append(f"{len(matching)} programs meet: {describe(q.conditions)}")
        if not matching:
            self._near_misses(plan, q, list(pool), evidence)

    def _near_misses(
        self, plan: AnswerPlan, q: Question, pool: list[Program], evidence: EvidenceBuilder
    ) -> None:
        """No program meets every condition: the condition that empties the list, and the programs that meet all
        the others (the closest budgets first for a budget threshold) — shown as near misses, labelled."""
        applied = [c for c in q.conditions if c.role != "background"]
        best: tuple[tuple[int, int], Condition, list[Program]] | None = None
        for condition in applied:
            others = [c for c in applied if c is not condition]
            near = [
                p
                for p in ProgramFilter.of(others).apply(pool)
                if not ProgramFilter.of([condition]).matches(p)
            ]
            if not near:
                continue
            # The fewest near misses is the closest; relaxing who may apply or a figure before the scope
            # the question set (a ministry, a theme) keeps the answer about what was asked.
            scope = 1 if condition.field in ("ministry", "theme", "program") else 0
            rank = (scope, len(near))
            if best is None or rank < best[0]:
                best = (rank, condition, near)
        if best is None:
            return
        _, condition, near = best
        if condition.field in ("min_budget", "max_budget"):
            target = int(condition.value)  # type: ignore[arg-type]
            near = sorted(
                (p for p in near if p.budget_thousand_yen is not None),
                key=lambda p: abs((p.budget_thousand_yen or 0) - target),
            )
        plan.relaxed = condition
        plan.near_misses = [self._facts(p, evidence) for p in near[: PLAN.near_misses]]
        plan.reasons.append(f"none meets all; without {describe([condition])}: {len(near)} programs")

    def _plan_fit(self, plan, q, retrieval, evidence, recommendations) -> None:
        found = recommendations if recommendations is not None else self.recommend(q, retrieval)
        # Programs the asker already has (named as background) are not what they are looking for.
        fresh = [r for r in found if r.program is None or r.program.id not in q.background_ids]
        found = fresh or found
        if not found:
            if q.filter.active:
                plan.kind = "list"
                plan.reasons.append(
                    "no program's purpose is close to it; the programs meeting its conditions"
                )
                self._plan_list(plan, q, retrieval, evidence, recommendations)
                return
            plan.kind = "prose"
            plan.reasons.append("no program's purpose is close to it")
            self._plan_prose(plan, q, retrieval, evidence, recommendations)
            return
        for rec in found:
            if rec.program is not None:
                facts = self._facts(rec.program, evidence, with_description=True)
                facts.score = rec.score
                if rec.use_case is not None:
                    facts.use_case = evidence.span("use_case", rec.use_case.source, program_id=rec.program.id)
                    facts.use_case_goal = rec.use_case.goal
                plan.programs.append(facts)
            elif rec.use_case is not None:
                cid = evidence.span("use_case", rec.use_case.source, label=rec.name)
                if cid is None:
                    continue
                lines = _unique_lines(rec.budget_lines, evidence, rec.name)
                plan.targets.append(TargetFacts(rec.name, cid, rec.use_case.goal, lines, rec.score))
        plan.reasons.append("closest purposes: " + ", ".join(f"{r.name} ({r.score:.3f})" for r in found))

    def recommend(self, q: Question, retrieval: RetrievalResult) -> list[Recommendation]:
        if self.recommender is None:
            return []
        text = q.matching_goal or q.text
        if q.language == "en":  # its Japanese terms too: the purposes are written in Japanese
            text = f"{q.goal or q.text}（{q.gloss}）" if q.gloss else (q.goal or q.text)
            return self.recommender.recommend(
                text, q.hard_filter, None, RECOMMEND.english_min_score, RECOMMEND.english_min_margin, q.gloss
            )
        vector = retrieval.query_vector if text == retrieval.question else None
        return self.recommender.recommend(text, q.hard_filter, vector)

    def _plan_prose(self, plan, q, retrieval, evidence, recommendations) -> None:
        names = self._name_tokens(q)
        if q.program_ids:
            self._focus(plan, q, evidence)
            floor = PLAN.prose_about_program_coverage if not q.asks("when", "count") else None
            picked = self.quotes.pick(
                q.matching_text, retrieval.chunk_hits[:5], PLAN.prose_quotes, names, floor, self._tokens(q)
            )
            if not picked:
                if q.asked & cues.UNSTATED_ATTRIBUTES or q.years - self.corpus_years:
                    return self._not_stated(plan, q)
                plan.kind = "attribute"
                plan.missing = ("prose",)
                plan.reasons.append("the documents' prose says nothing closer; the program's card")
                return
            self._quote(plan, picked, evidence)
            self._judge_claim(plan, q)
            return
        if q.asks("contact", "department", "person") and self._contact_block(plan, q, retrieval, evidence):
            return
        if not self._supported(q, retrieval):
            plan.kind = "abstain"
            plan.reasons.append("no passage covers enough of the question")
            return
        tokens = self._tokens(q)
        if q.topic and len(tokens - _ASKING_WORDS - _QUESTION_WORDS - _BARE_VERBS) <= 1:
            # 「その調査はいつから？」: one word of its own besides the pointing; what it points at lends the rest
            tokens = self._topic_tokens(q)
        picked = self.quotes.pick(q.matching_text, retrieval.chunk_hits[:5], PLAN.prose_quotes, tokens=tokens)
        if not picked and q.topic:
            # the question's own words found nothing: what it points back at lends its words
            picked = self.quotes.pick(
                q.matching_text, retrieval.chunk_hits[:5], PLAN.prose_quotes, tokens=self._topic_tokens(q)
            )
        if not picked:
            plan.kind = "abstain"
            plan.reasons.append("no sentence answers it")
            return
        self._quote(plan, picked, evidence)
        self._judge_claim(plan, q)

    def _judge_claim(self, plan: AnswerPlan, q: Question) -> None:
        """A yes/no question claiming a date or a count the quotes state: はい/いいえ from the stated value."""
        if not q.has("yes_no") or not plan.quotes:
            return
        found = judge_claim(q.text, [plan.evidence[e - 1].quote for e in plan.quotes])
        if found is None:
            return
        plan.kind = "yes_no"
        plan.verdict = found.verdict
        plan.verdict_attribute, plan.verdict_attributes = "claim", ("claim",)
        plan.claim_evidence, plan.claim_stated = plan.quotes[found.quote], found.stated
        plan.claim_kind = found.kind
        plan.reasons.append(f"the question's claim against the stated 「{found.stated}」: {found.verdict}")

    def _plan_not_stated(self, plan, q, retrieval, evidence, recommendations) -> None:
        """Look-alikes: prose may still answer (「いつから公募が…」 is stated); otherwise say what is not."""
        outside = q.years - self.corpus_years
        # A deadline, a person or a later round is never in the prose either; a schedule or a result may be.
        never_stated = q.asks("deadline", "person", "later_round")
        if not outside and not never_stated and q.asks("schedule", "result", "when", "count"):
            names = self._name_tokens(q)
            picked = self.quotes.pick(
                q.matching_text,
                retrieval.chunk_hits[:5],
                PLAN.prose_quotes,
                names,
                PLAN.prose_about_program_coverage,
            )
            if q.counted is not None:
                # A count with its counter noun (何＋大学/件/拠点/社 …) is answered by a sentence holding a number of
                # that noun, not by any sentence that mentions the program and a number.
                picked = [
                    (h, s)
                    for h, s in picked
                    if re.search(rf"[0-9０-９一二三四五六七八九十百千]+\s*{re.escape(q.counted)}", s)
                ]
            if picked:
                plan.kind = "prose"
                self._focus(plan, q, evidence)
                self._quote(plan, picked, evidence)
                plan.reasons.append("the prose states it")
                return
        self._focus(plan, q, evidence)
        self._not_stated(plan, q)

    def _not_stated(self, plan: AnswerPlan, q: Question) -> None:
        plan.kind = "not_stated"
        outside = sorted(q.years - self.corpus_years)
        missing = sorted(q.asked & cues.UNSTATED_ATTRIBUTES) or (["period"] if outside else ["prose"])
        plan.missing = tuple(missing)
        plan.reasons.append("the documents do not state " + ", ".join(missing))

    def _contact_block(
        self, plan: AnswerPlan, q: Question, retrieval: RetrievalResult, evidence: EvidenceBuilder
    ) -> bool:
        """A desk a document prints for itself (the survey's 担当・電話・FAX): quoted line by line, verbatim.
        Blocks inside the program tables are programs' contacts, answered from the catalog instead."""
        tokens = set(q.content_words)
        best: tuple[float, str, tuple[int, int]] | None = None
        for hit in retrieval.chunk_hits[:8]:
            document = self.store.get(hit.doc_id)
            if document is None:
                continue
            for block in contact_blocks(document.lines, hit.line_start, hit.line_end):
                if self._in_program_table(hit.doc_id, block):
                    continue
                # The block is the document's 問い合わせ先; cells break words (「電 話」), so spaces go.
                block_text = squash(document.span_text(*block))
                about = f"{document.info.title} {hit.section} {_CONTACT_WORDS} {block_text}"
                score = self.scorer.coverage(tokens, about)
                if q.language == "en":  # English words meet the Japanese title only in the embedding
                    score = 1.0 if hit in retrieval.chunk_hits[:3] else 0.0
                if best is None or score > best[0]:
                    best = (score, hit.doc_id, block)
        if best is None or best[0] < SUPPORT.min_coverage:
            return False
        _, doc_id, (start, end) = best
        document = self.store.get(doc_id)
        for number in range(start, end + 1):
            line = document.lines[number - 1].strip() if document else ""
            if line:
                eid = evidence.snippet("quote", doc_id, line, near=(number, number), label="contact")
                if eid is not None:
                    plan.quotes.append(eid)
        plan.reasons.append("the document prints its own contact")
        return bool(plan.quotes)

    def _in_program_table(self, doc_id: str, block: tuple[int, int]) -> bool:
        for program in self.programs.values():
            for span in (program.source, *program.mentions):
                if span.doc_id == doc_id and span.line_start <= block[1] and block[0] <= span.line_end:
                    return True
        return False

    # -- support and pieces ---------------------------------------------------------------------------
    def _tokens(self, q: Question) -> set[str]:
        """The question's words as matched with the documents. An English question keeps only the words the
        corpus uses (its glossed Japanese terms, names like ABC): its other English words are a gap of
        translation, not a sign the documents do not answer."""
        if q.language == "en":
            known = {t for t in q.content_words if t in self.scorer.idf and t not in ENGLISH_STOPWORDS}
            # One broad word left (大学) matches any sentence: not enough to answer from.
            return known if len(known - _BROAD_WORDS) >= 2 else set()
        if q.quoted_terms and any(c.kind == "ask" and cues.ANAPHORA.search(c.text) for c in q.clauses):
            # 「…「ABC」という言葉が出てきました。これは何の略？」: the term the pronoun points at, and what is asked of
            # it — not the story of how the asker came across it.
            asked = " ".join(c.text for c in q.clauses if c.kind == "ask")
            return set(tokenize(" ".join(q.quoted_terms) + " " + asked))
        return set(q.content_words)

    def _topic_tokens(self, q: Question) -> set[str]:
        """「それは何年から？」 after a turn about an award: the question's words and those
        of what it points at, besides the earlier turn's own asking words."""
        return self._tokens(q) | (set(tokenize(q.topic)) - _ASKING_WORDS - _QUESTION_WORDS)

    def _supported(self, q: Question, retrieval: RetrievalResult) -> bool:
        tokens = self._tokens(q)
        if all(len(t) == 1 and t.isascii() for t in tokens):
            tokens = set()  # lone letters or digits (「x」, 「A」, 「0」) would match any line holding them
        coverage = 0.0
        for hit in retrieval.chunk_hits[:5]:
            for sentence in hit.text.replace("\n", "。").split("。"):
                coverage = max(coverage, self.scorer.coverage(tokens, sentence))
        dense = max((h.scores.dense or 0.0 for h in retrieval.chunk_hits), default=0.0)
        return coverage >= SUPPORT.min_coverage or dense >= SUPPORT.min_dense

    def _focus(
        self,
        plan: AnswerPlan,
        q: Question,
        evidence: EvidenceBuilder,
        *,
        with_details: bool = False,
        limit: int = 0,
    ) -> None:
        if plan.programs:
            return
        for pid in q.program_ids[: limit or PLAN.max_focus_programs]:
            program = self.programs.get(pid)
            if program is not None:
                plan.programs.append(self._facts(program, evidence, with_description=with_details))

    def _facts(
        self, program: Program, evidence: EvidenceBuilder, with_description: bool = False
    ) -> ProgramFacts:
        facts = ProgramFacts(program, row=evidence.span("row", program.source, program_id=program.id))
        if with_description and program.description:
            facts.description = evidence.snippet(
                "description", program.source.doc_id, program.description, program_id=program.id
            )
        facts.budget_lines = _unique_lines(self.budget_lines.get(program.id, []), evidence, program.name)
        return facts

    def _quote(self, plan: AnswerPlan, picked: list[tuple[Hit, str]], evidence: EvidenceBuilder) -> None:
        for hit, sentence in picked:
            kind = "cell" if is_cell(hit) else "quote"
            eid = evidence.snippet(
                kind, hit.doc_id, sentence, near=(hit.line_start, hit.line_end), label=hit.section
            )
            if eid is not None and eid not in plan.quotes:
                plan.quotes.append(eid)
        if not plan.quotes and plan.kind == "prose" and not plan.programs:
            plan.kind = "abstain"

    def _suggestions(self, q: Question, retrieval: RetrievalResult) -> list[str]:
        """Questions the documents can answer, near the one asked (offered by an abstention)."""
        found: list[str] = []
        for hit in retrieval.hits:
            if hit.kind == "program" and hit.name:
                found.append(f"{hit.name}の概要は？")
            elif hit.section:
                heading = _topic_of(hit.section)
                if heading:
                    found.append(f"「{heading}」について教えて")
            found = list(dict.fromkeys(found))
            if len(found) >= PLAN.suggestions:
                break
        return found


#: What a sentence must hold to answer a network question the table cannot (when it began, where it sits).
_BEYOND_TABLE_SHAPES = {
    "when": re.compile(r"(?:令和|平成|昭和)\s*(?:\d+|元)\s*年|(?:19|20)\d{2}\s*年|\d+\s*月"),
    "schedule": re.compile(r"(?:令和|平成|昭和)\s*(?:\d+|元)\s*年|(?:19|20)\d{2}\s*年|\d+\s*月"),
    "place": re.compile(r"事務局|に置|所在|設置"),
}

#: How people name a document's own desk and its channels (a block prints 「F A X」, a question 「ファックス」).
_CONTACT_WORDS = (
    "問い合わせ先 連絡先 電話番号 電話 番号 ファックス ファクス FAX メール アドレス 送り先 宛先 担当"
)

#: Row attributes a yes/no question can be answered on (the conditions a question states about a program).
_YES_NO_FIELDS = (
    "applicant",
    "ministry",
    "theme",
    "new_calls",
    "min_budget",
    "max_budget",
    "has_budget",
    "stated",
)


def _figure_kind(amount_text: str, basis: str | None) -> str:
    """What a printed figure is: 【】 or a 補正 label → supplementary; a label naming one budget (令和4年度予算
    政府案, …予算案) → initial; a page title or a sum of both (…及び…補正予算額) → unlabelled."""
    label = basis or ""
    if amount_text.lstrip().startswith("【") or ("補正" in label and "及び" not in label):
        return "supplementary"
    if "予算" in label and "及び" not in label and "補正" not in label:
        return "initial"
    return "unlabelled"


def _same_name(printed: str, name: str) -> bool:
    return squash(printed).startswith(squash(name)) or squash(name).startswith(squash(printed))


def _span_key(span: TextSpan) -> tuple[str, int, int, str]:
    """Cells of one table row share their line: the text tells them apart."""
    return (span.doc_id, span.line_start, span.line_end, span.text)


def _topic_of(section: str) -> str:
    """A section heading that reads as a topic (「地域の産学官ネットワークの可視化」), or "" for slide
    markers, numbering and labels (「③-b」, 「【国交省】:－」)."""
    heading = section.split(" > ")[-1]
    heading = re.sub(r"[*#＃【】〈〉<>\[\]「」]|^[\s\d０-９①-⑳.．:：\-－ー]+", "", heading).strip(" 　")
    if len(heading) < 6 or re.search(r"[:：－―]", heading) or not re.search(r"[\u4e00-\u9fff]", heading):
        return ""
    return heading


def _names(program: Program) -> str:
    return " ".join([program.name, *program.aliases])


def _condition_words(q: Question) -> set[str]:
    words: set[str] = set()
    for c in q.conditions:
        values = c.value if isinstance(c.value, tuple) else (c.value,)
        for value in values:
            if isinstance(value, str):
                words |= set(tokenize(value))
    for word in (
        "文科省",
        "経産省",
        "農水省",
        "国交省",
        "厚労省",
        "環境省",
        "総務省",
        "内閣府",
        "自治体",
        "企業",
        "民間",
    ):
        if word in q.masked:
            words |= set(tokenize(word))
    return words


def _unique_lines(
    lines: list[BudgetLine] | tuple[BudgetLine, ...], evidence: EvidenceBuilder, name: str
) -> list[int]:
    """At most two distinct budget lines (the maps repeat the same line under every theme)."""
    chosen: list[int] = []
    seen: set[tuple[str, str]] = set()
    for line in lines:
        key = (squash(line.program_name), squash(line.amount_text))
        if len(chosen) >= 2 or key in seen:
            continue
        eid = evidence.span("budget_line", line.source, label=name)
        if eid is not None and eid not in chosen:
            seen.add(key)
            chosen.append(eid)
    return chosen


def _compared_attributes(q: Question) -> tuple[str, ...]:
    """What a comparison is about: the budget (「どちらの予算が大きい」, 「どっちが多い」), an asked attribute
    (「所管は同じ？」), or — for 「違いは？」 — everything the table rows state."""
    if q.same_attribute is not None and (q.has("same") or q.has("yes_no")):
        return (q.same_attribute,)
    measure = q.has("measure") and not q.has("same")
    by_budget = q.asks("budget") or q.has("ranking") or (q.has("compare") and measure and not q.asked)
    if by_budget and not (q.asks("ministry", "applicants", "department", "contact") or q.has("same")):
        return ("budget",)
    chosen = [
        name
        for name, asked in (
            ("ministry", q.asks("ministry") or q.has("ministry_word")),
            ("applicants", q.asks("applicants")),
            ("department", q.asks("department", "contact")),
            ("budget", q.asks("budget")),
        )
        if asked
    ]
    return tuple(chosen) or ("ministry", "applicants", "budget", "department")


#: Attributes two rows can be compared on for a same/different verdict.
_COMPARABLE = (
    "ministry",
    "applicants",
    "department",
    "contact",
    "email",
    "tel",
    "themes",
    "budget",
    "new_calls",
)


def _attribute_value(program: Program, attribute: str) -> object:
    if attribute == "ministry":
        return program.ministry
    if attribute == "applicants":
        return tuple(sorted(program.applicant_types))
    if attribute == "department":
        return squash(program.department or "")
    if attribute == "contact":
        return (tuple(sorted(program.tel)), tuple(sorted(program.email)))
    if attribute == "email":
        return tuple(sorted(e.lower() for e in program.email))
    if attribute == "tel":
        return tuple(sorted(program.tel))
    if attribute == "themes":
        return tuple(sorted(program.themes))
    if attribute == "new_calls":
        return program.new_calls
    return program.budget_thousand_yen


def _asked_label(q: Question) -> str:
    labels = {
        "budget": "予算",
        "contact": "問い合わせ先",
        "department": "担当部署",
        "applicants": "申請主体",
        "ministry": "所管",
        "new_calls": "新規採択",
    }
    for name, label in labels.items():
        if q.asks(name):
            return label
    return "概要"
