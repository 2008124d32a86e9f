"""The program catalog as a table: one selection for ``/v1/programs``, its CSV/Excel export and the 事業一覧 tab.

Selecting in one place keeps the three in step: an export holds exactly the rows ``/v1/programs`` returns
for the same filters, in the same order. Excel files are written with openpyxl; CSV is UTF-8 with a BOM,
so Excel opens the Japanese text as such.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from assistant.pipeline.conditions import Condition, ProgramFilter, explicit_filters
from assistant.pipeline.service import AnswerService
from assistant.records import Program
from assistant.vocabulary import amounts_in

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class CatalogQuery:
    """The filters of ``/v1/programs`` (budgets in thousand yen, as the tables print them)."""

    ministry: str | None = None
    applicant_type: str | None = None
    theme: str | None = None
    min_budget: int | None = None
    max_budget: int | None = None
    new_calls: bool | None = None
    q: str | None = None


def select_programs(service: AnswerService, query: CatalogQuery) -> list[Program]:
    """The catalog's programs meeting ``query``, in catalog order.

    Raises ``InvalidFilterError`` (answered 400 ``invalid_filter``) for a ministry, applicant type or theme
    the catalog does not have.
    """
    catalog = list(service.programs.values())
    conditions = explicit_filters(
        {"ministry": query.ministry, "applicant_type": query.applicant_type, "theme": query.theme}, catalog
    )
    if query.min_budget is not None:
        conditions.append(Condition("min_budget", "ge", query.min_budget, "filter"))
    if query.max_budget is not None:
        conditions.append(Condition("max_budget", "le", query.max_budget, "filter"))
    if query.new_calls is not None:
        conditions.append(Condition("new_calls", "eq", query.new_calls, "filter"))
    found = ProgramFilter.of(conditions).apply(catalog)
    if query.q and query.q.strip():
        named = set(service.matcher.find(query.q))
        needle = query.q.strip()
        found = [p for p in found if p.id in named or needle in p.name or needle in (p.description or "")]
    return found


def budget_bound(text: str | float | None) -> int | None:
    """A budget typed as people write it — 「10億円」, 「500百万円」, 「1,450,000」 (千円, as the tables) — in
    thousand yen; empty is no bound. A number (a client sending one) is read as its digits, not a TypeError."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        text = f"{text:.0f}" if float(text).is_integer() else str(text)
    value = unicodedata.normalize("NFKC", text or "").strip().replace(",", "")
    if not value:
        return None
    amounts = amounts_in(
        value if re.search(r"円$", value) else value + ("円" if value[-1] in "億万千" else "")
    )
    if amounts:
        return amounts[0]
    if value.isdigit():
        return int(value)
    raise ValueError(
        f"予算額「{text}」を読めません。「10億円」「500百万円」や千円単位の数字で入力してください。"
    )


#: Column header → value of a program, for both exports.
COLUMNS: tuple[str, ...] = (
    "id",
    "事業名",
    "所管府省",
    "担当部署",
    "申請主体",
    "予算額（千円）",
    "予算額の注記",
    "予算額の基準",
    "予算額の年度",
    "新規課題採択",
    "TEL",
    "メール",
    "テーマ",
    "出典",
)


def export_row(program: Program) -> list[str | int | None]:
    basis = program.budget_basis
    source = program.source
    return [
        program.id,
        program.name,
        program.ministry,
        program.department,
        "、".join(program.applicant_types),
        program.budget_thousand_yen,
        program.budget_note,
        basis.label if basis else None,
        basis.fiscal_year if basis else None,
        {True: "有", False: "無"}.get(program.new_calls),  # type: ignore[arg-type]
        " / ".join(program.tel),
        " / ".join(program.email),
        "、".join(program.themes),
        f"{source.doc_id} {source.line_start}–{source.line_end}行目",
    ]


def to_csv(programs: list[Program]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for program in programs:
        writer.writerow(["" if v is None else v for v in export_row(program)])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(programs: list[Program]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "事業一覧"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for program in programs:
        sheet.append(export_row(program))
    widths = {"事業名": 48, "担当部署": 40, "テーマ": 40, "予算額の基準": 36, "メール": 30, "TEL": 26}
    for index, header in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = widths.get(header, 14)
    budget_column = COLUMNS.index("予算額（千円）") + 1
    for row in sheet.iter_rows(min_row=2, min_col=budget_column, max_col=budget_column):
        for cell in row:
            cell.number_format = "#,##0"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(programs: list[Program], fmt: str) -> tuple[bytes, str]:
    """(file content, media type) of the rows in ``fmt`` (``csv`` or ``xlsx``)."""
    if fmt == "xlsx":
        return to_xlsx(programs), XLSX_MEDIA_TYPE
    return to_csv(programs), CSV_MEDIA_TYPE
