"""The MCP server driven by the ``mcp`` SDK's own client: over stdio (``assistant mcp`` as a subprocess, as a
desktop agent starts it) and over Streamable HTTP at ``/mcp`` of the real server with API keys. Tool results
carry their citations verbatim and contacts exactly as the catalog has them; the catalog and network tools
agree with ``/v1``; documents are resources with line ranges; keyless calls are refused."""

from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from assistant.config import PROJECT_ROOT
from tests.conftest import INTEGRATION_KEY
from tests.support import cli_env

CORPUS = PROJECT_ROOT / "corpus"
CONTACT_QUESTION = "共創の場形成支援プログラムの問い合わせ先は？"
CONTACT_PROGRAM = "共創の場形成支援プログラム"
TOOLS = {"answer", "search", "list_programs", "get_program", "networks"}
AUTH = {"Authorization": f"Bearer {INTEGRATION_KEY}"}


def _run(session_body: Callable[[Any], Awaitable[Any]], connect: Callable[[], Any]) -> Any:
    """Open a client session with ``connect`` (a transport context), initialize, run ``session_body``."""
    from mcp import ClientSession

    async def main() -> Any:
        async with connect() as streams, ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            return await session_body(session)

    return anyio.run(main)


def _http(base: str, headers: dict[str, str] | None = None) -> Callable[[], Any]:
    from contextlib import asynccontextmanager

    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    @asynccontextmanager
    async def connect():
        async with (
            httpx2.AsyncClient(headers=headers or {}, timeout=180) as http,
            streamable_http_client(f"{base}/mcp", http_client=http) as streams,
        ):
            yield streams

    return connect


def _lines(doc_id: str, start: int, end: int) -> str:
    return "\n".join((CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8").split("\n")[start - 1 : end])


@pytest.fixture(scope="module")
def catalog(integrations_server) -> dict[str, dict]:
    programs = httpx.get(f"{integrations_server}/v1/programs", headers=AUTH, timeout=60).json()["programs"]
    return {p["name"]: p for p in programs}


def _check_answer(result: Any, catalog: dict[str, dict]) -> None:
    """The answer's text holds each citation's quote verbatim (standing at its lines) and the program's
    contacts exactly; a resource link per citation points at the cited lines."""
    assert not result.is_error
    text = result.content[0].text
    answer = result.structured_content
    assert answer["citations"] and not answer["abstained"]
    for citation in answer["citations"]:
        assert f"「{citation['quote']}」" in text
        assert citation["quote"] in _lines(citation["doc_id"], citation["line_start"], citation["line_end"])
    links = [c for c in result.content if c.type == "resource_link"]
    assert [str(link.uri) for link in links] == [
        f"seisaku://documents/{c['doc_id']}/lines/{c['line_start']}-{c['line_end']}"
        for c in answer["citations"]
    ]
    program = catalog[CONTACT_PROGRAM]
    for contact in [*program["tel"], *program["email"]]:
        assert contact in text


def test_stdio_server_answers_lists_and_serves_documents(index_settings, catalog):
    """`assistant mcp` started by the SDK's stdio client, as an agent on a staff desktop starts it."""
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    assistant = Path(sys.executable).with_name("assistant")
    params = StdioServerParameters(command=str(assistant), args=["mcp"], env=cli_env(index_settings))

    async def body(session: Any) -> dict[str, Any]:
        listed = await session.list_tools()
        answer = await session.call_tool("answer", {"question": CONTACT_QUESTION})
        link = next(c for c in answer.content if c.type == "resource_link")
        cited = await session.read_resource(link.uri)
        budget = await session.call_tool("list_programs", {"min_budget": "10億円", "max_budget": 20_000_000})
        resources = await session.list_resources()
        return {
            "tools": {t.name: t for t in listed.tools},
            "answer": answer,
            "link": link,
            "cited": cited,
            "budget": budget,
            "resources": [str(r.uri) for r in resources.resources],
        }

    got = _run(body, lambda: stdio_client(params))
    assert set(got["tools"]) == TOOLS
    assert all(t.annotations.read_only_hint for t in got["tools"].values())
    assert got["tools"]["answer"].output_schema["properties"]["citations"]
    _check_answer(got["answer"], catalog)
    match = re.fullmatch(r"seisaku://documents/(\w+)/lines/(\d+)-(\d+)", str(got["link"].uri))
    assert got["cited"].contents[0].text == _lines(match[1], int(match[2]), int(match[3]))
    # every catalog condition: the budget range in people's words and in thousand yen, as /v1/programs reads it
    expected = [p for p in catalog.values() if 1_000_000 <= (p["budget_thousand_yen"] or -1) <= 20_000_000]
    listed = got["budget"].structured_content["programs"]
    assert [p["id"] for p in listed] == [p["id"] for p in expected] and expected
    for program in listed:
        assert program["source_text"] == _lines(
            program["source"]["doc_id"], program["source"]["line_start"], program["source"]["line_end"]
        )
        assert all(tel in program["source_text"] for tel in program["tel"])
    assert "seisaku://documents" in got["resources"]
    assert any(uri.startswith("seisaku://documents/001_") for uri in got["resources"])


def test_http_server_tools_agree_with_the_api(integrations_server, catalog):
    base = integrations_server

    async def body(session: Any) -> dict[str, Any]:
        return {
            "answer": await session.call_tool("answer", {"question": CONTACT_QUESTION}),
            "follow": await session.call_tool(
                "answer",
                {
                    "question": "その事業の予算は？",
                    "history": [
                        {"role": "user", "content": CONTACT_QUESTION},
                        {
                            "role": "assistant",
                            "content": "共創の場形成支援プログラムの問い合わせ先は次のとおりです。",
                        },
                    ],
                    "filters": {"ministry": "文科省"},
                },
            ),
            "filtered": await session.call_tool(
                "list_programs",
                {"ministry": "文部科学省", "applicant_type": "大学等研究機関", "new_calls": True},
            ),
            "program": await session.call_tool("get_program", {"program": "SPARC"}),
            "networks": await session.call_tool("networks", {"region": "広島", "sector": "企業"}),
            "search": await session.call_tool("search", {"query": "共創の場 問い合わせ先", "k": 3}),
            "empty": await session.call_tool("answer", {"question": "   "}),
            "bad_filter": await session.call_tool("list_programs", {"theme": "存在しないテーマ"}),
            "bad_lines": await _read_error(session, "seisaku://documents/001_9b2f57644b0d39be/lines/9-2"),
        }

    got = _run(body, _http(base, AUTH))
    _check_answer(got["answer"], catalog)
    follow = got["follow"].structured_content
    assert follow["programs"][0]["name"] == CONTACT_PROGRAM and follow["plan"]["kind"] == "attribute"
    api = httpx.get(
        f"{base}/v1/programs",
        params={"ministry": "文部科学省", "applicant_type": "大学等研究機関", "new_calls": "true"},
        headers=AUTH,
    ).json()["programs"]
    assert [p["id"] for p in got["filtered"].structured_content["programs"]] == [p["id"] for p in api]
    program = got["program"].structured_content
    assert program["name"] == "地域活性化人材育成事業" and program["budget_figures"]
    assert f"TEL: {program['tel'][0]}" in got["program"].content[0].text
    graph = httpx.get(f"{base}/v1/networks", params={"region": "広島", "sector": "企業"}, headers=AUTH).json()
    assert got["networks"].structured_content["counts"] == graph["counts"]
    assert "マツダ株式会社" in got["networks"].content[0].text
    hits = got["search"].structured_content["hits"]
    assert len(hits) == 3 and [c.type for c in got["search"].content[1:]] == ["resource_link"] * 3
    assert got["empty"].is_error and "must not be empty" in got["empty"].content[0].text
    assert got["bad_filter"].is_error and "Valid values" in got["bad_filter"].content[0].text
    assert "line range" in got["bad_lines"]


async def _read_error(session: Any, uri: str) -> str:
    from mcp import MCPError

    try:
        await session.read_resource(uri)
    except MCPError as exc:
        return str(exc)
    raise AssertionError("a reversed line range was read")


def test_keyless_mcp_calls_are_refused(integrations_server):
    base = integrations_server
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in ({}, {"Authorization": "Bearer not-a-valid-key-000000"}):
        response = httpx.post(f"{base}/mcp", json=initialize, headers={**headers, **auth}, timeout=30)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert (
        httpx.post(f"{base}/mcp", json=initialize, headers={**headers, **AUTH}, timeout=30).status_code == 200
    )

    async def body(session: Any) -> Any:
        return await session.list_tools()

    from mcp import MCPError

    with pytest.raises(Exception) as refused:  # the SDK's client gives up on the 401 (an MCPError in a group)
        _run(body, _http(base))
    assert refused.group_contains(MCPError, match="error response", depth=None)
