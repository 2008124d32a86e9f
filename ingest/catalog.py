"""Extract the structured program catalog from the 総合振興パッケージ (programs, use cases, budget lines).

The 別紙「関連事業マップ」 of the package repeats one table per policy theme (事業名 / 申請主体 / 予算額(千円) /
新規課題採択 / 担当部署 / 連絡先). The PDF-to-text step broke those cells over several lines (also inside
names, department names and e-mail addresses), so rows are rebuilt here by rule: a row is everything
from its name up to the end of its contact block (TEL / mail lines). The same program recurs under
several themes; it becomes ONE record whose ``source`` is its first row and whose ``mentions`` are the
other rows, its budget lines, its use-case lines and its description.

Every value is text of the corpus (joined across line breaks); ``corpus/catalog_overrides.json`` holds
the few things the text garbles beyond repair by rule, each with a comment.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.records import BudgetBasis, BudgetLine, Catalog, Program, SourceSpan, UseCase
from assistant.vocabulary import (
    APPLICANT_LABELS,
    CONSORTIUM,
    MINISTRY_LETTERS,
    official_ministry,
)
from ingest.budget_basis import BasisFinder, fiscal_years, has_figure, program_basis, split_bracketed
from ingest.documents import CorpusError, load_manifest, read_document

#: Bumped when the extraction changes what it writes (2: budget basis), so `assistant ingest` rebuilds.
CATALOG_FORMAT = 2

_HEADER = re.compile(r"^\s*事業名\s+申請主体\s+予算額")
_FOOTER = re.compile(r"^\s*(?:R\d+年度)?(?P<theme>\S+?)に向けた支援メニューの連絡先\s*$")
_THEME_TAIL = re.compile(r"(?:技術の社会実装|の形成|形成|実現)$")
_APPLICANT_START = re.compile(r"[①②③④]|" + CONSORTIUM)
_BUDGET_CELL = re.compile(r"(?:^|\s)(?P<value>\d{1,3}(?:,\d{3})+|\d+|[ー－―-])(?=\s|$|[（(])")
_NEW_CALLS_CELL = re.compile(r"(?:^|\s)(?P<flag>[有無])(?=\s|$)")
_TEL = re.compile(r"^TEL\s*[:：]\s*(?P<value>.*)$", re.IGNORECASE)
_MAIL = re.compile(r"^mail\s*[:：]\s*(?P<value>.*)$", re.IGNORECASE)
_CONTACT_LABEL = re.compile(r"^【[^】]+】$")
_EMAIL_DONE = re.compile(r"^[\w.+-]*[\w.+]@[\w-]+(?:\.[\w-]+)+$")
#: Bullets and private-use glyphs the slides put in front of items.
_BULLETS = re.compile(r"^[\s\ue000-\uf8ff•◆◎●■]+")
#: A slide text box starts with a bullet glyph or an indent; a name never continues on such a line.
_ITEM_START = re.compile(r"^(?:\s|[\ue000-\uf8ff•◆◎●■])")
_BULLET_GLYPH = re.compile(r"^\s*[\ue000-\uf8ff•◆◎●■]")
_SPACE = re.compile(r"\s+")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")

# -- budget lines -------------------------------------------------------------------------------------
_MAP_ENTRY = re.compile(
    r"【(?P<ministry>[^【】]{1,12})】\s*[:：]\s*"
    r"(?P<amount>[0-9０-９.,]+億円(?:（[^）]*）)?|数億円|[－ー―-])"
)
#: A line that ends a description sentence on the maps (the next line starts a program name).
_SENTENCE_END = re.compile(r"(?:支援|推進|実施|育成|活用|整備|。)$")
_MAP_START = re.compile(r"別紙（関連事業マップ）")
_DIAMOND_SECTION = re.compile(r"^【[^】]*[<＜](?P<letter>.)[>＞]】")
_DIAMOND_ITEM = re.compile(r"^◆(?:[<＜](?P<letter>.)[>＞])?(?P<body>.*)$")
_CIRCLE_ITEM = re.compile(
    r"^[◎●]【(?P<letter>.)】(?P<name>.+?)\s+(?P<amount>[0-9０-９.,]+億円\S*)\s+（[^）]*）\s*$"
)
_PLAN_AMOUNT = re.compile(
    r"(?P<basis>令和\d+年度予算政府案)\s*(?P<amount>[0-9,.]+百万円|[0-9,.]+億円|\S+の内数)"
)
_SUPPLEMENT_AMOUNT = re.compile(r"【(?P<amount>補正予算額\s*[0-9,.]+百万円)）?】")

# -- use cases ----------------------------------------------------------------------------------------
_USE_CASE_TITLE = re.compile(r"具体的にどのような支援策が使えるのか")
_NEXT_SECTION = re.compile(r"^\s*[０-９0-9]+[－-][０-９0-9]+．")
_CATEGORY = re.compile(r"^【(?P<category>[^】]+)】$")
_GOAL_BULLET = "\uf0fc"
_ARROW = "⇒"
_APPLICANT_NOTE = re.compile(r"(?P<note>（[^（）]*申請主体[^（）]*）)$")

# -- aliases ------------------------------------------------------------------------------------------
_ACRONYM = re.compile(r"[（(](?P<acronym>[A-Z][A-Z0-9-]{1,11})[)）]")


# =====================================================================================================
# text helpers
# =====================================================================================================


def clean(text: str) -> str:
    """Strip bullets and drop white space, except one space between two Latin words (RoAD to the L4).

    Japanese joins without spaces, so spaces inside a cell are extraction noise — but Latin names keep theirs.
    """
    text = _BULLETS.sub("", text).strip()
    parts = _SPACE.split(text)
    out = parts[0] if parts else ""
    for part in parts[1:]:
        if out and part and _ASCII_WORD.match(out[-1]) and _ASCII_WORD.match(part[0]):
            out += " "
        out += part
    return out


def join_lines(fragments: Iterable[str]) -> str:
    """Join the pieces of a cell that the extraction broke over lines (see :func:`clean`)."""
    return clean(" ".join(f.strip() for f in fragments if f.strip()))


def squash(text: str) -> str:
    """Text without any white space: how values are compared with the document (line breaks vary)."""
    return _SPACE.sub("", text)


def name_key(name: str) -> str:
    """Comparison key of a program name: width-folded, without spaces, separators, quotes or commas."""
    text = unicodedata.normalize("NFKC", name)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return re.sub(r"[\s・･「」『』“”\"']", "", text)


def program_id(name: str) -> str:
    """Stable, URL-safe id: the same name gives the same id in every build."""
    return "p-" + hashlib.sha1(unicodedata.normalize("NFKC", name).encode("utf-8")).hexdigest()[:10]


# =====================================================================================================
# overrides
# =====================================================================================================


@dataclass
class Overrides:
    """Fixes for what the text garbles beyond rules; see ``corpus/catalog_overrides.json``."""

    merges: dict[str, str] = field(default_factory=dict)  # printed variant → the name it is merged into
    descriptions: dict[str, str] = field(default_factory=dict)  # program name → opening words in doc 001
    use_cases: list[dict[str, str]] = field(default_factory=list)  # ⇒ lines whose goal is laid out elsewhere

    @classmethod
    def load(cls, path: Path | None) -> Overrides:
        if path is None or not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path} is not valid JSON: {exc}") from exc
        entries = [e for key in ("merge_programs", "descriptions", "use_cases") for e in raw.get(key, [])]
        missing = [e for e in entries if not str(e.get("comment", "")).strip()]
        if missing:
            raise CorpusError(
                f"{path}: every override needs a 'comment' explaining it; missing in {missing[0]}"
            )
        return cls(
            merges={e["name"]: e["into"] for e in raw.get("merge_programs", [])},
            descriptions={e["program"]: e["starts_with"] for e in raw.get("descriptions", [])},
            use_cases=list(raw.get("use_cases", [])),
        )


# =====================================================================================================
# program tables
# =====================================================================================================


@dataclass
class Row:
    """One table row as printed: cells rebuilt from the broken lines."""

    theme: str
    line_start: int
    line_end: int
    name: str
    applicants: str
    budget: str
    budget_note: str | None
    new_calls: str | None
    department_lines: list[str]
    tel: list[str]
    email: list[str]


@dataclass
class Table:
    header_line: int
    footer_line: int
    theme: str


def find_tables(lines: list[str]) -> list[Table]:
    """Each table runs from its header row to its theme footer (…に向けた支援メニューの連絡先)."""
    tables = []
    header: int | None = None
    for number, line in enumerate(lines, start=1):
        if _HEADER.match(line):
            header = number
        elif header is not None and (m := _FOOTER.match(line)):
            tables.append(Table(header, number, _THEME_TAIL.sub("", m["theme"])))
            header = None
    return tables


def _is_contact(line: str) -> bool:
    text = unicodedata.normalize("NFKC", line.strip())
    return bool(_TEL.match(text) or _MAIL.match(text) or _CONTACT_LABEL.match(text))


def _mail_value(line: str) -> str | None:
    """The value of a ``mail：`` line (``ｍail`` / ``Ｍail`` / ``mail:`` read through NFKC), else None."""
    m = _MAIL.match(unicodedata.normalize("NFKC", line.strip()))
    return _after_colon(line.strip()) if m else None


def split_rows(lines: list[str], table: Table) -> list[list[int]]:
    """Line numbers of each row: a row ends with its contact block (TEL / mail and broken e-mail tails).

    Blank lines cannot delimit rows: the extraction puts them inside cells too.
    """
    rows: list[list[int]] = []
    current: list[int] = []
    in_contacts = False
    mail: str | None = None  # an e-mail cut by a line break (``s-sangi-`` / ``mail：`` alone) being completed
    for number in range(table.header_line + 1, table.footer_line):
        text = lines[number - 1].strip()
        if not text:
            continue
        if mail is not None and not _is_contact(text):
            current.append(number)
            mail = None if _EMAIL_DONE.match(mail + text) else mail + text
            continue
        contact = _is_contact(text)
        if in_contacts and not contact:
            rows.append(current)
            current, in_contacts = [], False
        current.append(number)
        in_contacts = in_contacts or contact
        value = _mail_value(text)
        mail = value if value is not None and not _EMAIL_DONE.match(value) else None
    if current:
        rows.append(current)
    return rows


def parse_row(lines: list[str], numbers: list[int], theme: str) -> Row:
    """Rebuild the six cells of one row from its lines."""
    body: list[str] = []
    contacts: list[str] = []
    for number in numbers:
        text = lines[number - 1].strip()
        (contacts if contacts or _is_contact(text) else body).append(text)
    text = "\n".join(body)
    where = f"{theme} table, lines {numbers[0]}-{numbers[-1]}"
    app = _APPLICANT_START.search(text)
    if app is None:
        raise CorpusError(f"no 申請主体 cell in the {where}")
    name = join_lines(text[: app.start()].splitlines())
    rest = text[app.start() :]
    budget = _BUDGET_CELL.search(rest)
    if budget is None:
        raise CorpusError(f"no 予算額 cell in the {where}")
    after = rest[budget.end() :]
    flag = _NEW_CALLS_CELL.search(after)
    note = join_lines((after[: flag.start()] if flag else "").splitlines()) or None
    department = (after[flag.end() :] if flag else after).splitlines()
    tel, email = parse_contacts(contacts)
    return Row(
        theme=theme,
        line_start=numbers[0],
        line_end=numbers[-1],
        name=name,
        applicants=join_lines(rest[: budget.start()].splitlines()),
        budget=budget["value"],
        budget_note=note,
        new_calls=flag["flag"] if flag else None,
        department_lines=[d.strip() for d in department if d.strip()],
        tel=tel,
        email=email,
    )


def parse_contacts(contact_lines: list[str]) -> tuple[list[str], list[str]]:
    """TEL values verbatim; e-mails repaired where the extraction broke them (``s-sangi-`` + ``daigaku…``).

    ``ｍail`` / ``Ｍail`` / ``TEL:`` label variants are read through NFKC; the values stay as printed.
    """
    tels: list[str] = []
    emails: list[str] = []
    mail: str | None = None
    for raw in contact_lines:
        text = raw.strip()
        if mail is not None and not _is_contact(text):
            mail += text
        elif _TEL.match(unicodedata.normalize("NFKC", text)):
            tels.append(_after_colon(text))
        elif (value := _mail_value(text)) is not None:
            if mail:
                emails.append(mail)
            mail = value
        if mail is not None and _EMAIL_DONE.match(mail):
            emails.append(mail)
            mail = None
    if mail:
        emails.append(mail)
    return _unique(tels), _unique(emails)


def _after_colon(text: str) -> str:
    return re.split(r"[:：]", text, maxsplit=1)[1].strip()


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def applicant_types(cell: str) -> list[str]:
    """Canonical labels in order of appearance; a 官民コンソーシアム（①、②、③） applies as the consortium."""
    text = squash(cell)
    if CONSORTIUM in text:
        return [CONSORTIUM]
    found = sorted((text.find(label), label) for label in APPLICANT_LABELS if label in text)
    return [label for _, label in found]


#: A department line ending like this closes a unit (局, 課, 室 …); otherwise the next line continues it.
_UNIT_END = re.compile(r"(?:局|課|室|部|官房|グループ|担当|院|庁|付|府|省|）)$")


def department_name(lines: list[str]) -> tuple[str | None, str | None]:
    """(official ministry, "省 局 課 室") from the 担当部署 cell: units separated by one space.

    Lines are joined without a space when a unit was broken mid-word (``総合環境政策統括官グルー`` / ``プ``).
    """
    if not lines:
        return None, None
    ministry = official_ministry(lines[0])
    units: list[str] = []
    first = lines[0]
    if ministry and first.startswith(ministry):
        units.append(ministry)
        first = first[len(ministry) :]
    pieces = [p for p in [first, *lines[1:]] if p.strip()]
    current = ""
    for piece in pieces:
        piece = clean(piece)
        if current and (_UNIT_END.search(current) and len(piece) > 2):
            units.append(current)
            current = piece
        else:
            current += piece
    if current:
        units.append(current)
    return ministry, " ".join(units)


def budget_value(cell: str) -> int | None:
    """Thousand yen as int; ``ー`` (no figure printed) → None."""
    digits = cell.replace(",", "")
    return int(digits) if digits.isdigit() else None


# =====================================================================================================
# program records
# =====================================================================================================


@dataclass
class Draft:
    """A program being assembled from its rows and the other places that state it."""

    row: Row
    themes: list[str]
    mentions: list[SourceSpan]
    aliases: list[str] = field(default_factory=list)
    description: str | None = None


def merge_rows(rows: list[Row], doc_id: str, merges: dict[str, str]) -> dict[str, Draft]:
    """One draft per program (rows keyed by normalised name); the first row is the source."""
    merge_keys = {name_key(variant): name_key(target) for variant, target in merges.items()}
    drafts: dict[str, Draft] = {}
    for row in rows:
        key = merge_keys.get(name_key(row.name), name_key(row.name))
        span = SourceSpan(doc_id=doc_id, line_start=row.line_start, line_end=row.line_end)
        draft = drafts.get(key)
        if draft is None:
            drafts[key] = Draft(row=row, themes=[row.theme], mentions=[])
            continue
        draft.mentions.append(span)
        if row.theme not in draft.themes:
            draft.themes.append(row.theme)
        if name_key(row.name) != key and row.name not in draft.aliases:
            draft.aliases.append(row.name)
    unknown = set(merge_keys.values()) - set(drafts)
    if unknown:
        raise CorpusError(
            f"catalog overrides merge into programs that are not in the tables: {sorted(unknown)}"
        )
    return drafts


def to_program(draft: Draft, doc_id: str, budget_basis: BudgetBasis | None = None) -> Program:
    row = draft.row
    ministry, department = department_name(row.department_lines)
    source = SourceSpan(doc_id=doc_id, line_start=row.line_start, line_end=row.line_end)
    return Program(
        id=program_id(row.name),
        name=row.name,
        aliases=draft.aliases,
        ministry=ministry,
        department=department,
        applicant_types=applicant_types(row.applicants),
        budget_thousand_yen=budget_value(row.budget),
        budget_note=row.budget_note,
        budget_basis=budget_basis if budget_value(row.budget) is not None else None,
        new_calls={"有": True, "無": False}.get(row.new_calls or ""),
        tel=row.tel,
        email=row.email,
        themes=draft.themes,
        description=draft.description,
        source=source,
        mentions=_other_spans(draft.mentions, source),
    )


def _other_spans(spans: list[SourceSpan], source: SourceSpan) -> list[SourceSpan]:
    """Mentions in document order, without duplicates and without the source row itself."""
    unique = {(s.doc_id, s.line_start, s.line_end): s for s in spans if s != source}
    return [unique[k] for k in sorted(unique)]


class ProgramIndex:
    """Finds the catalogued program a printed name refers to (maps, ◆ lists and use cases vary the name).

    Variants handled by rule: width, separators and commas (ローカル10000 / 10,000), a trailing 事業,
    プログラム or プロジェクト (共創の場形成支援), an acronym in brackets (地域活性化人材育成事業（SPARC)),
    「X のうち Y」 (Y is a part of program X) and a bracketed name (産学連携拠点の形成（共創の場形成支援）).
    """

    _SUFFIXES = ("事業", "プログラム", "プロジェクト")

    def __init__(self, drafts: dict[str, Draft]) -> None:
        self.drafts = drafts
        self.keys: dict[str, str] = {}  # comparison key → program key
        for key, draft in drafts.items():
            for name in [draft.row.name, *draft.aliases]:
                self.keys.setdefault(name_key(name), key)
                self.keys.setdefault(_without_acronyms(name), key)
        self.parts: dict[str, str] = {}  # key of Y in 「X のうち Y」 → program key of X

    def add_part(self, part_name: str, program_key: str) -> None:
        self.parts.setdefault(name_key(part_name), program_key)

    def find(self, printed: str) -> str | None:
        """Key of the program ``printed`` refers to, or None when it is not catalogued."""
        key = self._direct(printed)
        if key:
            return key
        whole = name_key(printed)
        if "のうち" in whole:
            return self.find(whole.split("のうち", 1)[0])
        for inner in re.findall(r"[（(]([^（）()]+)[)）]", printed):
            key = self._direct(inner)
            if key:
                return key
        return None

    def same_program(self, printed: str) -> str | None:
        """Key of the program when ``printed`` is a variant of its name itself (not a part, not an aside)."""
        return self._direct(printed, with_parts=False)

    def _direct(self, printed: str, with_parts: bool = True) -> str | None:
        for base in dict.fromkeys([name_key(printed), _without_acronyms(printed)]):
            for candidate in self._variants(base):
                if candidate in self.keys:
                    return self.keys[candidate]
                if with_parts and candidate in self.parts:
                    return self.parts[candidate]
        return None

    def _variants(self, key: str) -> list[str]:
        variants = [key]
        for suffix in self._SUFFIXES:
            variants.append(key + suffix)
            if key.endswith(suffix):
                variants.append(key[: -len(suffix)])
        return variants


def _without_acronyms(name: str) -> str:
    return name_key(_ACRONYM.sub("", name))


# =====================================================================================================
# budget lines
# =====================================================================================================


@dataclass
class Paragraph:
    """Consecutive non-blank lines (1-based numbers), joined into one text with a line number per char."""

    lines: list[int]
    texts: list[str]

    def joined(self) -> tuple[str, list[int]]:
        text = ""
        owner: list[int] = []
        for number, raw in zip(self.lines, self.texts, strict=True):
            piece = clean(raw)
            if text and piece and _ASCII_WORD.match(text[-1]) and _ASCII_WORD.match(piece[0]):
                text += " "
                owner.append(number)
            text += piece
            owner.extend([number] * len(piece))
        return text, owner


def paragraphs(lines: list[str], start: int, end: int) -> list[Paragraph]:
    """Blank-line separated blocks of lines ``start..end`` (1-based, inclusive)."""
    blocks: list[Paragraph] = []
    current = Paragraph([], [])
    for number in range(start, end + 1):
        text = lines[number - 1]
        if text.strip():
            current.lines.append(number)
            current.texts.append(text)
        elif current.lines:
            blocks.append(current)
            current = Paragraph([], [])
    if current.lines:
        blocks.append(current)
    return blocks


def map_region(lines: list[str], tables: list[Table]) -> tuple[int, int] | None:
    """From the 「別紙（関連事業マップ）」 title to the last table footer."""
    start = next((i for i, line in enumerate(lines, start=1) if _MAP_START.search(line)), None)
    if start is None or not tables:
        return None
    return start, tables[-1].footer_line


def map_budget_lines(
    lines: list[str], doc_id: str, tables: list[Table], finder: BasisFinder | None = None
) -> list[BudgetLine]:
    """「名称【省】：金額」 entries of the 関連事業マップ pages (outside the tables).

    A name may run over several lines. It starts at the paragraph start, after the previous entry on
    the same line (``…【国交省】:－消防防災…``), or after a description sentence that the extraction glued
    onto it (``…を支援`` / ``名称【内閣府地創】``).
    """
    region = map_region(lines, tables)
    if region is None:
        return []
    in_tables = {n for t in tables for n in range(t.header_line, t.footer_line + 1)}
    found: list[BudgetLine] = []
    for block in paragraphs(lines, *region):
        if block.lines[0] not in in_tables:
            found.extend(_map_entries(block, doc_id))
    if finder is not None:  # a map figure is what its page's 「R4年度…支援メニュー」 says
        found = [
            b.model_copy(update={"basis": finder.menu(b.source.line_start)})
            if has_figure(b.amount_text)
            else b
            for b in found
        ]
    return found


def _map_entries(block: Paragraph, doc_id: str) -> list[BudgetLine]:
    text, owner = block.joined()
    entries = []
    previous_end = 0
    for m in _MAP_ENTRY.finditer(text):
        ministry = official_ministry(m["ministry"])
        if ministry is None:
            continue
        begin = max(previous_end, _after_last_sentence(block, owner, m.start()))
        name = text[begin : m.start()].strip()
        previous_end = m.end()
        if not name:
            continue
        span = SourceSpan(doc_id=doc_id, line_start=owner[begin], line_end=owner[m.end() - 1])
        entries.append(
            BudgetLine(
                program_name=name, program_id=None, ministry=ministry, amount_text=m["amount"], source=span
            )
        )
    return entries


def _after_last_sentence(block: Paragraph, owner: list[int], position: int) -> int:
    """Where the name before ``position`` starts within the paragraph text.

    After the last description line before the name's line (ending 〜を支援 / 〜を推進 / 。), and at the
    latest line that opens a new text box (a bullet ```` or a leading space) up to the name's line.
    """
    line_of_name = owner[position]
    begin = 0
    for number, raw in zip(block.lines, block.texts, strict=True):
        if number > line_of_name or number not in owner:
            continue
        first = owner.index(number)
        last = len(owner) - 1 - owner[::-1].index(number)
        if _ITEM_START.match(raw):
            begin = max(begin, first)
        if number < line_of_name and _SENTENCE_END.search(clean(raw)):
            begin = max(begin, last + 1)
    return begin


def diamond_budget_lines(
    lines: list[str], doc_id: str, finder: BasisFinder | None = None
) -> list[BudgetLine]:
    """◆ items (「大学自身の取組の強化」 page): ``◆<文>名称：金額``; an item may continue on the next line.

    The ministry is the item's <文>/<経>/<内> marker, else the one of its section header (【…<文>】).
    An item printing two figures (「1,733百万円【3,606百万円】」: the page's legend says 【】 holds the 補正予算額)
    becomes one line per figure, each with its own basis.
    """
    found: list[BudgetLine] = []
    section_letter: str | None = None
    number = 1
    while number <= len(lines):
        text = lines[number - 1].strip()
        first = number
        number += 1
        if text.startswith("【") and text.endswith("】"):
            m = _DIAMOND_SECTION.match(text)
            section_letter = m["letter"] if m else None
            continue
        item = _DIAMOND_ITEM.match(text)
        if item is None:
            continue
        parts = [item["body"]]
        while number <= len(lines) and _item_continues(join_lines(parts), lines[number - 1]):
            parts.append(lines[number - 1])
            number += 1
        head, amount = _split_amount(join_lines(parts))
        if not amount:
            continue
        plain, bracketed = split_bracketed(amount) if finder is not None else (amount, [])
        figures = [(plain, finder.plan(first) if finder else None)] if plain else []
        figures += [(b, finder.bracketed(first) if finder else None) for b in bracketed]
        for text, basis in figures:
            found.append(
                BudgetLine(
                    program_name=head,
                    program_id=None,
                    ministry=MINISTRY_LETTERS.get(item["letter"] or section_letter or ""),
                    amount_text=text,
                    source=SourceSpan(doc_id=doc_id, line_start=first, line_end=number - 1),
                    basis=basis if has_figure(text) else None,
                )
            )
    return found


def _item_continues(item_so_far: str, next_line: str) -> bool:
    """A ◆ item goes on while it has no amount yet or its amount is cut (``1,450百万`` / ``円（新規）等``)."""
    text = next_line.strip()
    if not text or text.startswith(("◆", "【", "※")):
        return False
    return not re.search(r"[:：]", item_so_far) or item_so_far.endswith("百万")


def _split_amount(item: str) -> tuple[str, str]:
    """``名称：金額 等`` → (名称, 金額); the trailing 等 (“and others”) belongs to the list, not the amount."""
    parts = re.split(r"[:：]", item, maxsplit=1)
    if len(parts) < 2:
        return item.strip(), ""
    return parts[0].strip(), re.sub(r"\s*等$", "", parts[1]).strip()


def circle_budget_lines(lines: list[str], doc_id: str, finder: BasisFinder | None = None) -> list[BudgetLine]:
    """◎/● rows of 「バイオコミュニティの形成に関する予算」: ``◎【内】名称 100億円の内数 （前年度）``."""
    found = []
    for number, raw in enumerate(lines, start=1):
        m = _CIRCLE_ITEM.match(raw.strip())
        if m:
            found.append(
                BudgetLine(
                    program_name=m["name"].strip(),
                    program_id=None,
                    ministry=MINISTRY_LETTERS.get(m["letter"]),
                    amount_text=m["amount"],
                    source=SourceSpan(doc_id=doc_id, line_start=number, line_end=number),
                    basis=finder.list_title(number) if finder else None,
                )
            )
    return found


def plan_budget_lines(
    lines: list[str],
    doc_id: str,
    tables: list[Table],
    index: ProgramIndex,
    finder: BasisFinder | None = None,
) -> list[BudgetLine]:
    """「令和4年度予算政府案 …」 / 「【補正予算額 …】」 figures of the map pages (スタートアップ page).

    They stand under a heading that names the program, in the same paragraph or up to two before, so
    the program is the catalogued name found there.
    """
    region = map_region(lines, tables)
    if region is None:
        return []
    joined = [block.joined() for block in paragraphs(lines, *region)]
    found = []
    for i, (text, owner) in enumerate(joined):
        for pattern in (_PLAN_AMOUNT, _SUPPLEMENT_AMOUNT):
            for m in pattern.finditer(text):
                candidates = [(text[: m.start()], owner), *reversed(joined[max(0, i - 2) : i])]
                hit = _first_named_program(candidates, index)
                if hit is None:
                    continue
                name, first_line = hit
                if "basis" in m.groupdict():  # 「令和4年度予算政府案 1,014百万」 says it itself
                    span = SourceSpan(
                        doc_id=doc_id, line_start=owner[m.start()], line_end=owner[m.end("basis") - 1]
                    )
                    basis = BudgetBasis(label=m["basis"], fiscal_year=fiscal_years(m["basis"]), source=span)
                else:
                    basis = finder.supplement(owner[m.start()]) if finder else None
                found.append(
                    BudgetLine(
                        program_name=name,
                        program_id=None,
                        ministry=None,
                        amount_text=m["amount"],
                        source=SourceSpan(doc_id=doc_id, line_start=first_line, line_end=owner[m.end() - 1]),
                        basis=basis,
                    )
                )
    return found


def _first_named_program(
    candidates: list[tuple[str, list[int]]], index: ProgramIndex
) -> tuple[str, int] | None:
    """(name as printed, its first line) of the first catalogued program name in the candidate texts."""
    for text, owner in candidates:
        for draft in index.drafts.values():
            name = draft.row.name
            at = text.find(name)
            if at >= 0:
                return name, owner[at]
    return None


# =====================================================================================================
# use cases
# =====================================================================================================


@dataclass
class _PendingUseCase:
    category: str
    goal: str
    program_text: str
    line_start: int
    line_end: int


def use_cases(lines: list[str], doc_id: str, overrides: Overrides) -> list[UseCase]:
    """The page 「具体的にどのような支援策が使えるのか？」: 【分類】, then ``…したい ⇒ 事業名`` lines.

    A goal starts at a check-mark bullet and runs to the ⇒; the program name may continue on the next
    line. Headings without 【】 (制度改革（特区活用）…) also open a category. A ⇒ whose goal the layout
    put elsewhere on the page is completed from the overrides.
    """
    region = _use_case_region(lines)
    if region is None:
        return []
    found: list[UseCase] = []
    category = ""
    goal: list[str] = []
    goal_start: int | None = None
    pending: _PendingUseCase | None = None
    for number in range(region[0] + 1, region[1]):
        text = lines[number - 1].strip()
        ends_pending = not text or text.startswith(_GOAL_BULLET) or _CATEGORY.match(text) or _ARROW in text
        if pending and ends_pending:
            found.extend(_finish_use_case(pending, doc_id, overrides))
            pending = None
        if not text:
            goal, goal_start = [], None
        elif m := _CATEGORY.match(text):
            category = m["category"]
        elif _ARROW in text:
            before, after = text.split(_ARROW, 1)
            pending = _PendingUseCase(
                category, join_lines([*goal, before]), after, goal_start or number, number
            )
            goal, goal_start = [], None
        elif text.startswith(_GOAL_BULLET):
            goal, goal_start = [text], number
        elif goal:
            goal.append(text)
        elif pending:
            pending.program_text += text
            pending.line_end = number
        else:
            category = clean(text)
    if pending:
        found.extend(_finish_use_case(pending, doc_id, overrides))
    return found


def _use_case_region(lines: list[str]) -> tuple[int, int] | None:
    start = next((i for i, line in enumerate(lines, start=1) if _USE_CASE_TITLE.search(line)), None)
    if start is None:
        return None
    end = next(
        (i for i in range(start + 1, len(lines) + 1) if _NEXT_SECTION.match(lines[i - 1])), len(lines) + 1
    )
    return start, end


def _finish_use_case(pending: _PendingUseCase, doc_id: str, overrides: Overrides) -> list[UseCase]:
    program = clean(pending.program_text)
    note_match = _APPLICANT_NOTE.search(program)
    note = note_match["note"] if note_match else None
    if note_match:
        program = program[: note_match.start()]
    category, goal = pending.category, pending.goal
    if not goal:
        fix = next((o for o in overrides.use_cases if name_key(o["program"]) == name_key(program)), None)
        if fix is None:
            return []  # a ⇒ that maps no goal (and no override says which): not a use case
        category, goal = fix["category"], fix["goal"]
    return [
        UseCase(
            category=category,
            goal=goal,
            program_name=program,
            program_id=None,
            note=note,
            source=SourceSpan(doc_id=doc_id, line_start=pending.line_start, line_end=pending.line_end),
        )
    ]


# =====================================================================================================
# aliases and descriptions
# =====================================================================================================


def acronym_aliases(names: list[str], documents: dict[str, list[str]]) -> list[str]:
    """Acronyms printed in brackets after the program's name (（SPARC), （START）).

    An acronym that the corpus also prints after another name is not the program's own — (PRISM) after
    バイオコミュニティの形成に係る調査等 names its funding source, 官民研究開発投資拡大プログラム（PRISM）.
    """
    aliases: list[str] = []
    for name in names:
        for m in _ACRONYM.finditer(name):
            acronym = m["acronym"]
            base = name_key(name[: m.start()])
            if base and acronym not in aliases and _acronym_is_only(acronym, base, documents):
                aliases.append(acronym)
    return aliases


def _acronym_is_only(acronym: str, base: str, documents: dict[str, list[str]]) -> bool:
    pattern = re.compile(r"[（(]" + re.escape(acronym) + r"[)）]")
    for lines in documents.values():
        previous = ""
        for line in lines:
            for m in pattern.finditer(line):
                before = name_key(previous + line[: m.start()])
                if not before.endswith(base):
                    return False
            if line.strip():
                previous = line.strip()
    return True


def bracket_alias(printed: str, index: ProgramIndex, key: str) -> str | None:
    """``正式名称（RoAD to the L4）`` where the Latin short name is the catalogued one: the long name is an alias."""
    m = re.fullmatch(r"(?P<outer>.+)[（(](?P<inner>[A-Za-z0-9][A-Za-z0-9 .\-]*)[)）]", printed)
    if m and index.same_program(m["inner"]) == key and index.same_program(m["outer"]) is None:
        return m["outer"].strip()
    return None


def description_of(lines: list[str], starts_with: str) -> tuple[str, int, int] | None:
    """The description paragraph that opens with ``starts_with``: (text, first line, last line).

    It ends at a blank line or before the next program name / bullet that the extraction glued on.
    """
    anchor = squash(starts_with)
    for number, raw in enumerate(lines, start=1):
        if not squash(clean(raw)).startswith(anchor):
            continue
        parts = [raw]
        end = number
        while end < len(lines):
            following = lines[end]
            if not following.strip() or _BULLET_GLYPH.match(following) or "【" in following:
                break
            parts.append(following)
            end += 1
        return join_lines(parts), number, end
    return None


# =====================================================================================================
# the catalog
# =====================================================================================================


def extract_catalog(corpus_dir: Path, overrides_path: Path | None = None) -> Catalog:
    """Programs of the 関連事業マップ tables, the use-case page and the budget lines, linked by program id."""
    documents = {info.doc_id: read_document(corpus_dir, info).lines for info in load_manifest(corpus_dir)}
    overrides = Overrides.load(overrides_path)
    doc_id = _package_document(documents)
    if doc_id is None:
        return Catalog(programs=[])
    lines = documents[doc_id]
    tables = find_tables(lines)
    rows = [parse_row(lines, numbers, t.theme) for t in tables for numbers in split_rows(lines, t)]
    drafts = merge_rows(rows, doc_id, overrides.merges)
    index = ProgramIndex(drafts)

    finder = BasisFinder(lines, doc_id, [t.footer_line for t in tables])
    budget = (
        map_budget_lines(lines, doc_id, tables, finder)
        + diamond_budget_lines(lines, doc_id, finder)
        + circle_budget_lines(lines, doc_id, finder)
        + plan_budget_lines(lines, doc_id, tables, index, finder)
    )
    budget.sort(key=lambda b: (b.source.line_start, b.source.line_end))
    budget = _link_budget_lines(budget, index)  # before the use cases: it learns the 「X のうち Y」 parts
    cases = [_link_use_case(u, index) for u in use_cases(lines, doc_id, overrides)]

    for key, draft in drafts.items():
        for alias in acronym_aliases([draft.row.name, *_printed_names(key, budget, cases, index)], documents):
            _add_alias(draft, alias)
    _add_descriptions(drafts, index, lines, doc_id, overrides)
    programs = [
        to_program(d, doc_id, _table_figure_basis(d, tables, finder, budget)) for d in drafts.values()
    ]
    programs.sort(key=lambda p: p.source.line_start)
    return Catalog(programs=programs, use_cases=cases, budget_lines=budget)


def _table_figure_basis(
    draft: Draft, tables: list[Table], finder: BasisFinder, budget: list[BudgetLine]
) -> BudgetBasis | None:
    """What the program's 予算額 cell is: its table's column note, or the one budget a same figure names."""
    table = next(t for t in tables if t.header_line < draft.row.line_start < t.footer_line)
    own = [b for b in budget if b.program_id == program_id(draft.row.name)]
    return program_basis(finder.column(table.footer_line), budget_value(draft.row.budget), own)


def _package_document(documents: dict[str, list[str]]) -> str | None:
    """The document with the program tables (the package deck); found by its table headers, not its id."""
    counts = {doc_id: sum(bool(_HEADER.match(line)) for line in lines) for doc_id, lines in documents.items()}
    best = max(counts, key=lambda d: counts[d], default=None)
    return best if best is not None and counts[best] else None


def _link_budget_lines(lines: list[BudgetLine], index: ProgramIndex) -> list[BudgetLine]:
    """Set program ids, record each line as a mention of its program, learn 「X のうち Y」 parts and aliases."""
    linked = []
    for line in lines:
        key = index.find(line.program_name)
        if key is not None:
            draft = index.drafts[key]
            line = line.model_copy(update={"program_id": program_id(draft.row.name)})
            draft.mentions.append(line.source)
            whole = clean(line.program_name)
            if "のうち" in whole:
                index.add_part(whole.split("のうち", 1)[1], key)
            _add_printed_alias(draft, line.program_name, index, key)
        linked.append(line)
    return linked


def _link_use_case(case: UseCase, index: ProgramIndex) -> UseCase:
    key = index.find(case.program_name)
    if key is None:
        return case
    draft = index.drafts[key]
    draft.mentions.append(case.source)
    _add_printed_alias(draft, case.program_name, index, key)
    return case.model_copy(update={"program_id": program_id(draft.row.name)})


def _add_printed_alias(draft: Draft, printed: str, index: ProgramIndex, key: str) -> None:
    """A printed name of the program itself that differs from its table name becomes an alias."""
    if index.same_program(printed) == key:
        name = clean(_ACRONYM.sub("", printed))
        if _without_acronyms(name) != _without_acronyms(draft.row.name):
            _add_alias(draft, name)
    elif alias := bracket_alias(clean(printed), index, key):
        _add_alias(draft, alias)


def _add_alias(draft: Draft, alias: str) -> None:
    known = {_without_acronyms(n) for n in [draft.row.name, *draft.aliases]}
    if alias not in draft.aliases and _without_acronyms(alias) not in known:
        draft.aliases.append(alias)


def _printed_names(
    key: str, budget: list[BudgetLine], cases: list[UseCase], index: ProgramIndex
) -> list[str]:
    """Names of budget lines and use cases that print this very program (where acronyms are given)."""
    names = [b.program_name for b in budget] + [c.program_name for c in cases]
    return [clean(n) for n in names if index.same_program(n) == key]


def _add_descriptions(
    drafts: dict[str, Draft], index: ProgramIndex, lines: list[str], doc_id: str, overrides: Overrides
) -> None:
    """Descriptions sit in separate text boxes of the maps, apart from the names: the overrides anchor them."""
    for name, starts_with in overrides.descriptions.items():
        key = index.same_program(name)
        if key is None:
            raise CorpusError(
                f"catalog overrides: description for {name!r}, which is not a catalogued program"
            )
        found = description_of(lines, starts_with)
        if found is None:
            raise CorpusError(
                f"catalog overrides: description of {name!r} starting {starts_with!r} is not in {doc_id}"
            )
        text, first, last = found
        drafts[key].description = text
        drafts[key].mentions.append(SourceSpan(doc_id=doc_id, line_start=first, line_end=last))
