"""Reading a question: conditions with their role, program names (printed, kana, typos), references.

Against the real catalog extracted from corpus/, without the embedding model or an index.
"""

from __future__ import annotations

import pytest

from assistant.pipeline.conditions import InvalidFilterError, ProgramFilter, explicit_filters
from assistant.pipeline.read import QuestionReader, Turn, mentioned_years


@pytest.fixture(scope="module")
def catalog(corpus_catalog):
    return corpus_catalog


@pytest.fixture(scope="module")
def matcher(corpus_matcher):
    return corpus_matcher


@pytest.fixture(scope="module")
def reader(catalog, matcher):
    return QuestionReader(catalog.programs, matcher)


def _id(catalog, name: str) -> str:
    return next(p.id for p in catalog.programs if p.name == name)


def _applied(question) -> set[tuple]:
    return {(c.field, c.op, c.value) for c in question.conditions if c.role != "background"}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "文科省の事業で大学が申請できるもの",
            {("ministry", "any", ("文部科学省",)), ("applicant", "all", ("大学等研究機関",))},
        ),
        ("100億円を超える事業", {("min_budget", "gt", 10_000_000)}),
        ("新規採択がない事業は？", {("new_calls", "eq", False)}),
        ("今年度は新規の課題採択をしない事業を教えて", {("new_calls", "eq", False)}),
        (
            "経産省の事業で企業が応募できるものを教えて",
            {("ministry", "any", ("経済産業省",)), ("applicant", "all", ("民間事業者等",))},
        ),
        ("自治体が申請主体の事業の一覧", {("applicant", "all", ("自治体",))}),
        ("予算が1億円未満の事業はどれですか", {("max_budget", "lt", 100_000)}),
        (
            "農水省のスマート農業関連の事業",
            {("ministry", "any", ("農林水産省",)), ("theme", "any", ("スマート農業",))},
        ),
        (
            "防災に使える国交省の事業は？",
            {("ministry", "any", ("国土交通省",)), ("theme", "any", ("防災・減災",))},
        ),
        ("脱炭素で10億円以上の事業", {("theme", "any", ("地域脱炭素",)), ("min_budget", "ge", 1_000_000)}),
        ("研究者個人が応募できるスタートアップ支援", {("applicant", "all", ("研究者",))}),
        (
            "ＭａａＳの事業で５０００万円以下のもの",
            {("theme", "any", ("MaaS・自動運転",)), ("max_budget", "le", 50_000)},
        ),
        (
            "大学・企業・自治体のどれもが申請できる事業",
            {("applicant", "all", ("大学等研究機関", "民間事業者等", "自治体"))},
        ),
        ("大学か企業が申請できる事業", {("applicant", "any", ("大学等研究機関", "民間事業者等"))}),
        ("大学は申請主体に入っていない事業", {("applicant", "not", ("大学等研究機関",))}),
        ("大学が申請できない事業はどれ？", {("applicant", "not", ("大学等研究機関",))}),
        ("内閣府以外の事業", {("ministry", "not", ("内閣府",))}),
        ("文科省か経産省の事業", {("ministry", "any", ("文部科学省", "経済産業省"))}),
        (
            "脱炭素以外のテーマで自治体が申請できる事業",
            {("theme", "not", ("地域脱炭素",)), ("applicant", "all", ("自治体",))},
        ),
        ("予算額が書かれていない事業は？", {("has_budget", "eq", False)}),
        ("Which programs can universities apply to?", {("applicant", "all", ("大学等研究機関",))}),
        (
            "Programs of MEXT that companies can apply to",
            {("ministry", "any", ("文部科学省",)), ("applicant", "all", ("民間事業者等",))},
        ),
        ("programs over 10 billion yen", {("min_budget", "gt", 10_000_000)}),
    ],
)
def test_phrasings_read_to_conditions(question, expected, reader):
    q = reader.read(question)
    assert expected <= _applied(q), (question, q.conditions)


@pytest.mark.parametrize(
    ("question", "field"),
    [
        (
            "うちの大学はすでに文科省の事業に採択されています。次は企業と組んで新しい研究をしたい。使える事業は？",
            "ministry",
        ),
        ("総務省の実態調査では事例をどう分類していますか", "ministry"),
        ("文科省の共創の場形成支援プログラムの予算は？", "ministry"),
        ("共創の場について文科省に問い合わせたい。電話番号は？", "ministry"),
        ("スマート農業の技術を現場で試したいと考えております。応募できる事業はありますか", "theme"),
    ],
)
def test_background_about_the_asker_is_not_a_filter(question, field, reader):
    q = reader.read(question)
    found = [c for c in q.conditions if c.field == field]
    assert found and all(c.role == "background" for c in found), (question, q.conditions)
    assert ProgramFilter.of(q.conditions).model_dump(include={"ministries", "themes"}) == {
        "ministries": (),
        "themes": (),
    }


def test_a_university_goal_is_not_an_applicant_filter(reader):
    q = reader.read("うちの大学は地域の人材育成をしたい。使える事業と問い合わせ先は？")
    assert not any(c.field == "applicant" for c in q.conditions)
    assert q.goal is not None and "人材育成" in q.goal and "問い合わせ" not in q.goal


def test_the_goal_is_found_inside_a_narrative(reader):
    q = reader.read(
        "うちは工学部が強い地方国立大学です。今度は地元の自治体や企業と一緒に、地域の課題を解決する研究拠点をつくりたい。"
    )
    assert q.goal == "地元の自治体や企業と一緒に、地域の課題を解決する研究拠点をつくりたい"
    assert "産学官" in (q.matching_goal or "")  # partners from several sectors, in the package's words


def test_every_program_is_found_by_its_name_and_aliases(catalog, matcher):
    for program in catalog.programs:
        assert program.id in matcher.find(f"{program.name}について教えて"), program.name
        assert program.id in matcher.find(f"「{program.name}」の予算は？"), program.name
        for alias in program.aliases:
            assert program.id in matcher.find(f"{alias}の担当は？"), (program.name, alias)


@pytest.mark.parametrize(
    ("text", "name", "how"),
    [
        ("ローカル10000プロジェクトの連絡先", "ローカル10,000プロジェクト", "name"),
        ("ローカル１００００プロジェクトとは", "ローカル10,000プロジェクト", "name"),
        ("共創の場の予算はいくら？", "共創の場形成支援プログラム", "name"),
        ("COI-NEXTの問い合わせ先", "共創の場形成支援プログラム", "name"),
        ("ｓｐａｒｃについて", "地域活性化人材育成事業", "name"),
        ("地方大学地域産業創生交付金の担当", "地方大学・地域産業創生交付金", "name"),
        ("きょうそうのばけいせいしえんぷろぐらむの予算", "共創の場形成支援プログラム", "reading"),
        ("ちいきかっせいかじんざいいくせいじぎょうについて", "地域活性化人材育成事業", "reading"),
        ("ろーかるいちまんぷろじぇくとの窓口", "ローカル10,000プロジェクト", "reading"),
        ("環境研究総合推進比の担当", "環境研究総合推進費", "typo"),
        ("産学融合拠点創出事行の予算", "産学融合拠点創出事業", "name"),  # the name without its 事業
        ("地方大学・地域産業創成交付金の予算", "地方大学・地域産業創生交付金", "typo"),
        ("地域活性化人財育成事業の連絡先", "地域活性化人材育成事業", "typo"),
    ],
)
def test_names_match_by_width_reading_and_small_typos(text, name, how, catalog, matcher):
    mentions = matcher.mentions(text)
    assert [(m.program_id, m.how) for m in mentions][:1] == [(_id(catalog, name), how)], mentions


def test_kanji_homophones_and_compounds_are_not_program_names(catalog, matcher):
    kyoso = _id(catalog, "共創の場形成支援プログラム")
    assert kyoso not in matcher.find("委員会報告でいう「地域共創の場」とは何ですか")
    assert kyoso not in matcher.find("地域の人材育成事業を知りたい")
    assert matcher.find("学生寮を新しく建てたい") == []


def test_ascii_aliases_do_not_match_inside_words(catalog, matcher):
    start = [p for p in catalog.programs if "START" in p.aliases]
    assert start, "the catalog knows START"
    assert start[0].id not in matcher.find("スタートアップのstartupについて")


def test_explicit_filters_resolve_short_names_and_reject_unknown_values(catalog):
    conditions = explicit_filters({"ministry": "文科省", "applicant_type": "大学"}, catalog.programs)
    assert {(c.field, c.value, c.role) for c in conditions} == {
        ("ministry", "文部科学省", "filter"),
        ("applicant", "大学等研究機関", "filter"),
    }
    found = ProgramFilter.of(conditions).apply(catalog.programs)
    assert found and all(p.ministry == "文部科学省" for p in found)
    with pytest.raises(InvalidFilterError, match="Valid values: .*文部科学省"):
        explicit_filters({"ministry": "宇宙省"}, catalog.programs)
    with pytest.raises(InvalidFilterError, match="Valid filters"):
        explicit_filters({"color": "red"}, catalog.programs)


@pytest.mark.parametrize(
    "question",
    ["9" * 400 + "億円以上の事業", "1" * 330 + "円以下の事業", "99999999999999999.5億円以上"],
)
def test_a_run_of_digits_too_long_for_an_amount_is_not_a_budget(question, reader):
    # Found by tests/test_fuzz.py: the float of such a number is infinite and round() raised (a 500).
    q = reader.read(question)
    assert not any(c.field in ("min_budget", "max_budget") for c in q.conditions)
    q = reader.read("予算が999999999999999千円以下の事業")
    assert ("max_budget", "le", 999_999_999_999_999) in _applied(q)


TWO = [
    Turn(role="user", content="文科省の事業で大学が申請できるものは？"),
    Turn(role="assistant", content="共創の場形成支援プログラムと地域活性化人材育成事業があります。"),
]


@pytest.mark.parametrize(
    ("question", "status", "names"),
    [
        ("後者の予算は？", "resolved", ["地域活性化人材育成事業"]),
        ("前者の担当は？", "resolved", ["共創の場形成支援プログラム"]),
        ("2番目の事業の連絡先", "resolved", ["地域活性化人材育成事業"]),
        ("それぞれの予算は？", "resolved", ["共創の場形成支援プログラム", "地域活性化人材育成事業"]),
        ("その事業の予算は？", "ambiguous", []),
        ("3つ目の事業は？", "ambiguous", []),
        ("電話番号は？", "resolved", ["共創の場形成支援プログラム", "地域活性化人材育成事業"]),
    ],
)
def test_references_resolve_against_the_conversation(question, status, names, reader, catalog):
    q = reader.read(question, TWO)
    assert q.reference is not None and q.reference.status == status, q.reference
    assert [next(p.name for p in catalog.programs if p.id == pid) for pid in q.program_ids] == names


def test_a_reference_with_nothing_before_it_is_missing(reader):
    q = reader.read("その事業の予算は？")
    assert q.reference is not None and q.reference.status == "missing"


def test_a_question_that_names_its_own_subject_is_not_a_follow_up(reader):
    for question in ("国土交通省の事業の連絡先を全部", "一番予算が大きい事業は？", "脱炭素の事業を一覧で"):
        assert reader.read(question, TWO).reference is None, question


def test_english_questions_are_read_as_english_even_with_japanese_names(reader):
    assert reader.read("What is the budget of 共創の場形成支援プログラム?").language == "en"
    assert reader.read("共創の場形成支援プログラムの予算は？").language == "ja"


def test_years_in_eras_and_western_form():
    assert mentioned_years("令和2年9月11日と平成元年、2019年") == {2020, 1989, 2019}
    assert mentioned_years("budget in 2026") == {2026}
    assert mentioned_years("03-5253-2019 と 2000万円") == set()


@pytest.mark.parametrize(
    ("english", "japanese"),
    [
        ("How much was the FY2021 budget?", "令和3年度"),
        ("in fiscal year 2018", "平成30年度"),
        ("the related programs' budget", "関連予算"),
    ],
)
def test_english_budget_terms_and_fiscal_years_are_glossed_as_the_documents_print_them(english, japanese):
    from assistant.vocabulary import english_gloss

    assert japanese in english_gloss(english).split()


def test_a_demonstrative_before_any_noun_borrows_what_it_points_at_from_the_earlier_turn():
    from assistant.pipeline.read import _pointed_topic

    turn = "文科省の大学発ベンチャー実態調査では、何社を調べたのですか？"
    assert _pointed_topic("その調査はいつ行われたの？", turn) == "文科省の大学発ベンチャー実態調査"
    assert _pointed_topic("それっていつ？", turn) == turn  # 「それ」 names no noun: the whole turn
