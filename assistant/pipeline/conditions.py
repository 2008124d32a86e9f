"""Conditions on programs — what a question asks for, what it says about the asker, what a caller set.

A question states conditions in words (「文科省の事業で、大学が直接申請できて、新規採択があるもの」,
「X は申請主体に入っていない事業」, 「X・Y・Z のいずれも申請できる」); each becomes a
:class:`Condition` with its *role*: ``asked`` (the programs must meet it), ``background`` (a fact about the
asker: 「うちはすでに文科省の事業を受けています」 must not become a filter) or ``filter`` (set by the API/UI
caller). :class:`ProgramFilter` applies the asked and filter conditions to the catalog, every one of them
(AND), and :func:`describe` states them for the first sentence of a list answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.jp_text import normalize
from assistant.records import Program
from assistant.vocabulary import APPLICANT_ALIASES, MINISTRY_ALIASES, THEME_KEYWORDS, format_thousand_yen

Field_ = Literal[
    "ministry",
    "applicant",
    "theme",
    "min_budget",
    "max_budget",
    "new_calls",
    "has_budget",
    "program",
    "stated",
]
#: Table columns whose presence a question can ask for (「新規採択が書かれていない」「連絡先の記載がある」):
#: ``Condition("stated", "eq"|"not", column)``; the budget column has its own ``has_budget``.
STATED_COLUMNS: dict[str, str] = {
    "new_calls": "新規課題採択",
    "department": "担当部署",
    "contact": "連絡先",
    "tel": "電話番号",
    "email": "メールアドレス",
}
Op = Literal["eq", "all", "any", "not", "only", "ge", "gt", "le", "lt"]
Role = Literal["asked", "background", "filter"]


@dataclass(frozen=True)
class Condition:
    """One condition: ``field op value`` and whose it is (asked / background / filter)."""

    field: Field_
    op: Op
    value: str | int | bool | tuple[str, ...]
    role: Role = "asked"
    words: tuple[str, ...] = ()  # a theme as the question put it (「MaaS」): programs named so match too
    #: The question's words it was read from (「3億円を超える」), so an answer can say which were applied.
    phrase: str = dataclass_field(default="", compare=False)

    def as_dict(self) -> dict[str, object]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        found: dict[str, object] = {"field": self.field, "op": self.op, "value": value, "role": self.role}
        if self.phrase:
            found["phrase"] = self.phrase
        return found


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
    applicants_only: tuple[str, ...] = ()  # every applicant type is one of these (「X しか／だけが申請主体」)
    exclude_programs: tuple[str, ...] = ()  # program ids left out (「…事業以外で」)
    themes: tuple[str, ...] = ()  # any of
    theme_words: tuple[str, ...] = ()  # …or a program whose name holds the word the question used
    exclude_themes: tuple[str, ...] = ()
    min_budget: int | None = None
    min_inclusive: bool = True
    max_budget: int | None = None
    max_inclusive: bool = True
    new_calls: bool | None = None
    has_budget: bool | None = None
    stated: tuple[str, ...] = ()  # columns the row must fill (STATED_COLUMNS)
    unstated: tuple[str, ...] = ()  # columns the row must leave empty
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
                self.applicants_only,
                self.exclude_programs,
                self.themes,
                self.exclude_themes,
                self.min_budget is not None,
                self.max_budget is not None,
                self.new_calls is not None,
                self.has_budget is not None,
                self.stated,
                self.unstated,
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
        if self.applicants_only and not (
            applicants and all(any(kind in a for kind in self.applicants_only) for a in applicants)
        ):
            return False
        if program.id in self.exclude_programs:
            return False
        if self.themes and not (
            any(theme in program.themes for theme in self.themes)
            or any(word in program.name.lower() for word in self.theme_words)
        ):
            return False
        if any(theme in program.themes for theme in self.exclude_themes):
            return False
        if self.new_calls is not None and program.new_calls is not self.new_calls:
            return False
        if any(not column_stated(program, c) for c in self.stated):
            return False
        if any(column_stated(program, c) for c in self.unstated):
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
                key = {"not": "exclude_applicants", "any": "applicants_any", "only": "applicants_only"}.get(
                    c.op, "applicants_all"
                )
                data[key] = _merge(data.get(key), values)
            elif c.field == "program":
                data["exclude_programs"] = _merge(data.get("exclude_programs"), values)
            elif c.field == "theme" and c.op == "not":
                data["exclude_themes"] = _merge(data.get("exclude_themes"), values)
            elif c.field == "theme":
                data["themes"] = _merge(data.get("themes"), values)
                data["theme_words"] = _merge(data.get("theme_words"), tuple(w.lower() for w in c.words))
            elif c.field == "min_budget":
                data["min_budget"], data["min_inclusive"] = c.value, c.op == "ge"
            elif c.field == "max_budget":
                data["max_budget"], data["max_inclusive"] = c.value, c.op == "le"
            elif c.field in ("new_calls", "has_budget"):
                data[c.field] = c.value
            elif c.field == "stated":
                key = "unstated" if c.op == "not" else "stated"
                data[key] = _merge(data.get(key), values)
        return cls(**data, explicit=explicit)  # type: ignore[arg-type]


def _merge(old: object, new: tuple) -> tuple:
    merged = list(old) if isinstance(old, tuple) else []
    merged.extend(v for v in new if v not in merged)
    return tuple(merged)


def column_stated(program: Program, column: str) -> bool:
    """Whether the program's table row fills a column (STATED_COLUMNS)."""
    values = {
        "new_calls": program.new_calls is not None,
        "department": bool(program.department),
        "contact": bool(program.tel or program.email),
        "tel": bool(program.tel),
        "email": bool(program.email),
    }
    return values.get(column, False)


def _applies(kind: str, applicants: list[str]) -> bool:
    """「大学等研究機関」 is one of the program's applicant types (官民コンソーシアム counts as itself)."""
    return any(kind in applicant for applicant in applicants)


_WORDS = {
    "ja": {
        "ministry": "所管：{v}",
        "ministry_not": "所管：{v}以外",
        "applicant": "申請主体：{v}",
        "applicant_all": "申請主体：{v}のすべて",
        "applicant_any": "申請主体：{v}のいずれか",
        "applicant_not": "申請主体に{v}を含まない",
        "applicant_only": "申請主体が{v}だけ",
        "program_not": "{v}を除く",
        "theme": "テーマ：{v}",
        "theme_not": "テーマ：{v}以外",
        "ge": "予算額{v}以上",
        "gt": "予算額{v}超",
        "le": "予算額{v}以下",
        "lt": "予算額{v}未満",
        "new_calls_yes": "新規課題採択：有",
        "new_calls_no": "新規課題採択：無",
        "has_budget_yes": "予算額の記載あり",
        "has_budget_no": "予算額の記載なし（ー）",
        "stated": "{v}の記載あり",
        "unstated": "{v}の記載なし",
        "none": "指定なし",
        "or": "または",
        "and": "・",
        "sep": "、",
    },
    "en": {
        "ministry": "ministry: {v}",
        "ministry_not": "ministry: other than {v}",
        "applicant": "applicants include {v}",
        "applicant_all": "applicants include all of {v}",
        "applicant_any": "applicants include one of {v}",
        "applicant_not": "applicants do not include {v}",
        "applicant_only": "applicants are only {v}",
        "program_not": "other than {v}",
        "theme": "theme: {v}",
        "theme_not": "theme: other than {v}",
        "ge": "budget ≥ {v}",
        "gt": "budget > {v}",
        "le": "budget ≤ {v}",
        "lt": "budget < {v}",
        "new_calls_yes": "new calls: yes",
        "new_calls_no": "new calls: no",
        "has_budget_yes": "a budget is given",
        "has_budget_no": "no budget is given",
        "stated": "{v} is given",
        "unstated": "no {v} is given",
        "none": "none",
        "or": " or ",
        "and": ", ",
        "sep": "; ",
    },
}


def describe(conditions: Iterable[Condition], language: str = "ja") -> str:
    """The asked/filter conditions in words, for the first sentence of a list: 「所管：環境省、申請主体に
    大学等研究機関を含まない」 (or in English for a question asked in English)."""
    w = _WORDS.get(language, _WORDS["ja"])
    parts: list[str] = []
    for c in conditions:
        if c.role == "background":
            continue
        values = [str(v) for v in (c.value if isinstance(c.value, tuple) else (c.value,))]
        if c.field == "ministry":
            parts.append(w["ministry_not" if c.op == "not" else "ministry"].format(v=w["or"].join(values)))
        elif c.field == "applicant":
            if c.op == "not":
                parts.append(w["applicant_not"].format(v=w["and"].join(values)))
            elif c.op == "only":
                parts.append(w["applicant_only"].format(v=w["or"].join(values)))
            elif c.op == "any":
                parts.append(w["applicant_any"].format(v=w["or"].join(values)))
            elif len(values) > 1:
                parts.append(w["applicant_all"].format(v=w["and"].join(values)))
            else:
                parts.append(w["applicant"].format(v=values[0]))
        elif c.field == "theme":
            parts.append(w["theme_not" if c.op == "not" else "theme"].format(v=w["or"].join(values)))
        elif c.field in ("min_budget", "max_budget"):
            parts.append(w[c.op].format(v=format_thousand_yen(int(c.value))))  # type: ignore[arg-type]
        elif c.field == "new_calls":
            parts.append(w["new_calls_yes" if c.value else "new_calls_no"])
        elif c.field == "has_budget":
            parts.append(w["has_budget_yes" if c.value else "has_budget_no"])
        elif c.field == "stated":
            names = [STATED_COLUMNS.get(v, v) if language == "ja" else v.replace("_", " ") for v in values]
            parts.append(w["unstated" if c.op == "not" else "stated"].format(v=w["and"].join(names)))
    return w["sep"].join(dict.fromkeys(parts)) or w["none"]


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
