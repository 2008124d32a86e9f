"""How answers print a program's facts: one formatter for budgets, departments, contacts and applicants.

Cards, lists, comparisons and yes/no answers all print these the same way, from the catalog record.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

from assistant.config import PROJECT_ROOT
from assistant.records import Program
from assistant.vocabulary import CONSORTIUM, UNIVERSITY, format_contacts, format_thousand_yen

PROMPTS = PROJECT_ROOT / "prompts"


@cache
def templates(language: str) -> dict[str, dict[str, str]]:
    """The answer templates of a language (``prompts/answer_<lang>.toml``; Japanese when there is none)."""
    path = PROMPTS / f"answer_{language}.toml"
    if not path.exists():
        path = PROMPTS / "answer_ja.toml"
    with open(Path(path), "rb") as fh:
        return tomllib.load(fh)


def _bracketed(note: str) -> str:
    """A note in one pair of full-width brackets, however the table printed it (（内数）, (内数）, 内数)."""
    inner = note.strip().lstrip("（(").rstrip("）)").strip()
    return f"（{inner}）" if inner else ""


def budget_text(program: Program, *, with_basis: bool = True) -> str:
    """「13,750,508千円（令和4年度予算政府案）」: the table's figure, its note and what the figure is."""
    if program.budget_thousand_yen is None:
        return ""
    text = format_thousand_yen(program.budget_thousand_yen)
    if program.budget_note:
        text += _bracketed(program.budget_note)
    if with_basis and program.budget_basis is not None:
        text += _bracketed(program.budget_basis.label)
    return text


def department_text(program: Program) -> str:
    """The department as printed; the ministry is prefixed only when the printed name lacks it."""
    department, ministry = program.department or "", program.ministry or ""
    if not ministry or department.startswith(ministry):
        return department
    return f"{ministry} {department}".strip()


def contacts_text(program: Program) -> str:
    return format_contacts(program.tel, program.email)


def applicants_text(program: Program) -> str:
    return "、".join(program.applicant_types)


def applicant_note(program: Program, t: dict[str, str]) -> str:
    """What the applicant type means for a university (the asker of most questions)."""
    kinds = " ".join(program.applicant_types)
    if UNIVERSITY in kinds:
        return t["applicants_university"]
    if CONSORTIUM in kinds:
        return t["applicants_consortium"]
    if "研究者" in kinds:
        return t["applicants_researcher"]
    if "自治体" in kinds:
        return t["applicants_municipality"]
    if "民間事業者" in kinds:
        return t["applicants_company"]
    return ""


def display_quote(sentence: str) -> str:
    """A sentence as shown inside 「」: no leading bullet mark, no closing 。."""
    return sentence.lstrip("・•◆➢✓-－○●■□◇▶► \u3000").rstrip("。")


def as_wish(goal: str) -> str:
    """A goal line as a wish for 「…したい」場合: 「…進めたい」 stays, 「…体制づくり」 becomes 「…体制づくりをしたい」."""
    goal = goal.strip().rstrip("、。")
    return goal if goal.endswith("たい") else f"{goal}をしたい"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def year_text(year: int, language: str) -> str:
    """A year as the documents write it: 「令和6年（2024年）」 in Japanese (they date by era), 2024 in English."""
    if language == "en":
        return str(year)
    for era, start in (("令和", 2018), ("平成", 1988)):
        if year > start:
            number = year - start
            return f"{era}{'元' if number == 1 else number}年（{year}年）"
    return f"{year}年"
