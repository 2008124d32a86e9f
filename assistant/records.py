"""Typed records shared by ingest (which writes them) and the assistant (which reads them).

Line numbers are 1-based and inclusive, counted in the source file as stored in ``corpus/``, so a
citation can point a reader at exact lines of the document.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class SourceSpan(BaseModel):
    """Where a piece of information stands in the corpus."""

    doc_id: str
    line_start: int
    line_end: int


class DocumentInfo(BaseModel):
    """One entry of ``corpus/manifest.json``."""

    doc_id: str
    title: str
    publisher: str
    date: str
    kind: str
    path: str = ""  # file name inside the corpus folder, filled in by the loader


class Chunk(BaseModel):
    """A retrievable passage of a document, with everything a citation needs."""

    chunk_id: str
    doc_id: str
    title: str
    text: str
    heading_path: list[str] = Field(default_factory=list)
    line_start: int
    line_end: int
    page: int | None = None

    @property
    def section(self) -> str:
        return " > ".join(self.heading_path)


class BudgetBasis(BaseModel):
    """What a budget figure is, as the document states it: 「令和4年度予算政府案」, 「令和3年度補正予算」."""

    label: str  # verbatim from the document
    fiscal_year: str | None = None  # e.g. 「令和4年度」
    source: SourceSpan | None = None  # where the document says so


class Program(BaseModel):
    """One support program (事業) of the 総合振興パッケージ and its 関連事業マップ.

    Every value comes from the source text (see ``sources``); ``null`` means the text does not say.
    """

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    ministry: str | None = None
    department: str | None = None
    applicant_types: list[str] = Field(default_factory=list)
    budget_thousand_yen: int | None = None
    budget_note: str | None = None
    budget_basis: BudgetBasis | None = None  # what the table's 予算額 column is (its fiscal year)
    new_calls: bool | None = None
    tel: list[str] = Field(default_factory=list)
    email: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    description: str | None = None
    source: SourceSpan
    # Further places the program is stated (other theme tables, budget lines, ◆ lists).
    mentions: list[SourceSpan] = Field(default_factory=list)


class UseCase(BaseModel):
    """A university goal mapped to a program on the page 「具体的にどのような支援策が使えるのか？」."""

    category: str  # e.g. 人材育成, 研究基盤の強化, 社会実装
    goal: str  # 「…したい」, joined into one line
    program_name: str  # as printed after ⇒
    program_id: str | None  # catalog id when the program is catalogued
    note: str | None = None  # e.g. （自治体が申請主体）
    source: SourceSpan


class BudgetLine(BaseModel):
    """A budget figure printed outside the program tables (関連事業マップ lines, ◆ lists)."""

    program_name: str
    program_id: str | None
    ministry: str | None
    amount_text: str  # verbatim, e.g. 「138億円」, 「6,100百万円」, 「5.0億円（内数）」
    source: SourceSpan
    basis: BudgetBasis | None = None  # what the figure is (令和4年度予算政府案, 補正 …), when stated


class Catalog(BaseModel):
    programs: list[Program]
    use_cases: list[UseCase] = Field(default_factory=list)
    budget_lines: list[BudgetLine] = Field(default_factory=list)


# -- the regional 産学官 networks (ingest/networks.py) -------------------------------------------------------
class TextSpan(BaseModel):
    """A piece of printed text where it stands: ``text`` is an exact substring of lines
    ``line_start``–``line_end`` joined by line breaks (so a cell broken over lines keeps its breaks)."""

    doc_id: str
    line_start: int
    line_end: int
    text: str


class PrintedText(BaseModel):
    """One thing (a name, a 取組概要, a member) as the documents print it, maybe in several places.

    ``text`` is the printing shown (line breaks removed), ``printings`` every place it stands, the shown
    one first. When the printings differ beyond spacing and character width, ``variant`` is true and
    ``rule`` says which rule chose the one shown (see ingest/networks.py)."""

    text: str
    printings: list[TextSpan]
    variant: bool = False
    rule: str | None = None

    @property
    def source(self) -> TextSpan:
        return self.printings[0]


class NetworkProgram(BaseModel):
    """A scheme whose networks are listed: a column group of the package's table, or the survey of cases."""

    id: str
    name: str
    ministry: str
    label: str  # as the document prints it, e.g. 地方大学・地域産業創生交付金（内閣府）


class Network(BaseModel):
    """One regional network: a cell group of the table (名称 / 構成員 / 取組概要) or a case of the survey."""

    id: str
    region: str  # prefecture, e.g. 広島県
    program: str  # NetworkProgram.id
    name: PrintedText
    plan_label: str | None = None  # 計画名 / 拠点名 as printed in the 名称 cell
    plan_name: PrintedText | None = None
    summary: PrintedText | None = None  # 取組概要
    members_cells: list[TextSpan] = Field(default_factory=list)  # the 構成員 cell in each printing
    member_ids: list[str] = Field(default_factory=list)  # in the order printed


class NetworkLink(BaseModel):
    """A member's place in one network: its printed name there, sector label and role, with sources."""

    network_id: str
    member_id: str
    printed: PrintedText  # the member's name as printed in this network (role cut off)
    sector: str | None = None  # label as printed (学 / 官 / 産 / 金融 …), or inferred from the name
    sector_inferred: bool = False  # true when the text prints no label and the name told the sector
    role: str | None = None  # e.g. 代表取締役会長, when printed after the name


class NetworkMember(BaseModel):
    """An organisation, de-duplicated across networks by its normalised name."""

    id: str
    key: str  # normalised name (NFKC, no spaces, no legal form such as 株式会社)
    name: str  # the printed form shown
    aliases: list[str] = Field(default_factory=list)  # other printed forms of the same organisation
    keys: list[str] = Field(default_factory=list)  # every normalised name that maps to this member
    sector: str | None = None
    sector_inferred: bool = False
    network_ids: list[str] = Field(default_factory=list)


class NetworkCatalog(BaseModel):
    """Everything extracted about the regional networks; empty for an index built before it existed."""

    programs: list[NetworkProgram] = Field(default_factory=list)
    networks: list[Network] = Field(default_factory=list)
    members: list[NetworkMember] = Field(default_factory=list)
    links: list[NetworkLink] = Field(default_factory=list)
    reliability: dict[str, int] = Field(
        default_factory=dict, description="doc_id → comparisons its printing won by the dictionary rule"
    )
