"""Eval sets from spreadsheets: the template round-trips, a bad cell is one line naming row and column, and
an eval run from the template's .xlsx passes — through the ``assistant`` command against the real server
with ``--url`` and a key, and in process — writing an HTML report with each case's answer, citations and
failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from assistant.config import PROJECT_ROOT
from evals.dataset import normalize
from evals.sheet_run import render_html, run_cases
from evals.spreadsheet import (
    ABSTAIN,
    CASES_SHEET,
    TEMPLATE_ROWS,
    SheetError,
    check_gold,
    read_cases,
    write_template,
)
from tests.conftest import INTEGRATION_KEY

CORPUS = PROJECT_ROOT / "corpus"
ASSISTANT = Path(sys.executable).with_name("assistant")


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_template_reads_back_as_its_cases(tmp_path, suffix):
    path = tmp_path / f"cases{suffix}"
    write_template(path)
    cases = read_cases(path)
    check_gold(cases, path, CORPUS)  # its gold stands in the documents
    assert [c.case.id for c in cases] == [row["ID"] for row in TEMPLATE_ROWS]
    assert [c.row for c in cases] == [2, 3, 4, 5, 6]
    contact, _, listing, follow, abstain = (c.case for c in cases)
    assert contact.expected_strings == ["03-5253-4111（内線4195）", "coi-next@mext.go.jp"]
    assert listing.expected_programs == ["共創の場形成支援プログラム", "地域活性化人材育成事業"]
    assert listing.forbidden_programs == ["地方大学・地域産業創生交付金"]
    assert [t.role for t in follow.history] == ["user", "assistant"] and follow.category == "follow_up"
    assert abstain.abstain and abstain.category == "refusal"


def _sheet(tmp_path: Path, edits: dict[str, object], name: str = "bad.xlsx") -> Path:
    """The template with some cells changed (A1-style addresses on the cases sheet)."""
    template = tmp_path / "template.xlsx"
    if not template.exists():
        write_template(template)
    workbook = load_workbook(template)
    for address, value in edits.items():
        workbook[CASES_SHEET][address] = value
    path = tmp_path / name
    workbook.save(path)
    return path


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"G3": "たぶん"}, "bad.xlsx row 3, column 回答不能: 'たぶん' is neither はい nor いいえ"),
        ({"C2": "共創の場について聞いた"}, "bad.xlsx row 2, column 会話履歴: each turn must start with"),
        ({"B1": "質門"}, "bad.xlsx row 1, column 2: unknown header '質門'"),
        ({"B4": None}, "bad.xlsx row 4, column 質問: empty"),
        ({"G2": "はい"}, "bad.xlsx row 2, column 含むべき事業: filled although 回答不能 is はい"),
        ({"A3": "contact-1"}, "bad.xlsx row 3, column ID: the id 'contact-1' is also used in row 2"),
        ({"B2": "あ" * 2001}, "bad.xlsx row 2, column 質問: longer than 2000 characters"),
    ],
)
def test_a_bad_cell_is_one_line_naming_its_row_and_column(tmp_path, edits, message):
    with pytest.raises(SheetError) as refused:
        read_cases(_sheet(tmp_path, edits))
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)


def test_gold_that_is_not_in_the_documents_is_refused_before_running(tmp_path):
    path = _sheet(tmp_path, {"D2": "共創の場形成支援プログラムム"})
    with pytest.raises(
        SheetError, match=r"row 2, column 含むべき事業: '共創の場形成支援プログラムム' does not stand"
    ):
        check_gold(read_cases(path), path, CORPUS)


def test_files_that_are_not_sheets_and_excel_csv_encodings(tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a workbook")
    with pytest.raises(SheetError, match="broken.xlsx: not a readable Excel workbook"):
        read_cases(broken)
    sjis = tmp_path / "sjis.csv"  # Excel's 「CSV（コンマ区切り）」 on Japanese Windows
    sjis.write_bytes(
        f"質問,{ABSTAIN}\r\n共創の場形成支援プログラムの問い合わせ先は？,\r\n東京の天気は？,○\r\n".encode(
            "cp932"
        )
    )
    cases = read_cases(sjis)
    assert [(c.row, c.case.abstain) for c in cases] == [(2, False), (3, True)]
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(SheetError, match="the sheet is empty"):
        read_cases(tmp_path / "empty.csv")


def test_the_template_passes_through_the_command_against_a_deployed_server(tmp_path, integrations_server):
    env = {**os.environ, "ASSISTANT_EVAL_API_KEY": INTEGRATION_KEY}
    run = subprocess.run(
        [str(ASSISTANT), "eval", "--template", "cases.xlsx"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    passed = subprocess.run(
        [str(ASSISTANT), "eval", "--dataset", "cases.xlsx", "--url", integrations_server, "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "5 / 5 cases passed" in passed.stdout
    report = (tmp_path / "cases-report.html").read_text(encoding="utf-8")
    assert "PASS: 5 / 5" in report and "共創の場形成支援プログラムの問い合わせ先は？" in report
    assert "TEL：03-5253-4111（内線4195）\nmail：coi-next@mext.go.jp" in report  # a quote, verbatim
    assert (
        f'href="{integrations_server}/documents/001_9b2f57644b0d39be?from=' in report
    )  # a link to the lines
    # a requirement the answer misses fails the run, and the report says why
    failing = _sheet(tmp_path, {"F2": "daikaika@mext.go.jp"}, "failing.xlsx")
    failed = subprocess.run(
        [str(ASSISTANT), "eval", "--dataset", failing.name, "--url", integrations_server, "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert failed.returncode == 1 and "FAIL contact-1 (row 2): missing: daikaika@mext.go.jp" in failed.stdout
    assert "missing: daikaika@mext.go.jp" in (tmp_path / "failing-report.html").read_text(encoding="utf-8")
    # a malformed sheet: one line, exit 2, nothing run
    malformed = _sheet(tmp_path, {"G3": "たぶん"}, "malformed.xlsx")
    bad = subprocess.run(
        [str(ASSISTANT), "eval", "--dataset", malformed.name, "--url", integrations_server],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: malformed.xlsx row 3, column 回答不能: 'たぶん' is neither はい nor いいえ (empty = いいえ)"
    ]


def test_the_template_passes_in_process(tmp_path, answer_service):
    from evals.runner import InProcessTarget

    path = tmp_path / "cases.xlsx"
    write_template(path)
    cases = read_cases(path)
    target = InProcessTarget(service=answer_service)
    documents = target.documents()
    results = run_cases(target, cases, documents, show_progress=False)
    assert [r.failures for r in results] == [[]] * len(cases)
    html = render_html(results, path.name, "local index", documents)
    contact = results[0].response
    for citation in contact["citations"]:
        assert f'id="row-2-cite-{citation["id"]}"' in html
    assert normalize("03-5253-4111（内線4195）") in normalize(contact["answer"])
