"""Japanese-aware chunking of PDF-extracted text, keeping every chunk's source line span.

The documents are text pulled out of PDFs and slides, with these artifacts (see corpus/README.md):
vertical slide text one character per line, words and table cells broken over lines, paragraphs
whose first line is cut off by a blank line, printed slide numbers on their own line or glued to the
next text (``31※なお…``). The pipeline:

1. classify each line (blank, heading, bullet, table header, contact line, page marker, single char);
2. join lines into *units* — paragraphs, bullet items, vertical-text runs, program-table rows — joining
   Japanese without spaces (ASCII words keep one space);
3. split units into sentences on 。！？ (a table row is never split);
4. pack sentences into chunks of ~200–500 characters within one heading section, with a little
   overlap (the previous chunk's last sentence when it is short).

Each unit keeps, per character, the source line it came from, so every chunk knows its exact span.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from assistant.records import Chunk
from ingest.documents import SourceText

SENTENCE_END = "。！？"
_CLOSERS = "」』）)】"

_HEADING_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^#{1,6}\s+\S"), "markdown"),
    (re.compile(r"^[0-9０-９]{1,2}(?:[-－‐][0-9０-９]{1,2}){1,3}[.．]?\s*[^\d０-９\s.．、，,]"), "numbered"),
    (re.compile(r"^[0-9０-９]{1,2}[.．:：]\s*[^\d０-９\s]"), "chapter"),
    (re.compile(r"^[０-９]{1,2}[^\d０-９\s.．,，、。)）\-－‐:：％%年月日件名億万千百]"), "chapter_fw"),
    (re.compile(r"^[(（][0-9０-９]{1,2}[)）]\s*\S"), "paren"),
    (re.compile(r"^[①-⑳][-－][a-zａ-ｚ]\s*$"), "slide"),
    # 【具体例①】… is a heading; 【学】… and 【実施時期】平成31年… (labels with values) are not.
    (re.compile(r"^【[^】]{2,40}】[^0-9０-９、，,]*$"), "bracket"),
]
_BULLET_START = re.compile(r"^([✓•◆➢・\-－○●■□◇▶►※]|[\ue000-\uf8ff])")
_TABLE_HEADER = re.compile(r"事業名\s*申請主体")
_TABLE_FOOTER = re.compile(r"支援メニューの連絡先$")
_MAX_ROW_CHARS = 600  # a "row" longer than this means the table ended without a footer
_CONTACT_LINE = re.compile(r"^(?:TEL|ＴＥＬ|Tel|[mｍMＭ]ail|E-mail|e-mail)\s*[：:]|^[\w.\-]+@[\w.\-]+$")
_PAGE_MARKER = re.compile(r"^([0-9]{1,3})(?=※|$)")
_FOOTNOTE = re.compile(r"^[0-9]{1,2}\s+\S")
_MAX_HEADING_CHARS = 60
_LONG_LINE_RATIO = 0.8


@dataclass
class Unit:
    """A run of joined text; ``line_of[i]`` is the source line of character i."""

    text: str = ""
    line_of: list[int] = field(default_factory=list)
    atomic: bool = False  # table rows: never split across chunks
    new_block: bool = False  # first unit after a slide number or a table header: starts a new chunk
    heading_path: tuple[str, ...] = ()

    def add(self, piece: str, line_no: int, sep: str = "") -> None:
        if not piece:
            return
        if self.text and (sep or _needs_space(self.text[-1], piece[0])):
            self.text += sep or " "
            self.line_of.append(line_no)
        self.text += piece
        self.line_of.extend([line_no] * len(piece))

    @property
    def line_start(self) -> int:
        return self.line_of[0]

    @property
    def line_end(self) -> int:
        return self.line_of[-1]

    def slice(self, start: int, end: int) -> Unit:
        return Unit(
            self.text[start:end],
            self.line_of[start:end],
            self.atomic,
            self.new_block and start == 0,
            self.heading_path,
        )


def _needs_space(left: str, right: str) -> bool:
    """ASCII words keep a space between them; Japanese joins without one."""
    return left.isascii() and right.isascii() and left.isalnum() and right.isalnum()


_CELL_END = re.compile(r"(局|課|室|省|府|庁|部|グループ|事務局|官|担当|会議|有|無|[)）]|[0-9])$")


def _cell_separator(previous: str, line: str) -> str:
    """Inside a table row, a line break between two cells becomes a space; a break inside a cell
    (``地方大学・地域産業創生交付`` / ``金``, ``s-sangi-`` / ``daigaku…@meti.go.jp``) joins without one."""
    if previous.endswith("-"):
        return ""
    if _CONTACT_LINE.match(line) or line[:1] in "①②③④（(" or _CELL_END.search(previous):
        return " "
    return ""


def clean_line(line: str) -> str:
    """Strip a line and turn private-use glyphs (Wingdings bullets of the slides) into ・."""
    line = line.strip()
    return "".join("・" if unicodedata.category(ch) == "Co" else ch for ch in line)


def heading_level(line: str) -> int | None:
    """The heading level of a line, or None when it is body text."""
    if len(line) > _MAX_HEADING_CHARS or line.endswith("。"):
        return None
    for pattern, kind in _HEADING_PATTERNS:
        if not pattern.match(line):
            continue
        if kind == "markdown":
            # Numbering inside a markdown heading is more reliable than its count of #.
            return heading_level(_heading_text(line)) or len(line) - len(line.lstrip("#"))
        if kind == "numbered":
            return len(re.findall(r"[0-9０-９]+", line.split()[0][:12])[:4])
        if kind in ("chapter", "chapter_fw"):
            return 1
        if kind == "paren":
            return 2
        if kind == "slide":
            return 2
        return 5  # 【…】: a local heading, below the numbered ones
    return None


def _heading_text(line: str) -> str:
    return line.lstrip("#").strip()


def page_markers(lines: list[str]) -> dict[int, int]:
    """Printed slide/page numbers: line number → page, for lines that are only a number (or ``31※…``)."""
    markers: dict[int, int] = {}
    for no, raw in enumerate(lines, start=1):
        match = _PAGE_MARKER.match(raw.strip())
        if match:
            markers[no] = int(match.group(1))
    # Keep only increasing numbers: a lone "3" inside a table is not a slide number.
    kept: dict[int, int] = {}
    last = 0
    for no, page in sorted(markers.items()):
        if page > last:
            kept[no] = page
            last = page
    return kept


def assign_pages(n_lines: int, markers: dict[int, int]) -> list[int | None]:
    """Page of each line: a slide number closes its slide, so lines up to marker k belong to page k
    when the previous marker is k-1 (otherwise only the marker line itself is known)."""
    pages: list[int | None] = [None] * (n_lines + 1)
    prev_line, prev_page = 0, None
    for line_no, page in sorted(markers.items()):
        if prev_page is not None and page == prev_page + 1:
            for i in range(prev_line + 1, line_no + 1):
                pages[i] = page
        pages[line_no] = page
        prev_line, prev_page = line_no, page
    return pages[1:]


def build_units(source: SourceText) -> list[Unit]:
    """Join the document's lines into units (see module docstring)."""
    raw = source.lines
    lines = [clean_line(line) for line in raw]
    markers = {} if source.pages else page_markers(raw)
    typical = _typical_line_length(lines)
    footnotes = _footnote_lines(raw)

    units: list[Unit] = []
    headings: list[tuple[int, str]] = []
    current: Unit | None = None
    in_table = False
    row_has_contact = False
    block_start = True

    def flush() -> None:
        nonlocal current, row_has_contact
        if current is not None and current.text.strip():
            units.append(current)
        current = None
        row_has_contact = False

    def start(line_no: int, atomic: bool = False) -> Unit:
        nonlocal current, block_start
        flush()
        current = Unit(
            atomic=atomic,
            new_block=block_start,
            heading_path=tuple(h for _, h in headings),
        )
        block_start = False
        return current

    i = 0
    n = len(lines)
    while i < n:
        line_no = i + 1
        line = lines[i]
        if source.pages and i and source.pages[i] != source.pages[i - 1]:
            flush()  # a new PDF page starts a new chunk
            in_table = False
            block_start = True
        if not line:
            # A blank line ends a paragraph unless the previous line was cut mid-sentence at full width.
            if current is not None and not current.atomic and not _continues_after_blank(lines, i, typical):
                flush()
            i += 1
            continue

        if line_no in markers:
            rest = _PAGE_MARKER.sub("", line, count=1).strip()
            flush()
            in_table = False
            headings[:] = [h for h in headings if h[0] < 5]  # 【…】 headings end with their slide
            if rest:
                start(line_no).add(rest, line_no)
                flush()
            block_start = True
            i += 1
            continue

        run_end = _vertical_run_end(lines, i)
        if run_end > i:
            unit = start(line_no)
            for j in range(i, run_end):
                if lines[j]:
                    unit.add(lines[j], j + 1)
            flush()
            i = run_end
            continue

        level = heading_level(line)
        if level is not None and not in_table:
            flush()
            headings[:] = [h for h in headings if h[0] < level] + [(level, _heading_text(line))]
            i += 1
            continue

        if _TABLE_HEADER.search(line):
            flush()
            in_table = True
            block_start = True
            start(line_no, atomic=True).add(line, line_no)
            flush()
            i += 1
            continue

        if in_table and (
            _TABLE_FOOTER.search(line) or (current is not None and len(current.text) > _MAX_ROW_CHARS)
        ):
            flush()
            in_table = False

        if in_table:
            is_contact = bool(_CONTACT_LINE.match(line)) or _is_email_tail(current, line)
            if current is None or (row_has_contact and not is_contact):
                start(line_no, atomic=True)
            current.add(line, line_no, _cell_separator(current.text, line) if current.text else "")
            row_has_contact = row_has_contact or is_contact
            i += 1
            continue

        if current is None or _BULLET_START.match(line) or line_no in footnotes:
            start(line_no)
        current.add(line, line_no)
        i += 1
    flush()
    return units


def _footnote_lines(raw: list[str]) -> set[int]:
    """Footnotes follow a rule of spaces in the reports (``5 第４期科学技術基本計画…``)."""
    found: set[int] = set()
    for no, line in enumerate(raw, start=1):
        if len(line) > 20 and not line.strip() and no < len(raw):
            j = no + 1
            while j <= len(raw) and _FOOTNOTE.match(raw[j - 1].strip() or "x"):
                found.add(j)
                j += 1
    return found


def _is_email_tail(current: Unit | None, line: str) -> bool:
    """An e-mail address broken over two lines (``mail：s-sangi-`` / ``daigakurenkeisuishin@…``)."""
    return current is not None and current.text.endswith("-") and "@" in line


def _typical_line_length(lines: list[str]) -> int:
    lengths = sorted(len(line) for line in lines if len(line) >= 10)
    return lengths[int(len(lengths) * 0.75)] if lengths else 40


def _continues_after_blank(lines: list[str], blank_index: int, typical: int) -> bool:
    """True when the text before a blank line was cut mid-sentence (a full-width line, no 。)."""
    prev = next((lines[j] for j in range(blank_index - 1, -1, -1) if lines[j]), "")
    nxt = next((lines[j] for j in range(blank_index + 1, len(lines)) if lines[j]), "")
    if not prev or not nxt or prev[-1] in SENTENCE_END + _CLOSERS:
        return False
    if heading_level(nxt) is not None or _BULLET_START.match(nxt) or _PAGE_MARKER.match(nxt):
        return False
    return len(prev) >= typical * _LONG_LINE_RATIO


def _vertical_run_end(lines: list[str], i: int) -> int:
    """End index of a run of one-character lines (vertical slide text), blank lines allowed inside."""
    j, chars = i, 0
    last_char_end = i
    while j < len(lines) and len(lines[j]) <= 1:
        if lines[j]:
            chars += 1
            last_char_end = j + 1
        j += 1
    return last_char_end if chars >= 3 else i


def split_sentences(unit: Unit) -> list[Unit]:
    """Split after 。！？ (and a closing bracket right after them); table rows stay whole."""
    if unit.atomic:
        return [unit]
    pieces: list[Unit] = []
    start = 0
    text = unit.text
    k = 0
    while k < len(text):
        if text[k] in SENTENCE_END:
            end = k + 1
            while end < len(text) and text[end] in _CLOSERS:
                end += 1
            pieces.append(unit.slice(start, end))
            start = k = end
            continue
        k += 1
    if start < len(text):
        pieces.append(unit.slice(start, len(text)))
    return [p for p in pieces if p.text.strip()]


def _hard_split(sentence: Unit, max_chars: int) -> Iterator[Unit]:
    """A sentence longer than a chunk (slide text without 。) is cut at punctuation, else at max_chars."""
    text = sentence.text
    start = 0
    while len(text) - start > max_chars:
        window = text[start : start + max_chars]
        cut = max(window.rfind(p) for p in "、，,）)」 ")
        end = start + (cut + 1 if cut > max_chars // 2 else max_chars)
        yield sentence.slice(start, end)
        start = end
    yield sentence.slice(start, len(text))


def chunk_document(source: SourceText, min_chars: int, max_chars: int, overlap_chars: int) -> list[Chunk]:
    """Chunks of one document, in reading order, each within one heading section."""
    chunks: list[Chunk] = []
    pending: list[Unit] = []
    pages = source.pages or assign_pages(len(source.lines), page_markers(source.lines))

    def emit() -> None:
        if not pending:
            return
        text = "".join(_join(pending))
        first, last = pending[0], pending[-1]
        line_start = min(u.line_start for u in pending)
        chunks.append(
            Chunk(
                chunk_id=_chunk_id(source.info.doc_id, first.line_start, last.line_end, text),
                doc_id=source.info.doc_id,
                title=source.info.title,
                text=text,
                heading_path=list(first.heading_path),
                line_start=line_start,
                line_end=max(u.line_end for u in pending),
                page=pages[line_start - 1],  # where the passage starts, as a citation reads
            )
        )

    for unit in build_units(source):
        pieces = [
            p for s in split_sentences(unit) for p in (_hard_split(s, max_chars) if not s.atomic else [s])
        ]
        for piece in pieces:
            size = sum(len(u.text) for u in pending)
            section_changed = bool(pending) and (
                piece.heading_path != pending[0].heading_path or piece.new_block
            )
            too_big = size + len(piece.text) > max_chars and size >= min_chars // 2
            if pending and (section_changed or too_big):
                emit()
                tail = pending[-1]
                carry = (
                    not section_changed
                    and not tail.atomic
                    and not piece.atomic
                    and len(tail.text) <= overlap_chars
                    and len(tail.text) + len(piece.text) <= max_chars
                )
                pending = [tail] if carry else []
            pending.append(piece)
    emit()
    return chunks


def _join(units: list[Unit]) -> Iterator[str]:
    """Text of consecutive units; a newline between units keeps rows and bullets readable."""
    for k, unit in enumerate(units):
        if k and units[k - 1].line_end != unit.line_start:
            yield "\n"
        yield unit.text.strip()


def _chunk_id(doc_id: str, line_start: int, line_end: int, text: str) -> str:
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return f"{doc_id}:{line_start}-{line_end}:{digest}"
