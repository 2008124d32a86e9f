"""The metrics must catch what matters: an invented contact, a fake quote, a dangling [n], a wrong abstention."""

from __future__ import annotations

from evals.dataset import EvalCase
from evals.metrics import (
    Span,
    answer_kind,
    fact_sentences,
    first_relevant_rank,
    first_sentence,
    known_contacts,
    misleading_reasons,
    normalize,
    percentile,
    score_answer,
)
from evals.runner import CaseResult, Summary, check_thresholds, load_thresholds, render_markdown, run_eval

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


# -- the checks of issue 11: forbidden programs, verdicts, answer kinds, prose contacts -----------------
LIST_DOC = "002"
LIST_DOCUMENTS = {
    **DOCUMENTS,
    LIST_DOC: "事業名 申請主体\nみどりの食料システム戦略実現技術開発・実証事業のうち革新的環境研究 ①大学等研究機関\n"
    "みどりの食料システム戦略実現技術開発・実証事業 ②民間事業者等\n",
    "003": "(連絡先)\n総務省行政評価局\n電 話: 03-5253-5433(直通)\nF A X: 03-5253-5436\n",
}


def _list_case(**kw) -> EvalCase:
    base = {
        "id": "l1",
        "category": "list",
        "question": "大学が申請できる農水省の事業は？",
        "expected_programs": ["みどりの食料システム戦略実現技術開発・実証事業のうち革新的環境研究"],
        "forbidden_programs": ["みどりの食料システム戦略実現技術開発・実証事業"],
        "expected_kind": "list",
        "evidence": [{"doc_id": LIST_DOC, "line_start": 2, "line_end": 2}],
    }
    return EvalCase.model_validate({**base, **kw})


def _respond(answer: str, case: EvalCase, citations=(), documents=None, **response):
    emails, phones = known_contacts(PROGRAMS)
    body = {"answer": answer, "abstained": False, "citations": list(citations), **response}
    return score_answer(case, body, documents or LIST_DOCUMENTS, emails, phones)


LONG = "みどりの食料システム戦略実現技術開発・実証事業のうち革新的環境研究"
SHORT = "みどりの食料システム戦略実現技術開発・実証事業"


def test_an_expected_name_containing_a_forbidden_one_is_not_a_violation():
    s = _respond(f"該当するのは{LONG}です。", _list_case(), plan={"kind": "list"})
    assert s.correct and s.forbidden == [], s.problems


def test_a_forbidden_program_in_the_text_or_as_a_card_is_caught():
    in_text = _respond(f"{LONG}と{SHORT}です。", _list_case(), plan={"kind": "list"})
    assert in_text.forbidden == [SHORT] and not in_text.correct
    as_card = _respond(f"{LONG}です。", _list_case(), plan={"kind": "list"}, programs=[{"name": SHORT}])
    assert as_card.forbidden == [SHORT] and not as_card.correct


def test_the_answer_kind_comes_from_the_plan_then_from_the_intent():
    assert answer_kind({"plan": {"kind": "compare"}, "intent": "figure"}) == "compare"
    assert answer_kind({"intent": "program_fit"}) == "fit"  # a response from before the plan
    assert answer_kind({"intent": "figure"}) == "attribute" and answer_kind({}) is None
    wrong = _respond(f"{LONG}です。", _list_case(), plan={"kind": "prose"})
    assert wrong.kind_ok is False and not wrong.correct
    assert _respond(f"{LONG}です。", _list_case(), intent="list").kind_ok is True


def _yes_no_case(verdict: str = "はい", **kw) -> EvalCase:
    return _case(
        category="yes_no",
        question="地域活性化人材育成事業は大学が申請できますか？",
        expected_strings=["大学等研究機関"],
        verdict=verdict,
        expected_kind="yes_no",
        **kw,
    )


YES = "はい、地域活性化人材育成事業の申請主体は①大学等研究機関です[1]。"


def test_a_yes_no_answer_must_open_with_the_verdict():
    cite = [_citation(1, "地域活性化人材育成事業 ①大学等研究機関 1,450,000 有", 2, 2)]
    assert _score(YES, cite, _yes_no_case()).verdict_ok
    # The verdict is there, but not first; the opposite verdict; a hedge without a verdict.
    late = "地域活性化人材育成事業の申請主体は①大学等研究機関です[1]。はい、申請できます。"
    assert _score(late, cite, _yes_no_case()).verdict_ok is False
    assert not _score(YES.replace("はい", "いいえ"), cite, _yes_no_case()).correct
    assert _score("申請主体は①大学等研究機関です[1]。", cite, _yes_no_case()).verdict_ok is False


def test_yes_and_hai_are_the_same_verdict_and_not_is_not_no():
    cite = [_citation(1, "地域活性化人材育成事業 ①大学等研究機関 1,450,000 有", 2, 2)]
    english = "Yes. 地域活性化人材育成事業 lists 大学等研究機関 as its applicant [1]."
    assert _score(english, cite, _yes_no_case("はい")).verdict_ok
    assert _score("**はい**、大学等研究機関が申請できます[1]。", cite, _yes_no_case("Yes")).verdict_ok
    assert _score("Not stated in the documents [1].", cite, _yes_no_case("No")).verdict_ok is False


def test_a_plan_verdict_that_contradicts_the_gold_is_caught():
    emails, phones = known_contacts(PROGRAMS)
    body = {"answer": YES, "abstained": False, "citations": [], "plan": {"kind": "yes_no", "verdict": "no"}}
    s = score_answer(_yes_no_case(), body, DOCUMENTS, emails, phones)
    assert s.verdict_ok is False and any("contradicts" in p for p in s.problems)


def test_a_comparison_names_its_winner_in_the_first_statement():
    case = _list_case(
        category="compare",
        expected_programs=[LONG, SHORT],
        forbidden_programs=[],
        verdict=SHORT,
        expected_kind="compare",
    )
    lead_in = f"比較：\n予算額が大きいのは{SHORT}です。{LONG}はそれより小さい額です。"
    assert first_sentence(lead_in) == f"予算額が大きいのは{SHORT}です。"
    assert _respond(lead_in, case, plan={"kind": "compare"}).verdict_ok
    buried = f"{LONG}の予算額は次のとおりです。{SHORT}のほうが大きい額です。"
    assert _respond(buried, case, plan={"kind": "compare"}).verdict_ok is False


def _survey_case() -> EvalCase:
    return EvalCase.model_validate(
        {
            "id": "p1",
            "category": "contact_prose",
            "question": "実態調査のFAX番号は？",
            "expected_strings": ["03-5253-5436"],
            "evidence": [{"doc_id": "003", "line_start": 1, "line_end": 4}],
        }
    )


def _survey_citation(quote: str = "F A X: 03-5253-5436") -> dict:
    return {**_citation(1, quote, 4, 4), "doc_id": "003"}


def test_a_contact_printed_in_a_cited_prose_quote_is_a_known_contact():
    s = _respond("FAXは03-5253-5436です[1]。", _survey_case(), [_survey_citation()])
    assert s.correct and s.contacts == s.contacts_known == 1, s.problems


def test_a_prose_contact_needs_a_verbatim_cited_quote():
    # Not cited by the sentence, or the quote is not in the document: the number is not vouched for.
    uncited = _respond("FAXは03-5253-5436です。", _survey_case(), [_survey_citation()])
    assert uncited.contacts_known == 0
    fake = _respond("FAXは03-5253-9999です[1]。", _survey_case(), [_survey_citation("F A X: 03-5253-9999")])
    assert fake.contacts_known == 0 and fake.quotes_verbatim == 0


def _judged_case(category: str) -> EvalCase:
    base = {"id": category, "category": category, "question": "その事業の予算は？", "expected_kind": category}
    if category == "not_stated":
        base |= {
            "question": "地域活性化人材育成事業の締切は？",
            "expected_strings": ["大学改革推進室"],
            "evidence": [{"doc_id": DOC, "line_start": 2, "line_end": 4}],
        }
    return EvalCase.model_validate(base)


def test_clarify_and_not_stated_are_judged_by_kind_not_by_the_abstained_flag():
    emails, phones = known_contacts(PROGRAMS)
    ask_back = {
        "answer": "どの事業のことでしょうか？",
        "abstained": True,
        "citations": [],
        "intent": "clarify",
    }
    clarify = score_answer(_judged_case("clarify"), ask_back, DOCUMENTS, emails, phones)
    assert clarify.correct and clarify.fact_sentences == 0  # a question back states no fact
    answered = {**ask_back, "abstained": False, "intent": "prose"}
    assert not score_answer(_judged_case("clarify"), answered, DOCUMENTS, emails, phones).correct
    results = [
        CaseResult(_judged_case("clarify"), "hybrid", clarify, None, 0.01),
        CaseResult(
            _case(), "hybrid", _score(GOOD, [_citation(1, "mail：daikaika@mext.go.jp", 4, 4)]), 1, 0.01
        ),
    ]
    summary = Summary.of(results)
    # The clarification set abstained, yet abstention precision has nothing to hold against it.
    assert summary.abstention_precision is None and summary.kind_accuracy == 1.0


# -- issue 19: the misleading-answer metric -----------------------------------------------------------
def _misleading(answer: str, case: EvalCase, catalog=None, **response) -> list[str]:
    body = {"answer": answer, "abstained": False, "citations": [], **response}
    return misleading_reasons(case, body, catalog)


def test_a_list_naming_an_excluded_program_misleads_a_missing_one_does_not():
    case = _list_case()
    assert _misleading(f"{LONG}と{SHORT}です。", case, plan={"kind": "list"}) == [
        f"lists what the gold excludes: {SHORT}"
    ]
    assert _misleading(f"{LONG}です。", case, plan={"kind": "list"}, programs=[{"name": SHORT}])
    # Missing the expected program is wrong, not misleading; naming the expected one containing the
    # forbidden name is neither.
    assert _misleading("該当する事業は見つかりませんでした。", case, plan={"kind": "list"}) == []
    assert _misleading(f"該当するのは{LONG}です。", case, plan={"kind": "list"}) == []


def test_the_opposite_yes_no_misleads_in_either_language_and_in_the_plan():
    no_case = _yes_no_case("いいえ")
    assert _misleading("はい、申請できます。", no_case) == ["opens with yes where the gold says いいえ"]
    assert _misleading("**Yes** — universities can apply.", no_case) == [
        "opens with yes where the gold says いいえ"
    ]
    assert _misleading("はい、申請できます。", _yes_no_case("はい")) == []
    assert (
        _misleading("Nope? 申請主体は①大学等研究機関です。", _yes_no_case("はい")) == []
    )  # not a verdict word
    # No verdict at all is wrong (verdict_ok False) but not confidently wrong; a plan stating the opposite is.
    hedge = "申請主体は①大学等研究機関です。"
    assert _misleading(hedge, no_case) == []
    assert _misleading(hedge, no_case, plan={"kind": "yes_no", "verdict": "yes"}) == [
        "plan.verdict 'yes' where the gold says いいえ"
    ]
    scored = _respond("いいえ、申請できません。", _yes_no_case("はい", evidence=[]))
    assert (
        scored.misleading and not scored.correct and any(p.startswith("misleading:") for p in scored.problems)
    )


def _compare_case() -> EvalCase:
    return _list_case(
        category="compare",
        question="どちらの予算が大きい？",
        expected_programs=[LONG, SHORT],
        forbidden_programs=[],
        verdict=LONG,
        expected_kind="compare",
    )


CATALOG = {"p-long": LONG, "p-short": SHORT, "p-other": "地域活性化人材育成事業"}


def test_a_rival_named_instead_of_the_winner_misleads():
    case = _compare_case()
    assert _misleading(f"予算額が大きいのは{LONG}です。", case, CATALOG) == []
    # SHORT is inside LONG's name: naming the winner does not count as naming that rival.
    assert _misleading(f"予算額が大きいのは{SHORT}です。", case, CATALOG) == [
        f"first statement names {SHORT} instead of the winner {LONG}"
    ]
    # A catalog program that is not among the compared ones is a rival too (a ranking's wrong winner).
    assert _misleading("最も大きいのは地域活性化人材育成事業です。", case, CATALOG)
    # Naming nobody first is not a verdict, so not a wrong one; the plan's winner is checked by id.
    assert _misleading("予算額は次のとおりです。", case, CATALOG) == []
    assert _misleading("予算額は次のとおりです。", case, CATALOG, plan={"winner": "p-short"}) == [
        f"plan.winner is {SHORT}, the gold winner is {LONG}"
    ]
    assert _misleading("予算額は次のとおりです。", case, CATALOG, plan={"winner": "p-long"}) == []


def test_answering_where_the_documents_are_silent_misleads():
    refusal = _case(category="refusal", expected_programs=[], expected_strings=[], evidence=[], abstain=True)
    assert _misleading("明日は晴れです。", refusal, plan={"kind": "prose"}) == [
        "answers a question the documents do not answer"
    ]
    abstained = {"answer": "収録資料には記載がありません。", "abstained": True, "citations": []}
    assert misleading_reasons(refusal, abstained) == []
    not_stated = _judged_case("not_stated")
    assert _misleading("締切は3月末です。", not_stated, plan={"kind": "attribute"})
    # The kind says the documents are silent (or asks back) even where the API leaves abstained unset.
    assert _misleading("締切は資料にありません。", not_stated, plan={"kind": "not_stated"}) == []
    assert _misleading("どの事業のことですか？", not_stated, plan={"kind": "clarify"}) == []


def _not_found_case(**kw) -> EvalCase:
    base = {
        "id": "nf1",
        "category": "not_found",
        "question": "地域DX大学支援事業の予算は？",
        "abstain": True,
        "nearest": ["地域活性化人材育成事業"],
    }
    return EvalCase.model_validate({**base, **kw})


def test_a_not_found_answer_abstains_and_offers_a_nearest_entity():
    emails, phones = known_contacts(PROGRAMS)
    said = "「地域DX大学支援事業」は収録資料にありません。近いものとして地域活性化人材育成事業があります。"
    offered = {"answer": said, "abstained": True, "citations": []}
    score = score_answer(_not_found_case(), offered, DOCUMENTS, emails, phones)
    assert score.correct and not score.misleading, score.problems
    bare = {**offered, "answer": "収録資料にありません。"}
    score = score_answer(_not_found_case(), bare, DOCUMENTS, emails, phones)
    assert not score.correct and not score.misleading  # honest, but offers nothing nearby
    as_card = {**bare, "programs": [{"name": "地域活性化人材育成事業"}]}
    assert score_answer(_not_found_case(), as_card, DOCUMENTS, emails, phones).correct
    answered = {**offered, "abstained": False, "plan": {"kind": "attribute"}}
    score = score_answer(_not_found_case(), answered, DOCUMENTS, emails, phones)
    assert not score.correct and score.misleading == ["answers a question the documents do not answer"]


def test_misleading_answers_are_counted_per_case_and_gated_at_zero():
    emails, phones = known_contacts(PROGRAMS)
    wrong = score_answer(
        _yes_no_case("いいえ"),
        {"answer": YES, "abstained": False, "citations": []},
        DOCUMENTS,
        emails,
        phones,
    )
    right = _score(GOOD, [_citation(1, "mail：daikaika@mext.go.jp", 4, 4)])
    results = [
        CaseResult(_yes_no_case("いいえ", tags=["c1_wrong_verdict"]), "hybrid", wrong, 1, 0.01),
        CaseResult(_case(), "hybrid", right, 1, 0.01),
    ]
    summary = Summary.of(results)
    assert summary.misleading == 1 and Summary.of(results[1:]).misleading == 0
    rules = {"mode": "hybrid", "max": {"misleading": 0}}
    assert check_thresholds({"hybrid": summary}, rules) == ["hybrid misleading = 1 > 0"]
    assert check_thresholds({"hybrid": Summary.of(results[1:])}, rules) == []
    # The shipped gate holds the misleading maximum at zero.
    assert load_thresholds()["max"]["misleading"] == 0


class _CannedTarget:
    """An EvalTarget answering from a table (no model): the runner's report is checked end to end."""

    modes = ("hybrid",)

    def __init__(self, answers: dict[str, dict]) -> None:
        self.answers = answers

    def run(self, case, mode):
        return {"abstained": False, "citations": [], **self.answers[case.id]}, [], 0.01

    def ask(self, question, history, filters, mode):
        raise AssertionError("no paraphrases in this test")

    def programs(self):
        return [{"id": pid, "name": name, "email": [], "tel": []} for pid, name in CATALOG.items()]

    def documents(self):
        return LIST_DOCUMENTS


def test_the_report_counts_misleading_answers_per_tag_and_lists_them():
    cases = [
        _compare_case().model_copy(update={"id": "w1", "tags": ["c1_wrong_verdict"]}),
        _list_case().model_copy(update={"id": "l1", "tags": ["c3_dropped_condition", "negative"]}),
    ]
    target = _CannedTarget(
        {
            "w1": {"answer": f"予算額が大きいのは{SHORT}です。", "plan": {"kind": "compare"}},
            "l1": {"answer": f"{LONG}です。", "plan": {"kind": "list"}},
        }
    )
    report = run_eval(
        target, cases, ["hybrid"], {"mode": "hybrid", "max": {"misleading": 0}}, show_progress=False
    )
    assert report.overall["hybrid"].misleading == 1
    assert report.by_tag["hybrid"]["c1_wrong_verdict"].misleading == 1
    assert report.by_tag["hybrid"]["negative"].misleading == 0
    assert report.failures == ["hybrid misleading = 1 > 0"]
    listed = report.to_json()["misleading"]["hybrid"]
    assert [item["id"] for item in listed] == ["w1"] and "instead of the winner" in listed[0]["reasons"][0]
    markdown = render_markdown(report)
    assert "| misleading |" in markdown and "- misleading (hybrid) w1: first statement names" in markdown
