"""What each budget figure of the package is — 令和4年度予算政府案, 令和3年度補正予算額 … — from the deck's own notes.

The deck prints the same program's budget several ways (5,903,060千円 in a table, 【5,900百万円】 in a ◆ list,
59億円 on a map) and says what each is in a note of the page, never next to the figure:

* a table's 予算額(千円) column: 「※なお、「予算額」には令和4年度予算政府案及び令和3年度補正予算額を記載」
  under the table (the extraction lost it under the two バイオ tables; the note is about the column, which
  is the same in every table, so the nearest one stands for them);
* a map entry 「名称【省】：59億円」: the title of its map page, 「R4年度…に向けた支援メニュー」 (the map page and
  its table come before the table's footer, so the page is the stretch between two table footers);
* a ◆ list: the page's 「令和4年度予算政府案 462億円」 line, and 「【】内は補正予算額」 for bracketed figures,
  whose year the page's 「令和3年度補正予算額 173億円」 line gives;
* the ◎ list: its title 「バイオコミュニティの形成に関する予算（令和4年度予算案）」;
* the スタートアップ page prints the basis with the figure (「令和4年度予算政府案 1,014百万」, 「【補正予算額
  1,501百万円）】」, whose year is that of the deck's 令和N年度補正予算額 statements).

Every basis keeps the label as printed and the span that prints it, so it is traceable like the rest of
the catalog; ``fiscal_year`` is read from the label (R4年度 → 令和4年度).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

from assistant.records import BudgetBasis, BudgetLine, SourceSpan
from assistant.vocabulary import AMOUNT, UNIT_TO_THOUSAND_YEN, to_thousand_yen

COLUMN_NOTE = re.compile(r"「予算額」には(?P<label>.+?)を記載")
MENU_TITLE = re.compile(r"^\s*(?P<label>R\d+年度\S+に向けた支援メニュー)\s*$")
PLAN_STATEMENT = re.compile(r"令和\d+年度予算政府案")
SUPPLEMENT_STATEMENT = re.compile(r"令和\d+年度補正予算額")
BRACKET_LEGEND = re.compile(r"【】内は(?P<label>\S*補正予算額)")
LIST_TITLE = re.compile(r"予算（(?P<label>令和\d+年度予算[^（）]*)）")
#: A bracketed figure of a ◆ item: 「1,733百万円【3,606百万円】」.
BRACKETED = re.compile(r"【[^【】]*】")
_ERA_YEAR = re.compile(r"(?:令和|R)\s*(\d+|元)\s*年度")


def fiscal_years(label: str) -> str | None:
    """The fiscal years a label names, as 令和 years in the order printed: 「令和4年度・令和3年度」."""
    years = []
    for number in _ERA_YEAR.findall(unicodedata.normalize("NFKC", label)):
        year = f"令和{number}年度"
        if year not in years:
            years.append(year)
    return "・".join(years) or None


@dataclass(frozen=True)
class Statement:
    line: int
    label: str


class BasisFinder:
    """The statements of one document that say what its figures are, found nearest to a figure."""

    def __init__(self, lines: list[str], doc_id: str, table_footers: list[int]) -> None:
        self.doc_id = doc_id
        self.footers = sorted(table_footers)
        self.notes = _statements(lines, COLUMN_NOTE)
        self.menus = _statements(lines, MENU_TITLE)
        self.plans = _statements(lines, PLAN_STATEMENT)
        self.supplements = _statements(lines, SUPPLEMENT_STATEMENT)
        self.legends = _statements(lines, BRACKET_LEGEND)
        self.list_titles = _statements(lines, LIST_TITLE)

    def basis(self, statement: Statement | None) -> BudgetBasis | None:
        if statement is None:
            return None
        return BudgetBasis(
            label=statement.label,
            fiscal_year=fiscal_years(statement.label),
            source=SourceSpan(doc_id=self.doc_id, line_start=statement.line, line_end=statement.line),
        )

    def column(self, table_footer: int) -> BudgetBasis | None:
        """The 予算額 column note under the table (before the next table), else the nearest one."""
        following = [n for n in self.notes if n.line > table_footer]
        later_footers = [f for f in self.footers if f > table_footer]
        if following and (not later_footers or following[0].line < later_footers[0]):
            return self.basis(following[0])
        return self.basis(_nearest(self.notes, table_footer))

    def menu(self, line: int) -> BudgetBasis | None:
        """The 「R4年度…支援メニュー」 title of the map page holding ``line``."""
        at = bisect_right(self.footers, line)
        low = self.footers[at - 1] if at > 0 else 0
        high = self.footers[at] if at < len(self.footers) else float("inf")
        return self.basis(_nearest([m for m in self.menus if low < m.line < high], line))

    def plan(self, line: int) -> BudgetBasis | None:
        return self.basis(_nearest(self.plans, line))

    def supplement(self, line: int) -> BudgetBasis | None:
        return self.basis(_nearest(self.supplements, line))

    def bracketed(self, line: int) -> BudgetBasis | None:
        """A 【…】 figure of a list whose legend says 【】内は補正予算額: the nearest 令和N年度補正予算額."""
        return self.supplement(line) if self.legends else None

    def list_title(self, line: int) -> BudgetBasis | None:
        """The 「…予算（令和4年度予算案）」 title of the list holding ``line`` (the nearest one above)."""
        return self.basis(_nearest([t for t in self.list_titles if t.line <= line], line))


def _statements(lines: list[str], pattern: re.Pattern[str]) -> list[Statement]:
    found = []
    for number, text in enumerate(lines, start=1):
        m = pattern.search(text)
        if m:
            found.append(Statement(number, m.groupdict().get("label") or m.group(0)))
    return found


def _nearest(statements: list[Statement], line: int) -> Statement | None:
    return min(statements, key=lambda s: (abs(s.line - line), s.line), default=None)


# -- figures ------------------------------------------------------------------------------------------


def figure(amount_text: str) -> tuple[int, int] | None:
    """(thousand yen, the precision it is printed to) of the first amount in a text; 「13,751百万円」 →
    (13751000, 1000), 「14.5億円」 → (1450000, 10000)."""
    m = AMOUNT.search(unicodedata.normalize("NFKC", amount_text).replace(",", ""))
    if m is None:
        return None
    decimals = len(m["num"].split(".", 1)[1]) if "." in m["num"] else 0
    precision = max(1, round(UNIT_TO_THOUSAND_YEN[m["unit"]] / 10**decimals))
    return to_thousand_yen(m["num"], m["unit"]), precision


def has_figure(amount_text: str) -> bool:
    return bool(re.search(r"[0-9０-９]", amount_text)) or "内数" in amount_text


def split_bracketed(amount_text: str) -> tuple[str, list[str]]:
    """「1,014百万円【2,546百万円】」 → (「1,014百万円」, [「【2,546百万円】」]): the plain and bracketed figures."""
    brackets = BRACKETED.findall(amount_text)
    return BRACKETED.sub("", amount_text).strip(), brackets


def specific(basis: BudgetBasis | None) -> bool:
    """A basis that names one budget (政府案, 補正, 予算案), not a combination or a page title."""
    return basis is not None and "予算" in basis.label and "及び" not in basis.label


def program_basis(
    table_basis: BudgetBasis | None, thousand_yen: int | None, lines: list[BudgetLine]
) -> BudgetBasis | None:
    """The basis of a program's table figure.

    The table note allows two budgets (令和4年度予算政府案 or 令和3年度補正予算額); when another statement of
    the same program prints the same figure (at the precision it prints: 1,014百万円 = 1,014,000千円,
    13,751百万円 ≈ 13,750,508千円) with one specific basis, the figure is that one. Different figures
    (5,903,060千円 vs 【5,900百万円】) say nothing about each other and leave the table's note.
    """
    if thousand_yen is None:
        return None
    matches = []
    for line in lines:
        found = figure(line.amount_text)
        if found is None or not specific(line.basis) or "内数" in line.amount_text:
            continue
        value, precision = found
        if round(thousand_yen / precision) * precision == value and line.basis is not None:
            matches.append((not _states_itself(line), line.basis))
    if len({basis.label for _, basis in matches}) != 1:
        return table_basis
    return min(matches, key=lambda m: m[0])[1]  # a figure printed with its basis beside it first


def _states_itself(line: BudgetLine) -> bool:
    source = line.basis.source if line.basis else None
    return source is not None and line.source.line_start <= source.line_start <= line.source.line_end
