"""HTML of the chat page: answers with their sources inline, program cards, filter chips, reusable copies.

Everything shown from the corpus or typed by the user goes through ``html.escape`` (``esc``) before it
becomes HTML; the only markup on the page is what this module writes around it. Document text is shown
through :mod:`assistant.web.display` (full-width kana, visible bullets, PDF line breaks joined); quotes
are located in the stored lines verbatim and only their display is normalised.

Each answer is one chat message: the text with its [n] marks, then 「関連する事業」 and 「出典」 as
collapsible sections under it (one scroll area, the page's), and buttons to copy the answer with its
sources as Markdown or plain text and to print it. ``static/app/page.js`` makes a [n] scroll to its
source and back, copies and prints. The chat sanitises its messages (DOMPurify keeps ``id``, ``class``,
``href`` and ``title``, drops ``data-*`` and ``aria-*``), so a [n] links to its source by ``href``/``id``
(``#pa-src-<turn>-<n>``) and a copy button's text is the hidden ``pre`` beside it.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote as url_quote
from urllib.parse import urlencode

from assistant.pipeline.service import AnswerService
from assistant.records import BudgetLine
from assistant.vocabulary import EMAIL, budget_with_note, tel_href
from assistant.web.display import display_text, reading_text

NO_FILTER = "指定なし"
#: Lines shown before and after a cited span in a source card.
SOURCE_CONTEXT_LINES = 2
#: Budget figures listed under a card (the maps repeat the same figure under every theme).
MAX_OTHER_FIGURES = 6

FILTER_LABELS = {"ministry": "所管府省", "applicant_type": "申請主体", "theme": "テーマ"}

_CITE = re.compile(r"\[(\d+)\]")


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def shown(text: object) -> str:
    """Corpus text for the page: display-normalised, then escaped."""
    return esc(display_text(str(text)))


# -- answer text ---------------------------------------------------------------------------------------
def _filter_note(filters: dict[str, str] | None) -> str:
    if not filters:
        return ""
    listed = "／".join(f"{FILTER_LABELS[k]}：{esc(v)}" for k, v in filters.items())
    return f'<div class="pa-filter-note">絞り込み条件 {listed}</div>'


def answer_html(text: str, filters: dict[str, str] | None = None, turn: int | None = None) -> str:
    """The answer text as escaped HTML: line breaks kept, [n] marks as links to source n of this turn."""
    if turn is None:
        body = _CITE.sub(r'<sup class="pa-ref">[\1]</sup>', shown(text))
    else:
        link = rf'<a class="pa-ref" href="#pa-src-{turn}-\1" title="出典[\1]を表示">[\1]</a>'
        body = _CITE.sub(link, shown(text))
    return _filter_note(filters) + f'<div class="pa-text">{body.replace(chr(10), "<br>")}</div>'


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


def answer_message_html(
    answer: dict[str, Any],
    filters: dict[str, str] | None,
    service: AnswerService | None,
    turn: int,
) -> str:
    """One finished answer: text, suggestions, related programs and sources (collapsible), tools."""
    parts = [
        f'<div class="pa-answer" id="pa-answer-{turn}">',
        answer_html(answer["answer"], filters, turn),
        composer_label(answer),
    ]
    suggestions = answer.get("suggestions") or []
    if suggestions:
        buttons = "".join(
            f'<button type="button" class="pa-suggest" title="この質問をする">{esc(q)}</button>'
            for q in suggestions
        )
        parts.append(
            '<div class="pa-suggestions"><div class="pa-suggest-title">収録資料で答えられる質問'
            f"（押すと質問します）</div>{buttons}</div>"
        )
    programs = answer.get("programs") or []
    citations = answer.get("citations") or []
    if programs:
        parts.append(
            f'<details class="pa-section pa-programs-inline"><summary>関連する事業（{len(programs)}件）</summary>'
            f"{program_cards_html(programs, service)}</details>"
        )
    if citations:
        parts.append(
            f'<details class="pa-section pa-sources-inline"><summary>出典（{len(citations)}件）'
            f'<span class="pa-hint">[n] を押すと該当の出典へ移動します</span></summary>'
            f"{source_cards_html(citations, service, turn)}</details>"
        )
    parts.append(_tools_html(answer, service))
    parts.append("</div>")
    return "".join(parts)


def copy_button(label: str, text: str, title: str) -> str:
    """A button copying ``text``; the text rides in a hidden ``pre`` (data attributes do not survive)."""
    return (
        f'<span class="pa-copy-wrap"><button type="button" class="pa-copy" title="{esc(title)}">'
        f'{esc(label)}</button><pre class="pa-copy-src">{esc(text)}</pre></span>'
    )


def _tools_html(answer: dict[str, Any], service: AnswerService | None) -> str:
    return (
        '<div class="pa-tools">'
        + copy_button("Markdownでコピー", answer_markdown(answer, service), "回答と出典をMarkdownでコピー")
        + copy_button("テキストでコピー", answer_plain_text(answer, service), "回答と出典をテキストでコピー")
        + '<button type="button" class="pa-print" title="この回答と出典を印刷">印刷</button></div>'
    )


# -- reusable copies -----------------------------------------------------------------------------------
def _document_line(citation: dict[str, Any], service: AnswerService | None) -> str:
    info = _document_info(citation["doc_id"], service)
    where = [f"p.{citation['page']}"] if citation.get("page") else []
    where.append(f"{citation['line_start']}–{citation['line_end']}行目")
    source = [info.get("title") or citation.get("title", "")]
    if info.get("publisher"):
        source.append(info["publisher"])
    if info.get("date"):
        source.append(info["date"])
    return f"{'・'.join(source)}（{citation.get('section') or '—'}、{'、'.join(where)}）"


def answer_markdown(answer: dict[str, Any], service: AnswerService | None) -> str:
    """The answer and its sources as Markdown (quotes as block quotes), to paste into a mail or a wiki."""
    lines = [display_text(answer["answer"]).replace("\n", "  \n"), ""]
    citations = answer.get("citations") or []
    if citations:
        lines.append("**出典**")
        lines.append("")
        for c in citations:
            lines.append(f"[{c['id']}] {display_text(_document_line(c, service))}")
            quote = display_text(reading_text(c.get("quote", ""))[0]).replace("\n", " ")
            lines.append(f"> {quote}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def answer_plain_text(answer: dict[str, Any], service: AnswerService | None) -> str:
    """The answer and its sources as plain text."""
    lines = [display_text(answer["answer"]), ""]
    citations = answer.get("citations") or []
    if citations:
        lines.append("出典:")
        for c in citations:
            quote = display_text(reading_text(c.get("quote", ""))[0]).replace("\n", " ")
            lines.append(f"[{c['id']}] {display_text(_document_line(c, service))}「{quote}」")
    return "\n".join(lines).rstrip() + "\n"


def contact_text(program: dict[str, Any]) -> str:
    """A program's contact, as one pastes it into a mail: name, department, TEL and e-mail."""
    lines = [program.get("name", "")]
    if program.get("department") or program.get("ministry"):
        lines.append(f"担当：{program.get('department') or program.get('ministry')}")
    lines += [f"TEL：{t}" for t in program.get("tel") or []]
    lines += [f"mail：{m}" for m in program.get("email") or []]
    return display_text("\n".join(lines))


# -- program cards -------------------------------------------------------------------------------------
def basis_text(basis: dict[str, Any] | None) -> str:
    """「令和4年度予算政府案」, or the fiscal year before a label that does not spell it (R4年度…)."""
    if not basis:
        return ""
    label, years = basis.get("label", ""), basis.get("fiscal_year")
    spelled = not years or all(year in label for year in years.split("・"))
    return label if spelled else f"{years}（{label}）"


def department_without_ministry(program: dict[str, Any]) -> str:
    """The 担当部署 after the ministry, which the card prints once, as a badge."""
    department = program.get("department") or ""
    ministry = program.get("ministry") or ""
    if ministry and department.startswith(ministry):
        department = department[len(ministry) :].strip()
    return department


def budget_html(program: dict[str, Any]) -> str:
    amount = shown(budget_with_note(program.get("budget_thousand_yen"), program.get("budget_note")))
    basis = basis_text(program.get("budget_basis"))
    if not basis:
        return amount
    return f'{amount}<span class="pa-basis">{shown(basis)}</span>'


def _other_figures(program_id: str, service: AnswerService | None) -> list[tuple[BudgetLine, int]]:
    """The program's budget lines with a basis, one per figure and basis, with how many more places print
    it: the maps repeat the same figure on every theme's page (「138億円」 on six R4年度 menus)."""
    if service is None:
        return []
    groups: dict[tuple[str, ...], list[BudgetLine]] = {}
    for line in service.index.catalog.budget_lines:
        if line.program_id != program_id or line.basis is None:
            continue
        menu = "支援メニュー" in line.basis.label
        key = (display_text(line.amount_text), line.basis.fiscal_year or "", "" if menu else line.basis.label)
        groups.setdefault(key, []).append(line)
    return [(lines[0], len(lines) - 1) for lines in groups.values()][:MAX_OTHER_FIGURES]


def _figures_html(program_id: str, service: AnswerService | None) -> str:
    figures = _other_figures(program_id, service)
    if not figures:
        return ""
    items = []
    for figure, more in figures:
        if figure.basis is None:
            continue
        also = f'<span class="pa-meta"> ほか{more}か所</span>' if more else ""
        span = figure.source
        items.append(
            f'<li>{shown(figure.amount_text)}<span class="pa-basis">{shown(basis_text(figure.basis.model_dump()))}'
            f"</span>{also}{_document_link(span.doc_id, span.line_start, span.line_end, '記載箇所')}</li>"
        )
    return (
        '<details class="pa-figures"><summary>資料中の予算の記載と、その基準</summary>'
        f"<ul>{''.join(items)}</ul></details>"
    )


def program_cards_html(programs: list[dict[str, Any]], service: AnswerService | None = None) -> str:
    if not programs:
        return '<div class="pa-empty">この回答に関連する事業はありません。</div>'
    return "".join(program_card_html(p, service) for p in programs)


def program_card_html(p: dict[str, Any], service: AnswerService | None = None) -> str:
    new_calls = {True: "有", False: "無"}.get(p.get("new_calls"), "記載なし")
    tels = [
        f'<a class="pa-tel" href="{esc(tel_href(t))}">{shown(t)}</a>'
        for t in p.get("tel", [])
        if re.search(r"\d", t)
    ]
    emails = [
        f'<a class="pa-mail" href="mailto:{esc(e)}">{esc(e)}</a>' if EMAIL.fullmatch(e) else esc(e)
        for e in p.get("email", [])
    ]
    rows = [
        ("申請主体", shown("、".join(p.get("applicant_types") or []) or "記載なし")),
        ("予算額", budget_html(p)),
        ("新規採択", esc(new_calls)),
        ("TEL", "<br>".join(tels) or "記載なし"),
        ("メール", "<br>".join(emails) or "記載なし"),
    ]
    table = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    ministry = shown(p.get("ministry") or "所管記載なし")
    department = shown(department_without_ministry(p))
    source = ""
    if service is not None and (record := service.programs.get(p.get("id", ""))) is not None:
        span = record.source
        source = _document_link(span.doc_id, span.line_start, span.line_end, "表の行を資料で見る")
    copy = copy_button("連絡先をコピー", contact_text(p), f"{p.get('name', '')}の連絡先をコピー")
    return (
        '<div class="pa-card pa-program">'
        f'<div class="pa-card-title">{shown(p.get("name", ""))}</div>'
        f'<div class="pa-meta"><span class="pa-badge">{ministry}</span> {department}</div>'
        f"<dl>{table}</dl>{_figures_html(p.get('id', ''), service)}"
        f'<div class="pa-card-tools">{copy}{source}</div></div>'
    )


# -- source cards --------------------------------------------------------------------------------------
def _document_info(doc_id: str, service: AnswerService | None) -> dict[str, str]:
    stored = service.store.get(doc_id) if service is not None else None
    return stored.info.model_dump() if stored is not None else {}


def lines_label(line_start: int, line_end: int) -> str:
    """「15行目」 or 「15–17行目」 (not 「559–559行目」)."""
    return f"{line_start}行目" if line_start == line_end else f"{line_start}–{line_end}行目"


def document_href(
    doc_id: str, line_start: int, line_end: int, chars: tuple[int | None, int | None] = (None, None)
) -> str:
    """The whole-document view at those lines (``assistant.web.ui.document_view``), the quote's characters
    (``c0``/``c1`` of the lines' text) marked; relative to the page."""
    params: dict[str, int] = {"from": line_start, "to": line_end}
    if chars[0] is not None and chars[1] is not None:
        params |= {"c0": chars[0], "c1": chars[1]}
    return esc(f"documents/{url_quote(doc_id)}?{urlencode(params)}#L{line_start}")


def _document_link(
    doc_id: str,
    line_start: int,
    line_end: int,
    label: str,
    chars: tuple[int | None, int | None] = (None, None),
) -> str:
    return (
        f'<a class="pa-doclink" href="{document_href(doc_id, line_start, line_end, chars)}" target="_blank" '
        f'rel="noopener">{esc(label)} ↗</a>'
    )


#: Cited lines longer than this (a table row printed as one line, ~2,200 characters) are shown as the
#: quote with CELL_CONTEXT_CHARS either side, not as a wall of text.
MAX_PASSAGE_CHARS = 400
CELL_CONTEXT_CHARS = 80


def _bounded(cited: str, quote: str, char_start: int | None) -> str:
    """The quote in its long lines with bounded context, cut points marked 「…」."""
    at = char_start if char_start is not None and cited[char_start:].startswith(quote) else cited.find(quote)
    if at < 0 or not quote:
        return f'<p class="pa-passage-text"><mark>{shown(quote[:MAX_PASSAGE_CHARS])}</mark></p>'
    end = at + len(quote)
    lo, hi = max(0, at - CELL_CONTEXT_CHARS), min(len(cited), end + CELL_CONTEXT_CHARS)
    marked = shown(
        cited[at:end] if end - at <= MAX_PASSAGE_CHARS else cited[at : at + MAX_PASSAGE_CHARS] + "…"
    )
    return (
        '<p class="pa-passage-text">'
        f'<span class="pa-context">{"…" if lo else ""}{shown(cited[lo:at])}</span><mark>{marked}</mark>'
        f'<span class="pa-context">{shown(cited[end:hi])}{"…" if hi < len(cited) else ""}</span></p>'
    )


def passage_html(
    lines: list[str], line_start: int, line_end: int, quote: str, char_start: int | None = None
) -> str:
    """The cited lines (PDF breaks joined for reading) between dimmed context; the quote is marked. Long
    cited lines are cut to the quote and its neighbourhood (:func:`_bounded`)."""
    total = len(lines)
    line_start, line_end = max(1, line_start), min(total, line_end)
    if not lines or line_start > line_end:
        return f'<p class="pa-cited"><mark>{shown(quote)}</mark></p>'
    cited_text = "\n".join(lines[line_start - 1 : line_end])
    if len(cited_text) > MAX_PASSAGE_CHARS and quote:
        return _bounded(cited_text, quote, char_start)
    lo, hi = max(1, line_start - SOURCE_CONTEXT_LINES), min(total, line_end + SOURCE_CONTEXT_LINES)
    window = lines[lo - 1 : hi]
    raw = "\n".join(window)
    cited_from = sum(len(line) + 1 for line in window[: line_start - lo])
    cited_to = sum(len(line) + 1 for line in window[: line_end - lo + 1]) - 1
    q_start = raw.find(quote, cited_from) if quote else -1
    if q_start < 0 and quote:
        q_start = raw.find(quote)
    q_end = q_start + len(quote) if q_start >= 0 else -1
    text, offsets = reading_text(raw)

    cuts = {0, offsets[cited_from], offsets[cited_to], len(text)}
    if q_start >= 0:
        cuts |= {offsets[q_start], offsets[q_end]}
    bounds = sorted(cuts)
    pieces = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        if a == b:
            continue
        piece = shown(text[a:b]).replace("\n", "<br>")
        cited = offsets[cited_from] <= a < offsets[cited_to]
        in_quote = offsets[q_start] <= a < offsets[q_end] if q_start >= 0 else cited
        if in_quote:
            piece = f"<mark>{piece}</mark>"
        pieces.append(piece if cited else f'<span class="pa-context">{piece}</span>')
    return f'<p class="pa-passage-text">{"".join(pieces)}</p>'


def source_cards_html(
    citations: list[dict[str, Any]], service: AnswerService | None, turn: int | None = None
) -> str:
    if not citations:
        return '<div class="pa-empty">この回答には出典がありません。</div>'
    cards = []
    for c in citations:
        n = int(c["id"])
        info = _document_info(c["doc_id"], service)
        where = [f"p.{c['page']}"] if c.get("page") else []
        where.append(lines_label(c["line_start"], c["line_end"]))
        stored = service.store.get(c["doc_id"]) if service is not None else None
        if stored is not None:
            passage = passage_html(
                stored.lines, c["line_start"], c["line_end"], c.get("quote", ""), c.get("char_start")
            )
        else:
            passage = f'<p class="pa-cited"><mark>{shown(c.get("quote", ""))}</mark></p>'
        published = "・".join(shown(info[k]) for k in ("publisher", "date") if info.get(k))
        anchor = f' id="pa-src-{turn}-{n}"' if turn is not None else ""
        back = (
            f'<a class="pa-back" href="#pa-ref-{turn}-{n}" title="回答の[{n}]に戻る">↩ 回答へ</a>'
            if turn is not None
            else ""
        )
        cards.append(
            f'<div class="pa-card pa-source"{anchor}>'
            f'<div class="pa-card-title"><span class="pa-num">[{n}]</span> '
            f"{shown(info.get('title') or c.get('title', ''))}</div>"
            + (f'<div class="pa-meta pa-published">{published}</div>' if published else "")
            + f'<div class="pa-meta">{shown(c.get("section") or "")}</div>'
            f'<div class="pa-meta">{esc(" ・ ".join(where))} '
            + _document_link(
                c["doc_id"],
                c["line_start"],
                c["line_end"],
                "資料全体で見る",
                (c.get("char_start"), c.get("char_end")),
            )
            + f"{back}</div>"
            f'<blockquote class="pa-passage">{passage}</blockquote></div>'
        )
    return "".join(cards)


# -- filters and streaming -----------------------------------------------------------------------------
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
