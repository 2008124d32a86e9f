"""The deterministic answer composer: Japanese answers assembled from templates and verbatim sources.

Nothing here generates free text. Program facts (申請主体, 予算額, 新規課題採択, 担当部署, TEL, e-mail) are
copied from catalog records, prose facts are sentences quoted from the documents, and every line that
states a fact carries the citation of the passage it was copied from. Templates live in
``prompts/answer_ja.toml``. The composer is a LangChain runnable (``as_runnable``), so a generative
composer can replace it later behind the same input and output types.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, ConfigDict, Field

from assistant.config import PROJECT_ROOT
from assistant.index.documents import DocumentStore
from assistant.jp_text import tokenize
from assistant.pipeline.cite import ChunkLocator, Citation, CitationBuilder
from assistant.pipeline.intents import Intent, asks_contacts, asks_program_attribute
from assistant.pipeline.quotes import (
    MIN_SENTENCE_COVERAGE,
    QuotePicker,
    answer_shape,
    is_cell,
    sentences,
    squash,
)
from assistant.pipeline.recommend import Recommendation
from assistant.pipeline.retrieve import Hit, RetrievalResult
from assistant.pipeline.scoring import SentenceScorer
from assistant.records import BudgetLine, Catalog, Program, UseCase

TEMPLATES_PATH = PROJECT_ROOT / "prompts" / "answer_ja.toml"


def load_templates(path: Path = TEMPLATES_PATH) -> dict[str, dict[str, str]]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


class ComposeInput(BaseModel):
    """Everything the composer may use: the question, its intent, retrieval, and resolved programs."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    question: str
    intent: Intent
    retrieval: RetrievalResult
    focus_programs: list[Program] = Field(default_factory=list)  # named or resolved from history
    fit_candidates: list[Recommendation] = Field(default_factory=list)
    ranked_programs: list[Program] = Field(default_factory=list)  # 「一番予算が大きい事業」, largest first
    abstain: bool = False


class AnswerDraft(BaseModel):
    answer: str
    abstained: bool
    intent: Intent
    citations: list[Citation]
    programs: list[Program]


@dataclass
class Line:
    """One line of an answer; lines with ``end='。'`` are sentences and carry their citations."""

    text: str
    cites: list[int] = field(default_factory=list)
    end: str = "。"

    def render(self) -> str:
        marks = "".join(f"[{c}]" for c in dict.fromkeys(self.cites))
        return f"{self.text}{marks}{self.end}"


class DeterministicComposer:
    def __init__(
        self,
        store: DocumentStore,
        locator: ChunkLocator,
        catalog: Catalog,
        scorer: SentenceScorer,
        templates: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.store = store
        self.locator = locator
        self.catalog = catalog
        self.scorer = scorer
        self.t = templates or load_templates()
        self.quotes = QuotePicker(store, catalog, scorer)
        self.budget_lines: dict[str, list[BudgetLine]] = {}
        for line in catalog.budget_lines:
            if line.program_id:
                self.budget_lines.setdefault(line.program_id, []).append(line)

    def as_runnable(self) -> Runnable[ComposeInput, AnswerDraft]:
        return RunnableLambda(self.compose, name="deterministic_composer")

    # -- entry point ----------------------------------------------------------------------------
    def compose(self, data: ComposeInput) -> AnswerDraft:
        cites = CitationBuilder(self.store, self.locator)
        if data.abstain:
            return self._abstain(data, cites)
        lines: list[Line]
        programs: list[Program] = []
        if data.intent == "contact" and data.focus_programs:
            programs = data.focus_programs[:3]
            lines = self._contact(programs, cites)
        elif data.intent == "figure" and data.focus_programs and not _asks_more_than_budget(data.question):
            programs = data.focus_programs[:3]
            lines = self._figure(programs, cites)
        elif data.intent == "list":
            programs = data.ranked_programs or data.retrieval.programs
            lines = self._list(data, programs, cites)
        elif data.intent in ("program_fit", "contact") and data.fit_candidates:
            programs = [r.program for r in data.fit_candidates if r.program is not None]
            lines = self._fit(data, cites)
        elif data.focus_programs:
            programs = data.focus_programs[:3]
            lines = self._program_facts(data, programs, cites)
        else:
            lines = self._fact(data, cites)
        if not any(line.cites for line in lines):
            return self._abstain(data, cites)
        return AnswerDraft(
            answer=_render(lines),
            abstained=False,
            intent=data.intent,
            citations=cites.citations,
            programs=programs,
        )

    # -- kinds of answers -----------------------------------------------------------------------
    def _abstain(self, data: ComposeInput, cites: CitationBuilder) -> AnswerDraft:
        t = self.t["abstain"]
        text = t["no_support"]
        topics = _nearest_topics(data.retrieval.hits)
        if topics:
            text += "\n" + t["nearest_topics"] + "\n" + "\n".join(f"・{topic}" for topic in topics)
        return AnswerDraft(answer=text, abstained=True, intent=data.intent, citations=[], programs=[])

    def _program_block(
        self, index: int, program: Program, cites: CitationBuilder, *, why: list[Line]
    ) -> list[Line]:
        t = self.t["program"]
        heading, row_cites = self._heading(index, program, cites)
        lines = [heading, *why]
        if program.applicant_types:
            lines.append(
                Line(
                    t["applicants"].format(applicants="、".join(program.applicant_types))
                    + self._applicant_note(program),
                    row_cites,
                )
            )
        lines.extend(self._budget_lines(program, row_cites, cites))
        if program.new_calls is not None:
            lines.append(Line(t["new_calls_yes"] if program.new_calls else t["new_calls_no"], row_cites))
        lines.extend(self._contact_lines(program, row_cites))
        return lines

    def _heading(self, index: int, program: Program, cites: CitationBuilder) -> tuple[Line, list[int]]:
        """「【n】name（ministry）」 citing the program's table row, and that row's citation for its facts."""
        row = cites.span(program.source)
        row_cites = [row] if row else []
        heading = self.t["program"]["heading"].format(
            index=index, name=program.name, ministry=program.ministry or "所管不明"
        )
        return Line(heading, row_cites, end="\n"), row_cites  # the ministry is a fact too: the row says so

    def _applicant_note(self, program: Program) -> str:
        t = self.t["program"]
        kinds = " ".join(program.applicant_types)
        if "大学等研究機関" in kinds:
            return t["applicants_university"]
        if "官民コンソーシアム" in kinds:
            return t["applicants_consortium"]
        if "研究者" in kinds:
            return t["applicants_researcher"]
        if "自治体" in kinds:
            return t["applicants_municipality"]
        if "民間事業者" in kinds:
            return t["applicants_company"]
        return ""

    def _budget_lines(self, program: Program, row_cites: list[int], cites: CitationBuilder) -> list[Line]:
        t = self.t["program"]
        lines = []
        if program.budget_thousand_yen is not None:
            budget = f"{program.budget_thousand_yen:,}千円" + (
                f"（{program.budget_note}）" if program.budget_note else ""
            )
            lines.append(Line(t["budget"].format(budget=budget), row_cites))
        shown: set[tuple[str, str]] = set()
        for budget_line in self.budget_lines.get(program.id, []):
            key = (squash(budget_line.program_name), squash(budget_line.amount_text))
            if len(shown) >= 2 or key in shown:  # the maps repeat the same line under every theme
                continue
            cid = cites.span(budget_line.source)
            if cid:
                shown.add(key)
                quote = squash(cites.citations[cid - 1].quote)
                lines.append(Line(t["budget_line"].format(quote=quote), [cid]))
        return lines

    def _contact_lines(self, program: Program, row_cites: list[int]) -> list[Line]:
        t = self.t["program"]
        lines = []
        if program.department or program.ministry:
            lines.append(
                Line(
                    t["department"].format(department=_department(program)).strip(),
                    row_cites,
                )
            )
        contacts = [f"TEL：{tel}" for tel in program.tel] + [f"mail：{mail}" for mail in program.email]
        lines.append(
            Line(
                t["contact"].format(contacts="／".join(contacts)) if contacts else t["no_contact"], row_cites
            )
        )
        return lines

    def _contact(self, programs: list[Program], cites: CitationBuilder) -> list[Line]:
        lines: list[Line] = []
        for program in programs:
            row = cites.span(program.source)
            row_cites = [row] if row else []
            intro = self.t["contact"]["intro"].format(name=program.name)
            lines.append(Line(("\n" if lines else "") + intro, end="：\n"))
            lines.extend(self._contact_lines(program, row_cites))
        return lines

    def _figure(self, programs: list[Program], cites: CitationBuilder) -> list[Line]:
        lines: list[Line] = []
        for program in programs:
            row = cites.span(program.source)
            intro = self.t["figure"]["intro"].format(name=program.name)
            lines.append(Line(("\n" if lines else "") + intro, end="：\n"))
            lines.extend(self._budget_lines(program, [row] if row else [], cites))
        return lines

    def _list(self, data: ComposeInput, programs: list[Program], cites: CitationBuilder) -> list[Line]:
        t = self.t["list"]
        conditions = _describe_conditions(data.retrieval)
        if not programs:
            # Saying that the catalog has no such program is itself grounded in the catalog's tables.
            return [Line(t["none"].format(conditions=conditions), end="")]
        intro = t["ranked_intro"] if data.ranked_programs else t["intro"]
        lines = [Line(intro.format(conditions=conditions, count=len(programs)) + "：", end="\n")]
        with_contacts = asks_contacts(data.question)
        for program in programs:
            row = cites.span(program.source)
            budget = (
                f"{program.budget_thousand_yen:,}千円"
                if program.budget_thousand_yen is not None
                else "記載なし"
            )
            if program.budget_note and program.budget_thousand_yen is not None:
                budget += f"（{program.budget_note}）"
            new_calls = {True: "有", False: "無", None: "記載なし"}[program.new_calls]
            contacts = "／".join(
                [f"TEL：{tel}" for tel in program.tel] + [f"mail：{m}" for m in program.email]
            )
            item = t["item_contact"] if with_contacts else t["item"]
            lines.append(
                Line(
                    item.format(
                        name=program.name,
                        ministry=program.ministry or "所管不明",
                        applicants="、".join(program.applicant_types) or "記載なし",
                        budget=budget,
                        new_calls=new_calls,
                        department=_department(program) or "記載なし",
                        contacts=contacts or "電話番号・メールアドレスの記載なし",
                    ),
                    [row] if row else [],
                )
            )
        return lines

    def _fit(self, data: ComposeInput, cites: CitationBuilder) -> list[Line]:
        t = self.t["fit"]
        lines = [Line(t["intro"], end="：\n")]
        for index, rec in enumerate(data.fit_candidates, start=1):
            if rec.program is not None:
                why = self._why(rec.program, rec.use_case, data, cites)
                lines.extend(self._program_block(index, rec.program, cites, why=why))
            else:
                lines.extend(self._target_block(index, rec, cites))
        return lines

    def _target_block(self, index: int, rec: Recommendation, cites: CitationBuilder) -> list[Line]:
        """A measure the package names only on a goal ⇒ program line: what the corpus says, and that it
        gives no applicant, department or contact for it (never filled in from elsewhere)."""
        t = self.t["program"]
        cid = cites.span(rec.use_case.source) if rec.use_case else None
        if not cid or rec.use_case is None:
            return []
        goal = _as_wish(rec.use_case.goal)
        lines = [
            Line(self.t["fit"]["target_heading"].format(index=index, name=rec.name), [cid], end="\n"),
            Line(t["fit_use_case"].format(goal=goal), [cid]),
        ]
        shown: set[str] = set()
        for budget_line in rec.budget_lines:
            bid = cites.span(budget_line.source)
            quote = squash(cites.citations[bid - 1].quote) if bid else ""
            if bid and quote not in shown and len(shown) < 2:
                shown.add(quote)
                lines.append(Line(t["budget_line"].format(quote=quote), [bid]))
        lines.append(Line(self.t["fit"]["target_no_row"], end="\n"))
        return lines

    def _program_facts(
        self, data: ComposeInput, programs: list[Program], cites: CitationBuilder
    ) -> list[Line]:
        """A named program: what the prose says about the question first (「いつから…」, 「どの地域で…」),
        then the program's card from the catalog."""
        lines: list[Line] = []
        name_tokens = {
            tok for program in programs for tok in tokenize(" ".join([program.name, *program.aliases]))
        }
        # An attribute (所管, 申請主体, 予算, 連絡先, 新規採択) is answered by the table row in the card below.
        # When / how many (「いつから新規公募が…」「いくつの地域が採択」) is prose, even with an attribute word.
        attribute_only = asks_program_attribute(data.question) and answer_shape(data.question) is None
        if set(tokenize(data.question)) - name_tokens and not attribute_only:
            # A question about the prose (「両方に採択された地域はどこの県？」) is answered by it even when the
            # passage covers less of the question: the cards would answer something that was not asked.
            floor = PROSE_ABOUT_PROGRAM_MIN_COVERAGE if data.intent != "fact" else MIN_SENTENCE_COVERAGE
            lines = self._fact(data, cites, exclude=name_tokens, min_score=floor)
        names = "、".join(program.name for program in programs)
        if lines:
            # The prose answers the question; the programs' cards still go to the UI.
            lines[0] = Line(self.t["fact"]["intro_about"].format(names=names), end="：\n")
            return lines
        if data.intent == "fact" and set(tokenize(data.question)) - name_tokens and not attribute_only:
            # Asked about something the passages do not say: say so, and give only each program's table row.
            lines = [Line(self.t["fact"]["no_prose_about"].format(names=names), end="：\n")]
            for index, program in enumerate(programs, start=1):
                lines.extend(self._row_summary(index, program, cites))
            return lines
        for index, program in enumerate(programs, start=1):
            lines.extend(
                self._program_block(index, program, cites, why=self._why(program, None, data, cites))
            )
        return lines

    def _row_summary(self, index: int, program: Program, cites: CitationBuilder) -> list[Line]:
        """A program's heading, applicants and contact, all from its one table row (one citation)."""
        t = self.t["program"]
        heading, row_cites = self._heading(index, program, cites)
        lines = [heading]
        if program.applicant_types:
            applicants = t["applicants"].format(applicants="、".join(program.applicant_types))
            lines.append(Line(applicants, row_cites))
        lines.extend(self._contact_lines(program, row_cites))
        return lines

    def _why(
        self, program: Program, use_case: UseCase | None, data: ComposeInput, cites: CitationBuilder
    ) -> list[Line]:
        t = self.t["program"]
        lines = []
        if use_case is not None:
            cid = cites.span(use_case.source)
            if cid:
                lines.append(
                    Line(
                        t["fit_use_case"].format(goal=_as_wish(use_case.goal)),
                        [cid],
                    )
                )
        if program.description:
            cid = cites.snippet(program.source.doc_id, program.description)
            if cid:
                lines.append(Line(t["fit_description"].format(description=program.description), [cid]))
        if not lines:
            evidence = self._best_sentence_about(program, data)
            if evidence is not None:
                hit, sentence = evidence
                cid = cites.snippet(hit.doc_id, sentence, near=(hit.line_start, hit.line_end))
                if cid:
                    lines.append(Line(t["fit_evidence"].format(quote=_display(sentence)), [cid]))
        return lines

    def _best_sentence_about(self, program: Program, data: ComposeInput) -> tuple[Hit, str] | None:
        question_tokens = set(tokenize(data.question))
        best: tuple[float, Hit, str] | None = None
        for hit in data.retrieval.chunk_hits[:8]:
            for sentence in sentences(hit.text):
                if program.name not in sentence or len(sentence) < 15 or not self.quotes.quotable(sentence):
                    continue
                score = self.scorer.coverage(question_tokens, sentence)
                if best is None or score > best[0]:
                    best = (score, hit, sentence)
        return (best[1], best[2]) if best else None

    def _fact(
        self,
        data: ComposeInput,
        cites: CitationBuilder,
        exclude: set[str] | None = None,
        min_score: float | None = None,
    ) -> list[Line]:
        t = self.t["fact"]
        picked = self.quotes.pick(
            data.question, data.retrieval.chunk_hits[:5], limit=3, exclude=exclude, min_score=min_score
        )
        lines = [Line(t["intro"], end="：\n")] if picked else []
        for hit, sentence in picked:
            cid = cites.snippet(hit.doc_id, sentence, near=(hit.line_start, hit.line_end))
            if cid:
                title = self.store.get(hit.doc_id).info.title  # type: ignore[union-attr]
                if is_cell(hit):
                    item = t["cell"].format(label=hit.section, quote=sentence, title=title)
                else:
                    item = t["item"].format(quote=_display(sentence), title=title)
                lines.append(Line(item, [cid]))
        return lines


#: Prose about a named program (besides the card) is quoted when it covers this share of the words
#: besides the program's name.
PROSE_ABOUT_PROGRAM_MIN_COVERAGE = 0.5


_NOT_BUDGET = re.compile(r"新規|採択|申請|応募|対象|所管|担当|連絡|問い?合わ?せ|電話|メール")


def _asks_more_than_budget(question: str) -> bool:
    """「新規の課題採択はありますか？予算額も」 wants the whole card, not only the budget lines."""
    return bool(_NOT_BUDGET.search(question))


def _display(sentence: str) -> str:
    """A sentence as shown inside 「」: no leading bullet mark, no closing 。."""
    return sentence.lstrip("・•◆➢✓-－○●■□◇▶► \u3000").rstrip("。")


def _as_wish(goal: str) -> str:
    """A goal line as a wish for 「…したい」場合: 「…進めたい」 stays, 「…体制づくり」 becomes 「…体制づくりをしたい」."""
    goal = goal.strip().rstrip("、。")
    return goal if goal.endswith("たい") else f"{goal}をしたい"


def _department(program: Program) -> str:
    """The department as printed; the ministry is prefixed only when the printed name lacks it."""
    department, ministry = program.department or "", program.ministry or ""
    return (
        department if not ministry or department.startswith(ministry) else f"{ministry} {department}".strip()
    )


def _render(lines: list[Line]) -> str:
    """Lines joined; each ・ item and 【n】 block starts on its own line for a human reader."""
    text = "".join(line.render() for line in lines).strip()
    return re.sub(r"。(?=[・【])", "。\n", text)


def _nearest_topics(hits: list[Hit]) -> list[str]:
    topics: list[str] = []
    for hit in hits:
        topic = hit.name if hit.kind == "program" else (hit.section.split(" > ")[-1] if hit.section else "")
        if topic and topic not in topics:
            topics.append(topic)
        if len(topics) >= 3:
            break
    return topics


def _describe_conditions(retrieval: RetrievalResult) -> str:
    c = retrieval.conditions
    parts = []
    if c.ministry:
        parts.append(f"所管：{c.ministry}")
    if c.applicant_type:
        parts.append(f"申請主体：{c.applicant_type}")
    if c.theme:
        parts.append(f"テーマ：{c.theme}")
    if c.min_budget is not None:
        parts.append(f"予算額{c.min_budget:,}千円{'以上' if c.min_inclusive else '超'}")
    if c.max_budget is not None:
        parts.append(f"予算額{c.max_budget:,}千円{'以下' if c.max_inclusive else '未満'}")
    if c.new_calls is not None:
        parts.append("新規課題採択：" + ("有" if c.new_calls else "無"))
    return "、".join(parts) or "指定なし"


def as_runnable(composer: Any) -> Runnable[ComposeInput, AnswerDraft]:
    """Any object with ``compose(ComposeInput) -> AnswerDraft`` as a LangChain runnable."""
    return RunnableLambda(composer.compose)
