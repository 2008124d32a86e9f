"""The program catalog extracted from the 総合振興パッケージ: every value traceable to the text, golden records.

Values are compared with the documents with white space and line breaks removed on both sides (the PDF
extraction broke cells over lines); nothing else is normalised, so a value is verbatim text of the corpus.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path

import pytest

from assistant.records import Catalog, Program, SourceSpan
from ingest.catalog import extract_catalog, name_key
from ingest.documents import load_manifest, read_document

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
OVERRIDES = CORPUS / "catalog_overrides.json"
PACKAGE = "001_9b2f57644b0d39be"

#: Short forms a span may print instead of the official ministry name.
MINISTRY_FORMS = {
    "文部科学省": ["文部科学省", "文科省", "<文>", "＜文＞", "【文】"],
    "経済産業省": ["経済産業省", "経産省", "<経>", "【経】"],
    "農林水産省": ["農林水産省", "農水省", "【農】"],
    "国土交通省": ["国土交通省", "国交省"],
    "環境省": ["環境省", "【環】"],
    "総務省": ["総務省"],
    "内閣府": ["内閣府", "<内>", "【内】"],
    "厚生労働省": ["厚生労働省", "厚労省", "【厚】"],
    "消防庁": ["消防庁"],
}
ALL_THEMES = [
    "MaaS・自動運転",
    "スマート農業",
    "資源循環",
    "地域脱炭素",
    "防災・減災",
    "スマートシティ",
    "スタートアップ・エコシステム拠点都市",
    "地域バイオコミュニティ",
]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return extract_catalog(CORPUS, OVERRIDES)


@pytest.fixture(scope="module")
def lines() -> dict[str, list[str]]:
    return {info.doc_id: read_document(CORPUS, info).lines for info in load_manifest(CORPUS)}


@pytest.fixture(scope="module")
def overrides() -> dict:
    return json.loads(OVERRIDES.read_text(encoding="utf-8"))


def span_text(lines: dict[str, list[str]], span: SourceSpan) -> str:
    doc = lines[span.doc_id]
    assert 1 <= span.line_start <= span.line_end <= len(doc), span
    return squash("\n".join(doc[span.line_start - 1 : span.line_end]))


def doc_text(lines: dict[str, list[str]], doc_id: str) -> str:
    return squash("\n".join(lines[doc_id]))


def by_name(catalog: Catalog, name: str) -> Program:
    return next(p for p in catalog.programs if p.name == name)


# -- (a) traceability ----------------------------------------------------------------------------------


def test_every_program_value_is_in_its_source_row(catalog, lines):
    for p in catalog.programs:
        row = span_text(lines, p.source)
        assert squash(p.name) in row, p.name
        assert p.department and squash(p.department) in row, (p.name, p.department)
        assert p.ministry and any(form in row for form in MINISTRY_FORMS[p.ministry]), (p.name, p.ministry)
        for value in [*p.tel, *p.email, *p.applicant_types]:
            assert squash(value) in row, (p.name, value)
        if p.budget_thousand_yen is None:
            assert re.search(r"[ー－―-]", row), p.name
        else:
            assert f"{p.budget_thousand_yen:,}" in row, (p.name, p.budget_thousand_yen)
        if p.budget_note:
            assert squash(p.budget_note) in row, (p.name, p.budget_note)
        if p.new_calls is not None:
            assert ("有" if p.new_calls else "無") in row, p.name


def test_aliases_themes_and_mentions_are_in_the_corpus(catalog, lines):
    corpus = "".join(doc_text(lines, d) for d in lines)
    for p in catalog.programs:
        for alias in p.aliases:
            assert squash(alias) in corpus, (p.name, alias)
        for theme in p.themes:
            assert squash(theme) + "に向けた支援メニューの連絡先" in corpus or theme in corpus, (
                p.name,
                theme,
            )
        for span in p.mentions:
            span_text(lines, span)  # a valid line range
        assert p.source not in p.mentions


def test_descriptions_are_verbatim_in_the_source_document_and_listed_in_the_overrides(
    catalog, lines, overrides
):
    """The composer cites a description in the program's source document, so it must stand there."""
    described = {e["program"] for e in overrides["descriptions"]}
    for p in catalog.programs:
        if p.description is None:
            continue
        assert squash(p.description) in doc_text(lines, p.source.doc_id), p.name
        assert p.name in described or set(p.aliases) & described, p.name


def test_use_case_values_are_in_their_lines(catalog, lines, overrides):
    overridden_goals = {e["goal"] for e in overrides["use_cases"]}
    for u in catalog.use_cases:
        text = span_text(lines, u.source)
        assert squash(u.program_name) in text, u
        if u.note:
            assert squash(u.note) in text, u
        if u.goal in overridden_goals:
            assert squash(u.goal) in doc_text(lines, u.source.doc_id), u
        else:
            assert squash(u.goal) in text, u


def test_budget_line_values_are_in_their_lines(catalog, lines):
    for b in catalog.budget_lines:
        text = span_text(lines, b.source)
        assert squash(b.amount_text) in text, b
        assert squash(b.program_name) in text, b
        if b.ministry:
            # ◆ items without their own <文> take it from the section header just above them.
            doc = lines[b.source.doc_id]
            header = next(
                (
                    squash(doc[i])
                    for i in range(b.source.line_start - 1, -1, -1)
                    if doc[i].strip().startswith("【")
                ),
                "",
            )
            assert any(form in text or form in header for form in MINISTRY_FORMS[b.ministry]), b


def test_overrides_are_few_and_explained(overrides):
    entries = [e for key in ("merge_programs", "use_cases", "descriptions") for e in overrides[key]]
    assert all(e.get("comment", "").strip() for e in entries)
    assert len(overrides["merge_programs"]) <= 2
    assert len(overrides["use_cases"]) <= 2


# -- (b) golden records ----------------------------------------------------------------------------------

GOLDEN: dict[str, dict] = {
    "地域活性化人材育成事業": {
        "ministry": "文部科学省",
        "department": "文部科学省 高等教育局 大学振興課 大学改革推進室",
        "applicant_types": ["大学等研究機関"],
        "budget_thousand_yen": 1450000,
        "budget_note": None,
        "new_calls": True,
        "tel": ["03-5253-4111（内線3034）"],
        "email": ["daikaika@mext.go.jp"],
        "themes": ALL_THEMES,
        "aliases": ["SPARC"],
        "source": (1655, 1661),
    },
    "共創の場形成支援プログラム": {
        "ministry": "文部科学省",
        "department": "文部科学省 科学技術・学術政策局 産業連携・地域振興課 拠点形成・地域振興室",
        "applicant_types": ["大学等研究機関"],
        "budget_thousand_yen": 13750508,
        "budget_note": None,
        "new_calls": True,
        "tel": ["03-5253-4111（内線4195）"],
        "email": ["coi-next@mext.go.jp"],
        "themes": ALL_THEMES,
        "aliases": ["共創の場形成支援"],
        "source": (1663, 1669),
    },
    "ローカル10,000プロジェクト": {
        "ministry": "総務省",
        "department": "総務省 地域力創造グループ 地域政策課",
        "applicant_types": ["自治体"],
        "budget_thousand_yen": 500000,
        "budget_note": "（内数）",
        "new_calls": True,
        "tel": ["03-5253-5523"],
        "email": ["chisei@soumu.go.jp"],
        "themes": ["MaaS・自動運転", "スマート農業", "資源循環", "地域脱炭素", "防災・減災"],
        "source": (1645, 1653),
    },
    "産学融合拠点創出事業": {
        "ministry": "経済産業省",
        "department": "経済産業省 産業技術環境局 大学連携推進室",
        "applicant_types": ["民間事業者等"],
        "budget_thousand_yen": 250911,
        "new_calls": True,
        "tel": ["03-3501-0075"],
        "email": ["s-sangi-daigakurenkeisuishin@meti.go.jp"],
        "source": (1684, 1690),
    },
    "地方大学・地域産業創生交付金": {
        "ministry": "内閣府",
        "department": "内閣府 地方創生推進事務局",
        "applicant_types": ["自治体"],
        "budget_thousand_yen": 7200000,
        "budget_note": "（地方創生推進交付金活用分5,000,000含む）",
        "new_calls": True,
        "tel": ["03-6257-3803"],
        "email": [],
        "aliases": ["地方大学・地域産業創生交付金事業"],
        "source": (1671, 1682),
    },
    "地方気象台との人材育成・防災教育等での連携": {
        "ministry": "国土交通省",
        "department": "国土交通省 気象庁総務部企画課 技術開発推進室",
        "applicant_types": ["大学等研究機関"],
        "budget_thousand_yen": None,
        "new_calls": True,
        "tel": ["03-6758-3900（内線2230）"],
        "email": ["gisui@jma.go.jp"],
        "themes": ["防災・減災"],
        "source": (2472, 2480),
    },
    "スマートシティ実装化支援事業": {
        "ministry": "国土交通省",
        "department": "国土交通省 都市局",
        "applicant_types": ["官民コンソーシアム"],
        "budget_thousand_yen": 265000,
        "new_calls": True,
        "tel": [],
        "email": ["hqt-smartcity-mlit@gxb.mlit.go.jp"],
        "themes": ["スマートシティ"],
        "source": (2792, 2799),
    },
    "消防防災科学技術研究推進制度": {
        "ministry": "消防庁",
        "department": "消防庁 予防課（消防技術政策担当）",
        "applicant_types": ["大学等研究機関", "民間事業者等", "自治体"],
        "budget_thousand_yen": 134504,
        "new_calls": True,
        "tel": ["03-5253-7541"],
        "email": ["gisei2@ml.soumu.go.jp"],
        "source": (2493, 2505),
    },
    "医療系ベンチャートータルサポート事業": {
        "ministry": "厚生労働省",
        "department": "厚生労働省 医政局 経済課",
        "applicant_types": ["大学等研究機関", "民間事業者等"],
        "budget_thousand_yen": 300000,
        "budget_note": None,
        "new_calls": False,
        "tel": ["03-3595-2421"],
        "email": ["mhlw_venture@mhlw.go.jp"],
        "themes": ["地域バイオコミュニティ"],
        "source": (3443, 3454),
    },
    "大学発新産業創出プログラム（START）大学・エコシステム推進型": {
        "ministry": "文部科学省",
        "department": "文部科学省 科学技術・学術政策局 産業連携・地域振興課",
        "applicant_types": ["大学等研究機関"],
        "budget_thousand_yen": 1014000,
        "new_calls": True,
        "tel": ["03-6234-4584"],
        "email": ["edge@mext.go.jp"],
        "aliases": ["START"],
        "source": (3009, 3018),
    },
    "スマート農業技術の開発・実証・実装プロジェクト": {
        "ministry": "農林水産省",
        "department": "農林水産省 農林水産技術会議事務局 研究推進課",
        "applicant_types": ["民間事業者等"],
        "budget_thousand_yen": 4850000,
        "budget_note": "（内数）",
        "tel": ["03-3502-7437（内線5891）"],
        "email": ["smart_agri@maff.go.jp"],
    },
    "イノベーション創出強化研究推進事業（提案公募型研究事業）": {
        # "TEL:" and "ｍail：" variants of the labels
        "tel": ["03-3502-7462"],
        "email": ["kensui_soukatuhan@maff.go.jp"],
        "budget_thousand_yen": 3309054,
    },
    "地域脱炭素移行・再エネ推進交付金": {
        "ministry": "環境省",
        "department": "環境省 大臣官房 地域脱炭素推進総括官グループ 地域脱炭素事業推進調整官室",
        "applicant_types": ["自治体"],
        "budget_thousand_yen": 20000000,
        "tel": ["03-5521-8233"],
        "email": ["chiiki-zerocarbon@env.go.jp"],
    },
    "新SBIR制度加速事業": {
        "ministry": "内閣府",
        "department": "内閣府 科学技術・イノベーション推進事務局イノベーション推進グループ",
        "applicant_types": ["民間事業者等", "研究者"],
        "budget_thousand_yen": 450000,
        "tel": ["03-6257-1333"],
        "email": [],
    },
    "RoAD to the L4プロジェクト": {
        "ministry": "経済産業省",
        "department": "経済産業省 製造産業局 自動車課 ITS・自動走行推進室",
        "budget_thousand_yen": 5846000,
        "budget_note": "(内数)",
        "aliases": ["自動運転レベル４等先進モビリティサービス研究開発・社会実装プロジェクト"],
    },
    "環境で地域を元気にする地域循環共生圏プラットフォーム事業": {
        # printed as 「環境で地方を…づくりプラットフォーム事業」 in the バイオ table: merged by override
        "ministry": "環境省",
        "department": "環境省 大臣官房環境計画課 企画調査室",
        "budget_thousand_yen": 500000,
        "tel": ["03-3581-3351(内線6250)"],
        "themes": ["地域脱炭素", "地域バイオコミュニティ"],
        "aliases": ["環境で地方を元気にする地域循環共生圏づくりプラットフォーム事業"],
    },
}


@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden_record(catalog, name):
    program = by_name(catalog, name)
    for field, expected in GOLDEN[name].items():
        if field == "source":
            assert (program.source.line_start, program.source.line_end) == expected
            assert program.source.doc_id == PACKAGE
        else:
            assert getattr(program, field) == expected, (name, field)


def test_local_10000_and_kyoso_no_ba_descriptions(catalog):
    assert by_name(catalog, "ローカル10,000プロジェクト").description.startswith("産学金官の連携により")
    assert by_name(catalog, "共創の場形成支援プログラム").description == (
        "未来のありたい社会像の達成に向けて産学官による研究開発・社会実装と自立的な産学官連携システムの構築を推進"
    )


# -- (c) counts and ids ----------------------------------------------------------------------------------

EXPECTED_NAMES = [
    "RoAD to the L4プロジェクト",
    "未来技術社会実装事業",
    "ローカル10,000プロジェクト",
    "地域活性化人材育成事業",
    "共創の場形成支援プログラム",
    "地方大学・地域産業創生交付金",
    "産学融合拠点創出事業",
    "地域の中核大学の産学融合拠点の整備",
    "スマート農業技術の開発・実証・実装プロジェクト",
    "イノベーション創出強化研究推進事業（提案公募型研究事業）",
    "スマート農業産地モデル実証",
    "スタートアップへの総合的支援（SBIR支援）",
    "環境研究総合推進費",
    "脱炭素社会を支えるプラスチック等資源循環システム構築実証事業",
    "みどりの食料システム戦略実現技術開発・実証事業のうち革新的環境研究",
    "ムーンショット型農林水産研究開発事業",
    "地域脱炭素実現に向けた再エネの最大限導入のための計画づくり支援事業",
    "環境で地域を元気にする地域循環共生圏プラットフォーム事業",
    "地域脱炭素移行・再エネ推進交付金",
    "「脱炭素×復興まちづくり」推進事業",
    "地方気象台との人材育成・防災教育等での連携",
    "河川砂防技術開発公募",
    "消防防災科学技術研究推進制度",
    "国土地理院との共同研究",
    "道路政策の質の向上に資する技術研究開発",
    "建設技術研究開発助成制度",
    "地域課題解決のためのスマートシティ推進事業",
    "スマートシティ実装化支援事業",
    "地域新MaaS創出推進事業",
    "日本版MaaS推進・支援事業",
    "大学発新産業創出プログラム（START）大学・エコシステム推進型",
    "海外展開を促すグローバルスタートアップ・アクセラレーションプログラム",
    "新SBIR制度加速事業",
    "バイオコミュニティの形成に係る調査等（PRISM）",
    "バイオマス地産地消対策",
    "みどりの食料システム戦略実現技術開発・実証事業",
    "「知」の集積と活用の場によるイノベーションの創出",
    "医療系ベンチャートータルサポート事業",
]


def test_every_distinct_program_of_the_tables_once(catalog):
    names = [p.name for p in catalog.programs]
    assert names == EXPECTED_NAMES
    assert len({name_key(n) for n in names}) == len(names)


def test_ids_are_stable_unique_and_url_safe(catalog):
    ids = [p.id for p in catalog.programs]
    assert len(set(ids)) == len(ids)
    for p in catalog.programs:
        assert p.id == "p-" + hashlib.sha1(unicodedata.normalize("NFKC", p.name).encode()).hexdigest()[:10]
        assert re.fullmatch(r"p-[0-9a-f]{10}", p.id)


def test_each_table_row_is_the_source_or_a_mention(catalog, lines):
    """38 programs stand in 80 table rows; every row is cited by exactly one program."""
    doc = lines[PACKAGE]
    headers = [i for i, line in enumerate(doc, start=1) if re.match(r"^\s*事業名\s+申請主体", line)]
    cited = [
        s for p in catalog.programs for s in [p.source, *p.mentions] if s.line_start in _rows(doc, headers)
    ]
    assert len(cited) == len(set((s.line_start, s.line_end) for s in cited)) == 80


def _rows(doc: list[str], headers: list[int]) -> set[int]:
    """Line numbers inside the tables (header to theme footer)."""
    inside: set[int] = set()
    for start in headers:
        end = next(
            i for i in range(start, len(doc) + 1) if doc[i - 1].rstrip().endswith("支援メニューの連絡先")
        )
        inside.update(range(start + 1, end))
    return inside


# -- (d) use cases ---------------------------------------------------------------------------------------


def test_use_cases_cover_every_arrow_of_the_page(catalog, lines):
    doc = lines[PACKAGE]
    start = next(i for i, line in enumerate(doc) if "具体的にどのような支援策が使えるのか" in line)
    end = next(i for i in range(start, len(doc)) if "２－１．" in doc[i])
    arrows = sum("⇒" in line for line in doc[start:end])
    assert arrows == 10
    assert len(catalog.use_cases) >= arrows
    ids = {p.id for p in catalog.programs}
    for u in catalog.use_cases:
        assert u.program_id is None or u.program_id in ids, u


def test_use_cases_link_catalogued_programs(catalog):
    linked = {u.program_name: u for u in catalog.use_cases}
    assert linked["地域活性化人材育成事業"].program_id == by_name(catalog, "地域活性化人材育成事業").id
    assert linked["地域活性化人材育成事業"].category == "人材育成"
    assert linked["地域活性化人材育成事業"].goal == (
        "地域社会と連携して既存の教育プログラムを再構築し、地域を牽引する人材を育成したい"
    )
    assert linked["共創の場形成支援"].program_id == by_name(catalog, "共創の場形成支援プログラム").id
    local = linked["ローカル10000プロジェクト"]
    assert local.program_id == by_name(catalog, "ローカル10,000プロジェクト").id
    assert local.note == "（自治体が申請主体）"
    # 「…プロジェクトのうち戦略的スマート農業技術等の開発・改良」 on the map makes it a part of that program.
    smart = linked["戦略的スマート農業技術等の開発・改良"]
    assert smart.program_id == by_name(catalog, "スマート農業技術の開発・実証・実装プロジェクト").id
    assert smart.note == "（民間事業者が申請主体）"
    assert linked["マテリアル先端リサーチインフラ"].program_id is None  # not in the tables
    assert linked["構造改革特区へ申請"].program_id is None


# -- (e) budget lines ------------------------------------------------------------------------------------


def test_budget_lines_include_the_map_and_diamond_figures(catalog):
    kyoso = by_name(catalog, "共創の場形成支援プログラム")
    assert any(
        b.program_name == "共創の場形成支援プログラム"
        and b.amount_text == "138億円"
        and b.program_id == kyoso.id
        and b.ministry == "文部科学省"
        for b in catalog.budget_lines
    )
    wpi = [b for b in catalog.budget_lines if b.program_name == "世界トップレベル研究拠点プログラム(WPI)"]
    assert [(b.amount_text, b.ministry, b.program_id) for b in wpi] == [("6,100百万円", "文部科学省", None)]
    sparc = next(b for b in catalog.budget_lines if b.program_name == "地域活性化人材育成事業（SPARC)")
    assert sparc.amount_text == "1,450百万円（新規）"
    assert sparc.program_id == by_name(catalog, "地域活性化人材育成事業").id


def test_budget_lines_link_name_variants(catalog):
    amounts = {(b.program_name, b.amount_text): b.program_id for b in catalog.budget_lines}
    assert amounts[
        ("地方大学・地域産業創生交付金事業", "72億円（地方創生推進交付金活用分50.0億円含む）")
    ] == (by_name(catalog, "地方大学・地域産業創生交付金").id)
    assert (
        amounts[("消防防災科学技術研究推進制度", "1.3億円")]
        == by_name(catalog, "消防防災科学技術研究推進制度").id
    )
    assert amounts[("国土地理院との共同研究", "－")] == by_name(catalog, "国土地理院との共同研究").id
    assert amounts[("医療系ベンチャートータルサポート事業", "３億円")] == (
        by_name(catalog, "医療系ベンチャートータルサポート事業").id
    )
    assert amounts[("産学連携拠点の形成（共創の場形成支援）", "138億円の内数")] == (
        by_name(catalog, "共創の場形成支援プログラム").id
    )


# -- what other modules rely on ---------------------------------------------------------------------------


def test_contract_used_by_the_assistant(catalog):
    official = set(MINISTRY_FORMS)
    assert all(p.ministry in official for p in catalog.programs)
    for fragment in ["スマート農業", "脱炭素", "防災", "MaaS", "バイオ", "スタートアップ", "スマートシティ"]:
        assert any(fragment in t for p in catalog.programs for t in p.themes), fragment
    assert by_name(catalog, "共創の場形成支援プログラム").budget_thousand_yen >= 10_000_000
    assert any("START" in p.aliases for p in catalog.programs)
    assert "SPARC" in by_name(catalog, "地域活性化人材育成事業").aliases
    # PRISM names the funding programme (官民研究開発投資拡大プログラム（PRISM）), not this survey.
    assert "PRISM" not in by_name(catalog, "バイオコミュニティの形成に係る調査等（PRISM）").aliases


# -- (f) what each budget figure is ---------------------------------------------------------------------


def test_every_budget_basis_is_printed_where_it_points(catalog, lines):
    """A basis label is verbatim text of its source line; its fiscal year is the label's own (R4 → 令和4)."""
    bases = [p.budget_basis for p in catalog.programs] + [b.basis for b in catalog.budget_lines]
    for basis in filter(None, bases):
        assert basis.source is not None and squash(basis.label) in span_text(lines, basis.source), basis
        era = re.findall(r"(?:令和|R)(\d+)年度", basis.label)
        assert basis.fiscal_year == "・".join(dict.fromkeys(f"令和{n}年度" for n in era)), basis


def test_every_budget_figure_has_a_basis(catalog):
    for p in catalog.programs:
        assert (p.budget_basis is None) == (p.budget_thousand_yen is None), p.name
    for b in catalog.budget_lines:
        if re.search(r"[0-9０-９]", b.amount_text):
            assert b.basis is not None and b.basis.fiscal_year, b


def test_table_figures_carry_the_column_note_or_the_one_budget_a_same_figure_names(catalog):
    combined = "令和4年度予算政府案及び令和3年度補正予算額"
    # Printed nowhere else with one budget: the table's note (「予算額」には…を記載) is all the deck says.
    seibi = by_name(catalog, "地域の中核大学の産学融合拠点の整備")
    assert seibi.budget_basis.label == combined and seibi.budget_basis.fiscal_year == "令和4年度・令和3年度"
    # The スタートアップ page prints the same figures with their budget beside them.
    start = by_name(catalog, "大学発新産業創出プログラム（START）大学・エコシステム推進型")
    assert (start.budget_basis.label, start.budget_basis.fiscal_year) == ("令和4年度予算政府案", "令和4年度")
    assert start.budget_basis.source.line_start == 2977  # 「令和4年度予算政府案 1,014百万」 itself
    accel = by_name(catalog, "海外展開を促すグローバルスタートアップ・アクセラレーションプログラム")
    assert (accel.budget_basis.label, accel.budget_basis.fiscal_year) == ("令和3年度補正予算額", "令和3年度")
    # 13,751百万円 in the ◆ list (令和4年度予算政府案) is 13,750,508千円 at the precision it is printed to.
    assert by_name(catalog, "共創の場形成支援プログラム").budget_basis.label == "令和4年度予算政府案"
    # The バイオ tables lost their note in the extraction; the column's note elsewhere stands for them.
    assert by_name(catalog, "バイオマス地産地消対策").budget_basis.label == combined


def test_budget_lines_say_which_budget_each_figure_is(catalog):
    def figures(name: str) -> list[tuple[str, str, str | None]]:
        return [
            (b.amount_text, b.basis.label, b.basis.fiscal_year)
            for b in catalog.budget_lines
            if b.program_name == name and b.basis
        ]

    # A ◆ item with a bracketed figure is two figures: the legend says 【】内は補正予算額.
    assert figures("マテリアル先端リサーチインフラ") == [
        ("1,733百万円", "令和4年度予算政府案", "令和4年度"),
        ("【3,606百万円】", "令和3年度補正予算額", "令和3年度"),
    ]
    assert figures("地域の中核大学の産学融合拠点の整備")[0] == (
        "【5,900百万円】",
        "令和3年度補正予算額",
        "令和3年度",
    )
    # Map entries: the title of their map page.
    assert ("59億円", "R4年度MaaS・自動運転技術の社会実装に向けた支援メニュー", "令和4年度") in figures(
        "地域の中核大学の産学融合拠点の整備"
    )
    # The ◎ list: its title 「…予算（令和4年度予算案）」.
    assert figures("医療系ベンチャートータルサポート事業")[0] == ("3億円", "令和4年度予算案", "令和4年度")
    assert figures("海外展開を促すグローバルスタートアップ・アクセラレーションプログラム") == [
        ("補正予算額1,501百万円", "令和3年度補正予算額", "令和3年度")
    ]
