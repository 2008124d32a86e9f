"""The verifier of generated answers, with adversarial drafts (fast: the real catalog, no model, no index).

Every draft here is what a model could write: an invented phone, a changed digit, an amount cited to the
wrong program, a program or department the evidence does not name, a citation id that does not exist, a
paraphrase in 「」, a verdict or winner the plan contradicts. Each must be caught; the honest sentences next
to them must pass (so a check that blocks everything would fail here too).
"""

from __future__ import annotations

import pytest

from assistant.pipeline.compose.verify import SentenceSplitter, parse_sentence
from tests.generative.conftest import KYOSO, SPARC, make_plan, sentence


@pytest.fixture(scope="module")
def contact_plan(reader, catalog, evidence):
    return make_plan(reader, catalog, evidence, f"{KYOSO}の予算と問い合わせ先は？", "attribute")


# -- honest sentences pass -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "共創の場形成支援プログラムの予算額は13,750,508千円です。[E1]",
        "共創の場形成支援プログラムは文部科学省の事業で、大学等研究機関が申請できます。[E1]",
        "問い合わせ先は文部科学省 科学技術・学術政策局 産業連携・地域振興課 拠点形成・地域振興室"
        "（TEL：03-5253-4111（内線4195）、mail：coi-next@mext.go.jp）です。[E1]",
        "関連事業マップでは「共創の場形成支援プログラム【文科省】 ：138億円」と示されています。[E3]",
        "地域活性化人材育成事業の予算は14.5億円、つまり1,450,000千円です。[E4][E6]",  # one conversion
        "地域活性化人材育成事業の予算は1,450百万円です。[E5]",
        "地域活性化人材育成事業は「地域社会と大学間の連携を通じて既存の教育プログラムを再構築し、地域を牽引する人材を育成」"
        "する事業です。[E7]",
        "共創の場形成支援プログラムの予算額は１３，７５０，５０８千円です。［E1］",  # full width
    ],
)
def test_honest_sentences_pass(verifier, contact_plan, text):
    assert verifier.check(sentence(text), contact_plan) is None


# -- adversarial sentences are caught -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # an invented phone number, a changed digit of the real one, a changed extension
        ("問い合わせ先はTEL：03-5253-4112です。[E1]", "contact_not_in_evidence"),
        ("電話番号は03-5253-4111（内線4196）です。[E1]", "number_not_in_evidence"),
        ("問い合わせはcoi@mext.go.jpまで。[E1]", "contact_not_in_evidence"),
        # a changed digit of an amount; a figure converted wrongly; a rounded figure
        ("共創の場形成支援プログラムの予算額は13,750,509千円です。[E1]", "amount_not_in_evidence"),
        ("地域活性化人材育成事業の予算は145億円です。[E6]", "amount_not_in_evidence"),
        ("共創の場形成支援プログラムの予算は約137.5億円です。[E1]", "amount_not_in_evidence"),
        # 14.5億円 (地域活性化人材育成事業's line) cited for 共創の場形成支援プログラム
        ("共創の場形成支援プログラムの予算は14.5億円です。[E6]", "program_not_in_evidence"),
        ("共創の場形成支援プログラムの予算は14.5億円です。[E1][E6]", "fact_of_other_program"),
        ("地域活性化人材育成事業の連絡先はcoi-next@mext.go.jpです。[E1][E4]", "fact_of_other_program"),
        # a program name the evidence does not hold: invented, and a real one not cited
        ("地域イノベーション創出支援事業も利用できます。[E1]", "program_not_in_evidence"),
        (
            "〇〇支援事業は大学等研究機関が申請できます。[E1]",
            "program_not_in_evidence",
        ),  # the prompt's example
        ("地域活性化人材育成事業も大学等研究機関が申請できます。[E1]", "program_not_in_evidence"),
        # a department or ministry the evidence does not print
        ("担当は文部科学省 研究振興局 学術研究推進課です。[E1]", "organisation_not_in_evidence"),
        ("共創の場形成支援プログラムは経済産業省の事業です。[E1]", "organisation_not_in_evidence"),
        # citations: none, and an id that does not exist
        ("共創の場形成支援プログラムの予算額は13,750,508千円です。", "no_citation"),
        ("共創の場形成支援プログラムの予算額は13,750,508千円です。[E9]", "unknown_evidence"),
        ("共創の場形成支援プログラムの予算額は13,750,508千円です。[E0]", "unknown_evidence"),
        # a paraphrase inside 「」, and a quote whose source is not cited
        ("この事業の目的は「地域と大学が連携して人材を育てる」ことです。[E7]", "quote_not_verbatim"),
        (
            "関連事業マップには「地域活性化人材育成事業【文科省】 ：14.5億円」とあります。[E3]",
            "quote_not_verbatim",
        ),
        # the prompt's evidence list echoed with its labels (what a small model does)
        ("(use_case, マテリアル先端リサーチインフラ) 「強みを持つ領域の高品質なデータ」[E1]", "prompt_echo"),
        (
            "(表の行, 共創の場形成支援プログラム) 事業名：共創の場形成支援プログラム／所管：文部科学省[E1]",
            "prompt_echo",
        ),
        # a date the evidence does not state
        ("公募は2024年4月に始まります。[E1]", "number_not_in_evidence"),
    ],
)
def test_adversarial_sentences_are_caught(verifier, contact_plan, text, reason):
    assert verifier.check(sentence(text), contact_plan) == reason


def test_a_yes_where_the_plan_says_no_is_caught(verifier, reader, catalog, evidence):
    plan = make_plan(
        reader, catalog, evidence, f"{KYOSO}は民間企業が直接申請できますか？", "yes_no", verdict="no"
    )
    plan.verdict_attribute = "applicant"
    assert verifier.check(sentence("はい、民間企業も申請できます。[E1]"), plan) == "contradicts_verdict"
    assert verifier.check(sentence("民間企業も申請できます。[E1]"), plan) == "contradicts_verdict"
    assert verifier.check(sentence("Yes, companies can apply.[E1]"), plan) == "contradicts_verdict"
    honest = sentence("いいえ、申請主体は大学等研究機関です。[E1]")
    assert verifier.check(honest, plan) is None
    assert verifier.answers([honest], plan)
    # without the verdict the kept sentences do not answer a yes/no question
    assert not verifier.answers([sentence("共創の場形成支援プログラムは文部科学省の事業です。[E1]")], plan)


def test_a_comparison_winner_the_plan_contradicts_is_caught(verifier, reader, catalog, evidence):
    plan = make_plan(
        reader, catalog, evidence, f"{KYOSO}と{SPARC}はどちらの予算が大きい？", "compare", winner=None
    )
    plan.winner = next(f.program.id for f in plan.programs if f.program.name == KYOSO)
    plan.compared = ("budget",)
    wrong = [
        "地域活性化人材育成事業の方が予算が大きいです。[E1][E4]",
        "共創の場形成支援プログラムの方が予算が小さいです。[E1][E4]",
        "共創の場形成支援プログラムより地域活性化人材育成事業のほうが大きいです。[E1][E4]",
    ]
    for text in wrong:
        assert verifier.check(sentence(text), plan) == "contradicts_winner", text
    right = sentence(
        "共創の場形成支援プログラムの方が大きく、予算額は13,750,508千円で、地域活性化人材育成事業は1,450,000千円です。[E1][E4]"
    )
    assert verifier.check(right, plan) is None
    assert verifier.answers([right], plan)
    figures_only = sentence("地域活性化人材育成事業の予算額は1,450,000千円です。[E4]")
    assert verifier.check(figures_only, plan) is None
    assert not verifier.answers([figures_only], plan)  # the winner is never said


def test_what_remains_must_still_answer(verifier, contact_plan, reader, catalog, evidence):
    """A contact answer without the contact, a list without all its programs, nothing kept: not an answer."""
    contact = make_plan(reader, catalog, evidence, f"{KYOSO}の問い合わせ先は？", "contact")
    department_only = sentence("担当は文部科学省 科学技術・学術政策局 産業連携・地域振興課です。[E1]")
    assert verifier.check(department_only, contact) is None
    assert not verifier.answers([department_only], contact)
    assert verifier.answers(
        [department_only, sentence("電話はTEL：03-5253-4111（内線4195）です。[E1]")], contact
    )
    assert not verifier.answers([], contact)
    listing = make_plan(reader, catalog, evidence, "文部科学省の事業は？", "list")
    one = sentence("共創の場形成支援プログラムは文部科学省の事業です。[E1]")
    assert not verifier.answers([one], listing)
    both = sentence("地域活性化人材育成事業も文部科学省の事業です。[E4]")
    assert verifier.answers([one, both], listing)


# -- reading the generated text ----------------------------------------------------------------------------
def test_sentences_are_cut_as_they_stream_with_their_marks():
    text = (
        "共創の場形成支援プログラムの予算は14.5億円ではありません。[E1]\n"
        "問い合わせ先は「TEL：03-5253-4111。」です[E1][E2]。次の文です。［E3］The budget is 1.5 bn. [E4] 最後"
    )
    splitter = SentenceSplitter()
    pieces = []
    for ch in text:  # one character at a time, as a stream may deliver it
        pieces.extend(splitter.feed(ch))
    pieces.extend(splitter.flush())
    parsed = [parse_sentence(p) for p in pieces]
    assert [(s.text, s.cites) for s in parsed if s] == [
        ("共創の場形成支援プログラムの予算は14.5億円ではありません", [1]),
        ("問い合わせ先は「TEL：03-5253-4111。」です", [1, 2]),
        ("次の文です", [3]),
        ("The budget is 1.5 bn", [4]),
        ("最後", []),
    ]


def test_marks_in_any_common_shape_are_read():
    assert parse_sentence("文です [E1, E3]。").cites == [1, 3]
    assert parse_sentence("文です【E2】【E2】").cites == [2]
    assert parse_sentence("**文**です。 [e4]").text == "文です"
    assert parse_sentence("[E1]") is None


def test_a_goal_answer_names_every_candidate_and_prose_gives_every_quoted_passage(
    verifier, reader, catalog, evidence
):
    fit = make_plan(reader, catalog, evidence, "地域の人材を育てたい。使える事業は？", "fit")
    one = sentence("地域活性化人材育成事業が使えます。[E4]")
    assert verifier.check(one, fit) is None and not verifier.answers([one], fit)
    other = sentence("共創の場形成支援プログラムも候補です。[E1]")
    assert verifier.answers([one, other], fit)
    unnamed = sentence("こちらの事業も候補です。[E1]")  # cites the row, but the reader never sees the name
    assert verifier.check(unnamed, fit) is None and not verifier.answers([one, unnamed], fit)
    prose = make_plan(reader, catalog, evidence, f"{SPARC}の目的は？", "prose")
    prose.quotes = [5, 7]
    purpose = sentence("地域活性化人材育成事業の目的は「地域を牽引する人材を育成」することです。[E7]")
    assert verifier.check(purpose, prose) is None and not verifier.answers([purpose], prose)
    budget = sentence("関連事業マップでは1,450百万円です。[E5]")
    assert verifier.answers([purpose, budget], prose)
