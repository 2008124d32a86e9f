"""はい/いいえ on a date or count a question claims, judged on the quote that states it (no model)."""

import pytest

from assistant.pipeline.prose_verdict import judge


@pytest.mark.parametrize(
    ("question", "quote", "verdict", "stated"),
    [
        (
            "その協議会は令和になってから活動を始めたのですか？",
            "同協議会は、平成２５年度に、県内の大学が連携して活動を開始",
            "no",
            "平成２５年度",
        ),
        (
            "この拠点は令和3年度から始まった取組ですか？",
            "令和３年度から事業を実施している",
            "yes",
            "令和３年度",
        ),
        (
            "この表彰は2020年以降に創設されたの？",
            "優れた取組を表彰することを目的に2019年に創設",
            "no",
            "2019年",
        ),
        (
            "これまでに5つ以上の拠点が採択されていますか？",
            "これまでに１２件の計画が採択され、１２拠点が活動中",
            "yes",
            "１２拠点",
        ),
        ("全国で20を超える地域が選ばれていますか", "令和元年度までに９地域が採択されている", "no", "９地域"),
    ],
)
def test_a_claimed_date_or_count_is_judged_on_the_stated_value(question, quote, verdict, stated):
    found = judge(question, [quote])
    assert found is not None and (found.verdict, found.stated) == (verdict, stated)
    assert found.stated in quote  # quoted in the document's own characters


@pytest.mark.parametrize(
    ("question", "quote"),
    [
        # a date with no verb of starting: not the start the question claims
        (
            "このプロジェクトは令和2年度から始まった事例ですか？",
            "令和２年11月に大学と県との間で連携協定を締結し、事業展開",
        ),
        # another counter word: not the same count
        ("これまでに12を超える地域が選ばれましたか？", "令和元年度までに９件の申請があった"),
        # no claim of a date or count at all
        ("この事業は大学も申請できますか？", "平成17年度に活動を開始"),
    ],
)
def test_no_verdict_when_the_quote_does_not_state_what_is_claimed(question, quote):
    assert judge(question, [quote]) is None
