"""Cells of the tab tables keep their row and column headers, and answer questions about one cell."""

from __future__ import annotations

import pytest

from assistant.config import PROJECT_ROOT
from assistant.pipeline.read import Turn
from assistant.pipeline.tables import extract_cells

NETWORK_TABLE_DOC = "000_bc52401283c58933"


def _network_cells():
    lines = (PROJECT_ROOT / "corpus" / f"{NETWORK_TABLE_DOC}.txt").read_text(encoding="utf-8").split("\n")
    return lines, extract_cells(NETWORK_TABLE_DOC, lines)


def test_the_network_table_has_three_prefectures_by_three_programs_by_three_columns():
    lines, cells = _network_cells()
    assert {c.row for c in cells} == {"広島県", "徳島県", "高知県"}
    assert {c.column for c in cells} == {"名称", "構成員", "取組概要"}
    assert len({c.group for c in cells}) == 3
    # 広島県 has no entry in the third group (「-」 cells are dropped): 3 × 9 − 3 cells.
    assert len(cells) == 24
    for cell in cells:
        assert cell.text in lines[cell.line - 1]  # verbatim in its row's line, so it can be quoted


def test_a_cell_knows_its_headers():
    _, cells = _network_cells()
    (sawachi,) = [c for c in cells if "S A W A C H I" in c.text]
    assert (sawachi.row, sawachi.column) == ("高知県", "名称")
    assert sawachi.group.startswith("共創の場形成支援プログラム")
    assert sawachi.label == f"高知県／{sawachi.group}／名称"


def test_lines_without_tabs_make_no_cells():
    assert extract_cells("x", ["一行目", "a\tb", "二行目"]) == []


@pytest.mark.slow
def test_a_question_about_one_cell_quotes_that_cell_with_its_headers(answer_service):
    result = answer_service.answer("徳島県で共創の場形成支援プログラムに採択された拠点の名前は？")
    assert "徳島県／共創の場形成支援プログラム（文部科学省）" in result.answer  # its row and column
    assert "ネオ・ディスタンス社会を創造する次世代「光」共創拠点" in result.answer
    (citation,) = result.citations
    assert citation.doc_id == NETWORK_TABLE_DOC and citation.line_start == citation.line_end == 15


def test_whether_a_sector_is_among_a_regions_members_is_answered_yes_with_the_members(answer_service):
    # The table files banks under 【産】: the answer says they were recognised by name, and lists them.
    result = answer_service.answer("高知県のネットワークに金融機関は入っていますか？")
    assert result.intent == "network" and not result.abstained
    assert result.answer.startswith(
        "はい、高知県のネットワークの構成員に金融機関（名称から判断）が含まれます"
    )
    assert "株式会社四国銀行" in result.answer and "株式会社高知銀行" in result.answer
    assert "株式会社Psychic VR Lab" not in result.answer  # companies that are no banks stay out
    assert result.plan is not None and result.plan.verdict == "yes"


def test_a_sector_no_member_of_a_named_network_belongs_to_is_answered_no_with_its_members(answer_service):
    result = answer_service.answer("徳島の光の拠点に銀行は入っている？")
    assert result.intent == "network" and result.plan is not None and result.plan.verdict == "no"
    first = result.answer.split("\n")[0]
    assert first.startswith("いいえ、「ネオ・ディスタンス社会を創造する次世代「光」共創拠点」の構成員に")
    assert "阿波銀行" not in result.answer  # a bank of the region's other network is not this one's
    assert "株式会社産学連携キャピタル" in result.answer and result.citations


def test_whether_a_member_belongs_to_a_scope_is_answered_with_its_networks(answer_service):
    inside = answer_service.answer("広島県のネットワークにマツダは入ってる？")
    assert inside.answer.startswith("はい、マツダ株式会社は広島県のネットワークの構成員です")
    outside = answer_service.answer("SAWACHI型健康社会共創拠点にマツダは参加していますか？")
    first = outside.answer.split("\n")[0]
    assert first.startswith(
        "いいえ、「ＳＡＷＡＣＨＩ型健康社会共創拠点」の構成員にマツダ株式会社は記載されていません"
    )
    assert "広島県地方大学・地域産業創生事業推進特別委員会" in outside.answer  # where it is a member
    assert outside.plan is not None and outside.plan.verdict == "no"
    # Not a yes/no question, but the scope holds none of the member's networks: said, not left empty.
    listing = answer_service.answer("高知県のネットワークでマツダが参加しているのは？")
    assert listing.answer.startswith(
        "いいえ、高知県のネットワークの構成員にマツダ株式会社は記載されていません"
    )


def test_both_networks_after_a_region_was_discussed_means_that_regions_pair(answer_service):
    history = [
        Turn(role="user", content="広島県の産学官ネットワークを教えて"),
        Turn(role="assistant", content="広島県には2つのネットワークがあります。"),
    ]
    both = answer_service.answer("両方に参加してる会社ってある？", history)
    assert both.intent == "network" and "マツダ株式会社" in both.answer
    assert "徳島" not in both.answer  # another region's shared members are not "both" of these
    several = answer_service.answer("複数のネットワークに入っている団体は？")
    assert "徳島県商工会連合会" in several.answer  # 「複数」 without a pair asks of the whole table
