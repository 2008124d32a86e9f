"""``GET /v1/networks``: the regional 産学官 networks as a graph (Cytoscape.js ``elements``) with provenance.

Every node and edge carries the spans it is printed at (doc_id, document title, lines, verbatim text), so
a client can show where each membership is stated. Filters take the values people use (広島 / 広島県 /
hiroshima, 交付金 / kofukin, 企業 / 産, a member's name); an unknown one is 400 ``invalid_filter`` with
the valid values.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from assistant.pipeline.networks import graph_for_build, graph_payload, resolve_filters
from assistant.pipeline.service import AnswerService
from assistant.web.holder import Service

router = APIRouter(prefix="/v1", tags=["networks"])


class PrintedSpan(BaseModel):
    """Where something is printed: a document, its lines and their text."""

    doc_id: str = Field(description="The document (see /v1/documents).")
    title: str | None = Field(None, description="The document's title (corpus manifest).")
    line_start: int = Field(description="First line (1-based).")
    line_end: int = Field(description="Last line (inclusive).")
    text: str = Field(
        description="Verbatim text of those lines (line breaks included where the PDF broke it)."
    )


class NodeData(BaseModel):
    """A node: a network (kind=network) or a member organisation (kind=member)."""

    id: str = Field(description="'n:<network id>' or 'm:<member id>'.")
    kind: Literal["network", "member"] = Field(
        description="A network (a plan or 拠点) or a member organisation."
    )
    label: str = Field(description="Name as printed (the better printing when the documents differ).")
    region: str | None = Field(None, description="Network: prefecture.")
    program: str | None = Field(None, description="Network: scheme id (kofukin, kyoso, survey, cases).")
    program_name: str | None = Field(
        None, description="Network: the scheme as the table's column group prints it."
    )
    plan_label: str | None = Field(None, description="Network: 計画名 / 拠点名 as printed.")
    plan_name: str | None = Field(None, description="Network: the plan's name without its label.")
    summary: str | None = Field(None, description="Network: 取組概要.")
    members: int | None = Field(None, description="Network: number of members.")
    sources: list[PrintedSpan] = Field(
        default_factory=list, description="Network: where its name is printed."
    )
    summary_sources: list[PrintedSpan] = Field(
        default_factory=list, description="Network: where its 取組概要 is printed."
    )
    members_cells: list[PrintedSpan] = Field(
        default_factory=list, description="Network: its 構成員 cell in each document that prints it."
    )
    sector: str | None = Field(None, description="Member: sector label as printed (学 / 官 / 産 …).")
    sector_inferred: bool | None = Field(None, description="Member: true when the text prints no label.")
    networks: int | None = Field(None, description="Member: networks of this response it belongs to.")
    networks_total: int | None = Field(None, description="Member: networks it belongs to overall.")
    shared: bool | None = Field(None, description="Member: belongs to two or more networks of this response.")
    aliases: list[str] = Field(default_factory=list, description="Member: other printed forms of its name.")
    network_ids: list[str] = Field(default_factory=list, description="Member: its networks in this response.")


class Node(BaseModel):
    data: NodeData


class EdgeData(BaseModel):
    """A membership: member → network, with the printed name, role and where it is printed."""

    id: str = Field(description="'e:<network id>:<member id>'.")
    source: str = Field(description="The member node id.")
    target: str = Field(description="The network node id.")
    printed: str = Field(description="The member's name as printed in this network.")
    sector: str | None = Field(None, description="Sector label printed for the member in this network.")
    role: str | None = Field(None, description="Title printed after the name, e.g. 代表取締役会長.")
    variant: bool = Field(False, description="The documents print this member differently.")
    rule: str | None = Field(None, description="The rule that chose the printing shown, when they differ.")
    sources: list[PrintedSpan] = Field(description="Where this membership is printed (one per document).")


class Edge(BaseModel):
    data: EdgeData


class Elements(BaseModel):
    nodes: list[Node] = Field(description="Networks and members.")
    edges: list[Edge] = Field(description="Memberships, member → network.")


class NetworkProgramOut(BaseModel):
    id: str = Field(description="Scheme id: kofukin, kyoso, survey or cases.")
    name: str = Field(description="The scheme as the documents name it.")
    ministry: str = Field(description="所管府省 of the scheme.")


class NetworkCounts(BaseModel):
    regions: int = Field(description="Regions with a network in this response.")
    networks: int = Field(description="Networks in this response.")
    members: int = Field(description="Distinct member organisations in this response.")
    links: int = Field(description="Memberships (member → network edges).")
    shared_members: int = Field(description="Members in two or more of the networks listed.")


class NetworkGraphResponse(BaseModel):
    """The networks meeting the filters, as Cytoscape.js elements (``cy.add(response.elements)``)."""

    model_config = {
        "json_schema_extra": {
            "example": {
                "filters": {"regions": ["広島県"]},
                "regions": ["広島県", "徳島県", "高知県", "神奈川県", "宮城県"],
                "sectors": ["学", "官", "産", "金融"],
                "programs": [{"id": "kyoso", "name": "共創の場形成支援プログラム", "ministry": "文部科学省"}],
                "counts": {"regions": 1, "networks": 2, "members": 15, "links": 18, "shared_members": 3},
                "elements": {
                    "nodes": [
                        {
                            "data": {
                                "id": "n:hiroshima-kyoso",
                                "kind": "network",
                                "label": "広島から世界最先端のバイオエコノミー社会を実現する…産学共創拠点",
                                "region": "広島県",
                                "program": "kyoso",
                                "members": 10,
                            }
                        },
                        {
                            "data": {
                                "id": "m:m-0e04e5fe6f",
                                "kind": "member",
                                "label": "マツダ株式会社",
                                "sector": "産",
                                "networks": 2,
                                "shared": True,
                            }
                        },
                    ],
                    "edges": [
                        {
                            "data": {
                                "id": "e:hiroshima-kyoso:m-0e04e5fe6f",
                                "source": "m:m-0e04e5fe6f",
                                "target": "n:hiroshima-kyoso",
                                "printed": "マツダ株式会社",
                                "sector": "産",
                                "sources": [
                                    {
                                        "doc_id": "001_9b2f57644b0d39be",
                                        "title": "地域中核・特色ある研究大学総合振興パッケージ…",
                                        "line_start": 780,
                                        "line_end": 780,
                                        "text": "マツダ株式会社",
                                    }
                                ],
                            }
                        }
                    ],
                },
            }
        }
    }

    filters: dict[str, list[str]] = Field(description="The filters as understood (regions, programs, …).")
    regions: list[str] = Field(description="Every region with networks (valid values of `region`).")
    sectors: list[str] = Field(description="Valid values of `sector`.")
    programs: list[NetworkProgramOut] = Field(description="Valid values of `program` (id or name).")
    counts: NetworkCounts
    elements: Elements


@router.get("/networks", response_model=NetworkGraphResponse)
def networks(
    svc: Service,
    region: Annotated[
        str | None, Query(max_length=100, description="Prefecture: 広島県, 広島, ひろしま or hiroshima.")
    ] = None,
    program: Annotated[
        str | None,
        Query(max_length=100, description="Scheme: kofukin / kyoso / survey / cases, or its name."),
    ] = None,
    sector: Annotated[
        str | None, Query(max_length=20, description="学 / 官 / 産 / 金融, or 大学 / 自治体 / 企業 / 銀行.")
    ] = None,
    member: Annotated[
        str | None, Query(max_length=100, description="Networks having a member of this name (e.g. マツダ).")
    ] = None,
) -> NetworkGraphResponse:
    return network_graph(svc, region=region, program=program, sector=sector, member=member)


def network_graph(
    svc: AnswerService,
    region: str | None = None,
    program: str | None = None,
    sector: str | None = None,
    member: str | None = None,
) -> NetworkGraphResponse:
    """The networks meeting the filters (colloquial values resolved; an unknown one raises
    ``InvalidFilterError`` listing the valid ones) — for this route and the MCP ``networks`` tool."""
    graph = graph_for_build(svc.index.build_dir)
    filters = resolve_filters(graph, region=region, program=program, sector=sector, member=member)
    titles = {doc_id: doc.info.title for doc_id, doc in svc.store.documents.items()}
    return NetworkGraphResponse.model_validate(graph_payload(graph, graph.filter(**filters), titles, filters))
