"""The regional 産学官 networks as a graph, the questions about them, and their answers with source cells.

``NetworkGraph`` is built once per process from the build's ``networks.json`` (a networkx graph: network
and member nodes, one edge per membership carrying its printed spans). It answers the filters of
``GET /v1/networks`` and exports the Cytoscape.js ``elements`` shape the UI draws.

``read_network_question`` recognises a question about the networks — regions (広島 / ひろしま /
Hiroshima …), schemes (交付金 / 共創の場 / 総務省の調査), network names or distinctive parts of them
(「光の拠点」, 「バイオDX」, 「IoP」), member names, sector words (企業 → 産, 大学 → 学, 自治体 → 官) and the
relation asked (members / which networks / shared / 取組概要 / how many) — and returns ``None`` for any
other question. ``answer_network_query`` returns the networks and members with, for each member list, the
構成員 cell it comes from (doc_id, lines, verbatim text), so a composer can cite each list to its cell.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import networkx as nx
from pydantic import BaseModel, Field

from assistant.jp_text import normalize, tokenize
from assistant.records import Network, NetworkCatalog, NetworkLink, NetworkMember, TextSpan
from assistant.vocabulary import (
    NETWORK_PROGRAMS,
    PREFECTURES,
    SECTOR_NAME_MARKERS,
    SECTOR_WORDS,
    prefecture_stem,
)

Relation = Literal["members", "networks", "shared", "summary", "overview"]

#: Sector labels in the order the table prints them; others (民, 公 …) follow.
SECTOR_ORDER = ("学", "官", "産", "金融")
_MASK = "□"

# -- what a question asks -------------------------------------------------------------------------------
#: Words that make a question one about the networks (who is in them, which ones exist).
_NETWORK_WORDS = re.compile(
    r"ネットワーク|構成員|構成団体|構成機関|メンバー|参加|参画|加盟|所属|入って|入る|加わ|連携先|顔ぶれ|"
    r"取組概要|協議会|network|member|consorti|partner|participat|belong|involved",
    re.IGNORECASE,
)
_SHARED = re.compile(
    r"両方|共通|複数|重複|いずれにも|どちらにも|どっちにも|掛け持ち|かけもち|重な|ダブ|"
    r"both|shared|common|overlap|more than one|several|multiple",
    re.IGNORECASE,
)
_COUNT = re.compile(
    r"いくつ|幾つ|何社|何団体|何校|何機関|何件|何者|何個|何か所|何ヶ所|何カ所|何の?組織|何大学|(?:の|は)数|数は|数を|"
    r"how many|number of|count",
    re.IGNORECASE,
)
_SUMMARY = re.compile(
    r"取組概要|取り?組み?(?:内容|概要)?|概要|何をして|何をする|なにをして|目指|目的|狙い|ねらい|内容|"
    r"what does|what do|aim|purpose|activit|doing|about what",
    re.IGNORECASE,
)
_WHICH_NETWORKS = re.compile(
    r"どこ|どの|どれ|どんなネットワーク|何の?ネットワーク|どちら|所属|参加|参画|加盟|入って|"
    r"which|where|belong|part of|member of|involved",
    re.IGNORECASE,
)
_MEMBERS = re.compile(
    r"構成員|構成団体|構成機関|メンバー|参加|参画|加盟|入って|どんな(?:企業|会社|大学|団体|機関|組織|人|方|ところ|所)|誰|だれ|どこが|どこの|どの企業|どの大学|一覧|"
    r"連携先|協力|パートナー|members?|who|which (?:companies|universities|organi[sz]ations)|list|partners?",
    re.IGNORECASE,
)
#: Words for one network of a region (「高知県の共創の場の拠点」): about the networks when a region is named.
_SITE_WORDS = re.compile(
    r"拠点|協議会|推進会議|委員会|プラットフォーム|コンソーシアム|計画名|計画の名|(?:採択|選定)(?:され)?た計画"
)
#: English words too common to name a network by (a name's 「of」 is not a match).
_ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
        "for",
        "in",
        "on",
        "to",
        "by",
        "with",
        "from",
        "is",
        "are",
        "be",
        "does",
        "do",
        "did",
        "what",
        "which",
        "who",
        "how",
        "many",
        "much",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "as",
        "at",
    ]
)
#: Sector words that stand alone (after the names they may be part of are masked): 「県や市は入っていますか」.
_LOCAL_GOVERNMENT = re.compile(r"(?<![\u4e00-\u9fff])(?:県|市|町|村)(?:や|と|、|は|が|も|の|・)")

#: Words of the domain that do not name one network (every network is a 産学官 連携 of a 地域 …): a name
#: part matches only when it holds another word.
_GENERIC_NAME_WORDS = frozenset(
    [
        "ネットワーク",
        "産学官",
        "産学",
        "産官学",
        "連携",
        "構成員",
        "メンバー",
        "地域",
        "大学",
        "県",
        "拠点",
        "協議会",
        "会議",
        "プログラム",
        "計画",
        "事業",
        "推進",
        "社会",
        "創出",
        "形成",
        "支援",
        "共創",
        "交付金",
        "調査",
        "総務省",
        "文部科学省",
        "内閣府",
        "地方",
        "参加",
        "企業",
        "計画名",
        "名称",
        "network",
        "networks",
        "member",
        "members",
    ]
)


class NetworkQuery(BaseModel):
    """What a question about the networks asks (every list empty = no restriction)."""

    relation: Relation
    count: bool = False  # 「いくつ」「何社」: the answer leads with a number
    regions: list[str] = Field(default_factory=list)
    programs: list[str] = Field(default_factory=list)
    network_ids: list[str] = Field(default_factory=list)
    member_ids: list[str] = Field(default_factory=list)
    sectors: list[str] = Field(default_factory=list)
    #: Organisations the question names that no network lists (「伊予銀行」): asked about, not a sector.
    unlisted: list[str] = Field(default_factory=list)


class MemberEntry(BaseModel):
    member_id: str
    name: str  # the printed form shown
    #: As this network's cell prints it (高知県公立大学法人高知工科大学), when listed per network.
    printed: str = ""
    sector: str | None
    sector_inferred: bool = False
    role: str | None = None
    network_ids: list[str] = Field(default_factory=list)  # of the answer's networks
    sources: list[TextSpan] = Field(default_factory=list)  # where this member is printed (shown first)


class NetworkEntry(BaseModel):
    network_id: str
    region: str
    program: str
    program_name: str
    name: str
    name_source: TextSpan
    plan_label: str | None = None
    plan_name: str | None = None
    summary: str | None = None
    summary_source: TextSpan | None = None
    members: list[MemberEntry] = Field(default_factory=list)  # filtered by the question's sectors
    members_cell: TextSpan | None = None  # the 構成員 cell the member list comes from (cite this)


class NetworkAnswer(BaseModel):
    query: NetworkQuery
    networks: list[NetworkEntry] = Field(default_factory=list)
    members: list[MemberEntry] = Field(default_factory=list)  # shared members / the member asked about
    count: int | None = None  # the number a 「いくつ」 question asks for

    @property
    def empty(self) -> bool:
        return not self.networks and not self.members


# =====================================================================================================
class NetworkGraph:
    """Networks and members as one bipartite networkx graph (node ids ``n:<id>`` and ``m:<id>``)."""

    def __init__(self, catalog: NetworkCatalog) -> None:
        self.catalog = catalog
        self.networks: dict[str, Network] = {n.id: n for n in catalog.networks}
        self.members: dict[str, NetworkMember] = {m.id: m for m in catalog.members}
        self.programs = {p.id: p for p in catalog.programs}
        self.links: dict[tuple[str, str], NetworkLink] = {
            (x.network_id, x.member_id): x for x in catalog.links
        }
        self.graph = nx.Graph()
        for network in catalog.networks:
            self.graph.add_node(f"n:{network.id}", kind="network", region=network.region)
        for member in catalog.members:
            self.graph.add_node(f"m:{member.id}", kind="member")
        for link in catalog.links:
            self.graph.add_edge(f"m:{link.member_id}", f"n:{link.network_id}", link=link)
        self._lock = threading.Lock()
        self._name_index: list[tuple[str, str]] | None = None
        self._network_words: dict[str, set[str]] | None = None

    # -- vocabularies of the data -------------------------------------------------------------------
    @property
    def regions(self) -> list[str]:
        """Regions in the order the documents list them."""
        return list(dict.fromkeys(n.region for n in self.catalog.networks))

    @property
    def sectors(self) -> list[str]:
        found = {m.sector for m in self.catalog.members if m.sector}
        if any(_name_sector(m.name) == "金融" for m in self.catalog.members):
            found.add("金融")
        return sorted(found, key=lambda s: (SECTOR_ORDER.index(s) if s in SECTOR_ORDER else 99, s))

    # -- queries ------------------------------------------------------------------------------------
    def networks_of(self, member_id: str) -> list[Network]:
        node = f"m:{member_id}"
        if node not in self.graph:
            return []
        ids = {n[2:] for n in self.graph.neighbors(node)}
        return [n for n in self.catalog.networks if n.id in ids]

    def members_of(self, network_id: str, sectors: list[str] | None = None) -> list[NetworkMember]:
        """Members in the order printed, optionally only those of the given sectors."""
        network = self.networks.get(network_id)
        if network is None:
            return []
        members = [self.members[mid] for mid in network.member_ids]
        return [m for m in members if not sectors or any(self.in_sector(m, s) for s in sectors)]

    def in_sector(self, member: NetworkMember, sector: str) -> bool:
        """The member's printed label is the sector — or, for 金融 (the table labels banks 【産】), its name
        says it is a bank or a lender."""
        return member.sector == sector or (sector == "金融" and _name_sector(member.name) == "金融")

    def filter(
        self,
        regions: list[str] | None = None,
        programs: list[str] | None = None,
        sectors: list[str] | None = None,
        member_ids: list[str] | None = None,
        network_ids: list[str] | None = None,
    ) -> list[Network]:
        """Networks meeting every given filter (a sector or member filter keeps networks that have one)."""
        found = []
        for network in self.catalog.networks:
            if regions and network.region not in regions:
                continue
            if programs and network.program not in programs:
                continue
            if network_ids and network.id not in network_ids:
                continue
            if sectors and not self.members_of(network.id, sectors):
                continue
            if member_ids and not set(member_ids) & set(network.member_ids):
                continue
            found.append(network)
        return found

    def shared_members(self, networks: list[Network], min_networks: int = 2) -> list[NetworkMember]:
        """Members that belong to at least ``min_networks`` of the given networks (most shared first)."""
        ids = {f"n:{n.id}" for n in networks}
        counted = []
        for member in self.catalog.members:
            count = sum(1 for n in self.graph.neighbors(f"m:{member.id}") if n in ids)
            if count >= min_networks:
                counted.append((count, member))
        return [m for _, m in sorted(counted, key=lambda pair: -pair[0])]

    def find_members(self, text: str) -> list[NetworkMember]:
        """Members whose name (any printed form, 株式会社 or not) contains the text, or the reverse."""
        needle = _fold(text)
        if not needle:
            return []
        exact = [mid for form, mid in self._names() if form == needle]
        partial = [mid for form, mid in self._names() if len(needle) >= 2 and needle in form]
        return [self.members[mid] for mid in dict.fromkeys(exact or partial)]

    # -- export ----------------------------------------------------------------------------------------
    def elements(self, networks: list[Network]) -> dict[str, list[dict[str, Any]]]:
        """Cytoscape.js ``elements`` for these networks: network and member nodes, member → network edges
        with the spans each membership is printed at."""
        ids = {n.id for n in networks}
        nodes: list[dict[str, Any]] = []
        edges: list[dict[str, Any]] = []
        seen: dict[str, int] = Counter()
        for network in networks:
            for member_id in network.member_ids:
                seen[member_id] += 1
        for network in networks:
            program = self.programs.get(network.program)
            nodes.append(
                {
                    "data": {
                        "id": f"n:{network.id}",
                        "kind": "network",
                        "label": network.name.text,
                        "region": network.region,
                        "program": network.program,
                        "program_name": program.label if program else network.program,
                        "plan_label": network.plan_label,
                        "plan_name": network.plan_name.text if network.plan_name else None,
                        "summary": network.summary.text if network.summary else None,
                        "members": len(network.member_ids),
                        "sources": _spans(network.name.printings),
                        "summary_sources": _spans(network.summary.printings) if network.summary else [],
                        "members_cells": _spans(network.members_cells),
                    }
                }
            )
        for member_id, count in seen.items():
            member = self.members[member_id]
            nodes.append(
                {
                    "data": {
                        "id": f"m:{member.id}",
                        "kind": "member",
                        "label": member.name,
                        "sector": member.sector,
                        "sector_inferred": member.sector_inferred,
                        "networks": count,
                        "networks_total": len(member.network_ids),
                        "shared": count >= 2,
                        "aliases": member.aliases,
                        "network_ids": [nid for nid in member.network_ids if nid in ids],
                    }
                }
            )
        for network in networks:
            for member_id in network.member_ids:
                link = self.links[(network.id, member_id)]
                edges.append(
                    {
                        "data": {
                            "id": f"e:{network.id}:{member_id}",
                            "source": f"m:{member_id}",
                            "target": f"n:{network.id}",
                            "printed": link.printed.text,
                            "sector": link.sector,
                            "role": link.role,
                            "variant": link.printed.variant,
                            "rule": link.printed.rule,
                            "sources": _spans(link.printed.printings),
                        }
                    }
                )
        return {"nodes": nodes, "edges": edges}

    # -- helpers for the question reader ----------------------------------------------------------------
    def _names(self) -> list[tuple[str, str]]:
        """(folded printed form, member id), longest first: every name, alias and key of every member, and
        a university's short name (広島大学 → 広島大)."""
        with self._lock:
            if self._name_index is None:
                forms: dict[str, str] = {}
                for member in self.catalog.members:
                    for text in [member.name, *member.aliases, *member.keys]:
                        for form in {_fold(text), _fold(_bare(text)), _fold_q(text), _fold_q(_bare(text))}:
                            if len(form) >= 2:
                                forms.setdefault(form, member.id)
                                if form.endswith("大学") and len(form) > 3:
                                    forms.setdefault(form[:-1], member.id)
                self._name_index = sorted(forms.items(), key=lambda item: -len(item[0]))
            return self._name_index

    def network_words(self) -> dict[str, set[str]]:
        """Content words of each network's name and plan name (for 「光の拠点」, 「バイオDX」, 「IoP」)."""
        with self._lock:
            if self._network_words is None:
                self._network_words = {
                    n.id: set(tokenize(n.name.text + " " + (n.plan_name.text if n.plan_name else "")))
                    for n in self.catalog.networks
                }
            return self._network_words


def _spans(spans: list[TextSpan]) -> list[dict[str, Any]]:
    return [span.model_dump() for span in spans]


def _fold(text: str) -> str:
    """NFKC, lower-cased, without white space: how names are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def _fold_q(text: str) -> str:
    """Like ``_fold``, but a space between two Latin words stays (so English words keep their edges)."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).casefold().strip()
    return re.sub(r"(?<![a-z0-9]) | (?![a-z0-9])", "", text)


def _bare(text: str) -> str:
    from assistant.vocabulary import LEGAL_FORMS

    for form in LEGAL_FORMS:
        text = text.replace(form, "")
    return text


def _name_sector(name: str) -> str | None:
    folded = _fold(name)
    return next((sector for marker, sector in SECTOR_NAME_MARKERS if marker in folded), None)


@lru_cache(maxsize=4)
def graph_for_build(build_dir: Path) -> NetworkGraph:
    """The graph of an index build, built once per process (the build folder never changes)."""
    from assistant.index.store import read_networks

    return NetworkGraph(read_networks(build_dir))


# =====================================================================================================
# the question reader
def _region_forms() -> list[tuple[str, str]]:
    forms: dict[str, str] = {}
    for name, (romaji, kana) in PREFECTURES.items():
        for form in (name, prefecture_stem(name), kana, romaji):
            forms[_fold(form)] = name
        forms[_fold(kana + ("けん" if name.endswith("県") else ""))] = name
    return sorted(forms.items(), key=lambda item: -len(item[0]))


_REGION_FORMS = _region_forms()
_PROGRAM_FORMS = sorted(
    ((_fold(alias), pid) for pid, entry in NETWORK_PROGRAMS.items() for alias in entry["aliases"]),  # type: ignore[attr-defined]
    key=lambda item: -len(item[0]),
)
_SECTOR_FORMS = sorted(
    ((_fold(word), sector) for word, sector in SECTOR_WORDS.items()), key=lambda i: -len(i[0])
)
_ASCII_WORD = re.compile(r"[a-z0-9]")


def _take(text: str, form: str) -> tuple[str, bool]:
    """Mask every occurrence of ``form`` in ``text`` (ASCII forms only as whole words)."""
    if not form or form not in text:
        return text, False  # most forms are absent: no regex for them (hundreds of forms per question)
    if _ASCII_WORD.match(form[:1]) or _ASCII_WORD.match(form[-1:]):
        pattern = re.compile(r"(?<![a-z0-9])" + re.escape(form) + r"(?![a-z0-9])")
    else:
        pattern = re.compile(re.escape(form))
    masked, count = pattern.subn(lambda m: _MASK * len(m.group(0)), text)
    return masked, count > 0


def asks_network_relation(text: str) -> bool:
    """Whether a question with no network of its own asks what the table holds of one (members, how many,
    shared, which networks) — 「その構成員は？」 does, 「それの予算は？」 does not."""
    folded = _fold_q(normalize(text))
    return bool(_MEMBERS.search(folded) or _COUNT.search(folded) or _SHARED.search(folded))


def read_network_question(text: str, graph: NetworkGraph | None) -> NetworkQuery | None:
    """What a question asks about the regional networks, or ``None`` when it is not about them."""
    if graph is None or not graph.catalog.networks or not text or not text.strip():
        return None
    folded = _fold_q(normalize(text))
    rest = folded

    network_ids, whole = _named_networks(text, graph)
    programs: list[str] = []
    for form, pid in _PROGRAM_FORMS:
        rest, hit = _take(rest, form)
        if hit and pid in graph.programs and pid not in programs:
            programs.append(pid)
    # a prefecture that is also a member (広島県 【官】) is read as the region; see below
    prefecture_members = {_fold(name) for name in PREFECTURES} | {
        _fold(prefecture_stem(n)) for n in PREFECTURES
    }
    member_ids: list[str] = []
    for form, mid in graph._names():
        if form in prefecture_members:
            continue
        rest, hit = _take(rest, form)
        if hit and mid not in member_ids:
            member_ids.append(mid)
    # An organisation named but listed nowhere (伊予銀行): the question is about it, so its 銀行 is no sector.
    unlisted: list[str] = []
    for match in _ORGANISATION.finditer(rest):
        name = match.group(0)
        proper = match.group("proper") or ""
        if proper in _GENERIC_MODIFIERS or _fold(name) in _GENERIC_ORGANISATIONS:
            continue
        if not graph.find_members(name):
            unlisted.append(name)
            rest = rest.replace(name, "\ue000" * len(name))
    regions: list[str] = []
    region_forms: list[str] = []
    for form, region in _REGION_FORMS:
        rest, hit = _take(rest, form)
        if hit:
            region_forms.append(form)
            if region not in regions:
                regions.append(region)
    sectors: list[str] = []
    for form, sector in _SECTOR_FORMS:
        rest, hit = _take(rest, form)
        if hit and sector not in sectors:
            sectors.append(sector)
    if _LOCAL_GOVERNMENT.search(rest) and "官" not in sectors:
        sectors.append("官")
    sectors = [s for s in sectors if s in graph.sectors]

    shared = bool(_SHARED.search(folded))
    count = bool(_COUNT.search(folded))
    about = bool(_NETWORK_WORDS.search(folded)) or bool((regions or programs) and _SITE_WORDS.search(rest))
    if network_ids and not whole and not (about or _SITE_WORDS.search(folded) or regions):
        network_ids = []  # a word shared with a network's name (振興, 健康 …) does not name it alone
    summary = bool(_SUMMARY.search(rest))
    if not (network_ids or about or (member_ids and _WHICH_NETWORKS.search(rest)) or (regions and sectors)):
        return None

    # 「広島県はどのネットワークに参加していますか」: the prefecture itself is the member asked about
    if not member_ids and regions and not sectors and _asks_which_networks_of_subject(folded, region_forms):
        found = graph.find_members(regions[0])
        if found:
            member_ids = [found[0].id]

    relation: Relation
    if shared:
        relation = "shared"
    elif member_ids and not network_ids and _WHICH_NETWORKS.search(rest) and not sectors:
        relation = "networks"
    elif summary and not _MEMBERS.search(rest):
        relation = "summary"
    elif sectors or _MEMBERS.search(rest) or count:
        relation = "members"
    elif member_ids and not network_ids:
        relation = "networks"
    else:
        relation = "overview"
    if relation == "members" and count and not (sectors or _MEMBERS.search(rest)) and not network_ids:
        relation = "overview"  # 「高知県にはネットワークがいくつ？」 counts networks
    return NetworkQuery(
        relation=relation,
        count=count,
        regions=regions,
        programs=programs,
        network_ids=network_ids,
        member_ids=member_ids if relation in ("networks", "shared", "members") else member_ids,
        sectors=sectors,
        unlisted=unlisted,
    )


#: An organisation's name: a proper part and a word that ends organisation names (伊予銀行, 株式会社○○).
_ORGANISATION = re.compile(
    r"(?:株式会社|\(株\)|（株）)[一-龥ァ-ヶーA-Za-z0-9]{2,16}|"
    r"(?P<proper>[一-龥ァ-ヶーA-Za-z0-9]{1,16}?)(?:銀行|信用金庫|信用組合|高等専門学校|高専|大学|株式会社|商工会議所|商工会|研究所|財団|機構)"
)
#: What stands before 大学/銀行 … in a kind of organisation, not a name (地方大学, 地元銀行, 県内大学).
_GENERIC_MODIFIERS = frozenset(
    [
        "地方",
        "国立",
        "公立",
        "私立",
        "地元",
        "県内",
        "市内",
        "域内",
        "道内",
        "各",
        "他",
        "複数",
        "近隣",
        "周辺",
        "全国",
        "海外",
        "民間",
        "地域",
        "主要",
        "有力",
        "大手",
        "地場",
        "中小",
        "都市",
        "メガ",
        "政府系",
        "外資系",
        "ネット",
        "第一地方",
        "第二地方",
        "短期",
        "女子",
        "工業",
        "医科",
        "総合",
        "単科",
        "大学等",
        "当",
        "本",
        "弊",
        "貴",
        "同",
    ]
)
#: Words shaped like organisations that name a kind of them (大学, 地方大学), not one.
_GENERIC_ORGANISATIONS = frozenset(
    _fold(w)
    for w in [
        "大学",
        "地方大学",
        "国立大学",
        "公立大学",
        "私立大学",
        "地域の大学",
        "各大学",
        "他大学",
        "銀行",
        "地方銀行",
        "地銀",
        "信用金庫",
        "信用組合",
        "高専",
        "研究所",
        "財団",
        "機構",
        "商工会議所",
        "商工会",
        "株式会社",
        "地元銀行",
        "金融機関",
        "県内大学",
        "市内大学",
        "複数大学",
        "大学等",
    ]
)


def _asks_which_networks_of_subject(folded: str, region_forms: list[str]) -> bool:
    """「<region>は どの … に参加」: the prefecture itself is the subject that takes part."""
    subject = any(re.search(re.escape(form) + r"(?:が|は|も|って)", folded) for form in region_forms)
    return subject and bool(
        re.search(r"(?:どの|どこ|いくつ|何).{0,12}(?:参加|参画|入って|加盟|所属)", folded)
    )


def _named_networks(text: str, graph: NetworkGraph) -> tuple[list[str], bool]:
    """Networks whose name or plan name the question names, whole or by a distinctive part; the network
    sharing the most words with the question wins (「光の拠点」: 光 and 拠点 → the 光 共創拠点). Also says
    whether a name was given whole."""
    question = set(tokenize(text))
    folded = _fold(text)
    scores: dict[str, tuple[int, int]] = {}
    for network_id, words in graph.network_words().items():
        network = graph.networks[network_id]
        whole = [t for t in (network.name.text, network.plan_name.text if network.plan_name else "") if t]
        if any(len(_fold(t)) >= 4 and _fold(t) in folded for t in whole):
            scores[network_id] = (100, 0)
            continue
        hits = {w for w in question & words if w not in _ENGLISH_STOPWORDS}
        distinctive = {
            w for w in hits if w not in _GENERIC_NAME_WORDS | _program_words() and not _is_place(w)
        }
        if distinctive:
            scores[network_id] = (len(distinctive), len(hits))
    if not scores:
        return [], False
    best = max(scores.values())
    return [nid for nid, score in scores.items() if score == best], best[0] == 100


@lru_cache(maxsize=1)
def _program_words() -> frozenset[str]:
    """Words of the schemes' names: 「地方大学・地域産業創生交付金」 names the scheme, not one of its networks."""
    texts = [str(entry["name"]) for entry in NETWORK_PROGRAMS.values()]
    texts += [str(alias) for entry in NETWORK_PROGRAMS.values() for alias in entry["aliases"]]  # type: ignore[attr-defined]
    return frozenset(word for text in texts for word in tokenize(text))


def _is_place(word: str) -> bool:
    """A region's name is not a distinctive part of a network's name (広島 names the region)."""
    folded = _fold(word)
    return any(folded == form for form, _ in _REGION_FORMS)


# =====================================================================================================
# answers
def answer_network_query(query: NetworkQuery, graph: NetworkGraph) -> NetworkAnswer:
    """The networks and members a query asks for, each member list with the cell it comes from."""
    networks = graph.filter(
        regions=query.regions or None,
        programs=query.programs or None,
        network_ids=query.network_ids or None,
    )
    if query.relation == "networks" and query.member_ids:
        wanted = set(query.member_ids)
        networks = [n for n in networks if wanted & set(n.member_ids)]
        members = [_member_entry(graph, graph.members[mid], networks) for mid in query.member_ids]
        return NetworkAnswer(
            query=query,
            networks=[_network_entry(graph, n, [], with_members=False) for n in networks],
            members=members,
            count=len(networks) if query.count else None,
        )
    if query.relation == "shared":
        scope = networks
        shared = graph.shared_members(scope)
        if query.sectors:
            shared = [m for m in shared if any(graph.in_sector(m, s) for s in query.sectors)]
        if query.member_ids:
            shared = [m for m in shared if m.id in query.member_ids]
        involved = {nid for m in shared for nid in m.network_ids}
        return NetworkAnswer(
            query=query,
            networks=[_network_entry(graph, n, [], with_members=False) for n in scope if n.id in involved],
            members=[_member_entry(graph, m, scope) for m in shared],
            count=len(shared) if query.count else None,
        )
    if query.member_ids and query.relation == "members":
        networks = [n for n in networks if set(query.member_ids) & set(n.member_ids)] or networks
    with_members = query.relation in ("members", "overview") and (
        query.relation == "members" or bool(query.network_ids)
    )
    entries = [_network_entry(graph, n, query.sectors, with_members=with_members) for n in networks]
    if query.relation == "members" and query.sectors:
        entries = [e for e in entries if e.members]
    count = None
    if query.count:
        if query.relation == "members":
            count = len({m.member_id for e in entries for m in e.members})
        else:
            count = len(entries)
    return NetworkAnswer(query=query, networks=entries, count=count)


def _network_entry(
    graph: NetworkGraph, network: Network, sectors: list[str], with_members: bool
) -> NetworkEntry:
    program = graph.programs.get(network.program)
    members = []
    if with_members:
        members = [
            _member_entry(graph, m, [network], network.id) for m in graph.members_of(network.id, sectors)
        ]
    return NetworkEntry(
        network_id=network.id,
        region=network.region,
        program=network.program,
        program_name=program.label if program else network.program,
        name=network.name.text,
        name_source=network.name.source,
        plan_label=network.plan_label,
        plan_name=network.plan_name.text if network.plan_name else None,
        summary=network.summary.text if network.summary else None,
        summary_source=network.summary.source if network.summary else None,
        members=members,
        members_cell=_members_cell(graph, network),
    )


def _members_cell(graph: NetworkGraph, network: Network) -> TextSpan | None:
    """The 構成員 cell to cite for a member list: the printing most of the shown names come from."""
    if not network.members_cells:
        return None
    shown = Counter(graph.links[(network.id, mid)].printed.source.doc_id for mid in network.member_ids)
    return max(network.members_cells, key=lambda cell: shown.get(cell.doc_id, 0))


def _member_entry(
    graph: NetworkGraph, member: NetworkMember, networks: list[Network], network_id: str | None = None
) -> MemberEntry:
    in_scope = [n.id for n in networks if member.id in n.member_ids]
    links = [graph.links[(nid, member.id)] for nid in ([network_id] if network_id else in_scope)]
    return MemberEntry(
        member_id=member.id,
        name=member.name,
        printed=links[0].printed.text if network_id and links else "",
        sector=member.sector,
        sector_inferred=member.sector_inferred,
        role=next((link.role for link in links if link.role), None),
        network_ids=in_scope,
        sources=[span for link in links for span in link.printed.printings],
    )


# =====================================================================================================
# explicit filters (the API's query parameters, the UI's region choice)
def resolve_filters(
    graph: NetworkGraph,
    region: str | None = None,
    program: str | None = None,
    sector: str | None = None,
    member: str | None = None,
) -> dict[str, list[str]]:
    """Filter values → what the graph knows (広島 / hiroshima → 広島県, 交付金 → kofukin, 企業 → 産,
    マツダ → its member id). An unknown value raises ``InvalidFilterError`` listing the valid ones (the
    value itself is not echoed)."""
    from assistant.pipeline.conditions import InvalidFilterError

    resolved: dict[str, list[str]] = {}
    if region is not None and region.strip():
        wanted = _fold_q(region)
        found = [name for form, name in _REGION_FORMS if form == wanted and name in graph.regions]
        if not found:
            raise InvalidFilterError(f"Unknown region. Valid regions: {', '.join(graph.regions)}.")
        resolved["regions"] = found[:1]
    if program is not None and program.strip():
        wanted = _fold_q(program)
        found = list(
            dict.fromkeys(
                pid
                for form, pid in [*_PROGRAM_FORMS, *((pid, pid) for pid in graph.programs)]
                if form == wanted and pid in graph.programs
            )
        )
        if not found:
            valid = ", ".join(f"{p.id} ({p.name})" for p in graph.programs.values())
            raise InvalidFilterError(f"Unknown program. Valid programs: {valid}.")
        resolved["programs"] = found
    if sector is not None and sector.strip():
        wanted = _fold_q(sector).strip("【】")
        found = [s for s in graph.sectors if _fold_q(s) == wanted]
        found = found or [s for form, s in _SECTOR_FORMS if form == wanted and s in graph.sectors]
        if not found:
            raise InvalidFilterError(
                f"Unknown sector. Valid sectors: {', '.join(graph.sectors)} (or 企業, 大学, 自治体, 銀行)."
            )
        resolved["sectors"] = found[:1]
    if member is not None and member.strip():
        found_members = graph.find_members(member.strip())
        if not found_members:
            names = "、".join(m.name for m in graph.catalog.members)
            raise InvalidFilterError(f"No member has that name. Members: {names}.")
        resolved["member_ids"] = [m.id for m in found_members]
    return resolved


def counts(graph: NetworkGraph, networks: list[Network]) -> dict[str, int]:
    """What a view holds: regions, networks, members, links (memberships) and members in ≥ 2 networks."""
    member_ids = {mid for n in networks for mid in n.member_ids}
    return {
        "regions": len({n.region for n in networks}),
        "networks": len(networks),
        "members": len(member_ids),
        "links": sum(len(n.member_ids) for n in networks),
        "shared_members": len(graph.shared_members(networks)),
    }


def graph_payload(
    graph: NetworkGraph, networks: list[Network], titles: dict[str, str], filters: dict[str, list[str]]
) -> dict[str, Any]:
    """What ``GET /v1/networks`` returns and the UI draws: the Cytoscape.js elements of these networks,
    every span with its document's title, the counts and the valid filter values."""
    elements = graph.elements(networks)
    for element in [*elements["nodes"], *elements["edges"]]:
        for key in ("sources", "summary_sources", "members_cells"):
            for span in element["data"].get(key) or []:
                span["title"] = titles.get(span["doc_id"])
    return {
        "filters": filters,
        "regions": graph.regions,
        "sectors": graph.sectors,
        "programs": [{"id": p.id, "name": p.name, "ministry": p.ministry} for p in graph.programs.values()],
        "counts": counts(graph, networks),
        "elements": elements,
    }
