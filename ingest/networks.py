"""Extract the regional 産学官 networks: who works with whom, per region, every name traceable to its lines.

Sources:

* the package's table 「地域の産学官ネットワークの可視化」 as a tab table (one row per prefecture, column
  groups = schemes, columns 名称 / 構成員 / 取組概要): ``assistant.pipeline.tables`` finds its cells;
* the same table in the full slide deck, where the PDF extraction broke every cell over many lines and
  printed the row labels vertically (広 / 島 / 県): cells are the blank-line separated blocks after the
  column header line, 「ー ー ー」 standing for empty cells;
* the 総務省 survey's case pages (「事例：…」): the case's prefecture and the organisations the text names
  as acting in it (「東大臨海実験所が協力」).

A 構成員 cell is 【学】A、B 【官】C 【産】D代表取締役会長、…: each item becomes a member with its sector label
as printed and its role when a title follows the name. Members are de-duplicated across networks by a
normalised name (NFKC, no white space, no legal form such as 株式会社 before or after the name, a school
without the corporation that runs it), and the printed form is kept.

When both documents print a network, the two printings are aligned item by item and each piece of text
(name, 計画名, 取組概要, every member) keeps both spans. The printing shown is chosen by these rules, in order:

1. the same text after NFKC and white-space removal → the printing without stray spaces (「P H C」);
2. otherwise the printing with fewer unknown words (Sudachi core dictionary; an unknown word that splits
   into two dictionary words counts as known, so 「プライマリケア」 is known and 「トコモ」 is not);
3. otherwise the printing of the document that won more comparisons by rule 2 in the same table (its
   text is the more reliable one there), the first document on a tie.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sudachipy import Dictionary, SplitMode

from assistant.pipeline.tables import extract_cells
from assistant.records import (
    Network,
    NetworkCatalog,
    NetworkLink,
    NetworkMember,
    NetworkProgram,
    PrintedText,
    TextSpan,
)
from assistant.vocabulary import (
    LEGAL_FORMS,
    NETWORK_PROGRAMS,
    ORGANISATION_SUFFIXES,
    ORGANISATION_UNITS,
    PREFECTURES,
    ROLE_TITLES,
    SCHOOL_CORPORATIONS,
    SECTOR_NAME_MARKERS,
    prefecture_in,
    prefecture_stem,
)
from ingest.documents import load_manifest, read_document

COLUMNS = ("名称", "構成員", "取組概要")
_SECTOR_LABEL = re.compile(r"【(?P<label>[^【】\s]{1,4})】")
_ITEM_SEPARATORS = "、，"
_PLAN = re.compile(r"[（(]\s*(?P<label>計画名|拠点名)\s*[：:]\s*(?P<plan>.+?)\s*[)）]\s*$")
_EMPTY_CELL = re.compile(r"^[\s\-－ー―‐]+$")
_DASH = re.compile(r"[\-－ー―‐]")
_CASE_HEADING = re.compile(r"^\s*事例\s*[：:]\s*(?P<name>\S.*?)\s*$")
_SPACE = re.compile(r"\s+")
#: Minimum difflib ratio for two differently printed items at the same place to be one member.
SAME_MEMBER_RATIO = 0.5
#: Bumped when the extraction changes what it writes, so `assistant ingest` rebuilds the index.
NETWORKS_FORMAT = 1


# =====================================================================================================
# text with its lines
@dataclass
class CellText:
    """A cell's text with its lines joined without separators, mapping offsets back to lines."""

    doc_id: str
    text: str
    line_starts: list[tuple[int, int]]  # (offset in text, 1-based line number), ascending

    @classmethod
    def of_lines(cls, doc_id: str, first_line: int, lines: list[str]) -> CellText:
        starts, offset = [], 0
        for number, line in enumerate(lines, start=first_line):
            starts.append((offset, number))
            offset += len(line)
        return cls(doc_id, "".join(lines), starts)

    @classmethod
    def in_line(cls, doc_id: str, line_number: int, line: str, start: int, end: int) -> CellText:
        """A cell that stands in one line (a tab table): offsets stay those of the cell text."""
        return cls(doc_id, line[start:end], [(0, line_number)])

    def line_of(self, offset: int) -> int:
        number = self.line_starts[0][1]
        for start, line in self.line_starts:
            if start <= offset:
                number = line
        return number

    def span(self, start: int, end: int) -> TextSpan:
        """The exact printed text of ``text[start:end]``, line breaks put back where the lines break."""
        breaks = [s for s, _ in self.line_starts if start < s < end]
        pieces, cursor = [], start
        for cut in breaks:
            pieces.append(self.text[cursor:cut])
            cursor = cut
        pieces.append(self.text[cursor:end])
        return TextSpan(
            doc_id=self.doc_id,
            line_start=self.line_of(start),
            line_end=self.line_of(max(start, end - 1)),
            text="\n".join(pieces),
        )

    def trimmed(self, start: int, end: int) -> tuple[int, int]:
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return start, end


@dataclass
class Piece:
    """A piece of one printing: where it stands and its text (line breaks removed)."""

    cell: CellText
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.cell.text[self.start : self.end]

    @property
    def span(self) -> TextSpan:
        return self.cell.span(self.start, self.end)

    @property
    def shown(self) -> str:
        return display(self.span.text)

    def sub(self, start: int, end: int) -> Piece:
        return Piece(self.cell, self.start + start, self.start + end)


def squash(text: str) -> str:
    """NFKC without white space: two printings with the same squash say the same thing."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


_WORD_BREAK = re.compile(r"(?<=[A-Za-z])\n(?=[A-Za-z])")


def display(text: str) -> str:
    """A printed text as shown: a line break between two Latin words is a space (Bio×Digital /
    Transformation), any other line break is a cell broken by the PDF; runs of spaces collapse."""
    return _SPACE.sub(" ", _WORD_BREAK.sub(" ", text).replace("\n", "")).strip()


def stray_spaces(text: str) -> int:
    """Spaces that are extraction artifacts: next to a Japanese character or a bracket, or between single
    letters (「P H C」); a space between two Latin words is not one."""
    count = 0
    for match in re.finditer(r"\s+", text.strip()):
        before = text.strip()[: match.start()].split()[-1:] or [""]
        after = text.strip()[match.end() :].split()[:1] or [""]
        prev, nxt = before[0][-1:], after[0][:1]
        latin = prev.isascii() and prev.isalnum() and nxt.isascii() and nxt.isalnum()
        letters = len(before[0]) == 1 and len(after[0]) <= 2
        count += 0 if latin and not letters else 1
    return count


def clean_name(text: str) -> str:
    """A member's name as shown: an organisation unit cut off by a stray 、 joined back
    (「徳島文理大学、短期大学部」 → 徳島文理大学短期大学部)."""
    for unit in ORGANISATION_UNITS:
        for separator in _ITEM_SEPARATORS:
            if text.endswith(separator + unit):
                return text[: -len(unit) - 1] + unit
    return text


def member_key(name: str) -> str:
    """The normalised name members are de-duplicated by: NFKC, no white space, Latin lower-cased, no legal
    form (株式会社マツダ = マツダ株式会社), a school without the corporation that runs it."""
    text = squash(clean_name(name))
    for corporation in SCHOOL_CORPORATIONS:
        at = text.find(corporation)
        if at >= 0 and at + len(corporation) < len(text):
            text = text[at + len(corporation) :]
    bare = text
    for form in LEGAL_FORMS:
        bare = bare.replace(unicodedata.normalize("NFKC", form), "")
    return (bare or text).casefold()


# =====================================================================================================
# the dictionary rule
_local = threading.local()


def _tokenizer():
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        tok = Dictionary(dict="core").tokenizer()
        _local.tokenizer = tok
    return tok


def _known(word: str) -> bool:
    morphemes = _tokenizer().tokenize(word, SplitMode.C)
    return len(morphemes) == 1 and not morphemes[0].is_oov()


def unknown_words(text: str) -> int:
    """Words of a text the dictionary does not know (an unknown word made of two known ones is known)."""
    count = 0
    for morpheme in _tokenizer().tokenize(squash(text), SplitMode.C):
        word = morpheme.surface()
        if not morpheme.is_oov() or not re.search(r"[^\x00-\x7f]", word):
            continue  # Latin names (BiPSEE) are names, not garbled words
        if not any(_known(word[:i]) and _known(word[i:]) for i in range(2, len(word) - 1)):
            count += 1
    return count


def proper_noun_in(text: str) -> bool:
    return any(m.part_of_speech()[1] == "固有名詞" for m in _tokenizer().tokenize(text, SplitMode.C))


@dataclass
class Judge:
    """Chooses between printings (rules in the module docstring) and counts the dictionary rule's wins."""

    doc_order: list[str]
    wins: Counter = field(default_factory=Counter)
    pending: list[tuple[list[Piece], dict]] = field(default_factory=list)

    def printed(self, pieces: list[Piece]) -> PrintedText:
        """A PrintedText whose choice may wait for the table's reliability (rule 3); see ``settle``."""
        result: dict = {}
        self.pending.append((pieces, result))
        return _Deferred(self, pieces, result)  # type: ignore[return-value]

    def decide(self, pieces: list[Piece]) -> tuple[int, bool, str | None]:
        """(index of the printing shown, whether the printings differ, rule) — rules 1 and 2 only;
        index -1 when rule 3 must decide."""
        if len(pieces) == 1:
            return 0, False, None
        squashed = {squash(p.text) for p in pieces}
        if len(squashed) == 1:
            spaces = [stray_spaces(p.shown) for p in pieces]
            return spaces.index(min(spaces)), False, None
        unknown = [unknown_words(p.text) for p in pieces]
        if len(set(unknown)) > 1:
            return unknown.index(min(unknown)), True, "fewer words unknown to the dictionary"
        return -1, True, "the more reliable printing of this table"

    def settle(self) -> None:
        """Count rule 2's wins per document over the whole table, then settle every deferred choice."""
        decisions = [(pieces, result, self.decide(pieces)) for pieces, result in self.pending]
        for pieces, _result, (index, variant, _rule) in decisions:
            if variant and index >= 0:
                self.wins[pieces[index].cell.doc_id] += 1
        for pieces, result, (index, variant, rule) in decisions:
            if index < 0:
                ranked = sorted(
                    range(len(pieces)),
                    key=lambda i: (-self.wins[pieces[i].cell.doc_id], self._order(pieces[i].cell.doc_id)),
                )
                index = ranked[0]
            ordered = [pieces[index], *(p for i, p in enumerate(pieces) if i != index)]
            result["value"] = PrintedText(
                text=pieces[index].shown,
                printings=[p.span for p in ordered],
                variant=variant,
                rule=rule,
            )
        self.pending = []

    def _order(self, doc_id: str) -> int:
        return self.doc_order.index(doc_id) if doc_id in self.doc_order else len(self.doc_order)


class _Deferred:
    """Stands for a PrintedText until the judge has seen the whole table."""

    def __init__(self, judge: Judge, pieces: list[Piece], result: dict) -> None:
        self.judge, self.pieces, self.result = judge, pieces, result

    def get(self) -> PrintedText:
        if "value" not in self.result:
            self.judge.settle()
        return self.result["value"]


# =====================================================================================================
# cells → items
@dataclass
class Item:
    """One member as one printing lists it."""

    piece: Piece  # the whole item, role included
    name: Piece  # the member's name
    label: str | None
    role: str | None

    @property
    def key(self) -> str:
        return member_key(self.name.text)


def split_members(cell: CellText) -> list[Item]:
    """The items of a 構成員 cell: 【学】A、B 【官】C … (a bare unit word joins the item before it)."""
    labels = list(_SECTOR_LABEL.finditer(cell.text))
    if not labels:
        return []
    items: list[Item] = []
    for index, label in enumerate(labels):
        end = labels[index + 1].start() if index + 1 < len(labels) else len(cell.text)
        start = label.end()
        cursor = start
        for position in [*(i for i in range(start, end) if cell.text[i] in _ITEM_SEPARATORS), end]:
            s, e = cell.trimmed(cursor, position)
            cursor = position + 1
            if s >= e:
                continue
            text = cell.text[s:e]
            if items and text in ORGANISATION_UNITS and items[-1].label == label.group("label"):
                previous = items.pop()  # 「徳島文理大学、短期大学部」: one name cut by a stray 、
                s = previous.piece.start
            items.append(_item(Piece(cell, s, e), label.group("label")))
    return items


def _item(piece: Piece, label: str | None) -> Item:
    """An item with its role cut off when a title follows the name (マツダ株式会社代表取締役会長)."""
    text = piece.text.rstrip()
    for title in ROLE_TITLES:
        if text.endswith(title) and len(text) > len(title) + 1:
            name_end = len(text[: -len(title)].rstrip())
            return Item(piece, piece.sub(0, name_end), label, title)
    return Item(piece, piece, label, None)


# =====================================================================================================
# one network as one printing shows it
@dataclass
class Printing:
    doc_id: str
    region: str
    program: str
    program_label: str
    name: Piece | None = None
    plan_label: str | None = None
    plan: Piece | None = None
    summary: Piece | None = None
    members_cell: CellText | None = None
    items: list[Item] = field(default_factory=list)


def _name_cell(printing: Printing, cell: CellText) -> None:
    s, e = cell.trimmed(0, len(cell.text))
    match = _PLAN.search(cell.text, s, e)
    if match:
        ns, ne = cell.trimmed(s, match.start())
        printing.name = Piece(cell, ns, ne)
        printing.plan_label = match.group("label")
        printing.plan = Piece(cell, *cell.trimmed(match.start("plan"), match.end("plan")))
    else:
        printing.name = Piece(cell, s, e)


def _fill(printing: Printing, column: str, cell: CellText) -> None:
    if column == "名称":
        _name_cell(printing, cell)
    elif column == "構成員":
        printing.members_cell = cell
        printing.items = split_members(cell)
    elif column == "取組概要":
        printing.summary = Piece(cell, *cell.trimmed(0, len(cell.text)))


def program_of(header: str) -> str | None:
    """The scheme a column group header names (by the markers in the vocabulary)."""
    normal = unicodedata.normalize("NFKC", header)
    for program_id, entry in NETWORK_PROGRAMS.items():
        if any(unicodedata.normalize("NFKC", m) in normal for m in entry["markers"]):  # type: ignore[attr-defined]
            return program_id
    return None


def region_of(label: str) -> str | None:
    """A row label → prefecture (広島県, or 広島 for a label printed without its suffix)."""
    text = squash(label)
    if text in PREFECTURES:
        return text
    return next((name for name in PREFECTURES if prefecture_stem(name) == text), None)


def tab_table_printings(doc_id: str, lines: list[str]) -> list[Printing]:
    """Networks of the tab table(s) of a document: rows are prefectures, groups are schemes."""
    found: dict[tuple[str, str], Printing] = {}
    for cell in extract_cells(doc_id, lines):
        region, program = region_of(cell.row), program_of(cell.group)
        if region is None or program is None or cell.column not in COLUMNS:
            continue
        printing = found.setdefault((region, program), Printing(doc_id, region, program, display(cell.group)))
        line = lines[cell.line - 1]
        start = line.find(cell.text)
        _fill(printing, cell.column, CellText.in_line(doc_id, cell.line, line, start, start + len(cell.text)))
    return [p for p in found.values() if p.name is not None and p.items]


def broken_table_printings(doc_id: str, lines: list[str]) -> list[Printing]:
    """The same table as PDF text: a header line of repeated 名称 構成員 取組概要, the group names above it,
    then per region its vertical label (one character a line) and blank-line separated cells."""
    printings: list[Printing] = []
    for number, line in enumerate(lines, start=1):
        words = line.split()
        if not words or any(w not in COLUMNS for w in words) or words.count("名称") < 2:
            continue
        columns = words
        groups = _header_groups(lines[max(0, number - 6) : number - 1])
        if len(groups) * len(COLUMNS) != len(columns):
            continue
        printings.extend(_broken_rows(doc_id, lines, number, groups, columns))
    return printings


def _header_groups(above: list[str]) -> list[tuple[str, str]]:
    """(program id, label as printed) of the column groups named in the lines above a header, in order:
    a label is the word holding the scheme's marker and the parenthesised words after it (（文部科学省）)."""
    words = " ".join(line.strip() for line in above).split()
    groups: list[tuple[str, str]] = []
    for index, word in enumerate(words):
        program_id = program_of(word)
        if program_id is None or any(program_id == g for g, _ in groups):
            continue
        label = word
        for following in words[index + 1 :]:
            if not following.startswith(("（", "(")):
                break
            label += following
        groups.append((program_id, label))
    return groups


def _blocks(lines: list[str], start: int) -> Iterable[tuple[int, list[str]]]:
    """Blank-line separated blocks from line ``start`` (1-based): (first line number, lines)."""
    block: list[str] = []
    first = start
    for number in range(start, len(lines) + 1):
        line = lines[number - 1]
        if line.strip():
            if not block:
                first = number
            block.append(line)
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


def _broken_rows(
    doc_id: str, lines: list[str], header: int, groups: list[tuple[str, str]], columns: list[str]
) -> list[Printing]:
    printings: list[Printing] = []
    cells: list[CellText | None] = []
    region: str | None = None

    def flush() -> None:
        if region is None:
            return
        for index, (program_id, label) in enumerate(groups):
            printing = Printing(doc_id, region, program_id, label)
            for offset, column in enumerate(columns[index * 3 : index * 3 + 3]):
                cell = cells[index * 3 + offset] if index * 3 + offset < len(cells) else None
                if cell is not None:
                    _fill(printing, column, cell)
            if printing.name is not None and printing.items:
                printings.append(printing)

    for first, block in _blocks(lines, header + 1):
        label = "".join(b.strip() for b in block)
        if all(len(b.strip()) == 1 for b in block) and region_of(label):
            if region is not None and len(cells) < len(columns):
                return printings  # the previous row did not fill its cells: not this table's layout
            flush()
            region, cells = region_of(label), []
            continue
        if region is None or len(cells) >= len(columns):
            break
        if len(block) == 1 and _EMPTY_CELL.match(block[0]) and _DASH.search(block[0]):
            cells.extend([None] * len(_DASH.findall(block[0])))
        else:
            cells.append(CellText.of_lines(doc_id, first, block))
    if region is not None and len(cells) >= len(columns):
        flush()
    return printings


# =====================================================================================================
# the survey's cases
def case_printings(doc_id: str, lines: list[str]) -> list[tuple[Printing, list[tuple[Piece, str | None]]]]:
    """Cases 「事例：…」 that name their prefecture and at least one acting organisation."""
    headings = [(n, m) for n, line in enumerate(lines, start=1) if (m := _CASE_HEADING.match(line))]
    found = []
    for index, (number, match) in enumerate(headings):
        end = headings[index + 1][0] - 1 if index + 1 < len(headings) else len(lines)
        block = lines[number:end]
        region = prefecture_in("".join(block))
        if region is None:
            continue
        heading = CellText.of_lines(doc_id, number, [lines[number - 1]])
        printing = Printing(doc_id, region, "cases", NETWORK_PROGRAMS["cases"]["name"])  # type: ignore[arg-type]
        printing.name = Piece(heading, match.start("name"), match.end("name"))
        for offset, line in enumerate(block, start=number + 1):
            if line.strip():
                cell = CellText.of_lines(doc_id, offset, [line])
                printing.summary = Piece(cell, *cell.trimmed(0, len(line)))
                break
        partners = []
        seen: set[str] = set()
        for offset, line in enumerate(block, start=number + 1):
            cell = CellText.of_lines(doc_id, offset, [line])
            for start, end in acting_organisations(line):
                name = line[start:end]
                if member_key(name) in seen or squash(name) in squash(match.group("name")):
                    continue
                seen.add(member_key(name))
                partners.append((Piece(cell, start, end), infer_sector(name)))
        if partners:
            found.append((printing, partners))
    return found


def acting_organisations(line: str) -> list[tuple[int, int]]:
    """Offsets of organisations a sentence says act (「…東大臨海実験所が協力」): a run of nouns ending in an
    organisation suffix, holding a proper noun, followed by が or と連携/と協力."""
    morphemes = list(_tokenizer().tokenize(line, SplitMode.C))
    found = []
    run: list = []
    for index, morpheme in enumerate(morphemes):
        pos = morpheme.part_of_speech()
        if pos[0] in ("名詞", "接尾辞", "接頭辞") and pos[1] != "数詞" and not morpheme.surface().isspace():
            run.append(morpheme)
            continue
        if run:
            text = "".join(m.surface() for m in run)
            follows = morpheme.surface()
            after = morphemes[index + 1].surface() if index + 1 < len(morphemes) else ""
            acts = follows == "が" or (follows == "と" and after in ("連携", "協力", "共同"))
            if acts and text.endswith(ORGANISATION_SUFFIXES) and proper_noun_in(text):
                found.append((run[0].begin(), run[-1].end()))
        run = []
    return found


def infer_sector(name: str) -> str | None:
    """The sector of an organisation the text does not label, from its name (None when it does not say)."""
    text = squash(name)
    for marker, sector in SECTOR_NAME_MARKERS:
        if marker in text:
            return sector
    morphemes = list(_tokenizer().tokenize(text, SplitMode.C))
    if any(m.part_of_speech()[1] == "固有名詞" and m.surface().endswith("大") for m in morphemes):
        return "学"  # 東大, 広島大: a university's short name
    if prefecture_in(text) == text[: len(prefecture_in(text) or "")] and text.endswith(
        ("センター", "試験場", "研究所")
    ):
        return "官"  # a prefecture's public research institute carries the prefecture's name
    return None


# =====================================================================================================
# printings → records
def align(first: list[Item], second: list[Item]) -> list[tuple[Item | None, Item | None]]:
    """Pair the items of two printings of one 構成員 cell, in order; an item one printing merged (a lost 、:
    「株式会社シーメック株式会社BiPSEE」) is split where the other printing separates it."""
    first = _split_merged(first, second)
    second = _split_merged(second, first)
    matcher = difflib.SequenceMatcher(None, [i.key for i in first], [i.key for i in second], autojunk=False)
    pairs: list[tuple[Item | None, Item | None]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.extend(zip(first[i1:i2], second[j1:j2], strict=True))
            continue
        left, right = list(first[i1:i2]), list(second[j1:j2])
        while left and right:
            ratio = difflib.SequenceMatcher(None, left[0].key, right[0].key).ratio()
            if ratio >= SAME_MEMBER_RATIO:
                pairs.append((left.pop(0), right.pop(0)))
            elif len(left) >= len(right):
                pairs.append((left.pop(0), None))
            else:
                pairs.append((None, right.pop(0)))
        pairs.extend((item, None) for item in left)
        pairs.extend((None, item) for item in right)
    return pairs


def _split_merged(items: list[Item], other: list[Item]) -> list[Item]:
    other_keys = [squash(i.name.text) for i in other]
    result: list[Item] = []
    for item in items:
        text = squash(item.piece.text)
        parts = _covering(text, other_keys)
        if parts is None or len(parts) < 2:
            result.append(item)
            continue
        raw = item.piece.text
        positions = _squash_positions(raw)
        cursor = 0
        for part in parts:
            start, end = positions[cursor], positions[cursor + len(part) - 1] + 1
            result.append(_item(item.piece.sub(start, end), item.label))
            cursor += len(part)
    return result


def _covering(text: str, keys: list[str]) -> list[str] | None:
    """Consecutive names of the other printing whose concatenation is exactly ``text``."""
    for start in range(len(keys)):
        joined, parts = "", []
        for key in keys[start:]:
            joined += key
            parts.append(key)
            if joined == text:
                return parts
            if not text.startswith(joined):
                break
    return None


def _squash_positions(raw: str) -> list[int]:
    """For each character of ``squash(raw)``, its offset in ``raw`` (NFKC keeps width changes 1:1 here)."""
    positions = []
    for offset, ch in enumerate(raw):
        if ch.isspace():
            continue
        positions.extend([offset] * len(unicodedata.normalize("NFKC", ch)))
    return positions


@dataclass
class _Link:
    network_id: str
    items: list[Item]
    printed: _Deferred
    label: str | None
    inferred: bool


def _network_id(region: str, program: str, name: str) -> str:
    slug = PREFECTURES.get(region, (hashlib.sha1(region.encode()).hexdigest()[:6], ""))[0]
    if program == "cases":
        return f"{slug}-{program}-{hashlib.sha1(squash(name).encode()).hexdigest()[:6]}"
    return f"{slug}-{program}"


def build_catalog(documents: list[tuple[str, list[str]]]) -> NetworkCatalog:
    """Every network the documents print, merged across printings (see the module docstring)."""
    doc_order = [doc_id for doc_id, _ in documents]
    grouped: dict[tuple[str, str], list[Printing]] = defaultdict(list)
    labels: dict[str, str] = {}
    cases: list[tuple[Printing, list[tuple[Piece, str | None]]]] = []
    for doc_id, lines in documents:
        for printing in [*tab_table_printings(doc_id, lines), *broken_table_printings(doc_id, lines)]:
            grouped[(printing.region, printing.program)].append(printing)
            if printing.program_label:
                labels.setdefault(printing.program, printing.program_label)
        cases.extend(case_printings(doc_id, lines))

    judge = Judge(doc_order)
    drafts: list[tuple[Network, dict[str, _Deferred | None], list[_Link]]] = []
    for (region, program), printings in grouped.items():
        printings = sorted(printings, key=lambda p: doc_order.index(p.doc_id))
        network = Network(
            id=_network_id(region, program, printings[0].name.text if printings[0].name else ""),
            region=region,
            program=program,
            name=PrintedText(text="", printings=[]),  # set once the judge has settled
            plan_label=next((p.plan_label for p in printings if p.plan_label), None),
            members_cells=[
                p.members_cell.span(0, len(p.members_cell.text)) for p in printings if p.members_cell
            ],
        )
        texts = {
            "name": judge.printed([p.name for p in printings if p.name]),
            "plan_name": _maybe(judge, [p.plan for p in printings if p.plan]),
            "summary": _maybe(judge, [p.summary for p in printings if p.summary]),
        }
        pairs: list[list[Item]] = [[item] for item in printings[0].items]
        for other in printings[1:]:
            merged: list[list[Item]] = []
            aligned = align([group[0] for group in pairs], other.items)
            by_first = {id(group[0]): group for group in pairs}
            for left, right in aligned:
                group = list(by_first.get(id(left), [left])) if left is not None else []
                merged.append([*group, right] if right is not None else group)
            pairs = [group for group in merged if group]
        links = [
            _Link(network.id, group, judge.printed([i.name for i in group]), group[0].label, False)
            for group in pairs
        ]
        drafts.append((network, texts, links))

    for printing, partners in cases:
        network = Network(
            id=_network_id(printing.region, "cases", printing.name.text if printing.name else ""),
            region=printing.region,
            program="cases",
            name=PrintedText(text="", printings=[]),
        )
        texts = {
            "name": judge.printed([printing.name]) if printing.name else None,
            "plan_name": None,
            "summary": judge.printed([printing.summary]) if printing.summary else None,
        }
        links = [
            _Link(network.id, [Item(piece, piece, sector, None)], judge.printed([piece]), sector, True)
            for piece, sector in partners
        ]
        drafts.append((network, texts, links))
        labels.setdefault("cases", str(NETWORK_PROGRAMS["cases"]["name"]))

    judge.settle()
    return _assemble(drafts, labels, judge)


def _maybe(judge: Judge, pieces: list[Piece]) -> _Deferred | None:
    return judge.printed(pieces) if pieces else None  # type: ignore[return-value]


def _assemble(
    drafts: list[tuple[Network, dict[str, _Deferred | None], list[_Link]]],
    labels: dict[str, str],
    judge: Judge,
) -> NetworkCatalog:
    # Members: one per group of normalised names that printings of the same item tie together.
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    for _network, _texts, links in drafts:
        for link in links:
            keys = [i.key for i in link.items]
            for key in keys[1:]:
                parent[find(key)] = find(keys[0])
            find(keys[0])

    shown: dict[str, Counter] = defaultdict(Counter)
    for _network, _texts, links in drafts:
        for link in links:
            shown[find(link.items[0].key)][link.printed.get().text] += 1

    members: dict[str, NetworkMember] = {}
    network_links: list[NetworkLink] = []
    networks: list[Network] = []
    for network, texts, links in drafts:
        network.name = texts["name"].get() if texts["name"] else PrintedText(text="", printings=[])
        network.plan_name = texts["plan_name"].get() if texts["plan_name"] else None
        network.summary = texts["summary"].get() if texts["summary"] else None
        for link in links:
            root = find(link.items[0].key)
            name = _shown_name(shown[root])
            member = members.get(root)
            if member is None:
                key = member_key(name)
                member = members[root] = NetworkMember(
                    id="m-" + hashlib.sha1(key.encode()).hexdigest()[:10],
                    key=key,
                    name=name,
                    sector=link.label,
                    sector_inferred=link.inferred,
                )
            for item in link.items:
                for value, bucket in ((item.key, member.keys), (clean_name(item.name.shown), member.aliases)):
                    if value not in bucket and value != member.name:
                        bucket.append(value)
            if member.key not in member.keys:
                member.keys.insert(0, member.key)
            if member.sector_inferred and not link.inferred and link.label:
                member.sector, member.sector_inferred = link.label, False
            if network.id not in member.network_ids:
                member.network_ids.append(network.id)
            if member.id not in network.member_ids:
                network.member_ids.append(member.id)
                network_links.append(
                    NetworkLink(
                        network_id=network.id,
                        member_id=member.id,
                        printed=link.printed.get(),
                        sector=link.label,
                        sector_inferred=link.inferred,
                        role=next((i.role for i in link.items if i.role), None),
                    )
                )
        networks.append(network)

    programs = [
        NetworkProgram(
            id=program_id,
            name=str(entry["name"]),
            ministry=str(entry["ministry"]),
            label=labels.get(program_id, str(entry["name"])),
        )
        for program_id, entry in NETWORK_PROGRAMS.items()
        if program_id in labels
    ]
    return NetworkCatalog(
        programs=programs,
        networks=networks,
        members=list(members.values()),
        links=network_links,
        reliability=dict(judge.wins),
    )


def _shown_name(counts: Counter) -> str:
    """The printed form shown for a member: the one chosen most often (first seen on a tie)."""
    best = max(counts.values())
    return clean_name(next(name for name, count in counts.items() if count == best))


def extract_networks(corpus_dir: Path) -> NetworkCatalog:
    """The network catalog of a corpus folder (documents in manifest order)."""
    documents = []
    for info in load_manifest(corpus_dir):
        source = read_document(corpus_dir, info)
        documents.append((info.doc_id, source.lines))
    return build_catalog(documents)
