"""The generative composers ("openai", "local"): an LLM writes the answer from the plan and its evidence,
and every sentence is verified before anyone sees it.

The model gets the plan (its kind, the verdict or winner, what is asked) and the numbered evidence only,
and must end each sentence with the ids it rests on (``[E3]``). Sentences are checked as they stream in
(:mod:`assistant.pipeline.compose.verify`); a failing one is dropped. Verified sentences are held back until
the kept ones answer the question (the verdict, the winner, the leading program …) and flow from then on,
so nothing shown is ever taken back. When the kept sentences never answer — or the endpoint is down,
slow past the timeout, malformed or refuses — the deterministic answer is given, with a note saying why.
Plans that abstain, ask back or say what the documents do not state get no generated facts at all.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Protocol

from assistant.config import Settings
from assistant.pipeline.compose import COMPOSERS, AnswerDraft, Line
from assistant.pipeline.compose.deterministic import DeterministicComposer
from assistant.pipeline.compose.format import PROMPTS, budget_text, contacts_text, department_text
from assistant.pipeline.compose.llm import ChatBackend, LLMError, LocalLlama, Message, OpenAIChat, bounded
from assistant.pipeline.compose.verify import (
    Sentence,
    SentenceCheck,
    SentenceSplitter,
    Verification,
    Verifier,
    parse_sentence,
)
from assistant.pipeline.conditions import describe
from assistant.pipeline.evidence import Evidence
from assistant.pipeline.matching import ProgramMatcher
from assistant.pipeline.plan import AnswerPlan
from assistant.records import Program

log = logging.getLogger("assistant.pipeline.compose.generative")

#: Why the deterministic answer is given although generation was not even tried (by design, not a failure).
DELEGATED = ("plan_abstains", "no_evidence", "too_much_evidence")

_KINDS = {
    "fit": "目的に合う事業の紹介（最初に挙げた事業が最も合う）",
    "list": "条件に合う事業の一覧（すべての事業に触れる）",
    "ranking": "予算額の順位（最初が1位）",
    "compare": "事業の比較",
    "yes_no": "はい／いいえで答える質問",
    "attribute": "事業の属性（申請主体・予算額・新規採択など）",
    "contact": "事業の担当部署と連絡先",
    "prose": "資料の記述に基づく説明",
}
_ASKED = {
    "budget": "予算額",
    "contact": "連絡先",
    "department": "担当部署",
    "applicants": "申請主体",
    "ministry": "所管",
    "new_calls": "新規採択",
    "themes": "テーマ",
    "overview": "概要",
}
_NOTES = {
    "unavailable": "生成AIに接続できなかったため",
    "timeout": "生成AIの回答が時間内に終わらなかったため",
    "malformed": "生成AIの回答が根拠番号の付いた文になっていなかったため",
    "refusal": "生成AIが回答を断ったため",
    "error": "生成AIの回答を処理できなかったため",
    "nothing_verified": "生成AIの文がどれも根拠との照合を通らなかったため",
    "incomplete": "照合を通った文だけでは質問に答えきれないため",
    "plan_abstains": "資料に答えが見当たらない質問のため",
    "no_evidence": "根拠となる記載がないため",
    "too_much_evidence": "根拠が多く、一覧は定型の形のほうが確実なため",
}
_REFUSAL = re.compile(
    r"申し訳|お答えできません|回答できません|答えられません|I'm sorry|I am sorry|I cannot|I can't", re.I
)


class ComposerContext(Protocol):
    """What a generative composer needs from the process's AnswerService."""

    settings: Settings
    programs: dict[str, Program]
    matcher: ProgramMatcher


@dataclass
class VerifiedDraft(AnswerDraft):
    """A draft with how it was verified (the service copies it into the response)."""

    verification: Verification | None = None


@dataclass
class _Run:
    """One generation in progress: every sentence's check, the kept lines, the lines held back."""

    checks: list[SentenceCheck] = field(default_factory=list)
    kept: list[Sentence] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    held: list[Line] = field(default_factory=list)
    answered: bool = False
    cited_any: bool = False
    text: str = ""


class GenerativeComposer:
    """Writes with a chat backend, verifies each sentence, falls back to the deterministic composer."""

    def __init__(
        self, context: ComposerContext, backend: Callable[[Settings], ChatBackend], name: str
    ) -> None:
        self.name = name
        self.settings = context.settings
        self.fallback = DeterministicComposer()
        self.verifier = Verifier(context.programs, context.matcher)
        self.programs = context.programs
        self.backend: ChatBackend | None = None
        try:
            self.backend = backend(context.settings)
        except LLMError as exc:
            log.error("the %s composer cannot generate (%s); answers will be deterministic", name, exc)

    def compose(self, plan: AnswerPlan) -> VerifiedDraft:
        draft: VerifiedDraft | None = None
        for item in self.stream(plan):
            if isinstance(item, VerifiedDraft):
                draft = item
        assert draft is not None
        return draft

    def stream(self, plan: AnswerPlan) -> Iterator[Line | VerifiedDraft]:
        """Verified lines as soon as they may be shown, then the finished draft (always last)."""
        skip = self._skip(plan)
        if skip is not None:
            yield self._deterministic(plan, skip, _Run())
            return
        assert self.backend is not None
        run = _Run()
        splitter = SentenceSplitter()
        failure: LLMError | None = None
        generate = partial(self.backend.stream, self.messages(plan))
        try:
            for piece in bounded(generate, self.settings.llm_timeout_s):
                run.text += piece
                for raw in splitter.feed(piece):
                    yield from self._take(raw, plan, run)
            for raw in splitter.flush():
                yield from self._take(raw, plan, run)
        except LLMError as exc:
            failure = exc
            log.warning("generation by the %s composer stopped: %s", self.name, exc.reason)
        except Exception:  # a bug here must not cost the user the answer: the deterministic one instead
            log.exception("verifying a generated answer failed")
            failure = LLMError("error", "the generated answer could not be processed")
        if run.answered:
            yield self._generated(plan, run, failure)
            return
        reason = failure.reason if failure is not None else self._why_unanswered(run)
        yield self._deterministic(plan, reason, run)

    # -- pieces ----------------------------------------------------------------------------------------
    def _skip(self, plan: AnswerPlan) -> str | None:
        if plan.kind in ("abstain", "clarify") or plan.abstained:
            return "plan_abstains"
        if not plan.evidence:
            return "no_evidence"
        if len(plan.evidence) > self.settings.llm_max_evidence:
            return "too_much_evidence"
        if self.backend is None:
            return "unavailable"
        return None

    def _take(self, raw: str, plan: AnswerPlan, run: _Run) -> Iterator[Line]:
        sentence = parse_sentence(raw)
        if sentence is None:
            return
        run.cited_any = run.cited_any or bool(sentence.cites)
        reason = self.verifier.check(sentence, plan)
        if reason is not None:
            run.checks.append(SentenceCheck(cites=sentence.cites, kept=False, reason=reason))
            return
        run.checks.append(SentenceCheck(text=sentence.text, cites=sentence.cites, kept=True))
        run.kept.append(sentence)
        end = "." if plan.question.language == "en" else "。"
        line = Line(sentence.text, sentence.cites, end="" if sentence.text[-1] in "！？!?" else end)
        run.lines.append(line)
        if run.answered:
            yield line
            return
        run.held.append(line)
        if self.verifier.answers(run.kept, plan):
            run.answered = True
            yield from run.held
            run.held = []

    def _why_unanswered(self, run: _Run) -> str:
        if not run.cited_any:
            return "refusal" if _REFUSAL.search(run.text) else "malformed"
        if not run.kept:
            return "nothing_verified"
        return "incomplete"

    def _generated(self, plan: AnswerPlan, run: _Run, failure: LLMError | None) -> VerifiedDraft:
        note = ""
        if failure is not None:
            note = f"生成が途中で止まりました（{failure.reason}）。照合を通った文までを表示しています。"
        return VerifiedDraft(
            lines=run.lines,
            programs=_cards(plan),
            composer=self.name,
            note=note,
            verification=self._verification(
                run, answered_by=self.name, fallback=False, reason=None, note=note
            ),
        )

    def _deterministic(self, plan: AnswerPlan, reason: str, run: _Run) -> VerifiedDraft:
        draft = self.fallback.compose(plan)
        note = f"{_NOTES.get(reason, reason)}、資料の記載に基づく定型の回答を表示しています。"
        return VerifiedDraft(
            lines=draft.lines,
            programs=draft.programs,
            composer=draft.composer,
            note=note,
            verification=self._verification(
                run, answered_by=draft.composer, fallback=reason not in DELEGATED, reason=reason, note=note
            ),
        )

    def _verification(
        self, run: _Run, answered_by: str, fallback: bool, reason: str | None, note: str
    ) -> Verification:
        kept = sum(c.kept for c in run.checks)
        return Verification(
            composer=self.name,
            answered_by=answered_by,
            kept=kept,
            dropped=len(run.checks) - kept,
            fallback=fallback,
            reason=reason,
            note=note,
            sentences=run.checks,
        )

    # -- the prompt -----------------------------------------------------------------------------------
    def messages(self, plan: AnswerPlan) -> list[Message]:
        """The system rules and the user turn: the question, the plan, the numbered evidence."""
        system, user = _templates()
        language = plan.question.language
        rule = (
            "Answer in English. Keep program names, department names and quoted text in Japanese, exactly as "
            "the evidence prints them."
            if language == "en"
            else "日本語で答える。"
        )
        return [
            {"role": "system", "content": system.substitute(language_rule=rule)},
            {
                "role": "user",
                "content": user.substitute(
                    question=plan.question.text,
                    kind=_KINDS.get(plan.kind, plan.kind),
                    plan_lines="".join(f"{line}\n" for line in self.plan_lines(plan)),
                    evidence="\n".join(self.evidence_line(item) for item in plan.evidence),
                ),
            },
        ]

    def plan_lines(self, plan: AnswerPlan) -> list[str]:
        lines = []
        if plan.programs:
            lines.append("対象の事業: " + "、".join(f.program.name for f in plan.programs))
        if plan.targets:
            lines.append("表にない施策: " + "、".join(t.name for t in plan.targets))
        conditions = describe(plan.conditions) if any(c.role != "background" for c in plan.conditions) else ""
        if conditions:
            lines.append(f"条件: {conditions}")
        asked = [_ASKED[a] for a in plan.asked if a in _ASKED]
        if asked:
            lines.append("聞かれていること: " + "、".join(asked))
        if plan.verdict is not None:
            if plan.kind == "compare":
                lines.append("結論: " + ("同じです" if plan.verdict == "yes" else "異なります"))
            else:
                lines.append("結論: " + ("はい" if plan.verdict == "yes" else "いいえ"))
        if plan.winner is not None and plan.winner in self.programs:
            more = "小さい" if plan.question.ranking_ascending else "大きい"
            lines.append(f"結論: 予算額が最も{more}のは{self.programs[plan.winner].name}")
        return lines

    def evidence_line(self, item: Evidence) -> str:
        """``[E3] (row, name) 項目…／原文「…」``: a catalog row with its fields, other evidence as quoted."""
        program = self.programs.get(item.program_id or "") if item.kind == "row" else None
        if program is None:
            return item.as_prompt()
        fields = [
            f"事業名：{program.name}",
            f"所管：{program.ministry or '記載なし'}",
            f"申請主体：{'、'.join(program.applicant_types) or '記載なし'}",
            f"予算額：{budget_text(program, with_basis=False) or '記載なし'}",
            f"新規採択：{ {True: '有', False: '無', None: '記載なし'}[program.new_calls] }",
            f"担当：{department_text(program) or '記載なし'}",
            f"連絡先：{contacts_text(program) or '記載なし'}",
        ]
        quote = " ".join(item.quote.split())
        return f"[E{item.id}] (表の行, {program.name}) {'／'.join(fields)}\n    原文「{quote}」"


@cache
def _templates() -> tuple[string.Template, string.Template]:
    system = (PROMPTS / "generate_system.txt").read_text(encoding="utf-8")
    user = (PROMPTS / "generate_user.txt").read_text(encoding="utf-8")
    return string.Template(system), string.Template(user)


def _cards(plan: AnswerPlan) -> list[Program]:
    return [f.program for f in plan.programs] if plan.kind not in ("abstain", "clarify") else []


@COMPOSERS.register("openai")
def openai_composer(context: ComposerContext) -> GenerativeComposer:
    """An OpenAI-compatible chat endpoint (``ASSISTANT_LLM_BASE_URL``, ``…_MODEL``, ``…_API_KEY``)."""
    return GenerativeComposer(context, OpenAIChat, "openai")


@COMPOSERS.register("local")
def local_composer(context: ComposerContext) -> GenerativeComposer:
    """A GGUF model in process (``ASSISTANT_LLM_MODEL_PATH``, default: the packaged Gemma 3 270M)."""
    return GenerativeComposer(context, LocalLlama, "local")
