"""Goal → program recommendation and the answer shapes around it, on the real model and index.

The questions here are our own paraphrases, not the eval set's: they check that a goal is matched with the
program whose purpose statement says the same thing, that measures named only on the goal ⇒ program page
are recommended without invented contacts, and that off-topic goals get no program.
"""

from __future__ import annotations

import pytest

from assistant.pipeline.conditions import ProgramFilter
from assistant.pipeline.recommend import target_name
from assistant.records import SourceSpan, UseCase

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("goal", "program"),
    [
        ("ドローンやAIを使った地域課題の解決に、市と大学で取り組みたい", "未来技術社会実装事業"),
        (
            "研究室で開発した消防用の技術を、消防本部に試験的に配備してもらいたい",
            "消防防災科学技術研究推進制度",
        ),
        ("地域のバイオマスを使って、電気や熱を地元で使えるようにしたい", "バイオマス地産地消対策"),
        (
            "学生に起業家教育をして、大学発スタートアップを増やしたい",
            "大学発新産業創出プログラム（START）大学・エコシステム推進型",
        ),
    ],
)
def test_a_goal_finds_the_program_whose_purpose_it_restates(answer_service, goal, program):
    found = answer_service.recommender.recommend(goal, ProgramFilter())
    assert found, goal
    assert found[0].name == program
    assert found[0].program is not None and found[0].program.name == program


def test_a_measure_outside_the_tables_is_recommended_from_its_goal_line(answer_service):
    found = answer_service.recommender.recommend(
        "自治体と組んで、大学の土地を企業の研究開発の実証に早く使ってもらいたい", ProgramFilter()
    )
    assert found and found[0].name == "構造改革特区" and found[0].program is None
    assert found[0].use_case is not None and "構造改革特区" in found[0].use_case.program_name


@pytest.mark.parametrize(
    "question",
    ["うちの大学で宇宙ロケットを開発したい", "学生寮を新しく建てたい", "留学生を増やしたい"],
)
def test_goals_the_package_does_not_cover_get_no_program(answer_service, question):
    assert answer_service.recommender.recommend(question, ProgramFilter()) == []


def test_exact_conditions_narrow_the_recommendation(answer_service):
    goal = "デジタル技術やデータを使って地域の課題を解決するスマートシティを進めたい"
    unrestricted = answer_service.recommender.recommend(goal, ProgramFilter())
    narrowed = answer_service.recommender.recommend(goal, ProgramFilter(ministries=("国土交通省",)))
    assert unrestricted[0].program.ministry == "総務省"
    assert [r.name for r in narrowed] == ["スマートシティ実装化支援事業"]
    # Nothing of that ministry close enough: no program rather than a loose one.
    assert answer_service.recommender.recommend(goal, ProgramFilter(ministries=("厚生労働省",))) == []
    # Filters a caller set that no program meets: nothing, not the unfiltered best.
    impossible = ProgramFilter(ministries=("消防庁",), applicants_all=("官民コンソーシアム",), explicit=True)
    assert answer_service.recommender.recommend(goal, impossible) == []


def test_target_name_drops_the_verb():
    line = UseCase(
        category="x",
        goal="g",
        program_name="構造改革特区へ申請",
        program_id=None,
        source=SourceSpan(doc_id="d", line_start=1, line_end=1),
    )
    assert target_name(line) == "構造改革特区"


# -- the answers around it --------------------------------------------------------------------------
def test_a_recommended_measure_without_a_table_row_gives_no_contact(answer_service):
    result = answer_service.answer(
        "キャンパスの空いている土地を企業の研究開発に貸して、成果を早く社会に出したい。手段は？"
    )
    assert not result.abstained and result.intent == "fit"
    assert "構造改革特区" in result.answer
    assert "記載がありません" in result.answer
    assert "TEL" not in result.answer and "mail" not in result.answer
    assert result.programs == []  # no catalog card for a measure the tables do not list


def test_an_attribute_follow_up_is_answered_from_the_table_row(answer_service):
    from assistant.pipeline.read import Turn

    history = [
        Turn(role="user", content="医療系のベンチャーを支援する事業はある？"),
        Turn(role="assistant", content="医療系ベンチャートータルサポート事業があります。"),
    ]
    result = answer_service.answer("所管はどこの省？", history)
    assert result.intent == "attribute"
    assert result.answer.startswith("医療系ベンチャートータルサポート事業について")
    assert "・所管：厚生労働省[1]" in result.answer
    assert "資料の該当箇所" not in result.answer  # no loosely related prose before the card


def test_a_count_about_cases_is_not_a_list_of_programs(answer_service):
    result = answer_service.answer("総務省の調査では何件くらいの先行事例を分析したの？いくつ？")
    assert result.intent != "list"
    assert "33" in result.answer


def test_a_theme_word_in_a_question_about_one_city_is_not_a_list(answer_service):
    result = answer_service.answer("浜松市はベンチャー企業に投資を呼び込むためにどんな事業をしているの？")
    assert result.intent == "prose"
    assert "ファンドサポート事業" in result.answer


def test_the_next_sentence_completes_a_quoted_answer(answer_service):
    result = answer_service.answer("伯州綿の事例で、住民は栽培のほかに何をしているの？")
    assert "栽培活動に参画" in result.answer
    assert "新生児" in result.answer  # the following sentence of the same line


def test_a_prose_question_about_a_named_program_does_not_dump_its_card(answer_service):
    result = answer_service.answer("共創の場形成支援プログラムには、令和2年度から何がまとめられたの？")
    assert "共創の場形成支援プログラムについて" in result.answer
    assert "連絡先" not in result.answer  # the question is about the prose, not the contact
    assert [p.name for p in result.programs] == ["共創の場形成支援プログラム"]  # the UI still gets the card


def test_the_goal_clause_is_compared_not_the_asking_part(answer_service):
    question = "うちの大学で地域のリーダーを育てる教育をしたい。問い合わせ先は？"
    assert answer_service.read(question).goal == "うちの大学で地域のリーダーを育てる教育をしたい"
    assert answer_service.read("共創の場形成支援プログラムの予算は？").goal is None
    result = answer_service.answer(question)
    assert result.programs[0].name == "地域活性化人材育成事業"  # a close runner-up may follow
    assert "daikaika@mext.go.jp" in result.answer
