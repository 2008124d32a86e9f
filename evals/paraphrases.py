"""Paraphrase consistency: the same question asked three ways must get the same kind of answer about the
same program (``evals/paraphrases.jsonl``).

Users phrase one need in many ways — keigo or colloquial, short or long, another word order, English,
a program name in kana — and the answer plan must not depend on the phrasing. A group is consistent when
all its answers have the same plan kind (``plan.kind``, else ``intent``) and the same leading program
(``programs[0].name``, or none for all of them). Consistency is gated (``paraphrase_consistency`` in
``evals/thresholds.toml``); agreement with the group's expected kind and program is reported beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals.dataset import CaseFileError, Filters, NonEmpty, PlanKind, Turn, normalize
from evals.metrics import answer_kind, leading_program

#: Paraphrases per group: a group of one or two measures nothing.
MIN_PARAPHRASES = 3


class ParaphraseGroup(BaseModel):
    """One need, asked several ways, with the plan every phrasing must get."""

    model_config = ConfigDict(extra="forbid")

    id: NonEmpty
    questions: list[NonEmpty] = Field(min_length=MIN_PARAPHRASES)
    history: list[Turn] = Field(default_factory=list)
    filters: Filters | None = None
    expected_kind: PlanKind
    #: The program the answer leads with (a catalog name), or None when the answer names no program.
    leading_program: str | None = None
    #: False when the leading program is left open (a list whose order the documents do not fix); the
    #: answers must still agree with each other.
    check_leading: bool = True
    note: str = ""


def load_groups(path: Path | str) -> list[ParaphraseGroup]:
    """Parse a JSONL file of groups; blank lines are skipped, a bad line raises naming its line number."""
    path = Path(path)
    groups: list[ParaphraseGroup] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            groups.append(ParaphraseGroup.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise CaseFileError(f"{path}:{lineno}: invalid JSON: {exc.msg} (column {exc.colno})") from exc
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<group>'}: {err['msg']}" for err in exc.errors()
            )
            raise CaseFileError(f"{path}:{lineno}: schema error: {details}") from exc
    return groups


def validate_groups(groups: list[ParaphraseGroup], program_names: Iterable[str]) -> list[str]:
    """Every problem of the file, one line each: unknown leading programs, duplicates, repeated questions."""
    known = {normalize(name) for name in program_names}
    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_questions: dict[str, str] = {}
    for group in groups:
        if group.id in seen_ids:
            problems.append(f"{group.id}: duplicate id")
        seen_ids.add(group.id)
        if group.leading_program is not None and normalize(group.leading_program) not in known:
            problems.append(f"{group.id}: leading program {group.leading_program!r} is not in the catalog")
        if group.leading_program is None and group.check_leading and group.expected_kind in _NAMES_A_PROGRAM:
            problems.append(f"{group.id}: a {group.expected_kind} answer leads with a program; name it")
        for question in group.questions:
            key = normalize(question)
            if key in seen_questions:
                problems.append(f"{group.id}: question repeated (also in {seen_questions[key]})")
            seen_questions.setdefault(key, group.id)
    return problems


#: Kinds whose answer is about one program, so a group of them must say which.
_NAMES_A_PROGRAM = frozenset({"fit", "attribute", "contact", "yes_no", "not_stated", "ranking"})


# -- scoring ------------------------------------------------------------------------------------------
@dataclass
class GroupResult:
    """What each phrasing of a group got, and whether they agree (with each other, with the gold)."""

    group: ParaphraseGroup
    kinds: list[str | None]
    leads: list[str | None]

    @property
    def kind_consistent(self) -> bool:
        return len(set(self.kinds)) == 1

    @property
    def lead_consistent(self) -> bool:
        return len({None if lead is None else normalize(lead) for lead in self.leads}) == 1

    @property
    def consistent(self) -> bool:
        return self.kind_consistent and self.lead_consistent

    @property
    def matches_gold(self) -> bool:
        if any(kind != self.group.expected_kind for kind in self.kinds):
            return False
        if not self.group.check_leading:
            return True
        want = None if self.group.leading_program is None else normalize(self.group.leading_program)
        return all((None if lead is None else normalize(lead)) == want for lead in self.leads)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.group.id,
            "questions": self.group.questions,
            "kinds": self.kinds,
            "leading_programs": self.leads,
            "expected_kind": self.group.expected_kind,
            "expected_leading_program": self.group.leading_program if self.group.check_leading else "(any)",
            "consistent": self.consistent,
            "matches_gold": self.matches_gold,
        }


def score_group(group: ParaphraseGroup, responses: list[dict[str, Any]]) -> GroupResult:
    """The kind and leading program of each answer to the group's phrasings (API-shaped responses)."""
    return GroupResult(
        group=group,
        kinds=[answer_kind(r) for r in responses],
        leads=[leading_program(r) for r in responses],
    )


@dataclass
class ParaphraseSummary:
    groups: int = 0
    consistency: float | None = None
    kind_consistency: float | None = None
    lead_consistency: float | None = None
    gold_agreement: float | None = None
    results: list[GroupResult] = field(default_factory=list, repr=False)

    @classmethod
    def of(cls, results: list[GroupResult]) -> ParaphraseSummary:
        n = len(results)

        def share(flags: Iterable[bool]) -> float | None:
            return None if n == 0 else sum(flags) / n

        return cls(
            groups=n,
            consistency=share(r.consistent for r in results),
            kind_consistency=share(r.kind_consistent for r in results),
            lead_consistency=share(r.lead_consistent for r in results),
            gold_agreement=share(r.matches_gold for r in results),
            results=results,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "groups": self.groups,
            "consistency": self.consistency,
            "kind_consistency": self.kind_consistency,
            "lead_consistency": self.lead_consistency,
            "gold_agreement": self.gold_agreement,
            "inconsistent": [r.to_json() for r in self.results if not r.consistent],
            "off_gold": [r.to_json() for r in self.results if r.consistent and not r.matches_gold],
        }
