"""The metrics must catch what matters: an invented contact, a fake quote, a dangling [n], a wrong abstention."""

from __future__ import annotations

from evals.dataset import EvalCase
from evals.metrics import (
    Span,
    fact_sentences,
    first_relevant_rank,
    known_contacts,
    normalize,
    percentile,
    score_answer,
)
from evals.runner import Summary, check_thresholds

DOC = "001"
DOCUMENTS = {
    DOC: "見出し\n地域活性化人材育成事業 ①大学等研究機関 1,450,000 有\nTEL：03-5253-4111（内線3034）\nmail：daikaika@mext.go.jp\n"
}
PROGRAMS = [{"email": ["daikaika@mext.go.jp"], "tel": ["03-5253-4111（内線3034）"]}]


def _case(**kw) -> EvalCase:
    base = {
        "id": "c1",
        "category": "contact",
        "question": "地域活性化人材育成事業の問い合わせ先は？",
        "expected_programs": ["地域活性化人材育成事業"],
        "expected_strings": ["daikaika@mext.go.jp"],
        "evidence": [{"doc_id": DOC, "line_start": 2, "line_end": 4}],
    }
    return EvalCase.model_validate({**base, **kw})


def _citation(n: int, quote: str, start: int = 2, end: int = 4) -> dict:
    return {
        "id": n,
        "doc_id": DOC,
        "title": "t",
        "section": "",
        "page": None,
        "line_start": start,
        "line_end": end,
        "quote": quote,
    }


def _score(answer: str, citations: list[dict], case: EvalCase | None = None, abstained: bool = False):
    emails, phones = known_contacts(PROGRAMS)
    response = {"answer": answer, "abstained": abstained, "citations": citations}
    return score_answer(case or _case(), response, DOCUMENTS, emails, phones)


GOOD = "地域活性化人材育成事業の連絡先はTEL：03-5253-4111（内線3034）、mail：daikaika@mext.go.jpです[1]。"


def test_a_correct_answer_scores_clean():
    s = _score(GOOD, [_citation(1, "mail：daikaika@mext.go.jp", 4, 4)])
    assert s.correct and not s.problems
    assert (s.fact_sentences, s.cited_sentences, s.citations_supported, s.quotes_verbatim) == (1, 1, 1, 1)
    assert s.contacts == s.contacts_known == 2


def test_an_invented_email_and_phone_are_caught():
    s = _score(
        GOOD.replace("daikaika@", "info@").replace("5253-4111", "5253-9999"),
        [_citation(1, "mail：daikaika@mext.go.jp", 4, 4)],
    )
    assert s.contacts == 2 and s.contacts_known == 0
    assert not s.correct


def test_a_fake_quote_is_caught():
    s = _score(GOOD, [_citation(1, "この事業は誰でも申請できます")])
    assert s.quotes == 1 and s.quotes_verbatim == 0


def test_a_quote_outside_its_cited_lines_is_caught():
    s = _score(GOOD, [_citation(1, "見出し", 3, 4)])
    assert s.quotes_verbatim == 0


def test_a_dangling_citation_is_caught():
    s = _score(GOOD.replace("[1]", "[1][2]"), [_citation(1, "mail：daikaika@mext.go.jp", 4, 4)])
    assert s.dangling == 1


def test_uncited_fact_sentences_lower_citation_recall():
    s = _score(
        "地域活性化人材育成事業です。連絡先はdaikaika@mext.go.jpです[1]。",
        [_citation(1, "mail：daikaika@mext.go.jp", 4, 4)],
    )
    assert (s.fact_sentences, s.cited_sentences) == (2, 1)


def test_a_citation_off_the_evidence_lowers_precision():
    far = _case(evidence=[{"doc_id": DOC, "line_start": 9, "line_end": 9}])
    s = _score(GOOD, [_citation(1, "見出し", 1, 1)], far)
    assert s.citations_used == 1 and s.citations_supported == 0


def test_abstention_is_scored_against_the_gold_flag():
    refusal = _case(category="refusal", expected_programs=[], expected_strings=[], evidence=[], abstain=True)
    assert _score("収録資料には記載が見当たりませんでした。", [], refusal, abstained=True).correct
    assert not _score(GOOD, [], refusal).correct
    assert not _score("収録資料には記載が見当たりませんでした。", [], abstained=True).correct


def test_normalisation_and_helpers():
    assert normalize("１，４５０，０００ 千円") == normalize("1,450,000千円") == "1450000千円"
    assert fact_sentences("該当する事業：\n地域活性化人材育成事業です[1]。") == [
        "地域活性化人材育成事業です[1]。"
    ]
    ranked = [[Span(DOC, 10, 12)], [Span("002", 2, 3), Span(DOC, 3, 3)]]
    assert first_relevant_rank(ranked, _case().evidence) == 2
    assert percentile([1, 2, 3, 4, 100], 50) == 3 and percentile([], 95) is None


def test_thresholds_fail_when_a_metric_is_low_or_hybrid_does_not_win():
    good = Summary(answer_accuracy=0.95, recall_at_5=0.9, mrr=0.8, dangling_citations=0)
    bad = Summary(answer_accuracy=0.5, recall_at_5=0.95, mrr=0.7, dangling_citations=2)
    rules = {
        "mode": "hybrid",
        "hybrid_beats_single_legs": True,
        "min": {"answer_accuracy": 0.9},
        "max": {"dangling_citations": 0},
    }
    assert check_thresholds({"hybrid": good, "dense": Summary(recall_at_5=0.5, mrr=0.5)}, rules) == []
    failures = check_thresholds({"hybrid": bad, "dense": Summary(recall_at_5=0.5, mrr=0.75)}, rules)
    assert any("answer_accuracy" in f for f in failures)
    assert any("dangling" in f for f in failures)
    assert any("mrr" in f and "dense" in f for f in failures)


def test_a_quoted_passage_with_its_own_full_stops_is_one_sentence():
    answer = "・事業の概要：「地域の課題を解決する。実証を推進。」[1]。\n・予算額：100千円[2]。"
    assert fact_sentences(answer) == [
        "・事業の概要：「地域の課題を解決する。実証を推進。」[1]。",
        "・予算額：100千円[2]。",
    ]
