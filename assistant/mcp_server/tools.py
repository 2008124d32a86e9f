"""What each MCP tool returns: readable text with the citations, links to the cited lines, structured data.

A tool result is read by a model in an agent's transcript and by the application behind it. So each one
carries three things: a text block (the answer with its [n] markers and the sources block — title,
lines, verbatim quote — as :mod:`assistant.web.plain_answer` writes it for any chat window; a program
with its contacts copied from the catalog and the row it stands in), a ``resource_link`` per cited span
(``seisaku://documents/{doc_id}/lines/{a}-{b}``, readable as a resource) and ``structuredContent`` in the
shape the ``/v1`` API returns. The logic is the API's own: the same request limits, catalog filters,
network filters and search.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp_types import CallToolResult, ResourceLink, TextContent
from pydantic import BaseModel, Field, ValidationError

from assistant.pipeline.conditions import InvalidFilterError
from assistant.pipeline.hits import Mode
from assistant.pipeline.read import Turn
from assistant.pipeline.service import ProgramCard
from assistant.records import SourceSpan
from assistant.web.catalog_table import CatalogQuery, budget_bound, select_programs
from assistant.web.plain_answer import answer_text
from assistant.web.routes.catalog import program_detail
from assistant.web.routes.networks import NetworkGraphResponse, network_graph
from assistant.web.routes.search import search_hits
from assistant.web.schemas import AnswerRequest, Filters, ProgramDetail
from assistant.web.workers import PoolBusy

URI_SCHEME = "seisaku"
DOCUMENTS_URI = f"{URI_SCHEME}://documents"
DOCUMENT_URI = DOCUMENTS_URI + "/{doc_id}"
LINES_URI = DOCUMENT_URI + "/lines/{line_start}-{line_end}"


def lines_uri(doc_id: str, line_start: int, line_end: int) -> str:
    return LINES_URI.format(doc_id=doc_id, line_start=line_start, line_end=line_end)


def _lines(start: int, end: int) -> str:
    return f"{start}行" if start == end else f"{start}–{end}行"


def _link(svc: Any, doc_id: str, start: int, end: int, label: str) -> ResourceLink:
    stored = svc.store.get(doc_id)
    title = stored.info.title if stored is not None else doc_id
    return ResourceLink(
        name=f"{label} {doc_id}:{start}-{end}",
        title=f"{label} {title}（{_lines(start, end)}）",
        uri=lines_uri(doc_id, start, end),
        mime_type="text/plain",
    )


def _failing(action: Any) -> Any:
    """Run ``action``; what the API answers as a 4xx/503 becomes a ToolError with the same words."""
    try:
        return action()
    except InvalidFilterError as exc:
        raise ToolError(str(exc)) from None
    except PoolBusy as busy:
        raise ToolError(
            f"The server is busy answering other questions; retry after {busy.retry_after} s."
        ) from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors())


# -- answer -------------------------------------------------------------------------------------------
def answer(svc: Any, question: str, history: list[Turn], filters: Filters | None) -> CallToolResult:
    try:
        request = AnswerRequest(question=question, history=history, filters=filters)
    except ValidationError as exc:
        raise ToolError(_problems(exc)) from None
    asked = request.filters.model_dump() if request.filters else None
    response = _failing(lambda: svc.answer(request.question, request.history, asked))
    data = response.model_dump(mode="json")
    links = [
        _link(svc, c["doc_id"], c["line_start"], c["line_end"], f"[{c['id']}]") for c in data["citations"]
    ]
    return CallToolResult(content=[TextContent(text=answer_text(data)), *links], structured_content=data)


# -- search -------------------------------------------------------------------------------------------
def search(svc: Any, query: str, k: int, mode: Mode) -> CallToolResult:
    if not query.strip():
        raise ToolError("query must not be empty")
    if len(query) > svc.settings.max_question_chars:
        raise ToolError(f"query is longer than {svc.settings.max_question_chars} characters")
    found = _failing(lambda: search_hits(svc, query, k, mode))
    entries, links = [], []
    for n, hit in enumerate(found.hits, start=1):
        stored = svc.store.get(hit.doc_id)
        title = stored.info.title if stored is not None else hit.doc_id
        where = f"{hit.doc_id} {_lines(hit.line_start, hit.line_end)}"
        if hit.kind == "program" and hit.program is not None:
            entries.append(f"[{n}] 事業: {_program_line(hit.program)}（{title}, {where}）")
        else:
            text = stored.span_text(hit.line_start, hit.line_end) if stored is not None else hit.text
            entries.append(f"[{n}] {title}（{where}）\n「{text}」")
        links.append(_link(svc, hit.doc_id, hit.line_start, hit.line_end, f"[{n}]"))
    text = "\n".join(entries) if entries else "該当する箇所は見つかりませんでした。"
    return CallToolResult(
        content=[TextContent(text=text), *links], structured_content=found.model_dump(mode="json")
    )


# -- the catalog --------------------------------------------------------------------------------------
class CatalogEntry(ProgramCard):
    """A program's card and the table row it comes from, verbatim."""

    source: SourceSpan = Field(description="The row of the 関連事業マップ table the card is read from.")
    source_title: str = Field(description="Title of that document.")
    source_text: str = Field(description="The row's lines, verbatim.")


class CatalogResult(BaseModel):
    count: int = Field(description="How many programs meet the conditions.")
    programs: list[CatalogEntry] = Field(description="In the catalog's order.")


class ProgramResult(ProgramDetail):
    source_title: str = Field(description="Title of the document holding the program's row.")
    source_text: str = Field(description="The row's lines, verbatim.")


def _source(svc: Any, span: SourceSpan) -> tuple[str, str]:
    stored = svc.store.get(span.doc_id)
    if stored is None:
        return span.doc_id, ""
    return stored.info.title, stored.span_text(span.line_start, span.line_end)


def _program_line(card: ProgramCard) -> str:
    """Name, ministry, budget and contacts, copied from the catalog record (never composed)."""
    parts = [f"{card.name}（{card.ministry or '所管不明'}）"]
    if card.budget_thousand_yen is not None:
        basis = f" {card.budget_basis.label}" if card.budget_basis else ""
        parts.append(f"予算額 {card.budget_thousand_yen:,}千円{basis}")
    elif card.budget_note:
        parts.append(f"予算額 {card.budget_note}")
    if card.applicant_types:
        parts.append("申請主体: " + "・".join(card.applicant_types))
    if card.new_calls is not None:
        parts.append(f"新規採択: {'有' if card.new_calls else '無'}")
    if card.department:
        parts.append(f"担当: {card.department}")
    if card.tel:
        parts.append("TEL: " + " / ".join(card.tel))
    if card.email:
        parts.append("mail: " + " / ".join(card.email))
    return "、".join(parts)


def _bound(value: int | str | None, name: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    try:
        return budget_bound(value)
    except ValueError:
        raise ToolError(
            f"{name}: write thousand yen (1450000) or an amount such as 10億円 / 500百万円"
        ) from None


def list_programs(
    svc: Any,
    ministry: str | None,
    applicant_type: str | None,
    theme: str | None,
    min_budget: int | str | None,
    max_budget: int | str | None,
    new_calls: bool | None,
    q: str | None,
) -> CallToolResult:
    query = CatalogQuery(
        ministry,
        applicant_type,
        theme,
        _bound(min_budget, "min_budget"),
        _bound(max_budget, "max_budget"),
        new_calls,
        q,
    )
    found = _failing(lambda: select_programs(svc, query))
    entries, lines, links = [], [], []
    for program in found:
        title, text = _source(svc, program.source)
        card = ProgramCard.of(program)
        entries.append(
            CatalogEntry(**card.model_dump(), source=program.source, source_title=title, source_text=text)
        )
        span = program.source
        lines.append(
            f"・{_program_line(card)}\n  出典: {title}（{span.doc_id} {_lines(span.line_start, span.line_end)}）"
        )
        links.append(_link(svc, span.doc_id, span.line_start, span.line_end, program.name))
    result = CatalogResult(count=len(entries), programs=entries)
    head = f"条件に合う事業: {len(entries)}件"
    return CallToolResult(
        content=[TextContent(text="\n".join([head, *lines])), *links],
        structured_content=result.model_dump(mode="json"),
    )


def get_program(svc: Any, program: str) -> CallToolResult:
    found = svc.programs.get(program.strip())
    if found is None:
        named = list(dict.fromkeys(svc.matcher.find(program)))
        if len(named) != 1:
            why = "several programs match that name" if named else "no program has that id or name"
            raise ToolError(f"{why}; list_programs gives every program's id and name")
        found = svc.programs[named[0]]
    detail = program_detail(svc, found)
    title, text = _source(svc, found.source)
    result = ProgramResult(**detail.model_dump(), source_title=title, source_text=text)
    span = found.source
    lines = [f"{_program_line(ProgramCard.of(found))}（id: {found.id}）"]
    if found.aliases:
        lines.append("別名: " + "、".join(found.aliases))
    if found.themes:
        lines.append("テーマ: " + "、".join(found.themes))
    if found.description:
        lines.append(f"概要: 「{found.description}」")
    lines.append(f"出典: {title}（{span.doc_id} {_lines(span.line_start, span.line_end)}）\n「{text}」")
    links = [_link(svc, span.doc_id, span.line_start, span.line_end, found.name)]
    for figure in detail.budget_figures:
        at = figure.source
        basis = f"（{figure.basis.label}）" if figure.basis else ""
        lines.append(
            f"予算の記載: {figure.amount_text}{basis} — {at.doc_id} {_lines(at.line_start, at.line_end)}"
        )
        links.append(_link(svc, at.doc_id, at.line_start, at.line_end, figure.amount_text))
    return CallToolResult(
        content=[TextContent(text="\n".join(lines)), *links],
        structured_content=result.model_dump(mode="json"),
    )


# -- the regional networks ----------------------------------------------------------------------------
def networks(
    svc: Any, region: str | None, program: str | None, sector: str | None, member: str | None
) -> CallToolResult:
    graph: NetworkGraphResponse = _failing(
        lambda: network_graph(svc, region=region, program=program, sector=sector, member=member)
    )
    members = {n.data.id: n.data for n in graph.elements.nodes if n.data.kind == "member"}
    by_network: dict[str, list[Any]] = {}
    for edge in graph.elements.edges:
        by_network.setdefault(edge.data.target, []).append(edge.data)
    blocks, links = [], []
    for node in graph.elements.nodes:
        data = node.data
        if data.kind != "network":
            continue
        head = (
            f"【{data.region}】{data.label}（{data.program_name or data.program}）構成員 {data.members or 0}"
        )
        lines = [head]
        for span in data.sources[:1]:
            lines.append(f"  出典: {span.title}（{span.doc_id} {_lines(span.line_start, span.line_end)}）")
            links.append(_link(svc, span.doc_id, span.line_start, span.line_end, data.label))
        for edge in by_network.get(data.id, []):
            sector_label = edge.sector or (members[edge.source].sector if edge.source in members else None)
            extra = "".join(f"（{x}）" for x in (sector_label, edge.role) if x)
            where = ", ".join(f"{s.doc_id} {_lines(s.line_start, s.line_end)}" for s in edge.sources)
            lines.append(f"  ・{edge.printed}{extra} — {where}")
        blocks.append("\n".join(lines))
    counts = graph.counts
    head = (
        f"ネットワーク {counts.networks}件、構成員 {counts.members}団体（複数に参加 {counts.shared_members}）"
    )
    return CallToolResult(
        content=[TextContent(text="\n\n".join([head, *blocks])), *links],
        structured_content=graph.model_dump(mode="json"),
    )


# -- documents as resources ---------------------------------------------------------------------------
def documents_index(svc: Any) -> list[dict[str, Any]]:
    return [
        {
            **doc.info.model_dump(exclude={"path"}),
            "lines": len(doc.lines),
            "uri": DOCUMENT_URI.format(doc_id=doc_id),
        }
        for doc_id, doc in svc.store.documents.items()
    ]


def document_text(svc: Any, doc_id: str) -> str:
    stored = svc.store.get(doc_id)
    if stored is None:
        raise ResourceNotFoundError(f"No document with that id; {DOCUMENTS_URI} lists them.")
    return stored.text


def document_lines(svc: Any, doc_id: str, line_start: str, line_end: str) -> str:
    """Lines ``line_start``–``line_end`` (1-based, inclusive) verbatim, as citations number them."""
    stored = svc.store.get(doc_id)
    if stored is None:
        raise ResourceNotFoundError(f"No document with that id; {DOCUMENTS_URI} lists them.")
    if not (line_start.isdigit() and line_end.isdigit()):
        raise ResourceError("line numbers must be whole numbers, e.g. …/lines/12-14")
    start, end = int(line_start), int(line_end)
    if not 1 <= start <= end <= len(stored.lines):
        raise ResourceError(f"the line range must lie within 1-{len(stored.lines)} and not be reversed")
    return stored.span_text(start, end)
