"""``GET /v1/programs`` (the catalog, filterable) and ``GET /v1/programs/{id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from assistant.pipeline.conditions import Condition, ProgramFilter, explicit_filters
from assistant.pipeline.service import ProgramCard
from assistant.web.errors import ApiError
from assistant.web.holder import Service
from assistant.web.schemas import ProgramDetail, ProgramList

router = APIRouter(prefix="/v1", tags=["catalog"])


@router.get("/programs", response_model=ProgramList)
def programs(
    svc: Service,
    ministry: str | None = None,
    applicant_type: str | None = None,
    theme: str | None = None,
    min_budget: Annotated[int | None, Query(ge=0, description="thousand yen")] = None,
    max_budget: Annotated[int | None, Query(ge=0, description="thousand yen")] = None,
    new_calls: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> ProgramList:
    catalog = list(svc.programs.values())
    conditions = explicit_filters(
        {"ministry": ministry, "applicant_type": applicant_type, "theme": theme}, catalog
    )
    if min_budget is not None:
        conditions.append(Condition("min_budget", "ge", min_budget, "filter"))
    if max_budget is not None:
        conditions.append(Condition("max_budget", "le", max_budget, "filter"))
    if new_calls is not None:
        conditions.append(Condition("new_calls", "eq", new_calls, "filter"))
    found = ProgramFilter.of(conditions).apply(catalog)
    if q and q.strip():
        named = set(svc.matcher.find(q))
        needle = q.strip()
        found = [p for p in found if p.id in named or needle in p.name or needle in (p.description or "")]
    return ProgramList(programs=[ProgramCard.of(p) for p in found])


@router.get("/programs/{program_id}", response_model=ProgramDetail)
def program(program_id: str, svc: Service) -> ProgramDetail:
    found = svc.programs.get(program_id)
    if found is None:
        raise ApiError(404, "not_found", f"No program with id {program_id!r}. List them at /v1/programs.")
    data = found.model_dump()
    return ProgramDetail.model_validate({**data, "source": found.source.model_dump()})
