"""Structured conditions in a Japanese question: program names, ministry, applicant, theme, budget, new calls.

The words people use differ from the catalog's (文科省 vs 文部科学省, 大学 vs 大学等研究機関, 100億円 vs
10,000,000千円), so this module maps them onto catalog values. Theme words are matched against the
themes the catalog actually has, so a new theme in the corpus needs no code change.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.jp_text import normalize
from assistant.records import Program
from assistant.vocabulary import APPLICANT_ALIASES, MINISTRY_ALIASES, THEME_KEYWORDS, to_thousand_yen

_APPLY_WORDS = r"(?:が|も|で|から|として|の)?(?:申請|応募|申し込|手を挙げ|使え|利用でき|対象|主体)"
#: An amount has at most 15 integer digits (the largest budget has 9); a longer run of digits is not an
#: amount, and read as one it would overflow the float conversion.
_BUDGET = re.compile(
    r"(?<![0-9.])(?P<num>[0-9]{1,15}(?:\.[0-9]+)?)\s*(?P<unit>兆円|億円|千万円|百万円|万円|千円|円)\s*"
    r"(?P<op>以上|超え|超|を超える|より多い|より大きい|以下|未満|を下回る|より少ない|より小さい)?"
)
_LOWER_OPS = {
    "以上": True,
    "超え": False,
    "超": False,
    "を超える": False,
    "より多い": False,
    "より大きい": False,
}
_UPPER_OPS = {"以下": True, "未満": False, "を下回る": False, "より少ない": False, "より小さい": False}
_NO_NEW_CALLS = re.compile(
    r"新規(?:の)?(?:課題)?(?:の)?(?:採択|公募|募集)(?:が|は|を)?(?:ない|無い|無し|なし|していない|しない|行わない|ありません)"
)
_NEW_CALLS = re.compile(
    r"新規(?:の)?(?:課題)?(?:の)?(?:採択|公募|募集)(?:が|は|を)?(?:ある|有る|有り|あり|している|する|中|可能|受け付け)|(?:今|現在)(?:も)?(?:公募|募集)"
)


class QueryConditions(BaseModel):
    """Conditions on programs, from the question and/or explicit filters. Budgets in thousand yen."""

    program_ids: list[str] = Field(default_factory=list)
    ministry: str | None = None
    applicant_type: str | None = None
    theme: str | None = None
    min_budget: int | None = None
    min_inclusive: bool = True
    max_budget: int | None = None
    max_inclusive: bool = True
    new_calls: bool | None = None
    explicit: bool = False  # a filter was set by the caller (API/UI), not read from the question

    @property
    def has_filters(self) -> bool:
        """True when the question asks for a list of programs by attributes (not only by name)."""
        return any(
            v is not None
            for v in (
                self.ministry,
                self.applicant_type,
                self.theme,
                self.min_budget,
                self.max_budget,
                self.new_calls,
            )
        )

    def matches(self, program: Program) -> bool:
        if self.ministry and program.ministry != self.ministry:
            return False
        if self.applicant_type and not any(self.applicant_type in a for a in program.applicant_types):
            return False
        if self.theme and self.theme not in program.themes:
            return False
        if self.new_calls is not None and program.new_calls is not self.new_calls:
            return False
        budget = program.budget_thousand_yen
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


class InvalidFilterError(ValueError):
    """An explicit filter value that the catalog does not know; the message lists the valid ones."""


@dataclass
class ProgramMatcher:
    """Finds program names and aliases in text (NFKC, width, separators and 「」 insensitive)."""

    variants: list[tuple[str, str]] = field(
        default_factory=list
    )  # (normalised variant, program id), longest first

    @classmethod
    def from_programs(
        cls, programs: list[Program], extra_aliases: dict[str, list[str]] | None = None
    ) -> ProgramMatcher:
        by_name = {p.name: p.id for p in programs}
        found: dict[str, str] = {}
        ambiguous: set[str] = set()
        for program in programs:
            names = [program.name, *program.aliases, *(extra_aliases or {}).get(program.name, [])]
            for name in names:
                for variant in _name_variants(name):
                    if found.get(variant, program.id) != program.id:
                        ambiguous.add(variant)
                    found[variant] = program.id
        for name in by_name:
            ambiguous.discard(_key(name))  # a full name always wins
        variants = [(v, pid) for v, pid in found.items() if v not in ambiguous and len(v) >= 2]
        variants.sort(key=lambda item: -len(item[0]))
        return cls(variants)

    def find(self, text: str) -> list[str]:
        """Program ids named in ``text``, in order of appearance, longest match first, no overlaps."""
        key = _key(text)
        taken = [False] * len(key)
        hits: list[tuple[int, str]] = []
        for variant, pid in self.variants:
            start = key.find(variant)
            while start >= 0:
                end = start + len(variant)
                if not any(taken[start:end]) and _is_whole_word(key, start, end, variant):
                    taken[start:end] = [True] * (end - start)
                    hits.append((start, pid))
                start = key.find(variant, start + 1)
        ordered: list[str] = []
        for _, pid in sorted(hits):
            if pid not in ordered:
                ordered.append(pid)
        return ordered


def _key(text: str) -> str:
    """Normalised form for name matching: NFKC, lower case, no separators, quotes or spaces."""
    text = normalize(text).lower()
    return re.sub(r"[\s「」『』\"'“”・,，、()（）]", "", text)


def _name_variants(name: str) -> set[str]:
    key = _key(name)
    variants = {key}
    for suffix in ("プロジェクト", "プログラム", "事業"):
        if key.endswith(suffix) and len(key) - len(suffix) >= 6:
            variants.add(key[: -len(suffix)])
    return variants


def _is_whole_word(key: str, start: int, end: int, variant: str) -> bool:
    """ASCII aliases (SIP, START, WPI) must not match inside another word (e.g. 'start' in 'startup');
    a short Japanese alias must not be the tail of a longer compound (共創の場 inside 地域共創の場)."""
    before = key[start - 1] if start > 0 else ""
    if not variant.isascii():
        return len(variant) > 6 or not re.match(r"[\u4e00-\u9fff\u30a0-\u30ff]", before)
    after = key[end] if end < len(key) else ""
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


def load_extra_aliases(path: Path) -> dict[str, list[str]]:
    """Colloquial names people use that the documents do not print (e.g. 共創の場), program name → names."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: list(entry["aliases"]) for name, entry in data.items()}


def _find_ministry(text: str) -> str | None:
    for alias in sorted(MINISTRY_ALIASES, key=len, reverse=True):
        if alias in text:
            return MINISTRY_ALIASES[alias]
    return None


def _find_applicant(text: str) -> str | None:
    """Only when the question speaks of applying (「大学が申請できる」), not any mention of 大学."""
    for alias in sorted(APPLICANT_ALIASES, key=len, reverse=True):
        # 「研究者個人が応募できる」「企業単独で申請」: a short qualifier may stand between who and the verb.
        if re.search(
            re.escape(alias) + r"(?:等)?(?:個人|単独|自身|自ら|だけ|のみ)?" + _APPLY_WORDS, text
        ) or re.search(r"(?:申請主体|応募主体|対象)(?:が|は)" + re.escape(alias), text):
            return APPLICANT_ALIASES[alias]
        if re.search(re.escape(alias) + r"(?:等)?(?:向け|が使える|でも使える)", text):
            return APPLICANT_ALIASES[alias]
    return None


def _find_theme(text: str, themes: list[str]) -> str | None:
    lowered = text.lower()
    for word in sorted(THEME_KEYWORDS, key=len, reverse=True):
        if word in lowered:
            fragment = THEME_KEYWORDS[word]
            for theme in themes:
                if fragment.lower() in theme.lower():
                    return theme
    return None


def _find_budget(text: str, conditions: QueryConditions) -> None:
    for match in _BUDGET.finditer(text.replace(",", "")):
        op = match.group("op")
        if not op:
            continue
        amount = to_thousand_yen(match.group("num"), match.group("unit"))
        if op in _LOWER_OPS:
            conditions.min_budget, conditions.min_inclusive = amount, _LOWER_OPS[op]
        else:
            conditions.max_budget, conditions.max_inclusive = amount, _UPPER_OPS[op]


def _find_new_calls(text: str) -> bool | None:
    if _NO_NEW_CALLS.search(text):
        return False
    if _NEW_CALLS.search(text):
        return True
    return None


def parse_conditions(question: str, programs: list[Program], matcher: ProgramMatcher) -> QueryConditions:
    """Conditions stated in a question."""
    text = normalize(question)
    themes = sorted({t for p in programs for t in p.themes})
    conditions = QueryConditions(
        program_ids=matcher.find(question),
        ministry=_find_ministry(text),
        applicant_type=_find_applicant(text),
        theme=_find_theme(text, themes),
        new_calls=_find_new_calls(text),
    )
    _find_budget(text, conditions)
    return conditions


def apply_filters(
    conditions: QueryConditions, filters: dict[str, str | None], programs: list[Program]
) -> QueryConditions:
    """Merge explicit filters (API/UI) into the conditions; unknown values raise InvalidFilterError."""
    valid = {
        "ministry": sorted({p.ministry for p in programs if p.ministry}),
        "applicant_type": sorted({a for p in programs for a in p.applicant_types}),
        "theme": sorted({t for p in programs for t in p.themes}),
    }
    resolvers = {
        "ministry": lambda v: MINISTRY_ALIASES.get(v, v),
        "applicant_type": lambda v: APPLICANT_ALIASES.get(v, v),
        "theme": lambda v: _find_theme(v, valid["theme"]) or v,
    }
    update: dict[str, str] = {}
    for key, value in filters.items():
        if value is None or value == "":
            continue
        if key not in valid:
            raise InvalidFilterError(f"Unknown filter {key!r}. Valid filters: {', '.join(valid)}.")
        resolved = resolvers[key](normalize(str(value)).strip())
        if resolved not in valid[key]:
            raise InvalidFilterError(f"Unknown {key} {value!r}. Valid values: {', '.join(valid[key])}.")
        update[key] = resolved
    return conditions.model_copy(update={**update, "explicit": bool(update) or conditions.explicit})


def filter_programs(conditions: QueryConditions, programs: list[Program]) -> list[Program]:
    return [p for p in programs if conditions.matches(p)]
