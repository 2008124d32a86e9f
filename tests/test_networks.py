"""The regional 産学官 networks: extraction from the corpus (no model), the graph and the question reader.

The members of every network are pinned against the table as the documents print it, and every printed
name, network name and 取組概要 is checked to stand verbatim in the lines it cites.
"""

from __future__ import annotations

import pytest

from assistant.config import PROJECT_ROOT
from assistant.index.store import read_networks
from assistant.records import NetworkCatalog, TextSpan
from ingest.documents import load_manifest, read_document
from ingest.networks import build_catalog, display, extract_networks, member_key, squash

CORPUS = PROJECT_ROOT / "corpus"
TABLE = "000_bc52401283c58933"  # the tab table
DECK = "001_9b2f57644b0d39be"  # the same table broken over lines
SURVEY = "003_158fb85f1dc44ded"


@pytest.fixture(scope="module")
def lines() -> dict[str, list[str]]:
    return {info.doc_id: read_document(CORPUS, info).lines for info in load_manifest(CORPUS)}


@pytest.fixture(scope="module")
def catalog() -> NetworkCatalog:
    return extract_networks(CORPUS)


def members_of(catalog: NetworkCatalog, network_id: str) -> list[tuple[str | None, str]]:
    names = {m.id: m.name for m in catalog.members}
    return [(link.sector, names[link.member_id]) for link in catalog.links if link.network_id == network_id]


# The members as the table lists them, sector by sector (the shown printing; see the variant tests).
EXPECTED: dict[str, list[tuple[str, str]]] = {
    "hiroshima-kofukin": [
        ("学", "広島大学"),
        ("学", "県立広島大学"),
        ("学", "広島市立大学"),
        ("官", "広島県"),
        ("産", "マツダ株式会社"),
        ("産", "株式会社広島銀行"),
        ("産", "広島県商工会議所連合会"),
        ("産", "中国経済連合会"),
    ],
    "hiroshima-kyoso": [
        ("学", "広島大学"),
        ("学", "The University of British Columbia"),
        ("官", "広島県"),
        ("官", "東広島市"),
        ("産", "プラチナバイオ株式会社"),
        ("産", "凸版印刷株式会社"),
        ("産", "三島食品株式会社"),
        ("産", "住友化学株式会社"),
        ("産", "キユーピー株式会社"),
        ("産", "マツダ株式会社"),
    ],
    "tokushima-kofukin": [
        ("学", "徳島大学"),
        ("学", "四国大学"),
        ("学", "阿南工業高等専門学校"),
        ("官", "徳島県"),
        ("産", "日亜化学工業"),
        ("産", "日本フネン"),
        ("産", "徳島県商工会連合会"),
        ("産", "徳島県中小企業団体中央会"),
        ("産", "徳島経済同友会"),
        ("産", "徳島県経営者協会"),
        ("産", "徳島県農業協同組合中央会"),
        ("産", "阿波銀行"),
        ("産", "徳島銀行"),
        ("産", "日本政策金融公庫"),
        ("産", "徳島県信用保証協会"),
        ("産", "徳島産業振興機構"),
    ],
    "tokushima-kyoso": [
        ("学", "徳島大学"),
        ("官", "徳島県"),
        ("産", "ＰＨＣ株式会社"),
        ("産", "株式会社ＮＴＴドコモ四国支社"),
        ("産", "株式会社産学連携キャピタル"),
    ],
    "tokushima-survey": [
        ("学", "徳島大学"),
        ("学", "鳴門教育大学"),
        ("学", "阿南工業高等専門学校"),
        ("学", "徳島文理大学"),
        ("学", "徳島文理大学短期大学部"),
        ("学", "四国大学"),
        ("学", "四国大学短期大学部"),
        ("学", "徳島工業短期大学"),
        ("官", "徳島県市長会"),
        ("官", "徳島県町村会"),
        ("官", "徳島県"),
        ("産", "徳島県経営者協会"),
        ("産", "徳島経済同友会"),
        ("産", "徳島県商工会議所連合会"),
        ("産", "徳島県商工会連合会"),
        ("産", "徳島県中小企業団体中央会"),
    ],
    "kochi-kofukin": [
        ("学", "高知大学"),
        ("学", "高知工科大学"),
        ("官", "高知県"),
        ("産", "高知県農業協同組合中央会"),
        ("産", "高知県園芸農業協同組合連合会"),
        ("産", "一般社団法人高知県工業会"),
        ("産", "高知県IoT推進ラボ研究会"),
        ("産", "株式会社四国銀行"),
        ("産", "株式会社高知銀行"),
    ],
    "kochi-kyoso": [
        ("学", "高知大学"),
        ("学", "高知県立大学"),
        ("学", "高知工科大学"),
        ("学", "高知工業高等専門学校"),
        ("学", "東京工業大学"),
        ("学", "大阪大学"),
        ("学", "岡山大学"),
        ("官", "室戸市"),
        ("官", "高知県"),
        ("産", "株式会社Psychic VR Lab"),
        ("産", "株式会社パシフィックメディカル"),
        ("産", "株式会社シーメック"),
        ("産", "株式会社BiPSEE"),
        ("産", "ファイテン株式会社"),
        ("産", "株式会社アルファドライブ高知"),
    ],
    "kochi-survey": [
        ("学", "高知県立大学"),
        ("学", "高知工科大学"),
        ("学", "高知大学"),
        ("学", "高知学園大学"),
        ("学", "高知リハビリテーション専門職大学"),
        ("学", "高知学園短期大学"),
        ("学", "高知工業高等専門学校"),
        ("官", "高知県"),
    ],
}


# -- extraction ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("network_id", sorted(EXPECTED))
def test_members_of_each_table_network(catalog, network_id):
    assert members_of(catalog, network_id) == EXPECTED[network_id]


def test_networks_regions_and_programs(catalog):
    table = {(n.region, n.program) for n in catalog.networks if n.program != "cases"}
    assert table == {
        ("広島県", "kofukin"),
        ("広島県", "kyoso"),
        ("徳島県", "kofukin"),
        ("徳島県", "kyoso"),
        ("徳島県", "survey"),
        ("高知県", "kofukin"),
        ("高知県", "kyoso"),
        ("高知県", "survey"),
    }  # 広島県 has no network in the 総務省 column (「-」)
    names = {n.id: n.name.text for n in catalog.networks}
    assert names["tokushima-kyoso"] == "ネオ・ディスタンス社会を創造する次世代「光」共創拠点"
    assert names["hiroshima-kyoso"].startswith(
        "広島から世界最先端のバイオエコノミー社会を実現するBio×Digital Transformation"
    )
    plan = next(n for n in catalog.networks if n.id == "hiroshima-kofukin")
    assert plan.plan_label == "計画名"
    assert plan.plan_name and plan.plan_name.text == "ひろしまものづくりデジタルイノベーション創出プログラム"
    assert {p.id for p in catalog.programs} == {"kofukin", "kyoso", "survey", "cases"}


def test_every_table_network_is_printed_by_both_documents(catalog):
    for network in catalog.networks:
        if network.program == "cases":
            continue
        assert {s.doc_id for s in network.members_cells} == {TABLE, DECK}
        assert {s.doc_id for s in network.name.printings} == {TABLE, DECK}
        assert network.summary and {s.doc_id for s in network.summary.printings} == {TABLE, DECK}


def _stands(span: TextSpan, lines: dict[str, list[str]]) -> bool:
    text = "\n".join(lines[span.doc_id][span.line_start - 1 : span.line_end])
    return span.text in text and span.line_start <= span.line_end


def test_every_printed_text_stands_in_its_cited_lines(catalog, lines):
    for network in catalog.networks:
        texts = [network.name, network.plan_name, network.summary]
        for printed in [t for t in texts if t is not None]:
            assert printed.printings, network.id
            for span in printed.printings:
                assert _stands(span, lines), (network.id, span)
            assert squash(printed.text) == squash(printed.printings[0].text)
        for cell in network.members_cells:
            assert _stands(cell, lines)
    for link in catalog.links:
        for span in link.printed.printings:
            assert _stands(span, lines), (link.network_id, span)
        shown = link.printed.printings[0]
        assert display(shown.text) == link.printed.text
        if link.role:
            line_text = "\n".join(lines[shown.doc_id][shown.line_start - 1 : shown.line_end + 1])
            assert squash(link.printed.text + link.role) in squash(line_text)


def test_member_lines_lie_inside_the_members_cell(catalog):
    cells = {n.id: n.members_cells for n in catalog.networks}
    for link in catalog.links:
        if not cells[link.network_id]:
            continue
        for span in link.printed.printings:
            cell = next(c for c in cells[link.network_id] if c.doc_id == span.doc_id)
            assert cell.line_start <= span.line_start <= span.line_end <= cell.line_end
            assert squash(span.text) in squash(cell.text)


def test_roles_are_cut_from_the_names(catalog):
    roles = {
        (link.network_id, link.printed.text): link.role for link in catalog.links if link.role is not None
    }
    assert roles == {
        ("hiroshima-kofukin", "マツダ株式会社"): "代表取締役会長",
        ("hiroshima-kofukin", "株式会社広島銀行"): "代表取締役頭取",
        ("hiroshima-kofukin", "広島県商工会議所連合会"): "会頭",
    }


def test_members_are_deduplicated_by_normalised_name(catalog):
    by_name = {m.name: m for m in catalog.members}
    assert by_name["マツダ株式会社"].network_ids == ["hiroshima-kofukin", "hiroshima-kyoso"]
    # 「高知県公立大学法人高知工科大学」 is the school 高知工科大学, run by that corporation
    kut = by_name["高知工科大学"]
    assert kut.network_ids == ["kochi-kofukin", "kochi-kyoso", "kochi-survey"]
    assert "高知県公立大学法人高知工科大学" in kut.aliases
    assert len(by_name["徳島大学"].network_ids) == 3
    assert len({m.key for m in catalog.members}) == len(catalog.members)
    assert len({m.id for m in catalog.members}) == len(catalog.members)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("株式会社マツダ", "マツダ株式会社"),
        ("P H C 株式会社", "ＰＨＣ株式会社"),
        ("高知県ＩｏＴ推進ラボ研究会", "高知県IoT推進ラボ研究会"),
        ("高知県公立大学法人高知工科大学", "高知工科大学"),
        ("徳島文理大学、短期大学部", "徳島文理大学短期大学部"),
        ("The \nUniversity of British \nColumbia", "The University of British Columbia"),
    ],
)
def test_member_key_is_a_general_normalisation(a, b):
    assert member_key(a) == member_key(b)


def test_different_organisations_keep_different_keys():
    assert member_key("徳島大学") != member_key("徳島文理大学")
    assert member_key("株式会社四国銀行") != member_key("株式会社高知銀行")


def test_the_better_printing_is_shown_and_the_variant_recorded(catalog):
    links = {(link.network_id, link.printed.text): link for link in catalog.links}
    docomo = links[("tokushima-kyoso", "株式会社ＮＴＴドコモ四国支社")].printed
    assert docomo.variant and docomo.rule == "fewer words unknown to the dictionary"
    assert [s.doc_id for s in docomo.printings] == [DECK, TABLE]
    assert "トコモ" in docomo.printings[1].text
    medical = links[("kochi-kyoso", "株式会社パシフィックメディカル")].printed
    assert medical.variant and "パシフィックディカル" in medical.printings[1].text
    kewpie = links[("hiroshima-kyoso", "キユーピー株式会社")].printed
    assert kewpie.variant and kewpie.printings[1].text == "キューピー株式会社"
    phc = links[("tokushima-kyoso", "ＰＨＣ株式会社")].printed
    assert not phc.variant and phc.printings[1].text == "P H C 株式会社"  # spacing only: not a variant
    plan = next(n for n in catalog.networks if n.id == "hiroshima-kofukin").plan_name
    assert plan and plan.variant and "ひろしまのづくり" in plan.printings[1].text
    assert catalog.reliability.get(DECK, 0) > catalog.reliability.get(TABLE, 0)


def test_a_merged_item_is_split_where_the_other_printing_separates_it(catalog):
    # 000 prints 「株式会社シーメック株式会社BiPSEE」 (a lost 、); 001 separates the two companies
    names = [name for _, name in members_of(catalog, "kochi-kyoso")]
    assert "株式会社シーメック" in names and "株式会社BiPSEE" in names
    link = next(x for x in catalog.links if x.printed.text == "株式会社BiPSEE")
    assert {s.doc_id for s in link.printed.printings} == {TABLE, DECK}


def test_a_member_printed_by_one_document_only_keeps_its_one_span(catalog):
    only = [
        (link.network_id, link.printed.text)
        for link in catalog.links
        if len(link.printed.printings) == 1 and "-cases-" not in link.network_id
    ]
    assert sorted(only) == [
        ("kochi-survey", "高知大学"),
        ("kochi-survey", "高知工科大学"),
        ("tokushima-survey", "徳島県商工会連合会"),
    ]


def test_survey_cases_with_region_and_named_partners(catalog, lines):
    cases = {n.name.text: n for n in catalog.networks if n.program == "cases"}
    assert set(cases) == {"三浦真珠プロジェクト", "KCみやぎ推進ネットワーク"}
    assert cases["三浦真珠プロジェクト"].region == "神奈川県"
    assert cases["KCみやぎ推進ネットワーク"].region == "宮城県"
    partners = {
        n.name.text: [
            (link.printed.text, link.sector, link.sector_inferred)
            for link in catalog.links
            if link.network_id == n.id
        ]
        for n in cases.values()
    }
    assert partners == {
        "三浦真珠プロジェクト": [("東大臨海実験所", "学", True)],
        "KCみやぎ推進ネットワーク": [("宮城県産業技術総合センター", "官", True)],
    }
    for network in cases.values():
        assert network.name.printings[0].doc_id == SURVEY
        assert _stands(network.name.printings[0], lines)


def test_no_tables_no_networks(lines):
    assert build_catalog([("004_19e9f67b15260a83", lines["004_19e9f67b15260a83"])]).networks == []
    assert build_catalog([]).networks == []


def test_one_printing_alone_still_gives_the_networks(lines):
    alone = build_catalog([(DECK, lines[DECK])])
    assert {n.id for n in alone.networks} == set(EXPECTED)
    assert "株式会社ＮＴＴドコモ四国支社" in [name for _, name in members_of(alone, "tokushima-kyoso")]


def test_an_index_without_networks_json_loads_an_empty_catalog(tmp_path):
    assert read_networks(tmp_path) == NetworkCatalog()


# -- the graph -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def graph(catalog):
    from assistant.pipeline.networks import NetworkGraph

    return NetworkGraph(catalog)


def test_graph_filters(graph):
    assert [n.id for n in graph.filter(regions=["広島県"])] == ["hiroshima-kofukin", "hiroshima-kyoso"]
    assert [n.id for n in graph.filter(programs=["survey"])] == ["tokushima-survey", "kochi-survey"]
    mazda = graph.find_members("マツダ")
    assert [m.name for m in mazda] == ["マツダ株式会社"]
    assert [n.id for n in graph.filter(member_ids=[mazda[0].id])] == ["hiroshima-kofukin", "hiroshima-kyoso"]
    # the 総務省 column of 高知県 lists no company
    assert [n.id for n in graph.filter(regions=["高知県"], sectors=["産"])] == [
        "kochi-kofukin",
        "kochi-kyoso",
    ]
    assert [m.name for m in graph.members_of("tokushima-kyoso", ["産"])] == [
        "ＰＨＣ株式会社",
        "株式会社ＮＴＴドコモ四国支社",
        "株式会社産学連携キャピタル",
    ]
    banks = [m.name for m in graph.members_of("tokushima-kofukin", ["金融"])]
    assert banks == ["阿波銀行", "徳島銀行", "日本政策金融公庫"]
    assert [n.id for n in graph.networks_of(mazda[0].id)] == ["hiroshima-kofukin", "hiroshima-kyoso"]


def test_shared_members(graph):
    hiroshima = graph.filter(regions=["広島県"])
    assert [m.name for m in graph.shared_members(hiroshima)] == ["広島大学", "広島県", "マツダ株式会社"]
    kochi = graph.filter(regions=["高知県"])
    assert {m.name for m in graph.shared_members(kochi, min_networks=3)} == {
        "高知大学",
        "高知工科大学",
        "高知県",
    }


def test_cytoscape_elements(graph):
    elements = graph.elements(graph.filter(regions=["広島県"]))
    nodes = {n["data"]["id"]: n["data"] for n in elements["nodes"]}
    networks = [d for d in nodes.values() if d["kind"] == "network"]
    members = [d for d in nodes.values() if d["kind"] == "member"]
    assert len(networks) == 2 and len(members) == 15  # 8 + 10 members, 3 in both
    mazda = next(d for d in members if d["label"] == "マツダ株式会社")
    assert mazda["shared"] and mazda["networks"] == 2 and mazda["sector"] == "産"
    assert not next(d for d in members if d["label"] == "東広島市")["shared"]
    assert len(elements["edges"]) == 18
    for edge in elements["edges"]:
        data = edge["data"]
        assert data["source"] in nodes and data["target"] in nodes and data["sources"]
        assert all({"doc_id", "line_start", "line_end", "text"} <= set(s) for s in data["sources"])


# -- the question reader --------------------------------------------------------------------------------
def _read(graph, text):
    from assistant.pipeline.networks import read_network_question

    return read_network_question(text, graph)


def _names(graph, ids):
    return [graph.members[i].name for i in ids]


QUESTIONS = [
    # (question, relation, regions, programs, network ids, sectors, member names)
    (
        "広島県の産学官ネットワークにはどんな企業が参加していますか？",
        "members",
        ["広島県"],
        [],
        [],
        ["産"],
        [],
    ),
    ("徳島の光の拠点の構成員は？", "members", ["徳島県"], [], ["tokushima-kyoso"], [], []),
    ("両方のネットワークに入っている企業は？", "shared", [], [], [], ["産"], []),
    ("広島の両方のネットワークに入っている会社ってどこ？", "shared", ["広島県"], [], [], ["産"], []),
    ("マツダはどのネットワークに参加していますか", "networks", [], [], [], [], ["マツダ株式会社"]),
    ("バイオDXの拠点にはどんな大学が入っていますか", "members", [], [], ["hiroshima-kyoso"], ["学"], []),
    ("IoPの協議会のメンバーを教えて", "members", [], [], ["kochi-kofukin"], [], []),
    ("高知県のネットワークはいくつありますか", "overview", ["高知県"], [], [], [], []),
    ("高知県の共創の場の拠点は何を目指していますか", "summary", ["高知県"], ["kyoso"], [], [], []),
    (
        "ひろしまの交付金のネットワークの構成員を教えてください",
        "members",
        ["広島県"],
        ["kofukin"],
        [],
        [],
        [],
    ),
    ("Which companies are members of the Hiroshima networks?", "members", ["広島県"], [], [], ["産"], []),
    (
        "徳島県の総務省の調査の協議会にはどこの大学が入ってる？",
        "members",
        ["徳島県"],
        ["survey"],
        [],
        ["学"],
        [],
    ),
    ("高知工科大はどこに参加してる？", "networks", [], [], [], [], ["高知工科大学"]),
    ("徳島大学が参加しているネットワークはいくつ？", "networks", [], [], [], [], ["徳島大学"]),
    ("高知県の自治体で参加しているのは？", "members", ["高知県"], [], [], ["官"], []),
    (
        "徳島の交付金のネットワークに銀行は入っていますか",
        "members",
        ["徳島県"],
        ["kofukin"],
        [],
        ["金融"],
        [],
    ),
    ("SAWACHI型健康社会共創拠点の取組概要は？", "summary", [], ["kyoso"], ["kochi-kyoso"], [], []),
    ("複数のネットワークに参加している大学は？", "shared", [], [], [], ["学"], []),
    ("広島県はどのネットワークに参加していますか", "networks", ["広島県"], [], [], [], ["広島県"]),
    (
        "とくしま産学官連携プラットフォームの構成員は何団体？",
        "members",
        ["徳島県"],
        [],
        ["tokushima-survey"],
        [],
        [],
    ),
    ("KCみやぎ推進ネットワークの連携先は？", "members", ["宮城県"], [], ["miyagi-cases-379ce3"], [], []),
    ("三浦真珠プロジェクトに協力した大学は？", "members", [], [], ["kanagawa-cases-94e7fa"], ["学"], []),
    ("キューピーはどこのネットワークのメンバー？", "networks", [], [], [], [], ["キユーピー株式会社"]),
    (
        "how many members does the tokushima co-creation network have",
        "members",
        ["徳島県"],
        ["kyoso"],
        [],
        [],
        [],
    ),
    (
        "恐れ入りますが、こうちけんの共創の場の拠点に参画している企業をご教示いただけますでしょうか。",
        "members",
        ["高知県"],
        ["kyoso"],
        [],
        ["産"],
        [],
    ),
    ("What does the Kochi co-creation network aim for?", "summary", ["高知県"], ["kyoso"], [], [], []),
    ("徳島県の交付金の協議会って何をしてるの？", "summary", ["徳島県"], ["kofukin"], [], [], []),
    ("高知で産学官の全部のネットワークに入ってる大学は？", "members", ["高知県"], [], [], ["学"], []),
]


@pytest.mark.parametrize(
    ("question", "relation", "regions", "programs", "networks", "sectors", "members"), QUESTIONS
)
def test_reads_network_questions(graph, question, relation, regions, programs, networks, sectors, members):
    query = _read(graph, question)
    assert query is not None, question
    assert query.relation == relation
    assert query.regions == regions
    assert query.programs == programs
    if networks:
        assert query.network_ids == networks
    assert query.sectors == sectors
    assert _names(graph, query.member_ids) == members


@pytest.mark.parametrize(
    "question",
    [
        "共創の場形成支援プログラムの問い合わせ先は？",
        "地方大学・地域産業創生交付金の予算額は？",
        "うちの大学は地域の人材育成をしたい。使える事業と問い合わせ先は？",
        "総合振興パッケージを具体化するために関係府省で設置した組織は何ですか？",
        "文科省の事業で大学が申請できるものは？",
        "宇宙ロケットを開発したい",
        "",
        "   ",
    ],
)
def test_other_questions_are_not_network_questions(graph, question):
    assert _read(graph, question) is None


def test_no_graph_or_empty_catalog_reads_nothing():
    from assistant.pipeline.networks import NetworkGraph, read_network_question

    assert read_network_question("広島県の産学官ネットワークの構成員は？", None) is None
    assert (
        read_network_question("広島県の産学官ネットワークの構成員は？", NetworkGraph(NetworkCatalog()))
        is None
    )


# -- answers ------------------------------------------------------------------------------------------
def _answer(graph, question):
    from assistant.pipeline.networks import answer_network_query

    query = _read(graph, question)
    assert query is not None
    return answer_network_query(query, graph)


def test_answer_lists_members_with_their_cell(graph, lines):
    answer = _answer(graph, "広島県の産学官ネットワークにはどんな企業が参加していますか？")
    assert [e.network_id for e in answer.networks] == ["hiroshima-kofukin", "hiroshima-kyoso"]
    kofukin, kyoso = answer.networks
    assert [m.name for m in kofukin.members] == [n for s, n in EXPECTED["hiroshima-kofukin"] if s == "産"]
    assert [m.name for m in kyoso.members] == [n for s, n in EXPECTED["hiroshima-kyoso"] if s == "産"]
    assert kofukin.members[0].role == "代表取締役会長"
    for entry in answer.networks:
        cell = entry.members_cell
        assert cell is not None and _stands(cell, lines)
        for member in entry.members:
            assert member.sources and all(_stands(s, lines) for s in member.sources)
            assert (
                squash(member.sources[0].text) in squash(cell.text) or member.sources[0].doc_id != cell.doc_id
            )


def test_answer_shared_and_counts(graph):
    shared = _answer(graph, "広島の両方のネットワークに入っている企業は？")
    assert [m.name for m in shared.members] == ["マツダ株式会社"]
    assert shared.members[0].network_ids == ["hiroshima-kofukin", "hiroshima-kyoso"]
    assert len(shared.members[0].sources) == 4  # two networks × two printings
    assert _answer(graph, "高知県のネットワークはいくつありますか").count == 3
    assert _answer(graph, "とくしま産学官連携プラットフォームの構成員は何団体？").count == 16
    networks = _answer(graph, "マツダはどのネットワークに参加していますか")
    assert [e.network_id for e in networks.networks] == ["hiroshima-kofukin", "hiroshima-kyoso"]
    summary = _answer(graph, "SAWACHI型健康社会共創拠点の取組概要は？")
    assert summary.networks[0].summary and "プライマリケア" in summary.networks[0].summary
    assert summary.networks[0].summary_source is not None
    assert _answer(graph, "東京の産学官ネットワークは？").empty
