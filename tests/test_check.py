"""The check stage: no confident answer to a different question (pipeline/check.py).

Read → plan → check without the embedding model or an index (``corpus_stages`` in conftest.py). Each row
is a phrasing of our own for one failure class of issue 19: a verdict on an attribute that was not asked, a
name the documents do not print, a condition-like phrase that was not applied, a pronoun that points inside
the question, an empty list. Degrading is also checked for its invariants: one-way, idempotent, evidence kept.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.pipeline.check import AnswerCheck, AnswerChecker, degrade
from assistant.pipeline.hits import RetrievalResult
from assistant.pipeline.read import Turn

NO_HITS = dict(mode="hybrid", hits=[], programs=[])


def checked(stages, question: str, history: tuple[str, ...] = ()):
    reader, planner, checker = stages
    turns = [Turn(role="user" if i % 2 == 0 else "assistant", content=t) for i, t in enumerate(history)]
    q = reader.read(question, turns)
    return checker.check(planner.plan(q, RetrievalResult(question=q.text, **NO_HITS)))


# -- a verdict only on what was asked ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "attribute", "verdict"),
    [
        ("共創の場形成支援プログラムと地域活性化人材育成事業は同じ部署の担当ですか？", "department", "no"),
        (
            "経産省のRoAD to the L4プロジェクトと地域新MaaS創出推進事業は担当の課も同じですか？",
            "department",
            "no",
        ),
        (
            "経産省のRoAD to the L4プロジェクトと地域新MaaS創出推進事業は同じ省の事業ですか？",
            "ministry",
            "yes",
        ),
        ("共創の場形成支援プログラムと地域活性化人材育成事業って申請できる主体は一緒？", "applicants", "yes"),
        ("地域脱炭素移行・再エネ推進交付金と環境研究総合推進費は問い合わせ先のメールが同じ？", "email", "no"),
        (
            "地域脱炭素移行・再エネ推進交付金と地域脱炭素実現に向けた再エネの最大限導入のための計画づくり支援事業は、"
            "メールアドレスが同じですか？",
            "email",
            "yes",
        ),
        ("スマートシティ実装化支援事業と日本版MaaS推進・支援事業の連絡先は一緒？", "contact", "no"),
    ],
)
def test_a_same_or_different_verdict_is_on_the_attribute_named_beside_it(
    corpus_stages, question, attribute, verdict
):
    plan = checked(corpus_stages, question)
    assert plan.kind == "compare"
    assert (plan.verdict_attribute, plan.verdict) == (attribute, verdict)


def test_same_without_saying_in_what_gets_the_rows_without_a_verdict(corpus_stages):
    plan = checked(corpus_stages, "共創の場形成支援プログラムと地域活性化人材育成事業は同じですか？")
    assert plan.kind == "compare" and plan.verdict is None
    assert set(plan.compared) >= {"ministry", "applicants"}


def test_taking_part_is_not_applying(corpus_stages):
    plan = checked(corpus_stages, "共創の場形成支援プログラムには企業も参加できますか？")
    assert plan.verdict is None and plan.kind == "attribute"
    assert plan.check is not None and plan.check.vetoed and plan.check.degraded_from == "yes_no"


def test_a_yes_no_verdict_covers_every_asked_condition(corpus_stages):
    plan = checked(corpus_stages, "共創の場形成支援プログラムは文科省の事業で、企業も申請できますか？")
    assert plan.kind == "yes_no" and plan.verdict == "no"
    assert plan.verdict_attributes == ("applicant", "ministry")  # the failing one leads


def test_a_rule_question_is_not_answered_with_a_list(corpus_stages):
    plan = checked(corpus_stages, "PRISMのインセンティブでは、文科省の事業への参画も加点の対象になりますか？")
    assert plan.kind not in ("list", "yes_no") and not plan.programs


def test_a_closest_measure_is_not_a_budget_ranking(corpus_stages):
    reader, planner, _ = corpus_stages
    q = reader.read(
        "地元の中小企業と新しい事業を立ち上げたい。計画に一番近い施策とその予算を教えてください。"
    )
    assert planner.decide(q).kind == "fit" and q.asks("budget")


# -- names the documents do not print --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("地域共創イノベーション基盤強化事業の予算はいくらですか？", "地域共創イノベーション基盤強化事業"),
        ("スマート水産業実証事業って誰が申請できますか", "スマート水産業実証事業"),
        ("地域中核・特色ある研究大学強化促進事業（J-PEAKS）の申請要件は？", "J-PEAKS"),
        ("地域バイオコミュニティの第二弾で認定された地域はどこですか？", "第二弾"),
        ("田中教授の連絡先を教えて", "田中"),
    ],
)
def test_a_name_the_documents_do_not_print_is_not_found(corpus_stages, question, name):
    plan = checked(corpus_stages, question)
    assert plan.kind == "not_found" and plan.abstained
    assert name in [u.text for u in plan.all_unknown]
    assert plan.verdict is None and not plan.programs


@pytest.mark.parametrize(
    "question",
    [
        "共創の場形成支援事業の予算は？",  # the program, named with 事業 for プログラム
        "地域活性化人財育成事業の予算は？",  # a slip of one kanji
        "マテリアル先端リサーチインフラの予算は？",  # a measure without a table row
        "構造改革特区について教えて",
        "北海道データサイエンスネットワークについて",
        "地域バイオコミュニティの第一弾で認定された地域は？",
        "画像認識を使った農業支援事業はありますか",  # a description of what is looked for, not a name
    ],
)
def test_names_the_documents_print_are_not_unknown(corpus_stages, question):
    plan = checked(corpus_stages, question)
    assert plan.kind != "not_found" and not plan.all_unknown


# -- conditions applied or named --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "unapplied"),
    [
        ("採択件数が10件以上で、大学が申請できる事業は？", "10件以上"),
        ("東北地方の大学向けの事業を教えて", "東北地方の大学向け"),
        ("令和3年度以降に新設された国交省の事業を一覧で", "令和3年度以降"),
    ],
)
def test_a_condition_that_cannot_be_applied_is_named(corpus_stages, question, unapplied):
    plan = checked(corpus_stages, question)
    assert plan.check is not None and unapplied in plan.check.unapplied


@pytest.mark.parametrize(
    "question",
    [
        "予算が3億円を超える環境省の事業は？",
        "民間事業者等のみが申請できる国交省の事業は？",
        "自治体以外が申請主体の事業",
        "予算額の記載がある国交省の事業は？",
        "文科省だけの事業を一覧で",
    ],
)
def test_conditions_read_are_not_reported_as_unapplied(corpus_stages, question):
    plan = checked(corpus_stages, question)
    assert plan.check is not None and plan.check.unapplied == ()


def test_conditions_inside_a_quoted_question_are_applied(corpus_stages):
    plan = checked(
        corpus_stages,
        "市役所の方から「環境省の事業で、市が自分で申請主体になれるものはどれか」と聞かれました。一覧にしてもらえますか。",
    )
    assert plan.kind == "list"
    assert {f.program.ministry for f in plan.programs} == {"環境省"}
    assert all("自治体" in f.program.applicant_types for f in plan.programs)


def test_an_empty_list_names_the_condition_that_empties_it_and_the_near_misses(corpus_stages):
    plan = checked(corpus_stages, "民間事業者等のみが申請できる国交省の事業は？")
    assert plan.kind == "list" and not plan.programs
    assert plan.relaxed is not None and plan.relaxed.field == "applicant"
    assert plan.near_misses and all(f.program.ministry == "国土交通省" for f in plan.near_misses)


def test_near_misses_of_a_budget_threshold_are_the_closest_budgets(corpus_stages):
    plan = checked(corpus_stages, "予算額が5千万円以下の事業を教えて")
    budgets = [f.program.budget_thousand_yen for f in plan.near_misses]
    assert budgets and budgets == sorted(budgets, key=lambda b: abs((b or 0) - 50_000))


# -- pronouns that point inside the question or at a topic ------------------------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "AIの技術を持っている研究室があります。それを農業に持ち込みたいのですが、使える事業は？",
        "これは何という制度ですか？知事が主導して大学改革と産業振興を一体でやる交付金です",
        "文科省の事業を挙げてください。そのうち自治体が出せるものは？",
    ],
)
def test_a_pronoun_pointing_inside_the_question_does_not_ask_back(corpus_stages, question):
    assert checked(corpus_stages, question).kind != "clarify"


def test_a_pronoun_with_nothing_to_point_at_asks_back(corpus_stages):
    assert checked(corpus_stages, "その事業の予算は？").kind == "clarify"


def test_a_pronoun_after_a_topic_that_is_no_program_searches_with_the_topic(corpus_stages):
    reader, _, _ = corpus_stages
    history = [
        Turn(role="user", content="地域バイオコミュニティってどんな制度ですか？"),
        Turn(role="assistant", content="バイオ戦略に基づき、地域の特色ある取組を認定するものです。"),
    ]
    q = reader.read("そのうち東海地方のコミュニティには、どこの大学が入っていますか？", history)
    assert q.reference is None and "地域バイオコミュニティ" in q.topic


def test_a_self_contained_question_is_not_taken_over_by_the_history(corpus_stages):
    plan = checked(
        corpus_stages,
        "大学が申請できる事業は？",
        ("共創の場形成支援プログラムの予算は？", "共創の場形成支援プログラムの予算額は13,750,508千円です。"),
    )
    assert plan.kind == "list" and len(plan.programs) > 1


def test_a_pick_by_ministry_searches_the_whole_conversation(corpus_stages):
    plan = checked(
        corpus_stages,
        "国交省のほうの予算額とメールアドレスは？",
        (
            "スマートシティの支援メニューを教えて",
            "総務省の地域課題解決のためのスマートシティ推進事業、国土交通省のスマートシティ実装化支援事業があります。",
            "総務省のは誰が申請できる？",
            "地域課題解決のためのスマートシティ推進事業の申請主体は、民間事業者等と自治体です。",
        ),
    )
    assert [f.program.name for f in plan.programs] == ["スマートシティ実装化支援事業"]


# -- networks ---------------------------------------------------------------------------------------------
def test_an_organisation_no_network_lists_gets_no_verdict_about_its_sector(corpus_stages):
    plan = checked(corpus_stages, "伊予銀行は高知県のネットワークにも入っていますか？")
    assert plan.verdict == "no" and plan.network_unlisted == ("伊予銀行",)


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("とくしま産学官連携プラットフォームの会長を務めているのは誰ですか？", "network_person"),
        ("広島県のネットワークはいつ発足しましたか？", "network_when"),
    ],
)
def test_a_network_question_about_what_the_table_does_not_print(corpus_stages, question, missing):
    plan = checked(corpus_stages, question)
    assert plan.kind == "not_stated" and plan.missing == (missing,) and plan.network is not None


def test_a_region_no_table_covers_is_not_found_without_prose(corpus_stages):
    plan = checked(corpus_stages, "沖縄県の産学官ネットワークに参加している大学は？")
    assert plan.kind == "not_found" and [u.text for u in plan.all_unknown] == ["沖縄県"]
    assert "広島県" in plan.nearest


# -- degrading: one-way, idempotent, evidence kept -----------------------------------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "共創の場形成支援プログラムには企業も参加できますか？",
        "地域共創イノベーション基盤強化事業の予算はいくらですか？",
        "採択件数が10件以上で、大学が申請できる事業は？",
        "共創の場形成支援プログラムと地域活性化人材育成事業は同じ部署の担当ですか？",
    ],
)
def test_checking_is_idempotent_and_keeps_the_evidence(corpus_stages, question):
    reader, planner, checker = corpus_stages
    q = reader.read(question)
    plan = planner.plan(q, RetrievalResult(question=q.text, **NO_HITS))
    evidence = list(plan.evidence)
    once = checker.check(plan)
    assert checker.check(once) is once
    assert once.evidence == evidence and plan.check is None  # the input plan is not changed


def test_degrading_never_upgrades_a_kind(corpus_stages):
    reader, planner, _ = corpus_stages
    q = reader.read("その事業の予算は？")
    plan = planner.plan(q, RetrievalResult(question=q.text, **NO_HITS))
    report = AnswerCheck(vetoed=("test",), unapplied=("x",))
    assert degrade(plan, report).kind == "clarify"
    abstained = replace(plan, kind="abstain")
    assert degrade(abstained, report).kind == "abstain"


def test_a_checker_runs_the_rules_it_is_given(corpus_stages):
    reader, planner, _ = corpus_stages
    q = reader.read("共創の場形成支援プログラムには企業も参加できますか？")
    plan = planner.plan(q, RetrievalResult(question=q.text, **NO_HITS))
    assert AnswerChecker(checks=()).check(plan).kind == "yes_no"
