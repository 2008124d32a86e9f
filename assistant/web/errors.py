"""The API's one error shape, ``{"error": {"code", "message"}}``, and the handlers that produce it.

Every refusal — bad input, unknown filter, missing index, unreachable Chroma server, an unexpected
exception — leaves the app in this shape, so an integrator parses one thing.
"""

from __future__ import annotations

import logging

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.index.store import IndexReadError
from assistant.pipeline.conditions import InvalidFilterError
from assistant.web.request_id import REQUEST_ID_HEADER, current_request_id

log = logging.getLogger("assistant.web.app")

#: Status → error code of errors raised by Starlette/FastAPI themselves.
HTTP_ERROR_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


class ApiError(Exception):
    """Raised by a route: answered as ``status`` with ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": {"code": code, "message": message}}, headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
        return error_response(422, "invalid_request", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_ERROR_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(InvalidFilterError)
    async def _filter_error(_request: Request, exc: InvalidFilterError) -> JSONResponse:
        return error_response(400, "invalid_filter", str(exc))

    @app.exception_handler(httpx.TransportError)
    async def _vector_store_down(_request: Request, exc: httpx.TransportError) -> JSONResponse:
        # Only the Chroma HttpClient makes outgoing calls while answering (ASSISTANT_CHROMA_MODE=http).
        log.error("the Chroma server is unreachable: %s: %s", type(exc).__name__, exc)
        return error_response(
            503, "index_unavailable", "The index's Chroma server cannot be reached; retry shortly."
        )

    @app.exception_handler(IndexReadError)
    async def _index_read_error(request: Request, exc: IndexReadError) -> JSONResponse:
        # The served build is damaged: the holder marks it failed and falls back (one log line there).
        request.app.state.holder.failed_while_serving(exc)
        return error_response(503, "index_unavailable", exc.public_message, {"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        response = error_response(500, "internal_error", "An internal error occurred; it has been logged.")
        response.headers[REQUEST_ID_HEADER] = current_request_id()  # sent outside the request-id middleware
        return response
