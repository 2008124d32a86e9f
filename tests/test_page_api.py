"""What the page and integrators read over HTTP: exports, program cards in search hits, budgets with their
basis, document dates, the whole-document view, and an OpenAPI document that says what the server does."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from openpyxl import load_workbook

from assistant.web.catalog_table import COLUMNS


@pytest.fixture(scope="module")
def client(live_server):
    with httpx.Client(base_url=live_server, timeout=60) as c:
        yield c


FILTERS = [
    {},
    {"ministry": "文部科学省"},
    {"theme": "地域脱炭素", "new_calls": "true"},
    {"min_budget": 5_000_000},
]


@pytest.mark.parametrize("params", FILTERS)
def test_csv_and_excel_exports_hold_the_rows_of_the_json(client, params):
    programs = client.get("/v1/programs", params=params).json()["programs"]
    assert programs
    exported = client.get("/v1/programs", params={**params, "format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert list(rows[0]) == list(COLUMNS)
    assert [r["id"] for r in rows] == [p["id"] for p in programs]
    for row, program in zip(rows, programs, strict=True):
        assert row["事業名"] == program["name"]
        assert row["TEL"] == " / ".join(program["tel"]) and row["メール"] == " / ".join(program["email"])
        budget = program["budget_thousand_yen"]
        assert row["予算額（千円）"] == ("" if budget is None else str(budget))
        assert row["予算額の基準"] == (program["budget_basis"] or {}).get("label", "")

    workbook = client.get("/v1/programs", params={**params, "format": "xlsx"})
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == list(COLUMNS)
    assert [v[0] for v in values[1:]] == [p["id"] for p in programs]
    assert [v[5] for v in values[1:]] == [p["budget_thousand_yen"] for p in programs]


def test_an_unknown_format_or_filter_is_a_json_error(client):
    for params, status, code in [
        ({"format": "pdf"}, 422, "invalid_request"),
        ({"ministry": "財務省", "format": "csv"}, 400, "invalid_filter"),
    ]:
        response = client.get("/v1/programs", params=params)
        assert response.status_code == status and response.json()["error"]["code"] == code


def test_a_program_hit_carries_its_whole_card(client):
    hits = client.get("/v1/search", params={"q": "共創の場形成支援プログラム 問い合わせ先"}).json()["hits"]
    top = next(h for h in hits if h["kind"] == "program")
    card = top["program"]
    assert card["name"] == "共創の場形成支援プログラム"
    assert (
        card["department"].startswith("文部科学省")
        and card["tel"]
        and card["email"] == ["coi-next@mext.go.jp"]
    )
    assert card["budget_thousand_yen"] == 13750508 and card["budget_basis"]["fiscal_year"] == "令和4年度"
    assert all(h["program"] is None for h in hits if h["kind"] == "chunk")


def test_program_detail_lists_every_figure_with_its_basis(client):
    seibi = next(
        p
        for p in client.get("/v1/programs").json()["programs"]
        if p["name"] == "地域の中核大学の産学融合拠点の整備"
    )
    detail = client.get(f"/v1/programs/{seibi['id']}").json()
    assert detail["budget_basis"]["label"] == "令和4年度予算政府案及び令和3年度補正予算額"
    figures = {(f["amount_text"], f["basis"]["label"]) for f in detail["budget_figures"] if f["basis"]}
    assert ("【5,900百万円】", "令和3年度補正予算額") in figures  # the ◆ list's bracket: 補正
    assert any(amount == "59億円" and label.startswith("R4年度") for amount, label in figures)


def test_documents_list_their_dates(client):
    documents = client.get("/v1/documents").json()["documents"]
    assert {d["doc_id"]: d["date"] for d in documents}["003_158fb85f1dc44ded"] == "2020-09-11"
    assert all(re.fullmatch(r"\d{4}(-\d{2}){0,2}", d["date"]) for d in documents)


def test_the_whole_document_view_opens_at_the_cited_lines(client):
    page = client.get("/documents/001_9b2f57644b0d39be", params={"from": 1663, "to": 1669})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="ja">' in html and "2022-02" in html and "内閣府" in html
    assert html.count('class="cited"') == 7 and 'id="L1663" class="cited"' in html
    assert "共創の場形成支援プログラム" in html
    missing = client.get("/documents/no-such-document")
    assert missing.status_code == 404 and "見つかりません" in missing.text
    assert "<script" not in client.get("/documents/%3Cscript%3E").text


def test_the_chat_page_is_japanese(client):
    page = client.get("/")
    assert page.status_code == 200 and '<html\n\tlang="ja"' in page.text or 'lang="ja"' in page.text[:200]
    assert "static/app/page.js" in page.text and "static/app/page.css" in page.text
    assert client.get("/static/app/page.js").status_code == 200


# -- the OpenAPI document ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spec(client):
    return client.get("/openapi.json").json()


def test_every_operation_documents_the_real_errors_and_an_example(spec):
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert set(schemas["ErrorResponse"]["properties"]) == {"error"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "405" in responses, (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    content = response["content"]["application/json"]
                    assert content["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}, (path, status)
                    assert set(content["example"]["error"]) == {"code", "message"}
            ok = responses["200"]["content"]
            assert any("example" in media for media in ok.values()), (method, path)
    answer = spec["paths"]["/v1/answer"]["post"]
    assert {"400", "405", "413", "422", "503"} <= set(answer["responses"])
    assert "404" in spec["paths"]["/v1/programs/{program_id}"]["get"]["responses"]
    body = answer["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert schemas[body]["examples"]


def test_every_field_and_parameter_is_described(spec):
    missing = [
        f"{name}.{field}"
        for name, schema in spec["components"]["schemas"].items()
        for field, prop in schema.get("properties", {}).items()
        if not prop.get("description") and "$ref" not in prop and not prop.get("allOf")
    ]
    assert missing == []
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), (path, parameter["name"])


def test_docs_pages_load_nothing_from_outside(client):
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assert "Content-Security-Policy" in page.headers
        external = re.findall(r"(?:src|href)=[\"'](https?://[^\"']+)", page.text)
        assert external == [], external
        for asset in re.findall(r"(?:src|href)=[\"'](/static/vendor/[^\"']+)", page.text):
            assert client.get(asset).status_code == 200, asset
    assert b"cdn.redoc.ly" not in client.get("/static/vendor/redoc.standalone.js").content


def test_a_citation_carries_the_character_range_of_its_quote(client):
    answer = client.post("/v1/answer", json={"question": "広島県のネットワークにマツダは入ってる？"}).json()
    assert answer["citations"]
    for citation in answer["citations"]:
        span = {"line_start": citation["line_start"], "line_end": citation["line_end"], "context": 0}
        lines = client.get(f"/v1/documents/{citation['doc_id']}", params=span).json()["lines"]
        text = "\n".join(line["text"] for line in lines if line["cited"])
        assert text[citation["char_start"] : citation["char_end"]] == citation["quote"]
