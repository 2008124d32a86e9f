"""How the page shows document text and catalog values (fast, no model): display normalisation, joined PDF
lines with the verbatim quote marked, budgets with their basis, contacts, reusable copies."""

from __future__ import annotations

import pytest

from assistant.vocabulary import budget_with_note, tel_href
from assistant.web.display import display_text, reading_text
from assistant.web.ui.catalog_view import budget_bound
from assistant.web.ui.render import (
    answer_markdown,
    answer_message_html,
    answer_plain_text,
    basis_text,
    contact_text,
    department_without_ministry,
    passage_html,
    program_card_html,
    source_cards_html,
)

CITATION = {
    "id": 1,
    "doc_id": "001_9b2f57644b0d39be",
    "title": "総合振興パッケージ",
    "section": "４．別紙（関連事業マップ）",
    "page": 31,
    "line_start": 2,
    "line_end": 3,
    "quote": "既存の\n教育プログラム",
}


def test_half_width_kana_and_private_use_glyphs_are_shown_readably():
    assert display_text("科学技術・ｲﾉﾍﾞｰｼｮﾝ推進事務局") == "科学技術・イノベーション推進事務局"
    assert display_text("\uf0fc人材育成したい") == "✓人材育成したい"
    assert display_text("\uf0d8項目 \uf06c項目 \ue123項目") == "➢項目 ●項目 •項目"
    assert display_text("ABC１２３（内数）") == "ABC１２３（内数）"  # nothing else changes


def test_reading_text_joins_pdf_breaks_and_maps_offsets():
    raw = "地域社会と大学間の連携を通じて既存の\n教育プログラムを再構築し、\n\n\n◆次の項目：\nRoAD to the \nL4 です。\n・最後"
    text, offsets = reading_text(raw)
    assert (
        text
        == "地域社会と大学間の連携を通じて既存の教育プログラムを再構築し、\n\n◆次の項目：\nRoAD to the L4 です。\n・最後"
    )
    quote = "既存の\n教育プログラム"
    start = raw.index(quote)
    assert text[offsets[start] : offsets[start + len(quote)]] == "既存の教育プログラム"
    assert len(offsets) == len(raw) + 1


def test_passage_marks_the_verbatim_quote_inside_joined_lines():
    lines = ["前の行。", "地域社会と大学間の連携を通じて既存の", "教育プログラムを再構築し、", "後の行。"]
    html = passage_html(lines, 2, 3, "既存の\n教育プログラム")
    assert "<mark>既存の教育プログラム</mark>" in html
    assert '<span class="pa-context">前の行。' in html  # context dimmed around the cited lines
    # a quote that is not in the lines still shows, marked as a whole
    assert "<mark>" in passage_html(lines, 2, 3, "ない引用")


def test_source_card_shows_document_title_lines_and_links_back():
    html = source_cards_html([CITATION], None, turn=5)
    assert 'id="pa-src-5-1"' in html and 'href="#pa-ref-5-1"' in html
    assert "p.31 ・ 2–3行目" in html
    assert 'href="documents/001_9b2f57644b0d39be?from=2&amp;to=3#L2"' in html


def test_budget_note_is_bracketed_once():
    assert budget_with_note(500000, "（内数）") == "500,000千円（内数）"
    assert budget_with_note(5846000, "(内数)") == "5,846,000千円（内数）"
    assert budget_with_note(None, None) == "記載なし"


def test_basis_names_its_fiscal_year():
    assert basis_text({"label": "令和4年度予算政府案", "fiscal_year": "令和4年度"}) == "令和4年度予算政府案"
    combined = {"label": "令和4年度予算政府案及び令和3年度補正予算額", "fiscal_year": "令和4年度・令和3年度"}
    assert basis_text(combined) == combined["label"]
    menu = {"label": "R4年度スマートシティ実現に向けた支援メニュー", "fiscal_year": "令和4年度"}
    assert basis_text(menu) == "令和4年度（R4年度スマートシティ実現に向けた支援メニュー）"
    assert basis_text(None) == ""


PROGRAM = {
    "id": "p-0763379a05",
    "name": "地域活性化人材育成事業",
    "ministry": "文部科学省",
    "department": "文部科学省 高等教育局 大学振興課 大学改革推進室",
    "applicant_types": ["大学等研究機関"],
    "budget_thousand_yen": 1450000,
    "budget_note": None,
    "budget_basis": {"label": "令和4年度予算政府案", "fiscal_year": "令和4年度", "source": None},
    "new_calls": True,
    "tel": ["03-5253-4111（内線3034）"],
    "email": ["daikaika@mext.go.jp"],
    "themes": [],
}


def test_program_card_prints_the_ministry_once_and_keeps_the_extension():
    html = program_card_html(PROGRAM)
    assert html.count("文部科学省") == 1 + 1  # the badge, and the contact copied by the copy button
    assert department_without_ministry(PROGRAM) == "高等教育局 大学振興課 大学改革推進室"
    assert 'href="tel:0352534111;ext=3034"' in html
    assert "1,450,000千円" in html and "令和4年度予算政府案" in html
    assert tel_href("03-5253-4111（内線3034）") == "tel:0352534111;ext=3034"


def test_copies_carry_the_answer_and_its_sources():
    answer = {"answer": "本文です[1]。", "citations": [CITATION]}
    markdown = answer_markdown(answer, None)
    assert markdown.startswith("本文です[1]。") and "**出典**" in markdown
    assert "[1] 総合振興パッケージ（４．別紙（関連事業マップ）、p.31、2–3行目）" in markdown
    assert "> 既存の教育プログラム" in markdown  # the quote, its PDF break joined
    plain = answer_plain_text(answer, None)
    assert "出典:" in plain and "「既存の教育プログラム」" in plain
    assert contact_text(PROGRAM).splitlines() == [
        "地域活性化人材育成事業",
        "担当：文部科学省 高等教育局 大学振興課 大学改革推進室",
        "TEL：03-5253-4111（内線3034）",
        "mail：daikaika@mext.go.jp",
    ]


@pytest.mark.parametrize(
    ("typed", "thousand_yen"),
    [
        ("10億円", 1_000_000),
        ("10億", 1_000_000),
        ("500百万円", 500_000),
        ("1,450,000", 1_450_000),
        ("5000000", 5_000_000),
        ("５０００００００", 50_000_000),
        (5000000.0, 5_000_000),
        (None, None),
        ("", None),
    ],
)
def test_budget_bounds_are_read_as_people_type_them(typed, thousand_yen):
    assert budget_bound(typed) == thousand_yen


def test_an_unreadable_budget_bound_is_a_readable_message():
    with pytest.raises(ValueError, match="読めません"):
        budget_bound("たくさん")


@pytest.mark.parametrize("typed", ["-5", "10億ドル", "nan", float("inf"), "1" * 500 + "億円"])
def test_odd_budget_bounds_are_a_message_or_a_number_never_a_type_error(typed):
    try:
        value = budget_bound(typed)
    except ValueError as exc:
        assert "予算額" in str(exc)
    else:
        assert isinstance(value, int)


def test_an_abstention_offers_its_suggestions_as_questions_to_ask():
    answer = {
        "answer": "収録資料には、ご質問に答える記載が見当たりませんでした。",
        "citations": [],
        "programs": [],
        "suggestions": ["共創の場形成支援プログラムの問い合わせ先は？", "<b>太字</b>の質問"],
    }
    html = answer_message_html(answer, None, None, turn=1)
    assert html.count('class="pa-suggest"') == 2
    assert ">共創の場形成支援プログラムの問い合わせ先は？</button>" in html
    assert "<b>" not in html and "&lt;b&gt;太字&lt;/b&gt;の質問" in html
    assert "pa-sources-inline" not in html  # no empty source section


def test_a_cell_of_a_long_row_is_shown_with_bounded_context():
    from assistant.web.ui.render import CELL_CONTEXT_CHARS, MAX_PASSAGE_CHARS, passage_html

    row = "広島県 " + "あ" * 900 + " 【産】マツダ株式会社代表取締役会長 " + "い" * 1300
    quote = "マツダ株式会社"
    html = passage_html(["前の行", row, "次の行"], 2, 2, quote, row.index(quote))
    assert "<mark>マツダ株式会社</mark>" in html
    assert len(html) < MAX_PASSAGE_CHARS + 2 * CELL_CONTEXT_CHARS + 200  # not the 2,200-character wall
    assert html.count("…") == 2 and "前の行" not in html


def test_line_spans_read_as_people_write_them():
    from assistant.web.ui.render import document_href, lines_label

    assert lines_label(559, 559) == "559行目" and lines_label(14, 16) == "14–16行目"
    assert "c0=3&amp;c1=10" in document_href("000_x", 5, 5, (3, 10))
