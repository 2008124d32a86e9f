"""Eval cases from a spreadsheet (.xlsx or .csv) with Japanese column headers, read into ``EvalCase``.

Help-desk evaluators write test questions in Excel, not JSONL. One row is one case; the header row names
the columns (any order; only 質問 is required):

======================  ==================================================================================
質問                    the question (required)
会話履歴                earlier turns, one per line: 「ユーザー: …」 / 「アシスタント: …」 (a line without a
                        prefix continues the turn above)
含むべき事業            programs the answer must name, one per line (or separated by 「；」)
含んではいけない事業    programs the answer must not name (text or program card)
含むべき文字列          text the answer must contain, e.g. a TEL or an e-mail address
回答不能                はい when the documents do not answer it and the assistant must say so; empty = いいえ
ID, 所管府省, 申請主体,  optional: the case's id (default row-N), filters sent with the question, a note
テーマ, メモ
======================  ==================================================================================

A bad cell stops the run with one line naming the file, the row and the column; expected programs and
strings must stand in the documents (NFKC, white space ignored), as for the JSONL set — a typo would make
a check that can never pass. The rows become :class:`evals.dataset.EvalCase` (no evidence spans: an
evaluator states what the answer must say, not where), so they are scored by the same metrics.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.dataset import CaseFileError, EvalCase, Filters, Turn, load_corpus, normalize

SHEET_SUFFIXES = (".xlsx", ".xlsm", ".csv")
CASES_SHEET = "評価ケース"
GUIDE_SHEET = "説明"

QUESTION = "質問"
HISTORY = "会話履歴"
EXPECTED_PROGRAMS = "含むべき事業"
FORBIDDEN_PROGRAMS = "含んではいけない事業"
EXPECTED_STRINGS = "含むべき文字列"
ABSTAIN = "回答不能"
CASE_ID = "ID"
MINISTRY, APPLICANT, THEME, NOTE = "所管府省", "申請主体", "テーマ", "メモ"

#: Column → what to write in it (the template's 説明 sheet and the error messages).
COLUMNS: dict[str, str] = {
    QUESTION: "質問文（必須）。",
    HISTORY: "追加質問の場合の、それまでの会話。1行に1発言で「ユーザー: …」「アシスタント: …」と書きます。",
    EXPECTED_PROGRAMS: "回答が名前を挙げるべき事業。複数なら改行（Alt+Enter）か「；」で区切ります。",
    FORBIDDEN_PROGRAMS: "回答に出てきてはいけない事業（本文にも事業カードにも）。区切り方は同じです。",
    EXPECTED_STRINGS: "回答に含まれるべき文字列（電話番号、メールアドレス、金額など）。区切り方は同じです。",
    ABSTAIN: "資料に答えがなく「見当たりません」と答えるべき質問なら「はい」。空欄は「いいえ」。",
    CASE_ID: "任意。ケースの名前（空欄なら row-行番号）。",
    MINISTRY: "任意。質問と一緒に送る絞り込み：所管府省（例：文部科学省）。",
    APPLICANT: "任意。絞り込み：申請主体（例：大学等研究機関）。",
    THEME: "任意。絞り込み：テーマ（例：地域脱炭素）。",
    NOTE: "任意。メモ（評価には使いません）。",
}

_YES = {"はい", "○", "〇", "yes", "y", "true", "1", "要", "該当"}
_NO = {"いいえ", "×", "no", "n", "false", "0", "", "-", "－"}
_SEPARATORS = re.compile(r"[\n；;]")
_ROLE = re.compile(
    r"^\s*(ユーザー|利用者|質問|user|q|アシスタント|回答|assistant|a)\s*[:：]\s*(.*)$", re.IGNORECASE
)
_USER_ROLES = {"ユーザー", "利用者", "質問", "user", "q"}


class SheetError(CaseFileError):
    """A spreadsheet that cannot be read as eval cases; the message is one line naming row and column."""


@dataclass(frozen=True)
class SheetCase:
    """A case and the spreadsheet row it came from (for the report)."""

    row: int
    case: EvalCase


# -- reading ------------------------------------------------------------------------------------------
def is_sheet(path: Path) -> bool:
    return path.suffix.lower() in SHEET_SUFFIXES


def read_rows(path: Path) -> list[tuple[int, list[Any]]]:
    """(row number as the spreadsheet shows it, cell values) for every row, header included."""
    if path.suffix.lower() == ".csv":
        return _csv_rows(path)
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise SheetError(f"{path.name}: not a readable Excel workbook ({type(exc).__name__})") from None
    try:
        sheet = workbook[CASES_SHEET] if CASES_SHEET in workbook.sheetnames else workbook.worksheets[0]
        return [(n, list(values)) for n, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()


def _csv_rows(path: Path) -> list[tuple[int, list[Any]]]:
    """UTF-8 (with or without BOM), or Shift_JIS as Excel saves 「CSV（コンマ区切り）」 on Japanese Windows."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError(f"{path.name}: the CSV is neither UTF-8 nor Shift_JIS text")
    # Rows are numbered by record, as Excel shows the file (a cell with line breaks is still one row).
    rows: list[tuple[int, list[Any]]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for values in reader:
            rows.append((len(rows) + 1, values))
    except csv.Error as exc:
        raise SheetError(f"{path.name} row {len(rows) + 1}: not valid CSV ({exc})") from None
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


# -- one row ------------------------------------------------------------------------------------------
class _Row:
    def __init__(self, source: str, number: int, cells: dict[str, str], raw_abstain: Any) -> None:
        self.source, self.number, self.cells, self.raw_abstain = source, number, cells, raw_abstain

    def error(self, column: str | None, problem: str) -> SheetError:
        where = f"{self.source} row {self.number}" + (f", column {column}" if column else "")
        return SheetError(f"{where}: {problem}")

    def items(self, column: str) -> list[str]:
        return [part.strip() for part in _SEPARATORS.split(self.cells.get(column, "")) if part.strip()]

    def abstain(self) -> bool:
        if isinstance(self.raw_abstain, bool):
            return self.raw_abstain
        value = self.cells.get(ABSTAIN, "").lower()
        if value in _YES:
            return True
        if value in _NO:
            return False
        raise self.error(ABSTAIN, f"{value[:20]!r} is neither はい nor いいえ (empty = いいえ)")

    def history(self) -> list[Turn]:
        turns: list[Turn] = []
        for line in self.cells.get(HISTORY, "").split("\n"):
            if not line.strip():
                continue
            match = _ROLE.match(line)
            if match:
                role = "user" if match[1].lower() in _USER_ROLES else "assistant"
                turns.append(Turn(role=role, content=match[2].strip() or "…"))
            elif turns:
                turns[-1] = Turn(role=turns[-1].role, content=f"{turns[-1].content}\n{line.strip()}")
            else:
                raise self.error(HISTORY, "each turn must start with 「ユーザー:」 or 「アシスタント:」")
        return turns


def read_cases(path: Path, max_question_chars: int = 2000) -> list[SheetCase]:
    """The cases of a spreadsheet; raises :class:`SheetError` (one line, row and column) for a bad cell."""
    rows = read_rows(path)
    header_at = next((i for i, (_, values) in enumerate(rows) if any(_cell(v) for v in values)), None)
    if header_at is None:
        raise SheetError(
            f"{path.name}: the sheet is empty; make one with `assistant eval --template cases.xlsx`"
        )
    header_row, header = rows[header_at][0], [_cell(v) for v in rows[header_at][1]]
    for position, name in enumerate(header, start=1):
        if name and name not in COLUMNS:
            raise SheetError(
                f"{path.name} row {header_row}, column {position}: unknown header {name[:30]!r}; "
                f"use {', '.join(COLUMNS)}"
            )
    named = [name for name in header if name]
    if len(set(named)) != len(named):
        repeated = next(name for name in named if named.count(name) > 1)
        raise SheetError(f"{path.name} row {header_row}: the column {repeated} appears twice")
    if QUESTION not in header:
        raise SheetError(
            f"{path.name} row {header_row}: no {QUESTION} column (the header row names the columns)"
        )
    cases: list[SheetCase] = []
    seen: dict[str, int] = {}
    for number, values in rows[header_at + 1 :]:
        cells = {name: _cell(v) for name, v in zip(header, values, strict=False) if name}
        if not any(cells.values()):
            continue
        raw_abstain = (
            values[header.index(ABSTAIN)]
            if ABSTAIN in header and header.index(ABSTAIN) < len(values)
            else None
        )
        row = _Row(path.name, number, cells, raw_abstain)
        case = _case(row, max_question_chars)
        if case.id in seen:
            raise row.error(CASE_ID, f"the id {case.id!r} is also used in row {seen[case.id]}")
        seen[case.id] = number
        cases.append(SheetCase(number, case))
    if not cases:
        raise SheetError(f"{path.name}: no cases below the header row")
    return cases


def _case(row: _Row, max_question_chars: int) -> EvalCase:
    question = row.cells.get(QUESTION, "")
    if not question:
        raise row.error(QUESTION, "empty; every case needs its question")
    if len(question) > max_question_chars:
        raise row.error(QUESTION, f"longer than {max_question_chars} characters")
    abstain = row.abstain()
    expected_programs, expected_strings = row.items(EXPECTED_PROGRAMS), row.items(EXPECTED_STRINGS)
    if abstain and (expected_programs or expected_strings):
        column = EXPECTED_PROGRAMS if expected_programs else EXPECTED_STRINGS
        raise row.error(column, f"filled although {ABSTAIN} is はい (an answer that abstains names nothing)")
    history = row.history()
    filters = {
        key: row.cells.get(column) or None
        for key, column in (("ministry", MINISTRY), ("applicant_type", APPLICANT), ("theme", THEME))
    }
    category = "refusal" if abstain else "follow_up" if history else "fact"
    return EvalCase(
        id=row.cells.get(CASE_ID) or f"row-{row.number}",
        category=category,
        question=question,
        history=history,
        filters=Filters(**filters) if any(filters.values()) else None,
        expected_programs=expected_programs,
        expected_strings=expected_strings,
        forbidden_programs=row.items(FORBIDDEN_PROGRAMS),
        abstain=abstain,
        note=row.cells.get(NOTE, ""),
    )


def check_gold(cases: list[SheetCase], path: Path, corpus_dir: Path) -> None:
    """Every expected or forbidden program and expected string must stand in the documents (else the check
    could never pass, or never fail); raises :class:`SheetError` naming the first one that does not."""
    texts = [normalize("\n".join(lines)) for lines in load_corpus(corpus_dir).values()]
    for item in cases:
        case = item.case
        for column, values in (
            (EXPECTED_PROGRAMS, case.expected_programs),
            (FORBIDDEN_PROGRAMS, case.forbidden_programs),
            (EXPECTED_STRINGS, case.expected_strings),
        ):
            for value in values:
                if not any(normalize(value) in text for text in texts):
                    raise SheetError(
                        f"{path.name} row {item.row}, column {column}: {value[:40]!r} does not stand in the "
                        "documents (check the spelling against the catalog or the document)"
                    )


# -- the template -------------------------------------------------------------------------------------
#: Example rows of the template; they pass against the project's corpus (tests/test_eval_sheets.py).
TEMPLATE_ROWS: list[dict[str, str]] = [
    {
        CASE_ID: "contact-1",
        QUESTION: "共創の場形成支援プログラムの問い合わせ先は？",
        EXPECTED_PROGRAMS: "共創の場形成支援プログラム",
        EXPECTED_STRINGS: "03-5253-4111（内線4195）\ncoi-next@mext.go.jp",
        NOTE: "問い合わせ先は電話番号とメールアドレスが資料のとおりか",
    },
    {
        CASE_ID: "goal-1",
        QUESTION: "うちの大学は地域の人材育成をしたい。使える事業と問い合わせ先は？",
        EXPECTED_PROGRAMS: "地域活性化人材育成事業",
        EXPECTED_STRINGS: "daikaika@mext.go.jp",
    },
    {
        CASE_ID: "list-1",
        QUESTION: "文科省の事業で大学が申請できるものは？",
        EXPECTED_PROGRAMS: "共創の場形成支援プログラム；地域活性化人材育成事業",
        FORBIDDEN_PROGRAMS: "地方大学・地域産業創生交付金",
        NOTE: "内閣府の交付金は文科省の事業ではない",
    },
    {
        CASE_ID: "follow-up-1",
        HISTORY: "ユーザー: 共創の場形成支援プログラムの問い合わせ先は？\n"
        "アシスタント: 共創の場形成支援プログラムの問い合わせ先は、文部科学省 科学技術・学術政策局 "
        "産業連携・地域振興課 拠点形成・地域振興室です。",
        QUESTION: "その事業の予算は？",
        EXPECTED_STRINGS: "13,750,508",
    },
    {CASE_ID: "abstain-1", QUESTION: "東京の明日の天気を教えてください。", ABSTAIN: "はい"},
]
TEMPLATE_COLUMNS = [
    CASE_ID,
    QUESTION,
    HISTORY,
    EXPECTED_PROGRAMS,
    FORBIDDEN_PROGRAMS,
    EXPECTED_STRINGS,
    ABSTAIN,
    MINISTRY,
    APPLICANT,
    THEME,
    NOTE,
]


def write_template(path: Path) -> None:
    """An .xlsx (the cases sheet and a 説明 sheet) or a .csv (UTF-8 with BOM) with the example rows."""
    rows = [[row.get(column, "") for column in TEMPLATE_COLUMNS] for row in TEMPLATE_ROWS]
    if path.suffix.lower() == ".csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows([TEMPLATE_COLUMNS, *rows])
        path.write_text(buffer.getvalue(), encoding="utf-8-sig")
        return
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = CASES_SHEET
    sheet.append(TEMPLATE_COLUMNS)
    for row in rows:
        sheet.append(row)
    widths = {CASE_ID: 14, QUESTION: 46, HISTORY: 46, NOTE: 30}
    for index, column in enumerate(TEMPLATE_COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = widths.get(column, 26)
        header = sheet.cell(row=1, column=index)
        header.font = Font(bold=True)
        header.fill = PatternFill("solid", fgColor="DCE6F5")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    guide = workbook.create_sheet(GUIDE_SHEET)
    guide.append(["列", "書き方"])
    for column, how in COLUMNS.items():
        guide.append([column, how])
    guide.append([])
    guide.append(
        [
            "実行",
            "assistant eval --dataset このファイル.xlsx（稼働中のサーバーなら --url https://… --api-key …）",
        ]
    )
    guide.column_dimensions["A"].width = 22
    guide.column_dimensions["B"].width = 100
    guide.cell(row=1, column=1).font = guide.cell(row=1, column=2).font = Font(bold=True)
    workbook.save(path)
