"""Yen amounts and thresholds as people write them (pipeline/amounts.py): every notation, in thousand yen."""

from __future__ import annotations

import pytest

from assistant.pipeline.amounts import parse_yen, read_thresholds


@pytest.mark.parametrize(
    ("written", "yen"),
    [
        ("3億円", 300_000_000),
        ("3億", 300_000_000),
        ("1.5億円", 150_000_000),
        ("5千万円", 50_000_000),
        ("五千万円", 50_000_000),
        ("3億5千万円", 350_000_000),
        ("三億五千万円", 350_000_000),
        ("5,000万円", 50_000_000),
        ("50,000千円", 50_000_000),
        ("300百万円", 300_000_000),
        ("1,733百万円", 1_733_000_000),
        ("十億円", 1_000_000_000),
        ("二千五百万円", 25_000_000),
        ("２億円", 200_000_000),
    ],
)
def test_written_amounts(written, yen):
    assert parse_yen(written) == yen


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("予算が3億円を超える環境省の事業は？", [("gt", 300_000)]),
        ("予算額が5千万円以下の事業", [("le", 50_000)]),
        ("10億円未満で大学が申請できる", [("lt", 1_000_000)]),
        ("五千万円に満たない事業", [("lt", 50_000)]),
        ("3億を超えない事業", [("le", 300_000)]),
        ("予算規模が100億円より大きい事業", [("gt", 10_000_000)]),
        ("予算が1億円から5億円の事業", [("ge", 100_000), ("le", 500_000)]),
        ("1億～5億円の事業", [("ge", 100_000), ("le", 500_000)]),
        ("3億円以上10億円以下", [("ge", 300_000), ("le", 1_000_000)]),
        ("1.5億円超の事業", [("gt", 150_000)]),
        ("programs with a budget over 300 million yen", [("gt", 300_000)]),
        ("between 100 million yen and 1 billion yen", [("ge", 100_000), ("le", 1_000_000)]),
        ("at most ¥2 billion", [("le", 2_000_000)]),
    ],
)
def test_thresholds(question, expected):
    assert [(t.op, t.thousand_yen) for t in read_thresholds(question)] == expected


@pytest.mark.parametrize(
    "question", ["予算は3億円ですか", "令和4年度の予算", "採択件数は10件以上", "3年以内の事業"]
)
def test_an_amount_without_a_comparison_or_a_count_is_no_threshold(question):
    assert read_thresholds(question) == []


def test_the_words_a_threshold_was_read_from_are_kept():
    (found,) = read_thresholds("予算が3億円を超える事業")
    assert found.phrase == "3億円を超える"
