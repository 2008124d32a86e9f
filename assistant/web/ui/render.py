"""HTML of the chat page: answers, program cards, source cards with their passages, filter chips.

Everything shown from the corpus or typed by the user goes through ``html.escape`` (``esc``) before it
becomes HTML; the only markup on the page is what this module writes around it.
"""

from __future__ import annotations

import html
import re
from typing import Any

from assistant.pipeline.service import AnswerService

NO_FILTER = "指定なし"
#: Lines shown before and after a cited span in a source card.
SOURCE_CONTEXT_LINES = 3

FILTER_LABELS = {"ministry": "所管府省", "applicant_type": "申請主体", "theme": "テーマ"}

_CITE = re.compile(r"\[(\d+)\]")
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def answer_html(text: str, filters: dict[str, str] | None = None) -> str:
    """The answer text as escaped HTML: line breaks kept, [n] markers styled, active filters noted."""
    body = _CITE.sub(r'<sup class="pa-ref">[\1]</sup>', esc(text)).replace("\n", "<br>")
    note = ""
    if filters:
        shown = "／".join(f"{FILTER_LABELS[k]}：{esc(v)}" for k, v in filters.items())
        note = f'<div class="pa-filter-note">絞り込み条件 {shown}</div>'
    return note + body


#: Which composer wrote an answer, as the chat shows it under the answer.
COMPOSER_LABELS = {
    "deterministic": "定型の回答（資料の記載をそのまま引用）",
    "openai": "生成AI（OpenAI互換API）の回答・全文を根拠と照合済み",
    "local": "生成AI（ローカルモデル）の回答・全文を根拠と照合済み",
}


def composer_label(answer: dict[str, Any]) -> str:
    """A small line naming the composer that answered; after a fallback, why the generated text is not shown."""
    composer = str(answer.get("composer") or "deterministic")
    label = COMPOSER_LABELS.get(composer, composer)
    verification = answer.get("verification") or {}
    if verification.get("fallback") and verification.get("note"):
        label += "：" + str(verification["note"])
    return f'<div class="pa-composer" data-composer="{esc(composer)}">{esc(label)}</div>'


def question_html(text: str) -> str:
    return esc(text).replace("\n", "<br>")


def format_budget(thousand_yen: int | None, note: str | None) -> str:
    amount = "記載なし" if thousand_yen is None else f"{thousand_yen:,}千円"
    return f"{amount} {note.strip()}" if note and note.strip() else amount


def _tel_href(tel: str) -> str:
    number = re.split(r"[（(]", tel, maxsplit=1)[0]
    return "tel:" + re.sub(r"[^\d+]", "", number)


def program_cards_html(programs: list[dict[str, Any]]) -> str:
    if not programs:
        return '<div class="pa-empty">この回答に関連する事業はありません。</div>'
    cards = []
    for p in programs:
        new_calls = {True: "有", False: "無"}.get(p.get("new_calls"), "記載なし")
        tels = [
            f'<a class="pa-tel" href="{esc(_tel_href(t))}">{esc(t)}</a>'
            for t in p.get("tel", [])
            if re.search(r"\d", t)
        ]
        emails = [
            f'<a class="pa-mail" href="mailto:{esc(e)}">{esc(e)}</a>' if _EMAIL.match(e) else esc(e)
            for e in p.get("email", [])
        ]
        rows = [
            ("申請主体", esc("、".join(p.get("applicant_types") or []) or "記載なし")),
            ("予算額", esc(format_budget(p.get("budget_thousand_yen"), p.get("budget_note")))),
            ("新規採択", esc(new_calls)),
            ("TEL", "<br>".join(tels) or "記載なし"),
            ("メール", "<br>".join(emails) or "記載なし"),
        ]
        table = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
        ministry = esc(p.get("ministry") or "所管記載なし")
        department = esc(p.get("department") or "")
        cards.append(
            '<div class="pa-card pa-program">'
            f'<div class="pa-card-title">{esc(p.get("name", ""))}</div>'
            f'<div class="pa-meta"><span class="pa-badge">{ministry}</span> {department}</div>'
            f"<dl>{table}</dl></div>"
        )
    return "".join(cards)


def _passage_html(lines: list[str], line_start: int, line_end: int, quote: str) -> str:
    """The cited lines with a few around them; the quote is marked where it stands."""
    total = len(lines)
    line_start, line_end = max(1, line_start), min(total, line_end)
    lo, hi = max(1, line_start - SOURCE_CONTEXT_LINES), min(total, line_end + SOURCE_CONTEXT_LINES)
    window = lines[lo - 1 : hi]
    if not window or line_start > line_end:
        return f'<div class="pa-line pa-cited"><span><mark>{esc(quote)}</mark></span></div>'
    offsets, position = [], 0
    for line in window:
        offsets.append(position)
        position += len(line) + 1
    text = "\n".join(window)
    cited_from = offsets[line_start - lo]
    q_start = text.find(quote, cited_from) if quote else -1
    if q_start < 0 and quote:
        q_start = text.find(quote)
    q_end = q_start + len(quote) if q_start >= 0 else -1

    rows = []
    for i, line in enumerate(window):
        number = lo + i
        cited = line_start <= number <= line_end
        start, end = offsets[i], offsets[i] + len(line)
        if q_start >= 0 and q_start < end + 1 and q_end > start:
            a, b = max(q_start, start) - start, min(q_end, end) - start
            body = f"{esc(line[:a])}<mark>{esc(line[a:b])}</mark>{esc(line[b:])}"
        elif q_start < 0 and cited:
            body = f"<mark>{esc(line)}</mark>"
        else:
            body = esc(line)
        css = "pa-line pa-cited" if cited else "pa-line"
        rows.append(
            f'<div class="{css}"><span class="pa-ln">{number}</span><span>{body or "&nbsp;"}</span></div>'
        )
    return "".join(rows)


def source_cards_html(citations: list[dict[str, Any]], service: AnswerService | None) -> str:
    if not citations:
        return '<div class="pa-empty">この回答には出典がありません。</div>'
    cards = []
    for c in citations:
        where = [f"p.{c['page']}"] if c.get("page") else []
        where.append(f"{c['line_start']}–{c['line_end']}行目")
        stored = service.store.get(c["doc_id"]) if service is not None else None
        if stored is not None:
            passage = _passage_html(stored.lines, c["line_start"], c["line_end"], c.get("quote", ""))
        else:
            passage = (
                f'<div class="pa-line pa-cited"><span><mark>{esc(c.get("quote", ""))}</mark></span></div>'
            )
        cards.append(
            '<div class="pa-card pa-source">'
            f'<div class="pa-card-title"><span class="pa-num">[{int(c["id"])}]</span> {esc(c.get("title", ""))}</div>'
            f'<div class="pa-meta">{esc(c.get("section") or "")}</div>'
            f'<div class="pa-meta">{esc(" ・ ".join(where))} <span class="pa-doc">{esc(c["doc_id"])}</span></div>'
            f'<div class="pa-passage">{passage}</div></div>'
        )
    return "".join(cards)


def panel_html(title: str, body: str, count: int | None = None) -> str:
    suffix = f'<span class="pa-count">{count}件</span>' if count else ""
    return f'<div class="pa-panel"><div class="pa-panel-title">{title}{suffix}</div>{body}</div>'


def programs_panel(answer: dict[str, Any] | None) -> str:
    if answer is None:
        return panel_html(
            "関連する事業", '<div class="pa-empty">回答に挙がった事業がここに表示されます。</div>'
        )
    programs = answer.get("programs", [])
    return panel_html("関連する事業", program_cards_html(programs), len(programs))


def sources_panel(answer: dict[str, Any] | None, service: AnswerService | None) -> str:
    if answer is None:
        body = '<div class="pa-empty">回答の [1] などの番号に対応する出典と、その前後の本文がここに表示されます。</div>'
        return panel_html("出典", body)
    citations = answer.get("citations", [])
    return panel_html("出典（引用箇所を強調表示）", source_cards_html(citations, service), len(citations))


def active_filters_html(filters: dict[str, str]) -> str:
    if not filters:
        return '<div class="pa-active">適用中の絞り込み：<b>なし</b>（すべての事業が対象）</div>'
    chips = "".join(f'<span class="pa-chip">{FILTER_LABELS[k]}：{esc(v)}</span>' for k, v in filters.items())
    return f'<div class="pa-active">適用中の絞り込み（次の質問から適用）：{chips}</div>'


def _filters(ministry: str | None, applicant_type: str | None, theme: str | None) -> dict[str, str]:
    chosen = {"ministry": ministry, "applicant_type": applicant_type, "theme": theme}
    return {k: v for k, v in chosen.items() if v and v != NO_FILTER}


def split_for_streaming(text: str) -> list[str]:
    """Sentence-sized pieces (after 。 and line breaks), as the SSE endpoint streams them."""
    pieces, piece = [], ""
    for ch in text:
        piece += ch
        if ch in "。\n":
            pieces.append(piece)
            piece = ""
    if piece:
        pieces.append(piece)
    return pieces


def _new_conversation() -> dict[str, Any]:
    # messages: what the chatbot shows; turns: the plain-text history sent with the next question;
    # records: chatbot message index → the question, history, filters and answer JSON of that answer.
    return {"messages": [], "turns": [], "records": {}, "last_rated": None}
