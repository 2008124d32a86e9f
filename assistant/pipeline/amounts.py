"""Yen amounts and thresholds as people write them in a question, in thousand yen (the catalog's unit).

People write a budget every way: 「3億円」「3億」「1.5億円」「5千万円」「五千万円」「3億5千万円」「5,000万円」
「50,000千円」「300百万円」, "300 million yen", "¥1.5 billion"; and a threshold around it: 「を超える」「以上」
「未満」「以下」「以内」「に満たない」「より多い」, a range 「1億円から5億円」「1億〜5億円」, "over", "at most",
"between … and …". :func:`read_thresholds` turns every such phrase into (op, amount, the words) so the
reader can make each one a budget condition; :func:`parse_yen` is the one conversion of a written amount.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Op = Literal["gt", "ge", "lt", "le"]

_KANJI_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_LARGE = {"兆": 10**12, "億": 10**8, "万": 10**4}
_MAX_YEN = 10**19  # 15 digits of thousand yen; a bigger number is not an amount
#: One section below 万: digits or kanji numerals with 千/百/十 (「5千」「300百」「二千五百」「50,000千」).
#: At most 15 digits a run: a longer run is no amount (and would overflow the float conversion).
_SECTION = r"(?:(?<![0-9.,])[0-9](?:[0-9,]{0,18})(?![0-9])(?:\.[0-9]{1,6})?|[〇零一二三四五六七八九十百千])+"
#: A written amount: numerals with 兆/億/万 sections (「3億5千万」「300百万」), then 円 — or no 円 when a large
#: unit says it is money (「3億を超える」); 「千円」 alone is the catalog's own unit.
_AMOUNT = re.compile(rf"(?P<amount>(?:{_SECTION}\s*(?:兆|億|万)\s*)+(?:{_SECTION})?\s*円?|{_SECTION}\s*円)")
_EN_AMOUNT = re.compile(
    r"(?:¥|jpy\s*|yen\s*)?(?P<num>[0-9][0-9,]*(?:\.[0-9]+)?)\s*(?P<unit>trillion|billion|million|thousand|bn|m)\b"
    r"\s*(?:yen|jpy)?|(?:¥|jpy\s*)(?P<plain>[0-9][0-9,]*)",
    re.IGNORECASE,
)
_EN_UNITS = {
    "trillion": 10**12,
    "billion": 10**9,
    "bn": 10**9,
    "million": 10**6,
    "m": 10**6,
    "thousand": 10**3,
}

# Comparison words after an amount (Japanese) and before one (English).
_AFTER: tuple[tuple[str, Op], ...] = (
    (r"を?超え(?:ない|ません)|を?上回ら(?:ない|ず)|以下|以内|まで(?!に)|を?超過しない", "le"),
    (r"を?超え(?:る|た|て)?|を?超す|超過|超|を?上回(?:る|っ)|より(?:も)?(?:多い|大きい|上)|強", "gt"),
    (r"以上|から(?:上|の)", "ge"),
    (r"未満|を?下回(?:る|っ)|に満たない|より(?:も)?(?:少ない|小さい|下)|を?切る", "lt"),
)
_EN_BEFORE: tuple[tuple[str, Op], ...] = (
    (r"at least|no less than|minimum of|not less than", "ge"),
    (r"over|more than|above|greater than|exceeding|larger than|bigger than", "gt"),
    (r"at most|up to|no more than|not more than|maximum of|within", "le"),
    (r"under|less than|below|smaller than|lower than", "lt"),
)
#: 「1億円から5億円」「1億～5億円」「1億円以上5億円以下」 (the second part read on its own), "between X and Y".
_RANGE_JOIN = re.compile(r"^\s*(?:から|～|〜|~|－|-|ー|乃至)\s*$")


@dataclass(frozen=True)
class Threshold:
    op: Op
    thousand_yen: int
    phrase: str  # the words it was read from
    start: int
    end: int


def parse_yen(text: str) -> int | None:
    """A written amount in yen (「3億5千万円」 → 350,000,000), or None when it is not one."""
    text = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "").rstrip("円")
    if not text:
        return None
    total = 0
    rest = text
    for unit, size in _LARGE.items():
        if unit in rest:
            head, rest = rest.split(unit, 1)
            value = _section(head) if head else 1
            if value is None:
                return None
            total += value * size
    if rest:
        value = _section(rest)
        if value is None:
            return None
        total += value
    return round(total) if total < _MAX_YEN else None


def _section(text: str) -> float | None:
    """Below 万: 「300百」 → 30,000, 「二千五百」 → 2,500, 「1.5」 → 1.5."""
    total = 0.0
    current: float | None = None
    for piece in re.findall(r"[0-9]+(?:\.[0-9]+)?|[〇零一二三四五六七八九]|[十百千]|.", text):
        if piece in _SMALL:
            total += (current if current is not None else 1) * _SMALL[piece]
            current = None
        elif piece in _KANJI_DIGITS:
            current = (current or 0) * 10 + _KANJI_DIGITS[piece]
        elif re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", piece):
            if len(piece.split(".")[0]) > 15:
                return None
            current = float(piece)
        else:
            return None
    return total + (current or 0)


def to_thousand(yen: int) -> int:
    return round(yen / 1000)


def amounts(text: str) -> list[tuple[int, int, int]]:
    """Every written amount in a text as (start, end, thousand yen), Japanese and English."""
    text = unicodedata.normalize("NFKC", text)
    found: list[tuple[int, int, int]] = []
    for m in _AMOUNT.finditer(text):
        yen = parse_yen(m.group("amount"))
        if yen is not None and yen > 0:
            found.append((m.start(), m.end(), to_thousand(yen)))
    for m in _EN_AMOUNT.finditer(text):
        if any(s <= m.start() < e for s, e, _ in found):
            continue
        if m.group("plain"):
            yen = int(m.group("plain").replace(",", "")[:16])
        else:
            digits = m.group("num").replace(",", "")
            if len(digits.split(".")[0]) > 15:
                continue
            yen = round(float(digits) * _EN_UNITS[m.group("unit").lower()])
        found.append((m.start(), m.end(), to_thousand(yen)))
    return sorted(found)


def read_thresholds(text: str) -> list[Threshold]:
    """Every amount with a comparison around it: 「3億円を超える」 → (gt, 300,000), 「1億～5億円」 → ge and le.

    An amount with no comparison (「予算は3億円ですか」) is not a threshold and is left out."""
    text = unicodedata.normalize("NFKC", text)
    found: list[Threshold] = []
    spans = amounts(text)
    for index, (start, end, value) in enumerate(spans):
        tail = text[end : end + 12]
        head = text[max(0, start - 40) : start].lower()
        op: Op | None = None
        length = 0
        for pattern, candidate in _AFTER:
            m = re.match(rf"\s*(?:{pattern})", tail)
            if m:
                op, length = candidate, m.end()
                break
        if op is None:
            for pattern, candidate in _EN_BEFORE:
                if re.search(rf"\b(?:{pattern})\s*$", head):
                    op = candidate
                    break
        if op is None and index + 1 < len(spans):
            # 「1億円から5億円」「1億～5億円」: a range — at least the first, at most the second.
            following = spans[index + 1]
            if _RANGE_JOIN.match(text[end : following[0]]):
                op = "ge"
        if op is None and index > 0 and _RANGE_JOIN.match(text[spans[index - 1][1] : start]):
            op = "le"
        if op is None and index > 0 and re.search(r"\bbetween\b.*\band\s*$", head):
            op = "le"
        if op is None and index + 1 < len(spans) and re.search(r"\bbetween\s*$", head):
            op = "ge"
        if op is None:
            continue
        found.append(Threshold(op, value, text[start : end + length].strip(), start, end + length))
    return found
