"""Japanese phrasings of conditions and program names, parsed against the real catalog."""

from __future__ import annotations

import pytest

from assistant.config import PROJECT_ROOT
from assistant.pipeline.query_parser import (
    InvalidFilterError,
    ProgramMatcher,
    QueryConditions,
    apply_filters,
    filter_programs,
    load_extra_aliases,
    parse_conditions,
)
from ingest.catalog import extract_catalog

CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(scope="module")
def catalog():
    return extract_catalog(CORPUS, CORPUS / "catalog_overrides.json")


@pytest.fixture(scope="module")
def matcher(catalog):
    return ProgramMatcher.from_programs(catalog.programs, load_extra_aliases(CORPUS / "program_aliases.json"))


def _parse(question: str, catalog, matcher) -> QueryConditions:
    return parse_conditions(question, catalog.programs, matcher)


def _id(catalog, name: str) -> str:
    return next(p.id for p in catalog.programs if p.name == name)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "文科省の事業で大学が申請できるもの",
            {"ministry": "文部科学省", "applicant_type": "大学等研究機関"},
        ),
        ("100億円を超える事業", {"min_budget": 10_000_000, "min_inclusive": False}),
        ("新規採択がない事業は？", {"new_calls": False}),
        ("今年度は新規の課題採択をしない事業を教えて", {"new_calls": False}),
        (
            "経産省の事業で企業が応募できるものを教えて",
            {"ministry": "経済産業省", "applicant_type": "民間事業者等"},
        ),
        ("自治体が申請主体の事業の一覧", {"applicant_type": "自治体"}),
        ("予算が1億円未満の事業はどれですか", {"max_budget": 100_000, "max_inclusive": False}),
        ("農水省のスマート農業関連の事業", {"ministry": "農林水産省", "theme_has": "スマート農業"}),
        ("防災に使える国交省の事業は？", {"ministry": "国土交通省", "theme_has": "防災"}),
        ("脱炭素で10億円以上の事業", {"theme_has": "脱炭素", "min_budget": 1_000_000, "min_inclusive": True}),
        (
            "厚労省のバイオ関係で新規公募がある事業",
            {"ministry": "厚生労働省", "theme_has": "バイオ", "new_calls": True},
        ),
        (
            "研究者個人が応募できるスタートアップ支援",
            {"applicant_type": "研究者", "theme_has": "スタートアップ"},
        ),
        (
            "ＭａａＳの事業で５０００万円以下のもの",
            {"theme_has": "MaaS", "max_budget": 50_000, "max_inclusive": True},
        ),
    ],
)
def test_phrasings_parse_to_conditions(question, expected, catalog, matcher):
    conditions = _parse(question, catalog, matcher)
    for key, value in expected.items():
        if key == "theme_has":
            assert conditions.theme and value in conditions.theme, (question, conditions)
        else:
            assert getattr(conditions, key) == value, (question, key, conditions)
    assert conditions.has_filters


def test_a_university_goal_is_not_an_applicant_filter(catalog, matcher):
    conditions = _parse("うちの大学は地域の人材育成をしたい。使える事業と問い合わせ先は？", catalog, matcher)
    assert conditions.applicant_type is None
    assert not conditions.has_filters


def test_every_program_is_found_by_its_name_and_aliases(catalog, matcher):
    for program in catalog.programs:
        assert program.id in matcher.find(f"{program.name}について教えて"), program.name
        assert program.id in matcher.find(f"「{program.name}」の予算は？"), program.name
        for alias in program.aliases:
            assert program.id in matcher.find(f"{alias}の担当は？"), (program.name, alias)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ローカル10000プロジェクトの連絡先", "ローカル10,000プロジェクト"),
        ("ローカル１００００プロジェクトとは", "ローカル10,000プロジェクト"),
        ("共創の場の予算はいくら？", "共創の場形成支援プログラム"),
        ("COI-NEXTの問い合わせ先", "共創の場形成支援プログラム"),
        ("ｓｐａｒｃについて", "地域活性化人材育成事業"),
        ("地方大学・地域産業創生交付金事業の申請主体", "地方大学・地域産業創生交付金"),
        ("地方大学地域産業創生交付金の担当", "地方大学・地域産業創生交付金"),
    ],
)
def test_names_match_across_width_separators_and_short_forms(text, name, catalog, matcher):
    assert _id(catalog, name) in matcher.find(text)


def test_ascii_aliases_do_not_match_inside_words(catalog, matcher):
    start = [p for p in catalog.programs if "START" in p.aliases]
    assert start, "the catalog knows START"
    assert start[0].id not in matcher.find("スタートアップのstartupについて")


def test_explicit_filters_resolve_short_names_and_reject_unknown_values(catalog):
    conditions = apply_filters(
        QueryConditions(), {"ministry": "文科省", "applicant_type": "大学"}, catalog.programs
    )
    assert conditions.ministry == "文部科学省" and conditions.applicant_type == "大学等研究機関"
    found = filter_programs(conditions, catalog.programs)
    assert found and all(p.ministry == "文部科学省" for p in found)
    with pytest.raises(InvalidFilterError, match="Valid values: .*文部科学省"):
        apply_filters(QueryConditions(), {"ministry": "宇宙省"}, catalog.programs)
    with pytest.raises(InvalidFilterError, match="Valid filters"):
        apply_filters(QueryConditions(), {"color": "red"}, catalog.programs)


def test_budget_filter_selects_by_amount(catalog, matcher):
    conditions = _parse("100億円以上の事業", catalog, matcher)
    found = filter_programs(conditions, catalog.programs)
    assert found and all(p.budget_thousand_yen >= 10_000_000 for p in found)
    assert "共創の場形成支援プログラム" in {p.name for p in found}


def test_short_aliases_do_not_match_the_tail_of_a_longer_compound(catalog, matcher):
    kyoso = _id(catalog, "共創の場形成支援プログラム")
    assert kyoso not in matcher.find("委員会報告でいう「地域共創の場」とは何ですか")
    assert kyoso in matcher.find("共創の場の予算はいくら？")
    assert kyoso in matcher.find("大学で共創の場に応募したい")


@pytest.mark.parametrize(
    "question",
    ["9" * 400 + "億円以上の事業", "1" * 330 + "円以下の事業", "99999999999999999.5億円以上"],
)
def test_a_run_of_digits_too_long_for_an_amount_is_not_a_budget(question, catalog, matcher):
    # Found by tests/test_fuzz.py: the float of such a number is infinite and round() raised (a 500).
    conditions = _parse(question, catalog, matcher)
    assert conditions.min_budget is None and conditions.max_budget is None
    assert _parse("予算が999999999999999千円以下の事業", catalog, matcher).max_budget == 999_999_999_999_999
