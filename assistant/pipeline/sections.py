"""Lists under a heading, read from whole documents: what 「どんな…がありますか」「全部挙げて」 wants.

A slide or report prints the items of one point in many ways — 【国の施策】 over Wingdings bullets with
sub-bullets under each, （主な連携内容） over ①②③ that wrap onto the next line, 「１．推進体制について」 over
○ lines, 「…の要件」 over short unmarked lines, a lead-in 「以下の…からヒアリングを行った」 over （浜松市）
（神奈川県） labels of paragraphs, 「以下の４点にまとめられる」 over 「第１に、…」 paragraphs. Chunks cut such a
list anywhere, so this reads each document once, at load, into sections: a heading (or lead-in) and every
item at the list's first level, each with the lines it stands on, for the quote picker to offer whole.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from assistant.tuning import QUOTES

#: Bullet glyphs, each its own level: a list's items share the first item's glyph; other glyphs under an
#: item are its sub-points. The private-use glyphs are Wingdings bullets a PDF's text layer keeps
#: (U+F06C ●, U+F06E ■, U+F0D8 ➢, U+F0FC ✓).
_GLYPHS = "\uf06c\uf06e\uf0d8\uf0fc\uf0a7\uf0b2✓✔○〇●◎◆◇■□▪▶►➢•・※"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_MARK = re.compile(
    rf"^(?P<mark>[{_GLYPHS}]|[{_CIRCLED}]|[0-9０-９]{{1,2}}[.．)）](?![0-9０-９])|[（(][0-9０-９]{{1,2}}[）)])\s*"
)
_MARKDOWN = re.compile(r"^(?:#{1,6}\s+|-\s+)")
#: A heading in brackets standing alone: 【国の施策】 （主な連携内容） (例) ＜分類分けの概要＞.
_BRACKETED = re.compile(r"^(?:【[^【】]{1,30}】|[（(][^（）()]{1,24}[）)]|[＜<][^＜＞<>]{1,30}[＞>])$")
#: A numbered heading: 「１．推進体制について」「（２）制度枠組み」「2: …」.
_NUMBERED = re.compile(r"^(?:[0-9０-９]{1,2}[.．:：]|[（(][0-9０-９]{1,2}[）)])\s*\S.{0,30}$")
#: A lead-in that announces the items below it: 「以下の…を行った」「次の点を整理」「以下の４点にまとめられる」.
_LEAD_IN = re.compile(r"(?:以下|次|下記)の|下記|とおり[。．]?\s*$")
#: A lead-in whose sentence is complete (「…論点は以下の通り」): the next line is not its wrap.
_ENDS_LEAD_IN = re.compile(r"(?:通り|とおり|以下|次|下記)[。．:：]?$")
#: A paragraph of an ordinal list: 「第１に、…」「第 2 に、…」.
_ORDINAL = re.compile(r"^第\s*[0-9０-９一二三四五六七八九十]+\s*に[、，,]")
#: A label standing for a paragraph after a lead-in: （浜松市） （高知大学）.
_PAREN_LABEL = re.compile(r"^[（(][^（）()。]{2,20}[）)]$")
_SHORT = 40
#: A plain heading names a list by its last word: 「…の要件」「見えてきた課題」「主な連携内容」.
_LIST_NOUN = re.compile(
    r"(?:要件|課題|内容|視点|観点|論点|ポイント|対象|種類|概要|方針|取組|特徴|メニュー|措置|支援|サポート|"
    r"事例|例|効果|成果|役割|機能|手順|流れ|段階|枠組み?|条件|項目|分類)(?:について|等)?$"
)
#: An item wraps onto at most this many lines; a longer run is running text, not a list.
_MAX_ITEM_LINES = 4


@dataclass(frozen=True)
class Item:
    """One item of a list: its text (its wrapped lines joined) and the lines it stands on."""

    text: str
    line_start: int
    line_end: int


@dataclass(frozen=True)
class Section:
    """A heading (or lead-in) and the items of its list, in the document's order."""

    doc_id: str
    heading: str
    heading_line: int
    items: tuple[Item, ...]
    #: The document's heading above it (「## 日本オープンイノベーション大賞」 over 「（表彰の対象）」).
    context: str = ""

    @property
    def line_end(self) -> int:
        return self.items[-1].line_end


def read_sections(doc_id: str, lines: list[str]) -> list[Section]:
    """Every list under a heading or a lead-in in one document (lines are 1-based in the result)."""
    bare = [_bare(line) for line in lines]
    raw = [_raw_item(line) for line in lines]
    found: list[Section] = []
    context = ""
    # A lead-in over headed lists (「…論点は以下の通り」 over 【…】 【…】): the lists it announces, as long as
    # they share the first one's bullet, are read with it as their context.
    preface, preface_mark = "", None
    for index, text in enumerate(bare):
        if not text:
            continue
        if lines[index].lstrip().startswith("#"):
            preface = ""
        if lines[index].lstrip().startswith("#") or text.startswith("【") and _BRACKETED.match(text):
            context = text  # a heading over the lists below it
        items: list[Item] = []
        if _is_heading(text) and _names_a_list(text):
            items = _marked_items(bare, index + 1) or _short_lines(bare, index + 1)
        if not items and _LEAD_IN.search(text):
            start = _after_wrap(bare, index)
            items = (
                _marked_items(bare, start)
                or _labelled_paragraphs(bare, start)
                or _ordinal_paragraphs(bare, start)
            )
            following = _next_filled(bare, index + 1)
            if not items and following is not None and _BRACKETED.match(bare[following]):
                preface, preface_mark = _MARK.sub("", text), None
                continue
        if len(items) >= 2:
            own = context
            if preface and _BRACKETED.match(text):
                mark = _mark(bare[items[0].line_start - 1])
                if preface_mark in (None, mark):
                    preface_mark, own = mark, f"{preface} {text}"
                else:
                    preface = ""  # another layout: another part of the document
            verbatim = tuple(_verbatim(item, raw) for item in items[: QUOTES.max_list_items])
            found.append(Section(doc_id, raw[index], index + 1, verbatim, own))
    return found


def _raw_item(line: str) -> str:
    """A line as the document prints it, without its list dash and bullet: what an item quotes."""
    return _MARK.sub("", re.sub(r"^\s*(?:-\s+|#{1,6}\s+)", "", line).strip())


def _verbatim(item: Item, raw: list[str]) -> Item:
    """The item in the document's own characters (the shape was read on a normalised copy)."""
    text = "".join(raw[i - 1] for i in range(item.line_start, item.line_end + 1) if raw[i - 1])
    if item.text.endswith("。") and "。" in text:
        text = text[: text.index("。") + 1]  # a paragraph's first sentence
    if item.text.startswith(("（", "(")) and not text.startswith(("（", "(")):
        text = raw[item.line_start - 1]
    return Item(text, item.line_start, item.line_end)


def _bare(line: str) -> str:
    """A line without its markdown list dash, heading hashes and bold marks, for reading its shape."""
    # NFKC for widths, but ①②③ stay marks (NFKC would make them plain digits).
    text = "".join(c if c in _CIRCLED else unicodedata.normalize("NFKC", c) for c in line).strip()
    text = text.replace("**", "")
    if text.startswith("- ") and _MARK.match(text[2:].lstrip()) is None:
        return "・" + text[2:].strip()  # a markdown list item with no glyph of its own
    return _MARKDOWN.sub("", text).strip()


def _mark(text: str) -> str | None:
    """The kind of bullet that opens a line (①②③ count as one kind, as do 1. 2. 3.)."""
    match = _MARK.match(text)
    if match is None:
        return None
    mark = match.group("mark")
    if mark in _CIRCLED:
        return "①"
    if mark[0].isdigit():
        return "1."
    if mark[0] in "（(":
        return "(1)"
    return mark


def _is_heading(text: str) -> bool:
    """A short line that names a point rather than saying something (no sentence end, no item mark)."""
    if len(text) > _SHORT or text.endswith(("。", "、")):
        return False
    if _BRACKETED.match(text) or _NUMBERED.match(text):
        return True
    return _mark(text) is None and "。" not in text and "：" not in text and len(text) >= 4


def _names_a_list(heading: str) -> bool:
    """Bracketed and numbered headings head lists; a plain line only when its last word names one."""
    bare = heading.strip("【】（）()＜＞<> 　")
    return bool(_BRACKETED.match(heading) or _NUMBERED.match(heading) or _LIST_NOUN.search(bare))


def _ends_section(text: str) -> bool:
    return bool(_BRACKETED.match(text) or _NUMBERED.match(text))


def _next_filled(bare: list[str], start: int, limit: int = 3) -> int | None:
    for index in range(start, min(len(bare), start + limit)):
        if bare[index]:
            return index
    return None


def _after_wrap(bare: list[str], index: int) -> int:
    """Where a lead-in's list starts: after the lines its own sentence wraps onto (「下記事業への参」 then
    「画状況に応じて加点を実施」), at most two."""
    start = index + 1
    text = _MARK.sub("", bare[index])
    while (
        start < min(len(bare), index + 3)
        and bare[start]
        and _mark(bare[start]) is None
        and not _ends_section(bare[start])
        and _wraps(text)
        and not _ENDS_LEAD_IN.search(text)
    ):
        text = bare[start]
        start += 1
    return start


def _marked_items(bare: list[str], start: int) -> list[Item]:
    """Items opening with the same glyph as the first line after the heading; other glyphs under an item
    are its sub-points (left out), and an unmarked line right after an item is the item wrapping."""
    first = _next_filled(bare, start)
    if (
        first is not None
        and _mark(bare[first]) is None
        and (bare[first].endswith("。") or len(bare[first]) > 20)
    ):
        first = _next_filled(bare, first + 1)  # one sentence introducing the list: 「…を表彰。」
    if first is None:
        return []
    level = _mark(bare[first])
    if level is None:
        return []
    items: list[Item] = []
    current: list[str] = []
    current_start = current_end = first
    in_sub = False
    blank = 0
    for index in range(first, len(bare)):
        text = bare[index]
        if not text:
            blank += 1
            if blank >= 3:
                break
            continue
        mark = _mark(text)
        if mark == level:
            if current:
                items.append(_item(current, current_start, current_end))
            current, current_start, current_end, in_sub = [_MARK.sub("", text)], index, index, False
        elif mark in ("1.", "(1)"):
            break  # a numbered heading: the next point
        elif mark is not None:
            in_sub = True  # a sub-point of the current item
        elif _ends_section(text) or (_is_heading(text) and blank and not in_sub and len(text) > 12):
            break
        elif not in_sub and current and not blank and _wraps(current[-1]):
            if len(current) >= _MAX_ITEM_LINES:
                return []
            current.append(text)
            current_end = index
        elif not in_sub and blank and len(text) > 12:
            if not _list_goes_on(bare, index, level):
                break  # a paragraph after the list
            in_sub = True  # the item's own paragraph: 「① 規制の特例措置の提案」 then what it is
        blank = 0
    if current:
        items.append(_item(current, current_start, current_end))
    return items


def _list_goes_on(bare: list[str], index: int, level: str) -> bool:
    """Another item of the list follows within a few lines, before any heading."""
    for text in bare[index + 1 : index + 10]:
        if text and _mark(text) == level:
            return True
        if text and (_ends_section(text) or _mark(text) in ("1.", "(1)")):
            return False
    return False


def _wraps(text: str) -> bool:
    """A line that does not end its item: no sentence end, or a bracket left open."""
    if _open_brackets(text) > 0:
        return True
    # A short line is a title-like item (「特区計画の認定」) that its paragraph follows, not a wrapped one.
    return len(text) >= 12 and not text.endswith(("。", "）", ")"))


def _open_brackets(text: str) -> int:
    return text.count("（") + text.count("(") - text.count("）") - text.count(")")


def _short_lines(bare: list[str], start: int) -> list[Item]:
    """「地域バイオコミュニティの要件」 over short unmarked lines, a line with an open bracket going on."""
    items: list[Item] = []
    index = _next_filled(bare, start)
    while index is not None and index < len(bare):
        text = bare[index]
        if len(text) > _SHORT or "。" in text or _mark(text) is not None or _ends_section(text):
            break
        if _LIST_NOUN.search(text):
            break  # the next list's heading
        joined, end = [text], index
        while _open_brackets("".join(joined)) > 0 and end + 1 < len(bare):
            following = _next_filled(bare, end + 1)
            if following is None:
                break
            end = following
            joined.append(bare[end])
        if len(joined) > 2 or len("".join(joined)) < 4:
            return []  # fragments of a slide's text, not items
        items.append(_item(joined, index, end))
        index = _next_filled(bare, end + 1)
    return items if len(items) >= 3 else []


def _labelled_paragraphs(bare: list[str], start: int) -> list[Item]:
    """（浜松市） （神奈川県）: the labels of the paragraphs a lead-in announces."""
    items: list[Item] = []
    index = next((i for i in range(start, min(len(bare), start + 6)) if _PAREN_LABEL.match(bare[i])), None)
    if index is None:
        return []
    while index < len(bare):
        text = bare[index]
        if _PAREN_LABEL.match(text):
            items.append(Item(text, index + 1, index + 1))
        elif _BRACKETED.match(text) or _NUMBERED.match(text) or text.startswith(("第", "【")):
            break
        index += 1
        if index - items[-1].line_start > 15:
            break
    return items


def _ordinal_paragraphs(bare: list[str], start: int) -> list[Item]:
    """「第１に、…」 paragraphs after a lead-in: each item is its paragraph's first sentence."""
    items: list[Item] = []
    index = _next_filled(bare, start)
    while index is not None and index < len(bare) and _ORDINAL.match(bare[index]):
        sentence, end = [bare[index]], index
        while "。" not in "".join(sentence) and end + 1 < len(bare):
            following = _next_filled(bare, end + 1)
            if following is None:
                break
            end = following
            sentence.append(bare[end])
        joined = "".join(sentence)
        items.append(_item([joined[: joined.index("。") + 1]] if "。" in joined else sentence, index, end))
        index = next((i for i in range(end + 1, min(len(bare), end + 80)) if _ORDINAL.match(bare[i])), None)
    return items


def _item(parts: list[str], start: int, end: int) -> Item:
    return Item("".join(part.strip() for part in parts), start + 1, end + 1)


def iter_sections(documents: dict[str, list[str]]) -> Iterator[Section]:
    for doc_id, lines in documents.items():
        yield from read_sections(doc_id, lines)
