"""``GET /v1/documents`` and ``GET /v1/documents/{doc_id}``: the corpus, and a cited passage in context."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from assistant.web.errors import ApiError
from assistant.web.holder import Service
from assistant.web.schemas import DocumentList, DocumentPassage, DocumentSummary

router = APIRouter(prefix="/v1", tags=["documents"])


@router.get("/documents", response_model=DocumentList)
def documents(svc: Service) -> DocumentList:
    return DocumentList(
        documents=[
            DocumentSummary(**doc.info.model_dump(exclude={"path"}), lines=len(doc.lines))
            for doc in svc.store.documents.values()
        ]
    )


@router.get("/documents/{doc_id}", response_model=DocumentPassage)
def document(
    doc_id: Annotated[str, Path(description="A document's id, as /v1/documents lists it.")],
    svc: Service,
    line_start: Annotated[int, Query(ge=1, description="First cited line (1-based).")] = 1,
    line_end: Annotated[int | None, Query(ge=1, description="Last cited line (default: line_start).")] = None,
    context: Annotated[int, Query(ge=0, le=50, description="Lines of context before and after.")] = 5,
) -> DocumentPassage:
    stored = svc.store.get(doc_id)
    if stored is None:
        raise ApiError(
            404, "not_found", f"No document {doc_id!r}. Known: {', '.join(sorted(svc.store.documents))}."
        )
    total = len(stored.lines)
    end = line_end if line_end is not None else line_start
    if line_start > total or end < line_start:
        raise ApiError(
            422, "invalid_request", f"line range {line_start}-{end} is outside 1-{total} or reversed"
        )
    end = min(end, total)
    lo, hi = max(1, line_start - context), min(total, end + context)
    return DocumentPassage(
        doc_id=doc_id,
        title=stored.info.title,
        line_start=line_start,
        line_end=end,
        context_start=lo,
        context_end=hi,
        lines=[
            {"line": n, "text": stored.lines[n - 1], "cited": line_start <= n <= end}
            for n in range(lo, hi + 1)
        ],
    )
