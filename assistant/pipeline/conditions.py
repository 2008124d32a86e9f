"""Conditions on programs — what a question asks for, what it says about the asker, what a caller set.

A question states conditions in words (「文科省の事業で、大学が直接申請できて、新規採択があるもの」,
「大学は申請主体に入っていない事業」, 「大学・企業・自治体のどれもが申請できる」); each becomes a
:class:`Condition` with its *role*: ``asked`` (the programs must meet it), ``background`` (a fact about the
asker: 「うちはすでに文科省の事業を受けています」 must not become a filter) or ``filter`` (set by the API/UI
caller). :class:`ProgramFilter` applies the asked and filter conditions to the catalog, every one of them
(AND), and :func:`describe` states them for the first sentence of a list answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.jp_text import normalize
from assistant.records import Program
from assistant.vocabulary import APPLICANT_ALIASES, MINISTRY_ALIASES, THEME_KEYWORDS, format_thousand_yen

Field_ = Literal["ministry", "applicant", "theme", "min_budget", "max_budget", "new_calls", "has_budget"]
Op = Literal["eq", "all", "any", "not", "ge", "gt", "le", "lt"]
Role = Literal["asked", "background", "filter"]


@dataclass(frozen=True)
class Condition:
    """One condition: ``field op value`` and whose it is (asked / background / filter)."""

    field: Field_
    op: Op
    value: str | int | bool | tuple[str, ...]
    role: Role = "asked"

    def as_dict(self) -> dict[str, object]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"field": self.field, "op": self.op, "value": value, "role": self.role}


class InvalidFilterError(ValueError):
    """An explicit filter value that the catalog does not know; the message lists the valid ones."""


class ProgramFilter(BaseModel):
    """The conjunction of conditions a program must meet (budgets in thousand yen)."""

    model_config = ConfigDict(frozen=True)

    ministries: tuple[str, ...] = ()  # any of
    exclude_ministries: tuple[str, ...] = ()
    applicants_all: tuple[str, ...] = ()  # each must be an applicant type
    applicants_any: tuple[str, ...] = ()  # at least one must be
    exclude_applicants: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()  # any of
    min_budget: int | None = None
    min_inclusive: bool = True
    max_budget: int | None = None
    max_inclusive: bool = True
    new_calls: bool | None = None
    has_budget: bool | None = None
    explicit: bool = Field(False, description="A caller (API/UI) set at least one of these.")

    @property
    def active(self) -> bool:
        return any(
            (
                self.ministries,
                self.exclude_ministries,
                self.applicants_all,
                self.applicants_any,
                self.exclude_applicants,
                self.themes,
                self.min_budget is not None,
                self.max_budget is not None,
                self.new_calls is not None,
                self.has_budget is not None,
            )
        )

    @property
    def only_theme(self) -> bool:
        """The only condition is a theme (which a goal question also mentions as context)."""
        return bool(self.themes) and self.model_copy(update={"themes": ()}).active is False

    def matches(self, program: Program) -> bool:
        applicants = program.applicant_types
        if self.ministries and program.ministry not in self.ministries:
            return False
        if program.ministry in self.exclude_ministries:
            return False
        if any(not _applies(kind, applicants) for kind in self.applicants_all):
            return False
        if self.applicants_any and not any(_applies(kind, applicants) for kind in self.applicants_any):
            return False
        if any(_applies(kind, applicants) for kind in self.exclude_applicants):
            return False
        if self.themes and not any(theme in program.themes for theme in self.themes):
            return False
        if self.new_calls is not None and program.new_calls is not self.new_calls:
            return False
        budget = program.budget_thousand_yen
        if self.has_budget is not None and (budget is not None) is not self.has_budget:
            return False
        if self.min_budget is not None and (
            budget is None
            or budget < self.min_budget
            or (budget == self.min_budget and not self.min_inclusive)
        ):
            return False
        return not (
            self.max_budget is not None
            and (
                budget is None
                or budget > self.max_budget
                or (budget == self.max_budget and not self.max_inclusive)
            )
        )

    def apply(self, programs: Iterable[Program]) -> list[Program]:
        return [p for p in programs if self.matches(p)]

    @classmethod
    def of(
        cls, conditions: Iterable[Condition], roles: tuple[Role, ...] = ("asked", "filter")
    ) -> ProgramFilter:
        """The filter of the conditions with the given roles (background conditions never filter)."""
        data: dict[str, object] = {}
        explicit = False
        for c in conditions:
            if c.role not in roles:
                continue
            explicit = explicit or c.role == "filter"
            values = c.value if isinstance(c.value, tuple) else (c.value,)
            if c.field == "ministry":
                key = "exclude_ministries" if c.op == "not" else "ministries"
                data[key] = _merge(data.get(key), values)
            elif c.field == "applicant":
                key = {"not": "exclude_applicants", "any": "applicants_any"}.get(c.op, "applicants_all")
                data[key] = _merge(data.get(key), values)
            elif c.field == "theme":
                data["themes"] = _merge(data.get("themes"), values)
            elif c.field == "min_budget":
                data["min_budget"], data["min_inclusive"] = c.value, c.op == "ge"
            elif c.field == "max_budget":
                data["max_budget"], data["max_inclusive"] = c.value, c.op == "le"
            elif c.field in ("new_calls", "has_budget"):
                data[c.field] = c.value
        return cls(**data, explicit=explicit)  # type: ignore[arg-type]


def _merge(old: object, new: tuple) -> tuple:
    merged = list(old) if isinstance(old, tuple) else []
    merged.extend(v for v in new if v not in merged)
    return tuple(merged)


def _applies(kind: str, applicants: list[str]) -> bool:
    """「大学等研究機関」 is one of the program's applicant types (官民コンソーシアム counts as itself)."""
    return any(kind in applicant for applicant in applicants)


def describe(conditions: Iterable[Condition]) -> str:
    """The asked/filter conditions in words, for the first sentence of a list: 「所管：環境省、申請主体：大学等研究機関を含まない」."""
    parts: list[str] = []
    for c in conditions:
        if c.role == "background":
            continue
        values = c.value if isinstance(c.value, tuple) else (c.value,)
        joined = "・".join(str(v) for v in values)
        if c.field == "ministry":
            parts.append(
                f"所管：{joined}以外" if c.op == "not" else f"所管：{'または'.join(map(str, values))}"
            )
        elif c.field == "applicant":
            if c.op == "not":
                parts.append(f"申請主体に{joined}を含まない")
            elif c.op == "any":
                parts.append(f"申請主体：{'または'.join(map(str, values))}")
            elif len(values) > 1:
                parts.append(f"申請主体：{joined}のすべて")
            else:
                parts.append(f"申請主体：{joined}")
        elif c.field == "theme":
            parts.append(f"テーマ：{'または'.join(map(str, values))}")
        elif c.field == "min_budget":
            parts.append(f"予算額{format_thousand_yen(int(c.value))}{'以上' if c.op == 'ge' else '超'}")
        elif c.field == "max_budget":
            parts.append(f"予算額{format_thousand_yen(int(c.value))}{'以下' if c.op == 'le' else '未満'}")
        elif c.field == "new_calls":
            parts.append("新規課題採択：" + ("有" if c.value else "無"))
        elif c.field == "has_budget":
            parts.append("予算額の記載" + ("あり" if c.value else "なし（ー）"))
    return "、".join(dict.fromkeys(parts)) or "指定なし"


def explicit_filters(filters: dict[str, str | None], programs: list[Program]) -> list[Condition]:
    """The caller's filters (API/UI) as conditions; unknown values raise InvalidFilterError listing the valid ones."""
    valid = {
        "ministry": sorted({p.ministry for p in programs if p.ministry}),
        "applicant_type": sorted({a for p in programs for a in p.applicant_types}),
        "theme": sorted({t for p in programs for t in p.themes}),
    }
    fields: dict[str, Field_] = {"ministry": "ministry", "applicant_type": "applicant", "theme": "theme"}
    found: list[Condition] = []
    for key, value in filters.items():
        if value is None or value == "":
            continue
        if key not in valid:
            raise InvalidFilterError(f"Unknown filter {key!r}. Valid filters: {', '.join(valid)}.")
        resolved = resolve_value(key, normalize(str(value)).strip(), valid[key])
        if resolved not in valid[key]:
            raise InvalidFilterError(f"Unknown {key} {value!r}. Valid values: {', '.join(valid[key])}.")
        found.append(Condition(fields[key], "eq", resolved, "filter"))
    return found


def resolve_value(key: str, value: str, valid: list[str]) -> str:
    """A filter value as people write it (文科省, 大学, 脱炭素) → the catalog's value, when one fits."""
    lowered = value.lower()
    if key == "ministry":
        return MINISTRY_ALIASES.get(value, MINISTRY_ALIASES.get(lowered, value))
    if key == "applicant_type":
        return APPLICANT_ALIASES.get(value, APPLICANT_ALIASES.get(lowered, value))
    for word, fragment in sorted(THEME_KEYWORDS.items(), key=lambda item: -len(item[0])):
        if word in lowered:
            for theme in valid:
                if fragment.lower() in theme.lower():
                    return theme
    return value
