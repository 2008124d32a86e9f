"""``GET /documents/{doc_id}?from=&to=``: a whole document as the index stores it, opened at cited lines.

A source card links here, so a reader can check a quote in its full context: every line with its
number (the numbers citations use), the cited lines highlighted and scrolled to (``#L<from>``), the
document's title, publisher and date from the manifest. It is a page of the UI (mounted with it, outside
``/v1``), served as plain HTML from the process's document snapshots; text is display-normalised
(:mod:`assistant.web.display`) and escaped.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from assistant.web.display import display_text
from assistant.web.ui.render import esc, lines_label

router = APIRouter(include_in_schema=False)

KIND_LABELS = {"slides": "スライド資料", "report": "報告書", "notice": "通知", "summary": "概要"}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html>"
        '<html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}｜政策アシスタント</title>"
        '<link rel="stylesheet" href="../static/app/document.css"></head>'
        f"<body>{body}</body></html>",
        status_code=status,
    )


def _message(title: str, message: str, status: int) -> HTMLResponse:
    return _page(
        title,
        f'<main class="doc-message"><h1>{esc(title)}</h1><p>{esc(message)}</p>'
        '<p><a href="../">政策アシスタントに戻る</a></p></main>',
        status,
    )


def _marked(line: str, offset: int, char_from: int | None, char_to: int | None) -> str:
    """A cited line with the quote's characters (``c0``..``c1`` of the cited text) marked: in a table row
    printed as one long line, the cell that was cited."""
    if char_from is None or char_to is None or char_to <= char_from:
        return esc(display_text(line))
    a, b = max(0, char_from - offset), min(len(line), char_to - offset)
    if a >= b:
        return esc(display_text(line))
    return (
        esc(display_text(line[:a]))
        + f'<mark class="doc-quote">{esc(display_text(line[a:b]))}</mark>'
        + esc(display_text(line[b:]))
    )


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(
    doc_id: str,
    request: Request,
    line_from: Annotated[int | None, Query(alias="from", ge=1)] = None,
    line_to: Annotated[int | None, Query(alias="to", ge=1)] = None,
    char_from: Annotated[int | None, Query(alias="c0", ge=0)] = None,
    char_to: Annotated[int | None, Query(alias="c1", ge=0)] = None,
) -> HTMLResponse:
    service = request.app.state.holder.service
    if service is None:
        return _message(
            "準備中です", "索引と言語モデルを読み込んでいます。少し待ってから開き直してください。", 503
        )
    stored = service.store.get(doc_id)
    if stored is None:
        return _message("資料が見つかりません", "この資料は収録されていません。", 404)
    total = len(stored.lines)
    start = min(line_from or 0, total) or None
    end = max(start, min(line_to or start or 0, total)) if start else None
    info = stored.info
    rows = []
    offset = 0  # of the line in the cited lines' text (joined by "\n"), where c0/c1 count
    for number, line in enumerate(stored.lines, start=1):
        cited = start is not None and end is not None and start <= number <= end
        css = ' class="cited"' if cited else ""
        shown = _marked(line, offset, char_from, char_to) if cited else esc(display_text(line))
        offset += len(line) + 1 if cited else 0
        rows.append(
            f'<tr id="L{number}"{css}><th scope="row"><a href="#L{number}">{number}</a></th>'
            f"<td>{shown or '&nbsp;'}</td></tr>"
        )
    cited_note = (
        f'<p class="doc-cited-note">強調表示：{lines_label(start, end)}（出典として引用された行）'
        f' <a href="#L{start}">その行へ移動</a></p>'
        if start
        else ""
    )
    header = (
        '<header class="doc-header">'
        f"<h1>{esc(display_text(info.title))}</h1>"
        f'<p class="doc-meta">{esc(info.publisher)}・{esc(info.date)}・'
        f"{esc(KIND_LABELS.get(info.kind, info.kind))}・全{total:,}行・資料ID {esc(info.doc_id)}</p>"
        f"{cited_note}"
        '<p class="doc-note">PDFから取り出した文字をそのまま行ごとに表示しています（行番号は出典の行番号と同じ）。</p>'
        "</header>"
    )
    table = f'<table class="doc-lines"><tbody>{"".join(rows)}</tbody></table>'
    return _page(info.title, f"{header}<main>{table}</main>")
