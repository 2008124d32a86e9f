"""``/docs`` (Swagger UI) and ``/redoc`` served offline, and an OpenAPI schema that says what the server does.

FastAPI's pages load Swagger UI and ReDoc from a CDN (blank without internet) and its schema documents a
422 body the server never sends. Here:

* the pages load the files of the pinned ``fastapi-offline`` package through ``/static/vendor/…``
  (``assistant.web.assets.VENDOR``), ReDoc without Google Fonts, Swagger UI without the online validator;
* every operation documents the one error shape ``{"error": {"code", "message"}}`` with the codes it can
  answer (400/401/404/405/413/422/429/503), the bearer scheme (the "Authorize" button) when API keys are
  configured, and a response example;
* fields of the models the answer pipeline defines get a description where they have none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

from assistant.config import Settings
from assistant.web.assets import VENDOR, VENDOR_REWRITES
from assistant.web.routes.networks import NetworkGraphResponse
from assistant.web.schemas import ErrorResponse
from assistant.web.security import API_PREFIX

VENDOR.update(
    {
        "swagger-ui-bundle.js": ("fastapi_offline", "static/swagger-ui-bundle.js"),
        "swagger-ui.css": ("fastapi_offline", "static/swagger-ui.css"),
        "redoc.standalone.js": ("fastapi_offline", "static/redoc.standalone.js"),
        "favicon.png": ("fastapi_offline", "static/favicon.png"),
    }
)
# ReDoc's side menu shows the Redocly logo from a CDN, with no option to turn it off: the app's icon instead.
VENDOR_REWRITES["redoc.standalone.js"] = [
    (b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"/static/vendor/favicon.png"),
]

DESCRIPTION = """\
Grounded answers about 産学官連携 policy documents (five Japanese government documents), with verified
citations and contacts copied from the documents' program tables.

* **Errors** always have the shape `{"error": {"code", "message"}}`; the codes each operation can answer
  are listed under it.
* **API keys**: when the operator configured keys, every `/v1` call needs `Authorization: Bearer <key>`
  (the *Authorize* button); `/healthz`, `/readyz` and these docs stay open.
* **Rate limit**: per key (or client IP), moving windows — a number of requests in any minute and a
  smaller burst in any shorter window; over it, 429 with `Retry-After` (the seconds until a request passes).
* **Budgets**: every figure carries its basis — `budget_basis` / `basis` with the label the document
  prints (令和4年度予算政府案, 令和3年度補正予算額 …), its fiscal year and the line that says so.
"""

#: status → (when, example code, example message)
ERRORS: dict[int, tuple[str, str, str]] = {
    400: (
        "The request cannot be used: a body that is not JSON, or a filter value the catalog does not have.",
        "invalid_filter",
        "Unknown ministry '財務省'. Valid: 内閣府, 厚生労働省, …",
    ),
    401: (
        "Missing or unknown API key (`WWW-Authenticate: Bearer`).",
        "unauthorized",
        "The API key is not valid.",
    ),
    404: ("No such program, document or path.", "not_found", "No program with id 'p-0000000000'."),
    405: (
        "Wrong HTTP method for this path (`Allow` lists the right ones).",
        "method_not_allowed",
        "Use POST.",
    ),
    413: (
        "Body larger than the limit (64 KB).",
        "payload_too_large",
        "Request body is larger than 65536 bytes.",
    ),
    422: (
        "A parameter or body field is invalid (type, range, empty or too long question, too much history).",
        "invalid_request",
        "question: Value error, question must not be empty",
    ),
    429: (
        "Rate limit exceeded; retry after `Retry-After` seconds.",
        "rate_limited",
        "Too many requests; retry after 2 s.",
    ),
    503: (
        "The index or model is not loaded yet (or the Chroma server is unreachable); retry shortly.",
        "not_ready",
        "The index and model are still loading; retry shortly.",
    ),
}

#: Which errors each operation can answer, besides 405 (every path) and 401/429 (``/v1``, when on).
OPERATION_ERRORS: dict[tuple[str, str], tuple[int, ...]] = {
    ("post", "/v1/answer"): (400, 413, 422, 503),
    ("post", "/v1/answer/stream"): (400, 413, 422, 503),
    ("get", "/v1/search"): (422, 503),
    ("get", "/v1/programs"): (400, 422, 503),
    ("get", "/v1/programs/{program_id}"): (404, 503),
    ("get", "/v1/documents"): (503,),
    ("get", "/v1/documents/{doc_id}"): (404, 422, 503),
    ("get", "/v1/networks"): (400, 422, 503),
    ("get", "/readyz"): (503,),
}

_CITATION = {
    "id": 1,
    "doc_id": "001_9b2f57644b0d39be",
    "title": "地域中核・特色ある研究大学総合振興パッケージ（総合振興パッケージ）・関連事業マップ",
    "section": "４．別紙（関連事業マップ）",
    "page": 31,
    "line_start": 1663,
    "line_end": 1669,
    "quote": "共創の場形成支援プログラム ①大学等研究機関 13,750,508 有 文部科学省\n科学技術・学術政策局\n"
    "産業連携・地域振興課\n拠点形成・地域振興室\n\nTEL：03-5253-4111（内線4195）\nmail：coi-next@mext.go.jp",
}
_BASIS = {
    "label": "令和4年度予算政府案",
    "fiscal_year": "令和4年度",
    "source": {"doc_id": "001_9b2f57644b0d39be", "line_start": 531, "line_end": 531},
}
_CARD = {
    "id": "p-0b74025205",
    "name": "共創の場形成支援プログラム",
    "ministry": "文部科学省",
    "department": "文部科学省 科学技術・学術政策局 産業連携・地域振興課 拠点形成・地域振興室",
    "applicant_types": ["大学等研究機関"],
    "budget_thousand_yen": 13750508,
    "budget_note": None,
    "new_calls": True,
    "tel": ["03-5253-4111（内線4195）"],
    "email": ["coi-next@mext.go.jp"],
    "themes": ["MaaS・自動運転", "スマート農業", "資源循環", "地域脱炭素"],
    "budget_basis": _BASIS,
}
_ANSWER = {
    "answer": "共創の場形成支援プログラムの問い合わせ先は次のとおりです：\n"
    "・担当：文部科学省 科学技術・学術政策局 産業連携・地域振興課 拠点形成・地域振興室[1]。\n"
    "・連絡先：TEL：03-5253-4111（内線4195）／mail：coi-next@mext.go.jp[1]。",
    "abstained": False,
    "intent": "contact",
    "plan": {
        "kind": "contact",
        "programs": ["p-0b74025205"],
        "conditions": [],
        "asked": ["contact"],
        "verdict": None,
        "winner": None,
        "missing": [],
        "reasons": ["asks for the program's department and contact"],
    },
    "citations": [_CITATION],
    "programs": [_CARD],
    "suggestions": [],
    "composer": "deterministic",
    "timings_ms": {"retrieve": 24.1, "compose": 6.3, "total": 30.4},
}

#: (method, path) → example of the 200 body.
EXAMPLES: dict[tuple[str, str], Any] = {
    ("post", "/v1/answer"): _ANSWER,
    ("get", "/v1/search"): {
        "hits": [
            {
                "kind": "program",
                "text": "共創の場形成支援プログラム / 文部科学省 / 申請主体: 大学等研究機関 / 予算額: 13,750,508千円",
                "name": "共創の場形成支援プログラム",
                "doc_id": "001_9b2f57644b0d39be",
                "line_start": 1663,
                "line_end": 1669,
                "score": 0.0489,
                "ranks": {"dense": 1, "bm25": 1, "exact": 1},
                "program": _CARD,
            }
        ]
    },
    ("get", "/v1/programs"): {"programs": [_CARD]},
    ("get", "/v1/programs/{program_id}"): {
        **_CARD,
        "aliases": ["共創の場形成支援"],
        "description": "未来のありたい社会像の達成に向けて産学官による研究開発・社会実装と自立的な産学官連携システムの構築を推進",
        "source": {"doc_id": "001_9b2f57644b0d39be", "line_start": 1663, "line_end": 1669},
        "budget_figures": [
            {
                "amount_text": "13,751百万円",
                "basis": _BASIS,
                "source": {"doc_id": "001_9b2f57644b0d39be", "line_start": 559, "line_end": 559},
            }
        ],
    },
    ("get", "/v1/documents"): {
        "documents": [
            {
                "doc_id": "003_158fb85f1dc44ded",
                "title": "産学官連携による地域活性化に関する実態調査＜結果に基づく通知＞",
                "publisher": "総務省行政評価局",
                "date": "2020-09-11",
                "kind": "notice",
                "lines": 300,
            }
        ]
    },
    ("get", "/v1/documents/{doc_id}"): {
        "doc_id": "001_9b2f57644b0d39be",
        "title": "地域中核・特色ある研究大学総合振興パッケージ（総合振興パッケージ）・関連事業マップ",
        "line_start": 1663,
        "line_end": 1663,
        "context_start": 1662,
        "context_end": 1664,
        "lines": [
            {"line": 1662, "text": "", "cited": False},
            {
                "line": 1663,
                "text": "共創の場形成支援プログラム ①大学等研究機関 13,750,508 有 文部科学省",
                "cited": True,
            },
            {"line": 1664, "text": "科学技術・学術政策局", "cited": False},
        ],
    },
    ("get", "/v1/networks"): NetworkGraphResponse.model_config["json_schema_extra"]["example"],
    ("get", "/healthz"): {"status": "ok"},
    ("get", "/readyz"): {
        "status": "ready",
        "build_id": "20261124T212850775292Z",
        "chunks": 245,
        "programs": 38,
    },
}

SSE_EXAMPLE = (
    'event: delta\ndata: {"text": "共創の場形成支援プログラムの問い合わせ先は次のとおりです：\\n"}\n\n'
    'event: final\ndata: {"answer": "…", "abstained": false, "intent": "contact", "citations": […], …}\n\n'
)

#: Descriptions of fields of models defined outside the web layer (used where a field has none).
FIELD_DOCS: dict[str, dict[str, str]] = {
    "AnswerResponse": {
        "answer": "The answer text; [n] marks refer to citations[n-1]. Contacts and budgets are copied from the "
        "catalog, quotes are verbatim.",
        "abstained": "True when the documents do not answer the question asked (the text says so). With intent "
        "abstain there are no citations; with not_stated the answer still cites the nearest stated facts and "
        "the department to ask; with not_found it names what the documents do not contain and offers the "
        "nearest real names, labelled as other things.",
        "citations": "The sources of the [n] marks, in order.",
        "programs": "Cards of the programs the answer names.",
        "timings_ms": "Time spent, in milliseconds.",
    },
    "Citation": {
        "id": "The n of [n] in the answer.",
        "doc_id": "The cited document (see /v1/documents).",
        "title": "The document's title.",
        "section": "Heading path of the cited passage.",
        "page": "Printed slide/page number, when the document shows one.",
        "line_start": "First cited line (1-based).",
        "line_end": "Last cited line (inclusive).",
        "quote": "The quoted text, an exact substring of those lines (line breaks included).",
        "char_start": "Where the quote starts in the text of lines line_start..line_end joined by a line "
        "break (0-based characters): a cell of a one-line table row is that range, not the whole line.",
        "char_end": "Where the quote ends in that text (exclusive): text[char_start:char_end] == quote.",
    },
    "ProgramCard": {
        "id": "Stable program id (p- and 10 hex digits).",
        "name": "The program's name as its table prints it.",
        "ministry": "所管府省 (official name).",
        "department": "担当部署: ministry, bureau, division, office.",
        "applicant_types": "申請主体: who applies.",
        "budget_thousand_yen": "予算額 of the table, in thousand yen (null when the table prints －).",
        "budget_note": "The table's note to the figure, e.g. （内数） (part of a larger budget).",
        "new_calls": "新規課題採択: whether new projects are selected (null when not stated).",
        "tel": "Phone numbers as printed, with 内線.",
        "email": "E-mail addresses.",
        "themes": "Themes of the 関連事業マップ whose table lists the program.",
    },
    "BudgetBasis": {
        "label": "What the figure is, verbatim: 令和4年度予算政府案, 令和3年度補正予算額, a map page's title …",
        "fiscal_year": "The fiscal year(s) the label names, as 令和 years (R4年度 → 令和4年度).",
        "source": "Where the document says so.",
    },
    "SourceSpan": {
        "doc_id": "The document.",
        "line_start": "First line (1-based).",
        "line_end": "Last line (inclusive).",
    },
    "Timings": {
        "retrieve": "Hybrid retrieval, ms.",
        "compose": "Composing the answer and its citations, ms.",
        "total": "Both, ms.",
    },
    "Turn": {
        "role": "Who said it: user or assistant.",
        "content": "What was said (an assistant turn: the answer text).",
    },
}

FIELD_DOCS["ProgramDetail"] = FIELD_DOCS["ProgramCard"]  # the card's fields, inherited

router = APIRouter(include_in_schema=False)

#: The docs pages may load nothing from outside the app (a second guard, should a new ReDoc or Swagger UI
#: hard-code another URL).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


#: The pages are the Japanese product's (their titles are Japanese: ``lang="ja"``); the API reference inside
#: is written in English, so its container says so and screen readers read it with the right voice. The
#: style sheet (inline: the docs stay open when the page's static files need a session) darkens the vendors'
#: greys to WCAG AA contrast.
DOCS_STYLE = (Path(__file__).parent / "static" / "api_docs.css").read_text(encoding="utf-8")


#: ReDoc renders a code sample's <pre> scrollable but not focusable, and the sample's <select> unlabelled:
#: keyboard users could not scroll it, screen readers would say only "combo box" (axe, serious/critical).
REDOC_FIXES = b"""<script>
new MutationObserver(() => {
  document.querySelectorAll("redoc pre:not([tabindex])").forEach((el) => el.setAttribute("tabindex", "0"));
  document.querySelectorAll("redoc select:not([aria-label])").forEach((el) => el.setAttribute("aria-label", "Example"));
}).observe(document.documentElement, { subtree: true, childList: true });
</script>"""


def _offline(page: HTMLResponse, container: bytes, english: bytes, extra: bytes = b"") -> HTMLResponse:
    body = page.body.replace(b"<html>", b'<html lang="ja">', 1).replace(container, english, 1)
    body = body.replace(b"</head>", b"<style>" + DOCS_STYLE.encode() + b"</style></head>", 1)
    body = body.replace(b"</body>", extra + b"</body>", 1)
    fixed = HTMLResponse(body, status_code=page.status_code)
    fixed.headers["Content-Security-Policy"] = DOCS_CSP
    return fixed


def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title="政策アシスタント API – Swagger UI",
        swagger_js_url=f"{root}/static/vendor/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/static/vendor/swagger-ui.css",
        swagger_favicon_url=f"{root}/static/vendor/favicon.png",
        oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
        swagger_ui_parameters={
            "validatorUrl": None,
            # deep links put a link inside each operation's toggle button (axe: nested-interactive)
            "deepLinking": False,
            "persistAuthorization": True,
            "displayRequestDuration": True,
        },
    )
    return _offline(page, b'<div id="swagger-ui">', b'<div id="swagger-ui" lang="en">')


@router.get("/docs/oauth2-redirect")
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    page = get_redoc_html(
        openapi_url=f"{root}/openapi.json",
        title="政策アシスタント API – ReDoc",
        redoc_js_url=f"{root}/static/vendor/redoc.standalone.js",
        redoc_favicon_url=f"{root}/static/vendor/favicon.png",
        with_google_fonts=False,
    )
    return _offline(page, b"<redoc ", b'<redoc lang="en" ', REDOC_FIXES)


def _error_response(status: int) -> dict[str, Any]:
    when, code, message = ERRORS[status]
    return {
        "description": when,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorResponse"},
                "example": {"error": {"code": code, "message": message}},
            }
        },
    }


def enrich(schema: dict[str, Any], settings: Settings, keys_enabled: bool) -> dict[str, Any]:
    """The schema FastAPI built, made accurate: error responses, examples, field descriptions."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components.update(
        {
            name: model
            for name, model in ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
            .get("$defs", {})
            .items()
        }
    )
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    error_schema.pop("$defs", None)
    components["ErrorResponse"] = error_schema
    for model, fields in FIELD_DOCS.items():
        properties = components.get(model, {}).get("properties", {})
        for field, text in fields.items():
            if field in properties and not properties[field].get("description"):
                properties[field]["description"] = text
    rate_limited = settings.rate_limit_per_minute > 0
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            statuses = {405, *OPERATION_ERRORS.get((method, path), ())}
            if path.startswith(API_PREFIX):
                statuses |= {401} if keys_enabled else set()
                statuses |= {429} if rate_limited else set()
            responses.pop("422", None)
            for status in sorted(statuses):
                responses[str(status)] = _error_response(status)
            example = EXAMPLES.get((method, path))
            ok = responses.get("200", {}).get("content", {})
            if example is not None and "application/json" in ok:
                ok["application/json"]["example"] = example
            if path.endswith("/stream"):
                responses["200"] = {
                    "description": "Server-Sent Events: `delta` events with pieces of the answer, then `final` "
                    "with the complete answer JSON (the body of POST /v1/answer).",
                    "content": {"text/event-stream": {"schema": {"type": "string"}, "example": SSE_EXAMPLE}},
                }
    return schema


def install_docs(app: FastAPI, settings: Settings, keys_enabled: bool) -> None:
    """Serve /docs and /redoc offline and document the API as it behaves (call after the routes exist)."""
    app.include_router(router)
    app.description = DESCRIPTION
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if getattr(app.state, "enriched_openapi", None) is None:
            app.state.enriched_openapi = enrich(build(), settings, keys_enabled)
            app.openapi_schema = app.state.enriched_openapi
        return app.state.enriched_openapi

    app.openapi = openapi  # type: ignore[method-assign]
