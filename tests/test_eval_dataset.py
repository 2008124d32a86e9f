"""The evaluation set gates releases: its gold must stand in the corpus, and the validator must catch bad gold."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from evals.dataset import CaseFileError, EvalCase, load_cases, validate_cases

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "evals" / "cases.jsonl"
CORPUS = ROOT / "corpus"
DOC_IDS = [
    "000_bc52401283c58933",
    "001_9b2f57644b0d39be",
    "002_1934195e547acf2e",
    "003_158fb85f1dc44ded",
    "004_19e9f67b15260a83",
]
MINIMUM_PER_CATEGORY = {
    "program_fit": 15,
    "contact": 12,
    "list": 8,
    "figure": 10,
    "fact": 20,
    "refusal": 10,
    "follow_up": 8,
}


@pytest.fixture(scope="module")
def cases() -> list[EvalCase]:
    return load_cases(CASES)


def test_the_set_validates_clean(cases):
    assert validate_cases(cases, CORPUS) == []


def test_the_set_is_large_enough_in_every_category(cases):
    assert len(cases) >= 80
    counts = Counter(case.category for case in cases)
    for category, minimum in MINIMUM_PER_CATEGORY.items():
        assert counts[category] >= minimum, (category, counts[category])


def test_fact_cases_cover_every_document(cases):
    # Each fact case counts once per document it cites; the brief asks for at least three per document.
    per_doc = Counter(
        doc_id for case in cases if case.category == "fact" for doc_id in {ev.doc_id for ev in case.evidence}
    )
    for doc_id in DOC_IDS:
        assert per_doc[doc_id] >= 3, (doc_id, per_doc[doc_id])


def test_refusals_include_attempts_to_override_the_rules(cases):
    refusals = [case.question for case in cases if case.category == "refusal"]
    assert any("システムプロンプト" in q for q in refusals)
    assert any("ルールを変えて" in q for q in refusals)


def test_follow_ups_end_their_history_with_an_answer(cases):
    for case in cases:
        if case.category == "follow_up":
            assert case.history[-1].role == "assistant", case.id


# -- the validator catches bad gold -------------------------------------------------------------------
GOOD = {
    "id": "fit-900",
    "category": "program_fit",
    "question": "地域のリーダーを育てる教育プログラムを作り直したい。使える事業は？",
    "history": [],
    "filters": None,
    "expected_programs": ["地域活性化人材育成事業"],
    "expected_strings": ["daikaika@mext.go.jp", "s-sangi-daigakurenkeisuishin@meti.go.jp"],
    "evidence": [{"doc_id": "001_9b2f57644b0d39be", "line_start": 1655, "line_end": 1690}],
    "abstain": False,
    "note": "test case",
}


def _problems(tmp_path: Path, *records: dict) -> list[str]:
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return validate_cases(load_cases(path), CORPUS)


def _variant(**changes) -> dict:
    return {**GOOD, **changes}


def test_a_good_case_passes_even_with_an_email_broken_over_lines(tmp_path):
    assert _problems(tmp_path, GOOD) == []


def test_string_not_in_corpus_is_reported(tmp_path):
    problems = _problems(tmp_path, _variant(expected_strings=["03-1234-5678"]))
    assert any("'03-1234-5678' not found in the corpus" in p for p in problems), problems


def test_string_far_from_its_evidence_is_reported(tmp_path):
    far = {"doc_id": "001_9b2f57644b0d39be", "line_start": 451, "line_end": 453}
    problems = _problems(tmp_path, _variant(evidence=[far], expected_strings=["daikaika@mext.go.jp"]))
    assert any("within ±3 lines of its evidence" in p for p in problems), problems


def test_program_not_in_corpus_is_reported(tmp_path):
    problems = _problems(tmp_path, _variant(expected_programs=["地域DX大学支援事業"]))
    assert any("'地域DX大学支援事業' not found in the corpus" in p for p in problems), problems


def test_span_outside_the_document_is_reported(tmp_path):
    outside = {"doc_id": "004_19e9f67b15260a83", "line_start": 140, "line_end": 9999}
    problems = _problems(tmp_path, _variant(evidence=[outside]))
    assert any("span outside the document" in p for p in problems), problems


def test_reversed_span_and_unknown_doc_are_reported(tmp_path):
    bad = [
        {"doc_id": "001_9b2f57644b0d39be", "line_start": 1690, "line_end": 1655},
        {"doc_id": "999_missing", "line_start": 1, "line_end": 2},
    ]
    problems = _problems(tmp_path, _variant(evidence=bad))
    assert any("line_start > line_end" in p for p in problems), problems
    assert any("unknown doc_id" in p for p in problems), problems


def test_refusal_with_gold_is_reported(tmp_path):
    refusal = _variant(id="refusal-900", category="refusal", question="明日の天気は？", abstain=True)
    problems = _problems(tmp_path, refusal)
    assert any("refusal case has gold" in p for p in problems), problems


def test_answer_without_evidence_is_reported(tmp_path):
    problems = _problems(tmp_path, _variant(evidence=[]))
    assert any("without evidence" in p for p in problems), problems


def test_duplicate_id_and_question_are_reported(tmp_path):
    problems = _problems(
        tmp_path, GOOD, _variant(question="別の質問です。使える事業は？"), _variant(id="fit-901")
    )
    assert any("fit-900: duplicate id" in p for p in problems), problems
    assert any("fit-901: duplicate question (same as fit-900)" in p for p in problems), problems


def test_bad_json_names_the_line(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(GOOD, ensure_ascii=False) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"cases\.jsonl:2: invalid JSON"):
        load_cases(path)


def test_schema_error_names_the_line_and_field(tmp_path):
    path = tmp_path / "cases.jsonl"
    bad = _variant(category="trivia")
    path.write_text("\n" + json.dumps(bad, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"cases\.jsonl:2: schema error: category"):
        load_cases(path)


# -- issue 11: the answer kinds users expect ----------------------------------------------------------
MINIMUM_NEW_CATEGORY = {
    "yes_no": 10,
    "compare": 8,
    "ranking": 6,
    "clarify": 5,
    "not_stated": 8,
    "network": 8,
    "contact_prose": 3,
}
MINIMUM_PER_TAG = {
    "narrative": 5,
    "background": 4,
    "colloquial": 8,
    "keigo": 6,
    "english": 15,
    "kana": 4,
    "typo": 4,
    "multi_turn": 12,
    "negation": 4,
    "multi_condition": 10,
    "applicant_set": 3,
}


def test_the_new_answer_kinds_and_phrasings_are_all_covered(cases):
    counts = Counter(case.category for case in cases)
    for category, minimum in MINIMUM_NEW_CATEGORY.items():
        assert counts[category] >= minimum, (category, counts[category])
    tags = Counter(tag for case in cases for tag in case.tags)
    for tag, minimum in MINIMUM_PER_TAG.items():
        assert tags[tag] >= minimum, (tag, tags[tag])
    # Issue 11 added at least 80 cases to the original 130, each naming the plan kind it expects.
    assert sum(case.expected_kind is not None for case in cases) >= 80


def test_lists_exclude_what_fails_a_condition_and_histories_use_references(cases):
    lists = [c for c in cases if c.category == "list" and c.forbidden_programs]
    assert len(lists) >= 10
    assert sum(len(c.history) >= 4 for c in cases) >= 1  # a 2-turn history before the question
    references = ("それ", "その事業", "後者", "前者", "2番目", "のほう", "その拠点", "その中で")
    for ref in references:
        assert any(ref in c.question for c in cases if c.history), ref


def _issue11(**changes) -> dict:
    base = {
        "id": "yn-900",
        "category": "yes_no",
        "question": "地域活性化人材育成事業は大学が申請できますか？",
        "expected_programs": ["地域活性化人材育成事業"],
        "expected_strings": ["大学等研究機関"],
        "verdict": "はい",
        "expected_kind": "yes_no",
        "evidence": [{"doc_id": "001_9b2f57644b0d39be", "line_start": 1655, "line_end": 1661}],
    }
    return {**base, **changes}


def test_a_good_yes_no_case_passes(tmp_path):
    assert _problems(tmp_path, _issue11()) == []


def test_yes_no_comparison_and_ranking_cases_need_a_fitting_verdict(tmp_path):
    assert any("without a verdict" in p for p in _problems(tmp_path, _issue11(verdict=None)))
    assert any("is not one of はい" in p for p in _problems(tmp_path, _issue11(verdict="たぶん")))
    ranking = _issue11(category="ranking", expected_kind="ranking", verdict="共創の場形成支援プログラム")
    assert any("not among the expected programs" in p for p in _problems(tmp_path, ranking))
    compare = _issue11(category="compare", expected_kind="compare", verdict="いいえ")
    assert _problems(tmp_path, compare) == []
    stray = _issue11(category="compare", expected_kind="compare", verdict="環境研究総合推進費")
    assert any("neither はい/いいえ/Yes/No nor an expected" in p for p in _problems(tmp_path, stray))


def test_a_category_that_tests_a_kind_must_name_it(tmp_path):
    problems = _problems(tmp_path, _issue11(expected_kind="attribute"))
    assert any("yes_no case needs expected_kind yes_no" in p for p in problems), problems
    refusal = _variant(
        id="refusal-900",
        category="refusal",
        question="明日の天気は？",
        abstain=True,
        expected_programs=[],
        expected_strings=[],
        evidence=[],
        expected_kind="fit",
    )
    assert any("expected_kind other than abstain" in p for p in _problems(tmp_path, refusal))


def test_forbidden_programs_must_be_real_and_not_also_expected(tmp_path):
    typo = _problems(tmp_path, _issue11(forbidden_programs=["地域DX大学支援事業"]))
    assert any("forbidden program '地域DX大学支援事業' not found in the corpus" in p for p in typo), typo
    both = _problems(tmp_path, _issue11(forbidden_programs=["地域活性化人材育成事業"]))
    assert any("both expected and forbidden" in p for p in both), both


def test_tags_are_checked(tmp_path):
    assert any(
        "multi_turn case without a history" in p for p in _problems(tmp_path, _issue11(tags=["multi_turn"]))
    )
    assert any("repeated tag" in p for p in _problems(tmp_path, _issue11(tags=["kana", "kana"])))
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(_issue11(tags=["slang"]), ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"schema error: tags\.0"):
        load_cases(path)


def test_a_clarification_needs_no_evidence_but_a_kind(tmp_path):
    clarify = {
        "id": "clar-900",
        "category": "clarify",
        "question": "その事業の予算は？",
        "expected_kind": "clarify",
    }
    assert _problems(tmp_path, clarify) == []
    assert any(
        "needs expected_kind clarify" in p for p in _problems(tmp_path, {**clarify, "expected_kind": None})
    )


def test_the_eval_sets_plan_kinds_are_the_planners():
    from assistant.pipeline.plan import PLAN_KINDS as PLANNER_KINDS
    from evals.dataset import PLAN_KINDS

    assert PLAN_KINDS == PLANNER_KINDS


# -- issue 19: the eight failure classes, negatives, not-found names -----------------------------------
ISSUE19_CLASSES = (
    "c1_wrong_verdict",
    "c2_false_clarify",
    "c3_dropped_condition",
    "c4_unknown_name",
    "c5_followup",
    "c6_budget",
    "c7_goal_by_description",
    "c8_prose_list",
)


def test_every_failure_class_of_issue_19_has_cases_and_negatives(cases):
    tagged = [c for c in cases if set(c.tags) & set(ISSUE19_CLASSES)]
    assert len(tagged) >= 100
    per_class = Counter(tag for c in tagged for tag in c.tags if tag in ISSUE19_CLASSES)
    for cls in ISSUE19_CLASSES:
        assert per_class[cls] >= 10, (cls, per_class[cls])
    # Negatives keep a fix from over-triggering: a real name called unknown, a resolvable reference asked
    # back, a satisfiable condition declared empty.
    negatives = Counter(
        tag for c in tagged if "negative" in c.tags for tag in c.tags if tag in ISSUE19_CLASSES
    )
    for cls in ("c2_false_clarify", "c3_dropped_condition", "c4_unknown_name", "c5_followup"):
        assert negatives[cls] >= 2, (cls, negatives[cls])
    # Every gold states where it stands in the corpus (a document id and line numbers).
    assert all(re.search(r"00[0-4]\b.*l\.\d+", c.note) for c in tagged if c.category != "clarify")


def test_names_the_documents_lack_are_not_found_cases_that_abstain(cases):
    not_found = [c for c in cases if c.category == "not_found"]
    assert len(not_found) >= 8 and all(c.abstain for c in not_found)
    assert sum(bool(c.nearest) for c in not_found) >= 6


def _not_found(**changes) -> dict:
    base = {
        "id": "nf-900",
        "category": "not_found",
        "question": "地域DX大学支援事業の予算は？",
        "abstain": True,
        "nearest": ["地域活性化人材育成事業"],
    }
    return {**base, **changes}


def test_a_not_found_case_abstains_and_names_only_real_nearest_entities(tmp_path):
    assert _problems(tmp_path, _not_found()) == []
    assert _problems(tmp_path, _not_found(nearest=[])) == []  # nothing near: just say it is not there
    assert any("must have abstain: true" in p for p in _problems(tmp_path, _not_found(abstain=False)))
    gold = _problems(tmp_path, _not_found(expected_strings=["大学等研究機関"], verdict="いいえ"))
    assert any("has answer gold" in p for p in gold), gold
    fake = _problems(tmp_path, _not_found(nearest=["地域DX大学支援事業"]))
    assert any("nearest entity '地域DX大学支援事業' not found in the corpus" in p for p in fake), fake
    stray = _problems(tmp_path, _issue11(nearest=["地域活性化人材育成事業"]))
    assert any("only a not_found case names nearest" in p for p in stray), stray
    abstaining_answer = _problems(tmp_path, _issue11(abstain=True))
    assert any("only refusal and not_found cases abstain" in p for p in abstaining_answer)
