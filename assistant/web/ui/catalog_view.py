"""HTML of the 「事業一覧」, 「関連事業マップ」 and 「収録資料」 tabs, built from the catalog and the manifest.

* 事業一覧: the programs ``/v1/programs`` returns for the chosen filters, as a table sortable by every
  column (``static/app/page.js``); a row opens the program's card and its sources (the table row it
  comes from and every other place the deck states it, each linked to the document view).
* 関連事業マップ: the deck's map of one theme as it draws it — the stages printed on the map page
  (①関連技術の高度化… → ②…の実装…) over two rows: 「政策課題への対応」, the theme's own programs, and
  「大学の強みを伸ばす」, the programs every theme's map shows (which the catalog knows: they stand in every
  theme's table). Each box has the figure the map page prints, with its basis.
* 収録資料: the documents with title, publisher and date from the manifest.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import gradio as gr

from assistant.pipeline.conditions import InvalidFilterError
from assistant.pipeline.service import AnswerService, ProgramCard
from assistant.records import Program
from assistant.web.catalog_table import CatalogQuery, budget_bound, select_programs
from assistant.web.ui.chat import Holder, ready_service
from assistant.web.ui.document_view import KIND_LABELS
from assistant.web.ui.render import (
    NO_FILTER,
    _document_link,
    basis_text,
    budget_html,
    esc,
    lines_label,
    passage_html,
    program_card_html,
    shown,
)

#: A stage heading of a map page: 「①関連技術の高度化、及び基盤技術の開発等」.
_STAGE = re.compile(r"^\s*(?P<stage>[①②③④][^①②③④\s].{2,40})\s*$")
_MENU_TITLE = re.compile(r"^\s*R\d+年度(?P<theme>\S+?)に向けた支援メニュー\s*$")
_TABLE_FOOTER = re.compile(r"支援メニューの連絡先\s*$")
_MAP_HEADING = re.compile(r"別紙（関連事業マップ）")
UNIVERSITY_ROW = "大学の強みを伸ばす：大学が変わる"
POLICY_ROW = "政策課題への対応：社会が変わる"


# -- 事業一覧 -------------------------------------------------------------------------------------------
def catalog_table_html(programs: list[Program], service: AnswerService) -> str:
    if not programs:
        return '<div class="pa-empty">条件に合う事業はありません。絞り込みを緩めてください。</div>'
    head = (
        "<thead><tr>"
        '<th scope="col"><button type="button">事業名</button></th>'
        '<th scope="col"><button type="button">所管</button></th>'
        '<th scope="col" class="pa-hide-phone"><button type="button">申請主体</button></th>'
        '<th scope="col" class="pa-sort-number"><button type="button">予算額（千円）</button></th>'
        '<th scope="col"><button type="button">新規採択</button></th>'
        '<th scope="col" class="pa-hide-phone"><button type="button">テーマ</button></th>'
        "</tr></thead>"
    )
    rows = []
    for program in programs:
        card = ProgramCard.of(program).model_dump(mode="json")
        new_calls = {True: "有", False: "無"}.get(program.new_calls, "記載なし")  # type: ignore[arg-type]
        rows.append(
            f'<tr class="pa-row" id="pa-row-{esc(program.id)}">'
            f'<td><button type="button" class="pa-row-toggle" aria-expanded="false">{shown(program.name)}'
            "</button></td>"
            f"<td>{shown(program.ministry or '記載なし')}</td>"
            f'<td class="pa-hide-phone">{shown("、".join(program.applicant_types) or "記載なし")}</td>'
            f'<td class="pa-num-cell">{budget_html(card)}</td>'
            f"<td>{esc(new_calls)}</td>"
            f'<td class="pa-hide-phone">{shown("、".join(program.themes))}</td></tr>'
            f'<tr class="pa-row-detail"><td colspan="6">{program_card_html(card, service)}'
            f"{program_sources_html(program, service)}</td></tr>"
        )
    return (
        f'<div class="pa-count-line">{len(programs)}件（行を押すと事業の詳細と出典を表示、列名で並べ替え）</div>'
        f'<div class="pa-catalog-wrap"><table class="pa-catalog">{head}<tbody>{"".join(rows)}</tbody></table></div>'
    )


def program_sources_html(program: Program, service: AnswerService) -> str:
    """The table row a program comes from (as a passage) and the other places the deck states it."""
    source = program.source
    stored = service.store.get(source.doc_id)
    passage = passage_html(stored.lines, source.line_start, source.line_end, "") if stored is not None else ""
    title = shown(stored.info.title) if stored is not None else esc(source.doc_id)
    mentions = "".join(
        f"<li>{lines_label(m.line_start, m.line_end)} {_document_link(m.doc_id, m.line_start, m.line_end, '資料で見る')}</li>"
        for m in program.mentions
    )
    return (
        '<div class="pa-card pa-source">'
        f'<div class="pa-card-title">出典：{title}</div>'
        f'<div class="pa-meta">{source.line_start}–{source.line_end}行目（関連事業マップの表） '
        f"{_document_link(source.doc_id, source.line_start, source.line_end, '資料全体で見る')}</div>"
        f'<blockquote class="pa-passage">{passage}</blockquote>'
        + (
            f'<details class="pa-figures"><summary>ほかの記載箇所（{len(program.mentions)}件）</summary>'
            f"<ul>{mentions}</ul></details>"
            if program.mentions
            else ""
        )
        + "</div>"
    )


# -- 関連事業マップ ------------------------------------------------------------------------------------
def _map_page(lines: list[str], theme: str) -> tuple[int, int] | None:
    """Line range of the theme's map page: after the previous table's footer (or the 別紙（関連事業マップ）
    heading, for the first map) up to the theme's own table footer."""
    footers = [n for n, line in enumerate(lines, start=1) if _TABLE_FOOTER.search(line)]
    for number, line in enumerate(lines, start=1):
        m = _MENU_TITLE.match(line)
        if m and theme in m["theme"]:
            before = [f for f in footers if f < number]
            headings = [n for n, text in enumerate(lines[:number], start=1) if _MAP_HEADING.search(text)]
            start = before[-1] if before else (headings[-1] if headings else number)
            after = [f for f in footers if f > number]
            return start, (after[0] if after else len(lines))
    return None


def map_stages(service: AnswerService, theme: str) -> list[str]:
    """The stage headings the theme's map page prints, in their order (①, ②, …)."""
    catalog = service.index.catalog
    if not catalog.programs:
        return []
    stored = service.store.get(catalog.programs[0].source.doc_id)
    if stored is None:
        return []
    page = _map_page(stored.lines, theme)
    if page is None:
        return []
    stages = {
        m["stage"].strip()
        for line in stored.lines[page[0] - 1 : page[1]]
        if (m := _STAGE.match(line)) and not re.search(r"[①②③④]\S*(大学等|民間|自治体|研究者)", line)
    }
    return sorted(stages)


def map_html(service: AnswerService, theme: str) -> str:
    programs = [p for p in service.programs.values() if theme in p.themes]
    if not programs:
        return '<div class="pa-empty">テーマを選ぶと、その関連事業マップを表示します。</div>'
    all_themes = {t for p in service.programs.values() for t in p.themes}
    shared = [p for p in programs if set(p.themes) >= all_themes]
    own = [p for p in programs if p not in shared]
    stages = map_stages(service, theme)
    flow = " → ".join(f'<span class="pa-stage">{shown(s)}</span>' for s in stages)
    layers = [(POLICY_ROW, own), (UNIVERSITY_ROW, shared)]
    body = "".join(
        f'<section class="pa-map-layer"><h4>{esc(name)}</h4><div class="pa-map-boxes">'
        f"{''.join(_map_box(p, service, theme) for p in members) or '<span class=pa-empty>なし</span>'}"
        "</div></section>"
        for name, members in layers
    )
    note = (
        '<div class="pa-meta">資料の関連事業マップ（R4年度支援メニュー）を、収録した事業一覧から組み立てています。'
        "「大学の強みを伸ばす」はどのテーマのマップにも載る事業です。金額はマップに記載の額とその基準です。</div>"
    )
    stages_html = f'<div class="pa-map-stages">段階：{flow}</div>' if stages else ""
    return f'<div class="pa-map">{stages_html}{body}{note}</div>'


def _map_box(program: Program, service: AnswerService, theme: str) -> str:
    """A program's box on the map: name, ministry, the figure the theme's map page prints, its card."""
    stored = service.store.get(program.source.doc_id)
    page = _map_page(stored.lines, theme) if stored is not None else None
    figure = ""
    for line in service.index.catalog.budget_lines:
        inside = page is None or page[0] <= line.source.line_start <= page[1]  # no map page: any figure
        if line.program_id == program.id and inside and line.basis is not None:
            figure = (
                f'<div>{shown(line.amount_text)}<span class="pa-basis">{shown(basis_text(line.basis.model_dump()))}'
                f"</span>{_document_link(line.source.doc_id, line.source.line_start, line.source.line_end, '記載')}</div>"
            )
            break
    description = f'<div class="pa-meta">{shown(program.description)}</div>' if program.description else ""
    card = ProgramCard.of(program).model_dump(mode="json")
    return (
        f'<div class="pa-map-box"><b>{shown(program.name)}</b>'
        f'<span class="pa-badge">{shown(program.ministry or "")}</span>{figure}{description}'
        f'<details class="pa-figures"><summary>事業の詳細</summary>{program_card_html(card, service)}</details></div>'
    )


# -- 収録資料 ------------------------------------------------------------------------------------------
def documents_html(service: AnswerService) -> str:
    rows = "".join(
        "<tr>"
        f"<td>{shown(doc.info.title)}</td><td>{esc(doc.info.publisher)}</td>"
        f"<td>{esc(doc.info.date)}</td><td>{esc(KIND_LABELS.get(doc.info.kind, doc.info.kind))}</td>"
        f"<td>{len(doc.lines):,}行 {_document_link(doc.info.doc_id, 1, 1, '全文')}</td></tr>"
        for doc in service.store.documents.values()
    )
    return (
        '<table class="pa-doc-list"><thead><tr><th>資料</th><th>発行</th><th>日付</th><th>種類</th><th>本文</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
        '<div class="pa-meta">回答はこれらの資料の記載だけから作られます。日付は各資料の時点です。</div>'
    )


# -- the tabs ------------------------------------------------------------------------------------------
class CatalogTabs:
    """Handlers of the 事業一覧 / 関連事業マップ / 収録資料 tabs (the service is read when it has loaded)."""

    def __init__(self, holder: Holder) -> None:
        self.holder = holder

    def refresh(self):
        """Filter choices, the full table and the documents once the service has loaded."""
        svc = ready_service(self.holder)
        if svc is None:
            waiting = '<div class="pa-status">⏳ 準備中…</div>'
            return (gr.skip(),) * 4 + (waiting, waiting, waiting, gr.skip())
        programs = list(svc.programs.values())
        ministries = sorted({p.ministry for p in programs if p.ministry})
        applicants = sorted({a for p in programs for a in p.applicant_types})
        themes = sorted({t for p in programs for t in p.themes}, key=_theme_order(programs))
        table, links = self.table(NO_FILTER, NO_FILTER, NO_FILTER, NO_FILTER, None, None, "")
        return (
            gr.Dropdown(choices=[NO_FILTER, *ministries]),
            gr.Dropdown(choices=[NO_FILTER, *applicants]),
            gr.Dropdown(choices=[NO_FILTER, *themes]),
            gr.Dropdown(choices=themes, value=themes[0] if themes else None),
            table,
            map_html(svc, themes[0]) if themes else "",
            documents_html(svc),
            links,
        )

    def table(self, ministry, applicant, theme, new_calls, min_budget, max_budget, text):
        """(table HTML, export links) for the filters; a bad value is a readable message."""
        svc = ready_service(self.holder)
        if svc is None:
            return '<div class="pa-status">⏳ 準備中…</div>', ""
        try:
            low, high = budget_bound(min_budget), budget_bound(max_budget)
        except ValueError as exc:
            return f'<div class="pa-empty">{esc(str(exc))}</div>', ""
        query = CatalogQuery(
            ministry=None if ministry in (None, NO_FILTER) else ministry,
            applicant_type=None if applicant in (None, NO_FILTER) else applicant,
            theme=None if theme in (None, NO_FILTER) else theme,
            new_calls={"有": True, "無": False}.get(new_calls or ""),
            min_budget=low,
            max_budget=high,
            q=(text or "").strip()[:200] or None,
        )
        try:
            programs = select_programs(svc, query)
        except InvalidFilterError as exc:
            return f'<div class="pa-empty">{esc(str(exc))}</div>', ""
        return catalog_table_html(programs, svc), export_links(query)

    def map(self, theme: str | None) -> str:
        svc = ready_service(self.holder)
        if svc is None or not theme:
            return '<div class="pa-status">⏳ 準備中…</div>'
        return map_html(svc, theme)

    def build(self) -> tuple[list, list]:
        """The three tabs' components; returns (readiness outputs, []) for the page's readiness events."""
        with gr.Tab("事業一覧", id="catalog", elem_id="pa-tab-catalog"):
            gr.Markdown(
                "総合振興パッケージ・関連事業マップの表に載る事業です。条件を変えると一覧が更新されます。"
            )
            with gr.Row(equal_height=True):
                ministry = gr.Dropdown([NO_FILTER], value=NO_FILTER, label="所管", elem_id="pa-c-ministry")
                applicant = gr.Dropdown(
                    [NO_FILTER], value=NO_FILTER, label="申請主体", elem_id="pa-c-applicant"
                )
                theme = gr.Dropdown([NO_FILTER], value=NO_FILTER, label="テーマ", elem_id="pa-c-theme")
                new_calls = gr.Radio(
                    [NO_FILTER, "有", "無"], value=NO_FILTER, label="新規採択", elem_id="pa-c-new-calls"
                )
            with gr.Row(equal_height=True):
                # Text, not gr.Number: people type budgets as they write them (「10億円」), and a
                # number field kept only the digits and handed the handler a float.
                min_budget = gr.Textbox(
                    label="予算額の下限",
                    placeholder="例：10億円、500百万円、5000000（千円）",
                    elem_id="pa-c-min",
                    max_length=40,
                )
                max_budget = gr.Textbox(
                    label="予算額の上限",
                    placeholder="例：100億円",
                    elem_id="pa-c-max",
                    max_length=40,
                )
                text = gr.Textbox(
                    label="事業名・説明で検索",
                    placeholder="例：人材育成、SBIR",
                    elem_id="pa-c-text",
                    max_length=200,
                )
            exports = gr.HTML("", elem_id="pa-c-exports")
            table = gr.HTML('<div class="pa-status">⏳ 準備中…</div>', elem_id="pa-catalog")
            inputs = [ministry, applicant, theme, new_calls, min_budget, max_budget, text]
            for component in inputs:
                event = component.submit if isinstance(component, gr.Textbox) else component.change
                event(self.table, inputs, [table, exports], show_progress="hidden")
            text.change(self.table, inputs, [table, exports], show_progress="hidden")
            for bound in (min_budget, max_budget):  # leaving the field applies it too, not only Enter
                bound.blur(self.table, inputs, [table, exports], show_progress="hidden")
        with gr.Tab("関連事業マップ", id="map", elem_id="pa-tab-map"):
            map_theme = gr.Dropdown([], label="テーマ", elem_id="pa-m-theme")
            map_view = gr.HTML('<div class="pa-status">⏳ 準備中…</div>', elem_id="pa-map")
            map_theme.change(self.map, [map_theme], [map_view], show_progress="hidden")
        with gr.Tab("収録資料", id="documents", elem_id="pa-tab-documents"):
            documents = gr.HTML('<div class="pa-status">⏳ 準備中…</div>', elem_id="pa-documents")
        outputs = [ministry, applicant, theme, map_theme, table, map_view, documents, exports]
        return outputs, inputs


def export_links(query: CatalogQuery) -> str:
    """Links to ``/v1/programs`` with the table's filters: the download is the API's, row for row (the page's
    session is accepted there), and no file is kept on the server."""
    params = {
        "ministry": query.ministry,
        "applicant_type": query.applicant_type,
        "theme": query.theme,
        "new_calls": None if query.new_calls is None else str(query.new_calls).lower(),
        "min_budget": query.min_budget,
        "max_budget": query.max_budget,
        "q": query.q,
    }
    kept = {k: v for k, v in params.items() if v is not None}
    links = [
        f'<a id="pa-c-{fmt}" class="pa-export" href="v1/programs?{esc(urlencode({**kept, "format": fmt}))}" '
        f'download="事業一覧.{fmt}">{label}</a>'
        for fmt, label in (("csv", "CSVで書き出す"), ("xlsx", "Excelで書き出す"))
    ]
    return f'<div class="pa-exports">{"".join(links)}</div>'


def _theme_order(programs: list[Program]):
    """Themes in the order the deck presents them (the order of their first table)."""
    first: dict[str, int] = {}
    for p in programs:
        for t in p.themes:
            first.setdefault(t, p.source.line_start)
    return lambda theme: first.get(theme, 0)
