"""Paraphrase consistency: groups that disagree are caught, the file is valid, and the runner gates it.

No model: a scripted target answers, so the runner's bookkeeping (per-tag rows, the paraphrase gate) is
tested in milliseconds; the real pipeline runs the file in tests/test_eval_gate.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evals.dataset import CaseFileError, EvalCase, Filters, Turn
from evals.paraphrases import (
    MIN_PARAPHRASES,
    ParaphraseGroup,
    ParaphraseSummary,
    load_groups,
    score_group,
    validate_groups,
)
from evals.runner import DEFAULT_PARAPHRASES, check_thresholds, load_paraphrases, render_markdown, run_eval

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
KYOSO = "共創の場形成支援プログラム"
SPARC = "地域活性化人材育成事業"


def _group(**kw) -> ParaphraseGroup:
    base = {
        "id": "g1",
        "questions": [
            "共創の場形成支援プログラムは大学が申請できますか？",
            "共創の場って大学が出せる？",
            "Can a university apply?",
        ],
        "expected_kind": "yes_no",
        "leading_program": KYOSO,
    }
    return ParaphraseGroup.model_validate({**base, **kw})


def _answer(kind: str | None, lead: str | None, legacy: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"answer": "…", "abstained": False, "citations": []}
    response |= {"intent": kind} if legacy else {"plan": {"kind": kind}, "intent": kind}
    response["programs"] = [{"name": lead}] if lead else []
    return response


def test_a_group_agreeing_on_kind_and_program_is_consistent_and_as_expected():
    result = score_group(_group(), [_answer("yes_no", KYOSO)] * 3)
    assert result.consistent and result.matches_gold


def test_a_different_kind_or_leading_program_breaks_consistency():
    kind = score_group(
        _group(), [_answer("yes_no", KYOSO), _answer("yes_no", KYOSO), _answer("attribute", KYOSO)]
    )
    assert not kind.kind_consistent and kind.lead_consistent and not kind.consistent
    lead = score_group(
        _group(), [_answer("yes_no", KYOSO), _answer("yes_no", SPARC), _answer("yes_no", KYOSO)]
    )
    assert lead.kind_consistent and not lead.lead_consistent and not lead.consistent
    none = score_group(
        _group(), [_answer("yes_no", KYOSO), _answer("yes_no", None), _answer("yes_no", KYOSO)]
    )
    assert not none.consistent  # "no program" is a leading program of its own


def test_consistent_but_wrong_is_reported_apart_from_consistency():
    wrong = score_group(_group(), [_answer("attribute", SPARC)] * 3)
    assert wrong.consistent and not wrong.matches_gold
    open_lead = score_group(_group(expected_kind="list", check_leading=False), [_answer("list", SPARC)] * 3)
    assert open_lead.matches_gold
    legacy = score_group(_group(expected_kind="fit"), [_answer("program_fit", KYOSO, legacy=True)] * 3)
    assert legacy.matches_gold  # an answer from before the plan: its intent is read as the kind


def test_the_summary_counts_shares_of_groups():
    results = [
        score_group(_group(id="a"), [_answer("yes_no", KYOSO)] * 3),
        score_group(_group(id="b"), [_answer("yes_no", KYOSO)] * 2 + [_answer("yes_no", None)]),
    ]
    summary = ParaphraseSummary.of(results)
    assert (summary.groups, summary.consistency, summary.kind_consistency) == (2, 0.5, 1.0)
    assert [g["id"] for g in summary.to_json()["inconsistent"]] == ["b"]


def test_validation_catches_unknown_programs_duplicates_and_short_groups(tmp_path):
    names = [KYOSO, SPARC]
    assert validate_groups([_group()], names) == []
    problems = validate_groups(
        [
            _group(leading_program="地域DX大学支援事業"),
            _group(),
            _group(id="g2", expected_kind="fit", leading_program=None),
        ],
        names,
    )
    assert any("'地域DX大学支援事業' is not in the catalog" in p for p in problems), problems
    assert any("g1: duplicate id" in p for p in problems), problems
    assert any("question repeated" in p for p in problems), problems
    assert any("g2: a fit answer leads with a program" in p for p in problems), problems
    path = tmp_path / "p.jsonl"
    short = {**_group().model_dump(), "questions": ["一つだけ"]}
    path.write_text(json.dumps(short, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"p\.jsonl:1: schema error: questions"):
        load_groups(path)


def test_the_committed_groups_are_valid_and_cover_the_answer_kinds():
    groups = load_paraphrases(DEFAULT_PARAPHRASES, CORPUS, CORPUS / "catalog_overrides.json")
    assert len(groups) >= 25 and all(len(g.questions) >= MIN_PARAPHRASES for g in groups)
    kinds = {g.expected_kind for g in groups}
    assert {"fit", "list", "ranking", "compare", "yes_no", "attribute", "contact", "not_stated"} <= kinds
    assert {"clarify", "abstain"} <= kinds
    assert sum(bool(g.history) for g in groups) >= 2  # follow-ups are paraphrased too
    assert sum(any(q.isascii() for q in g.questions) for g in groups) >= 15  # an English phrasing


# -- the runner, with a scripted target ---------------------------------------------------------------
class ScriptedTarget:
    """Answers every question with the same program, and a yes/no kind only when asked in Japanese."""

    modes = ("hybrid",)

    def _response(self, question: str) -> dict[str, Any]:
        kind = "attribute" if question.isascii() else "yes_no"
        return {
            "answer": f"はい、{KYOSO}は大学等研究機関が申請できます[1]。",
            "abstained": False,
            "citations": [
                {"id": 1, "doc_id": "d", "line_start": 1, "line_end": 1, "quote": f"{KYOSO} ①大学等研究機関"}
            ],
            "plan": {"kind": kind},
            "programs": [{"name": KYOSO}],
        }

    def run(self, case: EvalCase, mode: str):
        return self._response(case.question), [], 0.01

    def ask(self, question: str, history: list[Turn], filters: Filters | None, mode: str):
        return self._response(question)

    def programs(self):
        return []

    def documents(self):
        return {"d": f"{KYOSO} ①大学等研究機関"}


def _cases() -> list[EvalCase]:
    base = {
        "category": "yes_no",
        "expected_programs": [KYOSO],
        "verdict": "はい",
        "expected_kind": "yes_no",
        "evidence": [{"doc_id": "d", "line_start": 1, "line_end": 1}],
    }
    return [
        EvalCase.model_validate(
            {**base, "id": "y1", "question": "共創の場は大学が申請できる？", "tags": ["colloquial"]}
        ),
        EvalCase.model_validate(
            {**base, "id": "y2", "question": "Can universities apply?", "tags": ["english"]}
        ),
    ]


RULES = {"mode": "hybrid", "min": {"answer_accuracy": 0.5, "paraphrase_consistency": 0.9}}


def test_the_report_has_tag_rows_and_gates_paraphrase_consistency():
    report = run_eval(ScriptedTarget(), _cases(), ["hybrid"], RULES, "t", False, [_group()])
    assert report.by_tag["hybrid"]["english"].answer_accuracy == 0.0  # kind attribute, not yes_no
    assert report.by_tag["hybrid"]["colloquial"].answer_accuracy == 1.0
    assert report.overall["hybrid"].kind_accuracy == 0.5
    assert report.paraphrase is not None and report.paraphrase.consistency == 0.0
    assert report.failures == ["hybrid paraphrase_consistency = 0.000 < 0.9"]
    markdown = render_markdown(report)
    assert "| hybrid | tag: english |" in markdown and "Inconsistent groups: g1" in markdown


def test_a_skipped_paraphrase_eval_is_said_and_not_gated():
    report = run_eval(ScriptedTarget(), _cases(), ["hybrid"], RULES, "t", False, None)
    assert report.paraphrase is None and report.passed
    assert "Paraphrase consistency: skipped." in render_markdown(report)
    assert check_thresholds(report.overall, RULES, ParaphraseSummary(groups=1, consistency=1.0)) == []
