"""A yes/no question whose claim is a date or a count the documents state in prose: the verdict from the quote.

「その協議会は令和になってから発足したのですか」 against 「平成17年度に…活動を開始」, 「これまでに
20を超える地域が選ばれましたか」 against 「令和元年度までに９地域…が採択」: the question's claim and
the value the quote states are compared, and the answer opens with はい/いいえ only when the quote states that
very thing — a start date tied to a verb of starting, a count with the same counter word. Anything else
leaves the plain prose answer (quotes without a verdict), which is never confidently wrong.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

_ERA_BASE = {"令和": 2018, "平成": 1988}
_YEAR = r"(?:(?P<era>令和|平成)\s*(?P<n>\d{1,2}|元)|(?P<western>(?:19|20)\d{2}))\s*年度?"
_STARTING = r"(?:始ま|始め|開始|スタート|創設|発足|設立|設置|立ち上|実施され|実施して|取り?組(?:み|ま)始)"

#: The question claims a start: 「令和になってから始めた」「令和3年度から開始した」「2019年以降に創設された」.
_CLAIM_ERA = re.compile(rf"(?P<era>令和|平成)に(?:入って|なって)(?:から)?[^。？?]{{0,16}}{_STARTING}")
_CLAIM_YEAR = re.compile(
    rf"{_YEAR}(?:\s*\d{{1,2}}\s*月)?\s*(?P<when>から|以降|に)[^。？?]{{0,16}}{_STARTING}"
)
#: The quote states one: 「平成17年度に、…活動を開始」「令和元年度から実施」「2019年に創設」.
_STATED_START = re.compile(rf"{_YEAR}(?:\s*\d{{1,2}}\s*月)?\s*(?:に|から|より)[^。]{{0,60}}?{_STARTING}")

_COUNTER = r"(?P<counter>地域|件|団体|大学|拠点|社|機関|自治体|県|市|プロジェクト|事業)"
#: The question claims a count: 「10を超える地域」「5件以上」「3つ未満の拠点」.
_CLAIM_COUNT = re.compile(
    r"(?P<n>\d+)\s*(?:つ|個|か所|カ所)?\s*(?P<op>を超える|を超えた|超の|より多い|以上の?|未満の?|以下の?|に満たない)\s*"
    + _COUNTER
)
#: The quote states one: 「９地域（７県２政令市）が採択」.
_STATED_COUNT = re.compile(r"(?P<n>\d+)\s*" + _COUNTER)


@dataclass(frozen=True)
class ProseVerdict:
    """はい/いいえ on the question's claim, the quote it rests on (its index) and the value stated there, in
    the quote's own characters (「平成17年度」, 「９地域」), and whether it is a date or a count."""

    verdict: Literal["yes", "no"]
    quote: int
    stated: str
    kind: Literal["when", "count"]


def judge(question: str, quotes: list[str]) -> ProseVerdict | None:
    """The verdict on a date or count the question claims, from the first quote that states it; None when
    the question claims neither or no quote states the same kind of value."""
    text = _normal(question)
    start = _start_claim(text)
    count = _count_claim(text)
    for index, quote in enumerate(quotes):
        said = _same_length_nfkc(quote)
        if start is not None:
            stated = _STATED_START.search(said)
            if stated is not None:
                year = _year(stated)
                holds = year >= start[1] if start[0] == ">=" else year == start[1]
                date = quote[stated.start() : _date_end(said, stated)]
                return ProseVerdict("yes" if holds else "no", index, date, "when")
        if count is not None:
            op, number, counter = count
            for stated in _STATED_COUNT.finditer(said):
                if stated.group("counter") != counter:
                    continue
                value = int(stated.group("n"))
                verdict = "yes" if _compare(value, op, number) else "no"
                return ProseVerdict(verdict, index, quote[stated.start() : stated.end()], "count")
    return None


def _start_claim(text: str) -> tuple[str, int] | None:
    """(">=", first year of an era) for 「令和に入ってから」, ("==" or ">=", year) for 「令和2年度から／以降」."""
    era = _CLAIM_ERA.search(text)
    if era is not None:
        return ">=", _ERA_BASE[era.group("era")] + 1
    claimed = _CLAIM_YEAR.search(text)
    if claimed is None:
        return None
    return (">=" if claimed.group("when") == "以降" else "=="), _year(claimed)


def _count_claim(text: str) -> tuple[str, int, str] | None:
    claimed = _CLAIM_COUNT.search(text)
    if claimed is None:
        return None
    op = claimed.group("op")
    symbol = (
        ">"
        if op.startswith(("を超", "超", "より"))
        else ">="
        if op.startswith("以上")
        else "<"
        if op.startswith(("未満", "に満たない"))
        else "<="
    )
    return symbol, int(claimed.group("n")), claimed.group("counter")


def _compare(value: int, op: str, number: int) -> bool:
    return {">": value > number, ">=": value >= number, "<": value < number, "<=": value <= number}[op]


def _year(match: re.Match[str]) -> int:
    if match.group("western"):
        return int(match.group("western"))
    n = match.group("n")
    return _ERA_BASE[match.group("era")] + (1 if n == "元" else int(n))


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", " ".join(text.split()))


def _same_length_nfkc(text: str) -> str:
    """NFKC one character at a time (９ → 9), keeping every offset, so a match slices the quote itself."""
    return "".join((unicodedata.normalize("NFKC", c) or c)[0] for c in text)


_DATE_END = re.compile(r"[^年]*年度?(?:\s*\d{1,2}\s*月)?")


def _date_end(said: str, stated: re.Match[str]) -> int:
    """Where the date of a stated start ends (「平成17年度」 of 「平成17年度に、…活動を開始」)."""
    date = _DATE_END.match(said, stated.start())
    return date.end() if date else stated.end()
