"""Stage 3½, check: did the plan answer what was asked?

A plan can be internally consistent and still answer another question: a はい about the ministry when the
department was asked, a list that quietly ignores 「10件以上」, a member list for a network the question
only asked the start date of, a neighbour's budget for a program name the documents never print. Those are
the answers a help desk cannot forgive, so every plan passes this stage between plan and compose.

The stage is shaped like a validator that routes rather than raises. Each rule in :data:`CHECKS` is a small
function of the plan that returns a :class:`Finding`; the findings are combined into one
:class:`AnswerCheck` (returned by the API in the plan, beside its reasons), and :func:`degrade` turns the
plan into what is safe to say:

* a verdict or winner the question did not ask for is withdrawn (the cited rows stay);
* a name the documents do not print makes the answer not-found (abstained), with the nearest real names
  offered as other things;
* a phrase shaped like a condition that no condition was read from is named in the answer as not applied.

Degrading is one-way: a kind is never upgraded, the evidence is never changed, and checking a checked plan
changes nothing (the rules read the question, which degrading does not touch).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from assistant.pipeline.names import UnknownName
from assistant.pipeline.plan import AnswerPlan, PlanKind

#: Kinds that apply the question's conditions to the catalog (so a condition left out changes the answer).
_APPLYING = frozenset({"list", "ranking", "fit", "yes_no"})
#: Kinds that answer nothing yet, or already say the documents do not: nothing to withdraw.
_SILENT = frozenset({"abstain", "clarify", "not_found"})


@dataclass(frozen=True)
class AnswerCheck:
    """What the check found. Empty when the plan answers what was asked."""

    vetoed: tuple[str, ...] = ()  # why a verdict or winner was withdrawn
    unapplied: tuple[str, ...] = ()  # the question's condition-like words no condition was read from
    unknown: tuple[UnknownName, ...] = ()  # names the question asks about that the documents do not print
    degraded_from: PlanKind | None = None  # the kind before degrading, when it changed

    @property
    def clean(self) -> bool:
        return not (self.vetoed or self.unapplied or self.unknown)

    def view(self) -> dict[str, object]:
        return {
            "vetoed": list(self.vetoed),
            "unapplied": list(self.unapplied),
            "unknown": [u.text for u in self.unknown],
            "degraded_from": self.degraded_from,
        }


@dataclass(frozen=True)
class Finding:
    """One rule's result: a verdict to withdraw, conditions not applied, names not found."""

    veto: str = ""
    unapplied: tuple[str, ...] = ()
    unknown: tuple[UnknownName, ...] = ()


Check = Callable[[AnswerPlan], Finding]


def names_known(plan: AnswerPlan) -> Finding:
    """A name the question asks about must stand in the documents (the reader looked each one up)."""
    if plan.kind in ("clarify",):
        return Finding()
    return Finding(unknown=plan.question.unknown)  # what the planner found missing it has answered already


def verdict_on_asked(plan: AnswerPlan) -> Finding:
    """A はい/いいえ, a 同じ/異なる or a winner only on what the question asks about."""
    q = plan.question
    if plan.verdict is None and plan.winner is None:
        return Finding()
    if plan.kind == "compare" and plan.verdict is not None and plan.verdict_attribute != q.same_attribute:
        return Finding(
            veto=f"the question compares {q.same_attribute or 'nothing it names'}, "
            f"not {plan.verdict_attribute}"
        )
    if plan.kind == "yes_no" and plan.verdict_attributes == ("claim",):
        return Finding()  # the claim was read from the question's own words: it is what was asked
    if plan.kind == "yes_no":
        asked = {c.field for c in q.conditions if c.role != "background"}
        if q.asks("new_calls"):
            asked.add("new_calls")
        beyond = [a for a in plan.verdict_attributes if a not in asked]
        if beyond:
            return Finding(veto=f"the verdict turns on {', '.join(beyond)}, which the question does not ask")
        joining = [
            c.phrase
            for c in q.conditions
            if c.field == "applicant" and c.role != "background" and _TAKING_PART.search(c.phrase)
        ]
        if (
            "applicant" in plan.verdict_attributes
            and joining
            and not any(_APPLYING_WORDS.search(p) for p in joining)
        ):
            # 「企業も参加できますか」 asks about taking part; the row says who may apply — not the same thing.
            return Finding(veto="the question asks about taking part; the table states who may apply")
        unstated = sorted(q.asked & _UNSTATED)
        if unstated:
            return Finding(veto=f"the question asks about {', '.join(unstated)}, which no row states")
    if plan.kind in ("ranking",) and plan.winner is not None and not q.has("ranking"):
        return Finding(veto="a winner, but the question asks for no superlative")
    return Finding()


def conditions_applied(plan: AnswerPlan) -> Finding:
    """Every phrase of the question shaped like a condition on programs was read as one, or is named."""
    if plan.kind not in _APPLYING or plan.verdict_attributes == ("claim",):
        return Finding()  # a claim judged on a quote is not a condition on programs
    read_from = [c.phrase for c in plan.question.conditions if c.phrase and c.role != "background"]
    unapplied = tuple(phrase for phrase in plan.question.condition_phrases if not _applied(phrase, read_from))
    return Finding(unapplied=unapplied)


def _applied(phrase: str, read_from: list[str]) -> bool:
    """The phrase is explained by the words conditions were read from: what remains of it once they are taken
    out holds no word of its own (「東北地方の大学向け」 minus 「大学向け」 leaves 「東北地方」: not applied)."""
    rest = phrase
    for words in read_from:
        for piece in (w for w in words.split("、") if w):
            if phrase in piece:
                return True
            rest = rest.replace(piece, "")
    return not re.search(r"[一-龥ァ-ヶーA-Za-z0-9０-９]{2,}", _SHAPE_WORDS.sub("", rest))


#: The words that make a phrase condition-shaped, and particles: no condition of their own.
_SHAPE_WORDS = re.compile(
    r"以上|以下|未満|以内|超え?る?|を超える|上回る|下回る|より多い|より少ない|に満たない|まで|のみ|だけ|しか|限定|に限る|"
    r"に限って|に限定|以外|を除く|を除いて|は除く|ではない|向け|を対象|等|[のにがはをでとも]"
)


_TAKING_PART = re.compile(r"参加|参画|加わ|関わ|協力|連携|\bjoin|\bparticipat|\btake part")
_APPLYING_WORDS = re.compile(r"申請|応募|申し込|主体|手を挙げ|出せ|出す|\bappl")

#: Attributes no table row states (asked in a yes/no question, its verdict cannot come from the row).
_UNSTATED = frozenset({"deadline", "schedule", "person", "later_round", "result", "terms"})

CHECKS: tuple[Check, ...] = (names_known, verdict_on_asked, conditions_applied)


class AnswerChecker:
    """Runs every rule on a plan and degrades it to what is safe to say. Stateless; thread-safe."""

    def __init__(self, checks: Sequence[Check] = CHECKS) -> None:
        self.checks = tuple(checks)

    def check(self, plan: AnswerPlan) -> AnswerPlan:
        if plan.check is not None:
            return plan  # checked already: degrading is done once
        findings = [rule(plan) for rule in self.checks]
        report = AnswerCheck(
            vetoed=tuple(f.veto for f in findings if f.veto),
            unapplied=tuple(dict.fromkeys(p for f in findings for p in f.unapplied)),
            unknown=tuple({u.text: u for f in findings for u in f.unknown}.values()),
        )
        return degrade(plan, report)


def degrade(plan: AnswerPlan, report: AnswerCheck) -> AnswerPlan:
    """The plan with what the report withdraws taken out (a new plan; the input is not changed)."""
    kind: PlanKind = plan.kind
    changes: dict[str, object] = {}
    reasons = list(plan.reasons)
    if report.vetoed and plan.kind not in _SILENT:
        changes.update(verdict=None, winner=None)
        reasons.extend(f"check: verdict withdrawn — {why}" for why in report.vetoed)
        if plan.kind == "yes_no":
            kind = "attribute"  # the row, without a はい/いいえ on something else
    if report.unknown and plan.kind not in (
        "clarify",
        "not_found",
    ):  # an abstention becomes the sharper not-found
        names = "、".join(u.text for u in report.unknown)
        if not plan.question.named_ids:
            kind = "not_found"
            nearest = tuple(dict.fromkeys(n for u in report.unknown for n in u.nearest))
            changes.update(verdict=None, winner=None, nearest=nearest, programs=[], targets=[], network=None)
            if any(u.kind != "round" for u in report.unknown):
                # Passages found for a name the documents do not print are about something else; for a round
                # they do not print (第二弾), what they say of the rounds they do print is kept.
                changes["quotes"] = []
            reasons.append(f"check: not found in the documents — {names}")
        else:
            changes.update(verdict=None, winner=None)
            reasons.append(f"check: {names} not found in the documents; the named programs are answered")
    if report.unapplied:
        reasons.append("check: not applied as conditions — " + "、".join(report.unapplied))
    if kind != plan.kind:
        changes["kind"] = kind
    return replace(
        plan,
        **changes,
        reasons=reasons,
        check=replace(report, degraded_from=plan.kind if kind != plan.kind else None),
    )
