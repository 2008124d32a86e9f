"""The MCP server's tools and resources (``MCPServer`` of the official ``mcp`` SDK).

Tools: ``answer`` (question, history, filters), ``search``, ``list_programs`` (every catalog condition,
budget range included), ``get_program``, ``networks`` (region, program, sector, member). Resources: the
documents (``seisaku://documents/{doc_id}``), any line range of one
(``seisaku://documents/{doc_id}/lines/{a}-{b}``, what citations link to) and the list of documents
(``seisaku://documents``). Every tool is read-only. Results are built in :mod:`assistant.mcp_server.tools`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import CallToolResult, Resource, ToolAnnotations
from pydantic import Field

from assistant.mcp_server import tools
from assistant.mcp_server.source import ServiceSource
from assistant.pipeline.read import Turn
from assistant.pipeline.service import AnswerResponse
from assistant.web.routes.networks import NetworkGraphResponse
from assistant.web.schemas import Filters, SearchResponse

NAME = "seisaku-assistant"
INSTRUCTIONS = (
    "政策アシスタント: grounded answers about Japanese government documents on regional 産学官連携 "
    "(industry–academia–government collaboration) programs. Every statement of an answer carries a [n] "
    "citation with a verbatim quote; contacts (TEL, e-mail) are copied from the documents, so pass them on "
    "unchanged. When the documents do not answer, the 'answer' tool says so (abstained: true) instead of "
    "guessing. Use 'answer' for questions, 'list_programs'/'get_program' for the program catalog, "
    "'networks' for regional networks, 'search' for passages; cited lines are resources."
)
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


class AssistantMCPServer(MCPServer):
    """MCPServer whose resource list names every document of the index being served."""

    def __init__(self, source: ServiceSource, **kwargs: Any) -> None:
        super().__init__(NAME, instructions=INSTRUCTIONS, **kwargs)
        self.source = source

    async def list_resources(self) -> list[Resource]:
        listed = await super().list_resources()
        try:
            svc = self.source()
        except Exception:  # not loaded yet: the documents appear once it is
            return listed
        for doc in tools.documents_index(svc):
            listed.append(
                Resource(
                    uri=doc["uri"],
                    name=doc["doc_id"],
                    title=doc["title"],
                    description=f"{doc['publisher']}, {doc['date']} ({doc['kind']}); {doc['lines']} lines",
                    mime_type="text/plain",
                )
            )
        return listed


def build_server(source: ServiceSource) -> AssistantMCPServer:
    server = AssistantMCPServer(source, log_level="WARNING")

    def loaded() -> Any:
        """The service for a resource read (a resource fails with ResourceError, not a tool's error)."""
        try:
            return source()
        except ToolError as exc:
            raise ResourceError(str(exc)) from None

    @server.tool(title="質問に答える (grounded answer)", annotations=READ_ONLY)
    def answer(
        question: Annotated[
            str, Field(description="The question, in Japanese (or English), 1–2,000 characters.")
        ],
        history: Annotated[
            list[Turn],
            Field(description="Earlier turns, oldest first, for follow-ups such as 「その事業の予算は？」."),
        ] = [],  # noqa: B006 - the schema's default; never mutated
        filters: Annotated[
            Filters | None, Field(description="Conditions on the programs an answer names (ministry, …).")
        ] = None,
    ) -> Annotated[CallToolResult, AnswerResponse]:
        """Answer a question from the documents: the answer with [n] citations and a sources block (title,
        lines, verbatim quote), programs with their exact contacts, and abstained=true when the documents
        do not answer it."""
        return tools.answer(source(), question, history, filters)

    @server.tool(title="資料を検索 (search passages)", annotations=READ_ONLY)
    def search(
        query: Annotated[str, Field(description="Words to look for, e.g. 共創の場 問い合わせ先.")],
        k: Annotated[int, Field(ge=1, le=50, description="How many hits.")] = 8,
        mode: Annotated[
            Literal["hybrid", "dense", "bm25"],
            Field(description="hybrid (default), dense or bm25 retrieval."),
        ] = "hybrid",
    ) -> Annotated[CallToolResult, SearchResponse]:
        """Passages and programs matching the query, best first, each with its document, lines and text."""
        return tools.search(source(), query, k, mode)

    @server.tool(title="事業一覧 (list programs)", annotations=READ_ONLY)
    def list_programs(
        ministry: Annotated[str | None, Field(description="所管府省, e.g. 文部科学省 (or 文科省).")] = None,
        applicant_type: Annotated[
            str | None,
            Field(description="申請主体: 大学等研究機関, 民間事業者等, 自治体, 研究者, 官民コンソーシアム."),
        ] = None,
        theme: Annotated[
            str | None, Field(description="Theme of the 関連事業マップ, e.g. 地域脱炭素.")
        ] = None,
        min_budget: Annotated[
            int | str | None, Field(description="Lowest 予算額: thousand yen (1450000) or e.g. 10億円.")
        ] = None,
        max_budget: Annotated[
            int | str | None, Field(description="Highest 予算額: thousand yen or e.g. 500百万円.")
        ] = None,
        new_calls: Annotated[bool | None, Field(description="新規課題採択: true = 有, false = 無.")] = None,
        q: Annotated[
            str | None, Field(max_length=200, description="Text in the name or description.")
        ] = None,
    ) -> Annotated[CallToolResult, tools.CatalogResult]:
        """The program catalog filtered by every condition /v1/programs takes, each program with its contacts
        and the table row it comes from (verbatim)."""
        return tools.list_programs(
            source(), ministry, applicant_type, theme, min_budget, max_budget, new_calls, q
        )

    @server.tool(title="事業の詳細 (one program)", annotations=READ_ONLY)
    def get_program(
        program: Annotated[
            str, Field(max_length=200, description="A program's id (p-0763379a05) or its name.")
        ],
    ) -> Annotated[CallToolResult, tools.ProgramResult]:
        """One program: card, contacts, aliases, description and every budget figure printed for it with its
        basis, each with where it is printed."""
        return tools.get_program(source(), program)

    @server.tool(title="地域の産学官ネットワーク (regional networks)", annotations=READ_ONLY)
    def networks(
        region: Annotated[
            str | None, Field(max_length=100, description="Prefecture: 広島県, 広島 or hiroshima.")
        ] = None,
        member: Annotated[
            str | None,
            Field(max_length=100, description="Networks having a member of this name (e.g. マツダ)."),
        ] = None,
        sector: Annotated[
            str | None,
            Field(max_length=20, description="学 / 官 / 産 / 金融, or 大学 / 自治体 / 企業 / 銀行."),
        ] = None,
        program: Annotated[
            str | None,
            Field(max_length=100, description="Scheme: kofukin / kyoso / survey / cases, or its name."),
        ] = None,
    ) -> Annotated[CallToolResult, NetworkGraphResponse]:
        """The regional 産学官 networks meeting the filters: each network, its members (sector, role) and
        where each membership is printed."""
        return tools.networks(source(), region, program, sector, member)

    @server.resource(
        tools.DOCUMENTS_URI, name="documents", title="収録資料の一覧", mime_type="application/json"
    )
    def documents() -> str:
        """Every document: id, title, publisher, date, kind, number of lines and its URI."""
        return json.dumps(tools.documents_index(loaded()), ensure_ascii=False)

    @server.resource(tools.DOCUMENT_URI, name="document", title="資料の本文", mime_type="text/plain")
    def document(doc_id: str) -> str:
        """A document's text, verbatim; line n is what citations call line n."""
        return tools.document_text(loaded(), doc_id)

    @server.resource(tools.LINES_URI, name="document-lines", title="資料の該当行", mime_type="text/plain")
    def document_lines(doc_id: str, line_start: str, line_end: str) -> str:
        """Lines line_start–line_end of a document, verbatim: what a citation's quote stands in."""
        return tools.document_lines(loaded(), doc_id, line_start, line_end)

    return server
