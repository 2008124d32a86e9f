"""``GET /v1/networks`` over HTTP on the real app (real index): filters, provenance, errors, OpenAPI."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow


def _get(base: str, **params) -> httpx.Response:
    return httpx.get(f"{base}/v1/networks", params=params, timeout=30)


def test_all_networks_with_counts_and_provenance(live_server):
    response = _get(live_server)
    assert response.status_code == 200
    body = response.json()
    assert body["regions"] == ["広島県", "徳島県", "高知県", "神奈川県", "宮城県"]
    assert body["counts"] == {"regions": 5, "networks": 10, "members": 68, "links": 89, "shared_members": 16}
    nodes = {n["data"]["id"]: n["data"] for n in body["elements"]["nodes"]}
    for edge in body["elements"]["edges"]:
        data = edge["data"]
        assert data["source"] in nodes and data["target"] in nodes
        for span in data["sources"]:
            assert span["title"] and span["line_start"] <= span["line_end"]
            passage = httpx.get(
                f"{live_server}/v1/documents/{span['doc_id']}",
                params={"line_start": span["line_start"], "line_end": span["line_end"], "context": 0},
                timeout=30,
            ).json()
            assert span["text"] in "\n".join(line["text"] for line in passage["lines"])


def test_region_filter_in_any_spelling(live_server):
    for spelling in ("広島県", "広島", "ひろしま", "Hiroshima"):
        body = _get(live_server, region=spelling).json()
        assert body["filters"] == {"regions": ["広島県"]}
        assert body["counts"] == {
            "regions": 1,
            "networks": 2,
            "members": 15,
            "links": 18,
            "shared_members": 3,
        }
    nodes = [n["data"] for n in body["elements"]["nodes"]]
    mazda = next(n for n in nodes if n["label"] == "マツダ株式会社")
    assert mazda["shared"] is True and mazda["networks"] == 2 and mazda["sector"] == "産"


def test_program_sector_and_member_filters(live_server):
    body = _get(live_server, program="共創の場", sector="企業").json()
    assert body["filters"] == {"programs": ["kyoso"], "sectors": ["産"]}
    labels = [n["data"]["label"] for n in body["elements"]["nodes"] if n["data"]["kind"] == "network"]
    assert len(labels) == 3
    body = _get(live_server, member="マツダ").json()
    assert [n["data"]["id"] for n in body["elements"]["nodes"] if n["data"]["kind"] == "network"] == [
        "n:hiroshima-kofukin",
        "n:hiroshima-kyoso",
    ]
    assert _get(live_server, program="survey", region="広島県").json()["counts"]["networks"] == 0


@pytest.mark.parametrize(
    ("params", "listed"),
    [
        ({"region": "大阪府"}, "広島県"),
        ({"region": "<script>"}, "広島県"),
        ({"program": "宇宙"}, "kofukin"),
        ({"sector": "宇宙人"}, "学"),
        ({"member": "存在しない会社"}, "マツダ株式会社"),
    ],
)
def test_unknown_filter_values_are_400_listing_the_valid_ones(live_server, params, listed):
    response = _get(live_server, **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_filter" and listed in error["message"]
    assert next(iter(params.values())) not in error["message"]  # the value is not echoed


def test_too_long_filter_is_a_json_error(live_server):
    response = _get(live_server, region="x" * 500)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_documented_in_openapi(live_server):
    schema = httpx.get(f"{live_server}/openapi.json", timeout=30).json()
    operation = schema["paths"]["/v1/networks"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"region", "program", "sector", "member"}
    assert all(p.get("description") for p in operation["parameters"])
    response_schema = schema["components"]["schemas"]["NetworkGraphResponse"]
    assert "example" in response_schema
    assert schema["components"]["schemas"]["EdgeData"]["properties"]["rule"]["description"]
