"""Answer shapes a help desk relies on: several contacts, a ministry's contacts, budget rankings,
and follow-ups that must not swallow a question standing on its own. Real model, real index."""

from __future__ import annotations

import pytest

from assistant.pipeline.read import Turn

pytestmark = pytest.mark.slow

SMART_CITY_TURNS = [
    Turn(role="user", content="スマートシティに関係する事業は？"),
    Turn(
        role="assistant",
        content="地域課題解決のためのスマートシティ推進事業とスマートシティ実装化支援事業があります。",
    ),
]


def test_two_programs_contacts_each_start_on_their_own_line(answer_service):
    result = answer_service.answer("共創の場形成支援プログラムと地域活性化人材育成事業の問い合わせ先は？")
    lines = result.answer.split("\n")
    assert lines[0] == "共創の場形成支援プログラムの問い合わせ先は次のとおりです："
    assert "地域活性化人材育成事業の問い合わせ先は次のとおりです：" in lines
    assert "coi-next@mext.go.jp" in result.answer and "daikaika@mext.go.jp" in result.answer


def test_a_ministrys_contacts_are_listed_from_the_catalog(answer_service):
    result = answer_service.answer("国土交通省の事業の連絡先を全部教えて")
    assert result.intent == "list"
    mlit = [p for p in answer_service.programs.values() if p.ministry == "国土交通省"]
    assert {p.name for p in result.programs} == {p.name for p in mlit}
    for program in mlit:
        for contact in [*program.tel, *program.email]:
            assert contact in result.answer


def test_a_list_question_after_a_conversation_is_not_taken_as_a_follow_up(answer_service):
    result = answer_service.answer("国土交通省の事業の連絡先を全部", SMART_CITY_TURNS)
    assert result.intent == "list"
    assert all(p.ministry == "国土交通省" for p in result.programs)
    assert "ict-town@soumu.go.jp" not in result.answer  # the 総務省 program named before is not it


def test_an_ordinal_follow_up_still_resolves(answer_service):
    result = answer_service.answer("後者の連絡先は？", SMART_CITY_TURNS)
    assert [p.name for p in result.programs] == ["スマートシティ実装化支援事業"]
    assert "hqt-smartcity-mlit@gxb.mlit.go.jp" in result.answer


def test_the_largest_budget_is_the_first_of_a_ranking(answer_service):
    result = answer_service.answer("一番予算が大きい事業はどれ？")
    assert result.intent == "ranking" and not result.abstained
    budgets = [p.budget_thousand_yen for p in result.programs]
    largest = max(p.budget_thousand_yen or 0 for p in answer_service.programs.values())
    assert budgets[0] == largest and budgets == sorted(budgets, reverse=True)
    # A superlative is answered by a sentence naming the winner, the runners-up follow.
    assert result.answer.startswith(
        f"表に予算額の記載がある事業のうち、予算額が最も大きいのは{result.programs[0].name}"
    )
    assert "続く事業：" in result.answer
    top5 = answer_service.answer("予算の多い順に上位5件の事業を教えて")
    assert top5.answer.startswith("予算額の大きい順")  # a top-N question gets the ordered list


def test_a_superlative_with_conditions_names_the_winner_and_the_conditions(answer_service):
    result = answer_service.answer("国交省の事業で予算がいちばん多いのってどれ？")
    first = result.answer.split("\n")[0]
    assert first.startswith(
        "条件（所管：国土交通省、表に予算額の記載がある事業）のうち、予算額が最も大きいのは"
    )
    assert result.programs[0].name in first and "千円" in first


def test_a_ranking_keeps_the_questions_conditions(answer_service):
    result = answer_service.answer("農水省の事業で予算が一番大きいのは？")
    assert result.programs and all(p.ministry == "農林水産省" for p in result.programs)
    assert result.programs[0].name == "スマート農業技術の開発・実証・実装プロジェクト"


def test_a_ranking_shows_as_many_as_asked(answer_service):
    result = answer_service.answer("予算の多い順に上位5件の事業を教えて")
    assert len(result.programs) == 5
    result = answer_service.answer("世界トップレベル研究拠点プログラム（WPI）の予算額は？")
    # 「トップ」 in a name is no ranking: the measure's own figure, as an attribute of a non-catalog measure
    assert result.intent == "attribute" and "6,100百万円" in result.answer and not result.programs


def test_whom_to_contact_about_a_programs_purpose_gets_that_programs_contact(answer_service):
    result = answer_service.answer("地方気象台と組んで防災教育をしたい場合、どこに連絡すればいい？")
    assert [p.name for p in result.programs] == ["地方気象台との人材育成・防災教育等での連携"]
    assert "gisui@jma.go.jp" in result.answer


def test_whom_to_contact_about_something_no_program_is_for_gives_no_programs_contact(answer_service):
    result = answer_service.answer("JSTの問い合わせ先は？")
    assert result.programs == [] and "TEL" not in result.answer and "mail" not in result.answer


def test_a_year_the_documents_do_not_cover_is_named_as_asked_with_the_stated_figure(answer_service):
    result = answer_service.answer("令和6年度の共創の場の予算は？")
    assert result.intent == "not_stated"
    assert result.answer.startswith(
        "共創の場形成支援プログラムの令和6年（2024年）の情報は、収録資料には記載されていません"
    )
    assert "13,750,508千円（令和4年度予算政府案）" in result.answer  # the nearest stated figure, dated
    assert "coi-next@mext.go.jp" in result.answer  # and whom to ask
