"""``GET /v1/programs`` (the catalog, filterable; JSON, CSV or Excel) and ``GET /v1/programs/{id}``."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from assistant.pipeline.service import AnswerService, ProgramCard
from assistant.records import Program
from assistant.web.catalog_table import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, CatalogQuery, export, select_programs
from assistant.web.errors import ApiError
from assistant.web.holder import Service
from assistant.web.schemas import BudgetFigure, ProgramDetail, ProgramList

router = APIRouter(prefix="/v1", tags=["catalog"])

EXPORT_RESPONSES = {
    200: {
        "description": "The programs, as JSON (default), CSV (UTF-8 with BOM) or an Excel workbook; the CSV "
        "and Excel rows are the JSON's programs in the same order.",
        "content": {
            CSV_MEDIA_TYPE: {
                "schema": {"type": "string"},
                "example": "id,事業名,所管府省,担当部署,申請主体,予算額（千円）,予算額の注記,予算額の基準,予算額の年度,"
                "新規課題採択,TEL,メール,テーマ,出典\r\np-0763379a05,地域活性化人材育成事業,文部科学省,…",
            },
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get("/programs", response_model=ProgramList, responses=EXPORT_RESPONSES)
def programs(
    svc: Service,
    ministry: Annotated[str | None, Query(description="所管府省, e.g. 文部科学省 (or 文科省).")] = None,
    applicant_type: Annotated[
        str | None,
        Query(description="申請主体: 大学等研究機関, 民間事業者等, 自治体, 研究者, 官民コンソーシアム."),
    ] = None,
    theme: Annotated[str | None, Query(description="Theme of the 関連事業マップ, e.g. 地域脱炭素.")] = None,
    min_budget: Annotated[int | None, Query(ge=0, description="Lowest 予算額, in thousand yen.")] = None,
    max_budget: Annotated[int | None, Query(ge=0, description="Highest 予算額, in thousand yen.")] = None,
    new_calls: Annotated[bool | None, Query(description="新規課題採択: true = 有, false = 無.")] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Text in the name or description, or a program's alias."),
    ] = None,
    format: Annotated[
        Literal["json", "csv", "xlsx"],
        Query(description="json (default), csv or xlsx: the same rows as a download."),
    ] = "json",
) -> ProgramList | Response:
    query = CatalogQuery(ministry, applicant_type, theme, min_budget, max_budget, new_calls, q)
    found = select_programs(svc, query)
    if format == "json":
        return ProgramList(programs=[ProgramCard.of(p) for p in found])
    data, media_type = export(found, format)
    return Response(
        data,
        media_type=media_type,
        # 事業一覧.csv, as the page's link says (RFC 6266: an ASCII name for old clients, then UTF-8)
        headers={
            "Content-Disposition": f'attachment; filename="programs.{format}"; '
            f"filename*=UTF-8''{quote('事業一覧')}.{format}"
        },
    )


@router.get("/programs/{program_id}", response_model=ProgramDetail)
def program(
    program_id: Annotated[str, Path(description="A program's id, as /v1/programs lists it (p-0763379a05).")],
    svc: Service,
) -> ProgramDetail:
    found = svc.programs.get(program_id)
    if found is None:
        raise ApiError(404, "not_found", f"No program with id {program_id!r}. List them at /v1/programs.")
    return program_detail(svc, found)


def program_detail(svc: AnswerService, found: Program) -> ProgramDetail:
    """A program's card with its aliases, description, source row and every budget figure printed for it
    (each with its basis and where) — for this route and the MCP ``get_program`` tool."""
    figures = [
        BudgetFigure(amount_text=b.amount_text, basis=b.basis, source=b.source)
        for b in svc.index.catalog.budget_lines
        if b.program_id == found.id
    ]
    data = found.model_dump()
    return ProgramDetail.model_validate(
        {**data, "source": found.source.model_dump(), "budget_figures": figures}
    )
