"""The chat page (Gradio Blocks, all labels in Japanese), mounted at ``/`` of the API app.

It calls the process's ``AnswerService`` directly (no HTTP to itself) through the API's service
holder, so the page and the API share one model and one index. Per browser session it keeps the
conversation (for follow-ups such as 「その事業の問い合わせ先は？」) and every answer's JSON (for the
program and source cards and for 👍/👎 feedback, stored by ``assistant.feedback``).

Everything shown from the corpus or typed by the user goes through ``html.escape`` before it becomes
HTML; the only markup on the page is what this module writes around it.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from assistant.answering import AnswerService
from assistant.config import Settings, get_settings
from assistant.feedback import FeedbackStore
from assistant.intents import Turn

log = logging.getLogger("assistant.ui")

MAX_QUESTION_CHARS = get_settings().max_question_chars  # the API's limit, from the one config
NO_FILTER = "指定なし"
#: Lines shown before and after a cited span in a source card.
SOURCE_CONTEXT_LINES = 3
#: Pause between streamed sentences, so the answer visibly builds up (the answer itself takes ~100 ms).
STREAM_DELAY_S = 0.04

FILTER_LABELS = {"ministry": "所管府省", "applicant_type": "申請主体", "theme": "テーマ"}

EXAMPLES: list[tuple[str, str]] = [
    ("目的から事業を探す", "うちの大学は地域の人材育成をしたい。使える事業と問い合わせ先は？"),
    ("問い合わせ先", "共創の場形成支援プログラムの問い合わせ先は？"),
    ("事業の一覧", "文科省の事業で大学が申請できるものは？"),
    ("予算額", "地方大学・地域産業創生交付金の予算額は？"),
    ("資料の記載", "総合振興パッケージを具体化するために関係府省で設置した組織は何ですか？"),
]

_CITE = re.compile(r"\[(\d+)\]")
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")


class Holder(Protocol):
    """What the page needs from the API's ``ServiceHolder``."""

    settings: Settings

    def get(self) -> AnswerService: ...


# -- HTML building (everything from outside is escaped here) ----------------------------------------
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


# -- the page ---------------------------------------------------------------------------------------
CSS = """
.gradio-container { max-width: 1400px !important; }
#pa-header h1 { margin-bottom: 0.1em; }
#pa-header p { margin-top: 0; color: var(--body-text-color-subdued); }
.pa-panel { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
  background: var(--block-background-fill); }
.pa-panel-title { font-weight: 700; margin-bottom: 8px; }
.pa-count { font-weight: 400; font-size: 0.85em; margin-left: 8px; color: var(--body-text-color-subdued); }
#pa-programs .pa-panel { max-height: 44vh; overflow-y: auto; }
#pa-sources .pa-panel { max-height: 52vh; overflow-y: auto; }
.pa-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin-bottom: 8px; background: var(--background-fill-primary); }
.pa-program { border-left: 4px solid var(--color-accent); }
.pa-card-title { font-weight: 700; margin-bottom: 2px; }
.pa-meta { font-size: 0.85em; color: var(--body-text-color-subdued); }
.pa-badge { display: inline-block; padding: 0 6px; border-radius: 4px; background: var(--color-accent-soft);
  color: var(--body-text-color); }
.pa-program dl { display: grid; grid-template-columns: 5.5em 1fr; gap: 2px 8px; margin: 6px 0 0; font-size: 0.92em; }
.pa-program dt { font-weight: 600; color: var(--body-text-color-subdued); }
.pa-program dd { margin: 0; overflow-wrap: anywhere; }
.pa-num { color: var(--color-accent); }
.pa-doc { font-family: var(--font-mono); font-size: 0.9em; }
.pa-passage { margin-top: 6px; font-size: 0.86em; line-height: 1.5; max-height: 220px; overflow-y: auto;
  background: var(--background-fill-secondary); border-radius: 6px; padding: 4px 6px; }
.pa-line { display: flex; gap: 8px; white-space: pre-wrap; overflow-wrap: anywhere; opacity: 0.65; }
.pa-line.pa-cited { opacity: 1; }
.pa-ln { flex: 0 0 3.2em; text-align: right; color: var(--body-text-color-subdued); user-select: none; }
.pa-passage mark { background: #fde68a; color: #111; padding: 0 1px; border-radius: 2px; }
.pa-empty { color: var(--body-text-color-subdued); font-size: 0.9em; }
.pa-active { font-size: 0.92em; padding: 4px 2px; }
.pa-chip { display: inline-block; margin: 0 4px; padding: 1px 8px; border-radius: 999px;
  background: var(--color-accent-soft); border: 1px solid var(--color-accent); }
.pa-filter-note { font-size: 0.85em; color: var(--body-text-color-subdued); margin-bottom: 4px; }
.pa-ref { color: var(--color-accent); font-weight: 600; }
.pa-status { font-size: 0.88em; color: var(--body-text-color-subdued); }
#pa-examples button { text-align: left; justify-content: flex-start; white-space: normal; }
"""

THEME = gr.themes.Soft(
    primary_hue="blue",
    font=[
        "Noto Sans CJK JP",
        "Noto Sans JP",
        "Hiragino Kaku Gothic ProN",
        "Meiryo",
        "system-ui",
        "sans-serif",
    ],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)


class ChatUI:
    """The handlers of the page; state per browser session lives in a ``gr.State``."""

    def __init__(self, holder: Holder) -> None:
        self.holder = holder
        self._feedback: FeedbackStore | None = None
        self._feedback_lock = threading.Lock()

    @property
    def feedback(self) -> FeedbackStore:
        """Created on the first rating, so a read-only data directory does not stop the page."""
        with self._feedback_lock:
            if self._feedback is None:
                self._feedback = FeedbackStore.for_data_dir(self.holder.settings.data_dir)
            return self._feedback

    def _service(self) -> AnswerService | None:
        try:
            return self.holder.get()
        except Exception:
            return None

    # -- readiness and filter choices -------------------------------------------------------------
    def refresh(self):
        """Filter choices from the catalog once the service has loaded; the timer stops then."""
        svc = self._service()
        if svc is None:
            status = '<div class="pa-status">⏳ 準備中：索引と言語モデルを読み込んでいます…</div>'
            return gr.skip(), gr.skip(), gr.skip(), status, gr.Timer(active=True)
        programs = list(svc.programs.values())
        ministries = sorted({p.ministry for p in programs if p.ministry})
        applicants = sorted({a for p in programs for a in p.applicant_types})
        themes = sorted({t for p in programs for t in p.themes})
        status = (
            f'<div class="pa-status">✅ 準備完了：収録資料 {len(svc.store.documents)}件・'
            f"事業 {len(programs)}件</div>"
        )
        return (
            gr.Dropdown(choices=[NO_FILTER, *ministries]),
            gr.Dropdown(choices=[NO_FILTER, *applicants]),
            gr.Dropdown(choices=[NO_FILTER, *themes]),
            status,
            gr.Timer(active=False),
        )

    # -- asking ---------------------------------------------------------------------------------------
    def ask(
        self, question: str, ministry: str, applicant_type: str, theme: str, conv: dict[str, Any]
    ) -> Iterator[tuple[Any, ...]]:
        """Yields (chatbot, conversation, question box, program panel, source panel) as the answer streams."""
        conv = conv or _new_conversation()
        question = (question or "").strip()
        if not question:
            gr.Warning("質問を入力してください。")
            yield gr.skip(), conv, gr.skip(), gr.skip(), gr.skip()
            return
        if len(question) > MAX_QUESTION_CHARS:
            gr.Warning(f"質問は{MAX_QUESTION_CHARS:,}文字以内でお願いします（現在 {len(question):,}文字）。")
            yield gr.skip(), conv, gr.skip(), gr.skip(), gr.skip()
            return

        messages = conv["messages"]
        messages.append({"role": "user", "content": question_html(question)})
        messages.append({"role": "assistant", "content": "回答を作成しています…"})
        yield list(messages), conv, "", gr.skip(), gr.skip()

        svc = self._service()
        if svc is None:  # shown, but kept out of the history sent with the next question
            messages[-1]["content"] = (
                "準備中です。索引と言語モデルの読み込みが終わるまで、少し待ってからもう一度お試しください。"
            )
            yield list(messages), conv, question, gr.skip(), gr.skip()
            return

        filters = _filters(ministry, applicant_type, theme)
        history = [Turn(role=t["role"], content=t["content"]) for t in conv["turns"]]
        try:
            result = svc.answer(question, history, filters or None)
        except Exception:
            log.exception("answering failed in the chat UI")
            messages[-1]["content"] = (
                "申し訳ありません。回答の作成中にエラーが発生しました。言い換えてもう一度お試しください。"
            )
            yield list(messages), conv, gr.skip(), gr.skip(), gr.skip()
            return

        shown = ""
        for piece in split_for_streaming(result.answer):
            shown += piece
            messages[-1]["content"] = answer_html(shown, filters) + '<span class="pa-cursor">▍</span>'
            yield list(messages), conv, gr.skip(), gr.skip(), gr.skip()
            time.sleep(STREAM_DELAY_S)

        answer = result.model_dump(mode="json")
        messages[-1]["content"] = answer_html(result.answer, filters)
        conv["records"][str(len(messages) - 1)] = {
            "question": question,
            "history": list(conv["turns"]),
            "filters": filters,
            "answer": answer,
            "feedback_id": None,
        }
        conv["turns"] = [
            *conv["turns"],
            {"role": "user", "content": question},
            {"role": "assistant", "content": result.answer},
        ]
        yield list(messages), conv, gr.skip(), programs_panel(answer), sources_panel(answer, svc)

    def clear(self):
        conv = _new_conversation()
        return (
            [],
            conv,
            "",
            programs_panel(None),
            sources_panel(None, None),
            gr.Column(visible=False),
            "",
            "",
        )

    def show_record(self, conv: dict[str, Any], evt: gr.SelectData):
        """Clicking an earlier answer shows its programs and sources again."""
        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        record = (conv or {}).get("records", {}).get(str(index))
        if record is None:
            return gr.skip(), gr.skip()
        return programs_panel(record["answer"]), sources_panel(record["answer"], self._service())

    # -- feedback -----------------------------------------------------------------------------------
    def rate(self, conv: dict[str, Any], evt: gr.LikeData):
        """👍/👎 on an answer: stored at once; clicking the same thumb again takes the rating back."""
        conv = conv or _new_conversation()
        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        record = conv["records"].get(str(index))
        if record is None:
            return conv, gr.skip(), gr.skip()
        rating = "up" if evt.liked is True else "down" if evt.liked is False else None
        try:
            if rating is None:
                if record["feedback_id"] is not None:
                    self.feedback.delete(record["feedback_id"])
                record["feedback_id"] = None
                conv["last_rated"] = None
                status = '<div class="pa-status">評価を取り消しました。</div>'
                return conv, status, gr.Column(visible=False)
            fid = record["feedback_id"]
            if fid is None or not self.feedback.update(fid, rating=rating):
                record["feedback_id"] = self.feedback.add(
                    question=record["question"],
                    answer=record["answer"],
                    rating=rating,
                    history=record["history"],
                    filters=record["filters"],
                )
        except Exception:
            log.exception("could not store feedback")
            gr.Warning("評価を保存できませんでした。")
            return conv, gr.skip(), gr.skip()
        conv["last_rated"] = str(index)
        thumb = "👍" if rating == "up" else "👎"
        status = (
            f'<div class="pa-status">{thumb} 評価を保存しました。ありがとうございます。'
            "よろしければ、理由や正しい答えをコメントでお知らせください（任意）。</div>"
        )
        return conv, status, gr.Column(visible=True)

    def comment(self, text: str, conv: dict[str, Any]):
        conv = conv or _new_conversation()
        record = conv["records"].get(conv.get("last_rated") or "")
        text = (text or "").strip()
        if record is None or record.get("feedback_id") is None:
            gr.Warning("先に回答の 👍 / 👎 を押してください。")
            return conv, gr.skip(), gr.skip()
        if not text:
            gr.Warning("コメントを入力してください。")
            return conv, gr.skip(), gr.skip()
        try:
            self.feedback.update(record["feedback_id"], comment=text[:MAX_QUESTION_CHARS])
        except Exception:
            log.exception("could not store the feedback comment")
            gr.Warning("コメントを保存できませんでした。")
            return conv, gr.skip(), gr.skip()
        return conv, '<div class="pa-status">コメントを保存しました。ありがとうございました。</div>', ""


def build_ui(holder: Holder) -> gr.Blocks:
    ui = ChatUI(holder)
    with gr.Blocks(title="政策アシスタント", analytics_enabled=False) as demo:
        conv = gr.State(_new_conversation())
        gr.Markdown(
            "# 政策アシスタント\n"
            "地方大学・産学官連携に関する政府資料から、使える事業・問い合わせ先・予算などをお答えします。"
            "回答は収録資料の記載だけから作られ、[1] などの番号は右側の出典に対応します。",
            elem_id="pa-header",
        )
        status = gr.HTML('<div class="pa-status">⏳ 準備中…</div>', elem_id="pa-status")
        with gr.Accordion("絞り込み条件（次の質問から適用されます）", open=True):
            with gr.Row(equal_height=True):
                ministry = gr.Dropdown(
                    [NO_FILTER], value=NO_FILTER, label="所管府省", elem_id="pa-f-ministry"
                )
                applicant = gr.Dropdown(
                    [NO_FILTER], value=NO_FILTER, label="申請主体", elem_id="pa-f-applicant"
                )
                theme = gr.Dropdown([NO_FILTER], value=NO_FILTER, label="テーマ", elem_id="pa-f-theme")
            with gr.Row(equal_height=True):
                active = gr.HTML(active_filters_html({}), elem_id="pa-active-filters")
                reset = gr.Button("絞り込みを解除", size="sm", scale=0, min_width=140, elem_id="pa-reset")

        with gr.Row():
            with gr.Column(scale=6):
                chatbot = gr.Chatbot(
                    label="会話",
                    elem_id="pa-chat",
                    height=520,
                    render_markdown=False,
                    sanitize_html=True,
                    allow_tags=False,
                    latex_delimiters=[],
                    feedback_options=("Like", "Dislike"),
                    buttons=[],  # a copy button would copy the HTML source; text stays selectable
                    placeholder=(
                        "**ご質問をどうぞ。** 下の「質問の例」を押すと、そのまま質問できます。"
                        "「その事業の問い合わせ先は？」のような続けての質問もできます。"
                    ),
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        label="質問",
                        placeholder="例：地域の人材育成に使える事業は？（Enter で送信、Shift+Enter で改行）",
                        lines=1,
                        max_lines=6,
                        scale=5,
                        elem_id="pa-question",
                    )
                    with gr.Column(scale=1, min_width=150):
                        send = gr.Button("送信", variant="primary", elem_id="pa-send")
                        clear = gr.Button("会話をクリア", elem_id="pa-clear")
                feedback_status = gr.HTML("", elem_id="pa-feedback-status")
                with gr.Column(visible=False) as comment_box, gr.Row(equal_height=True):
                    comment = gr.Textbox(
                        label="コメント（任意）",
                        placeholder="例：問い合わせ先が古い／〇〇事業も挙げてほしい",
                        lines=1,
                        scale=5,
                        elem_id="pa-comment",
                    )
                    comment_send = gr.Button("コメントを送信", scale=1, elem_id="pa-comment-send")
                with gr.Column(elem_id="pa-examples"):
                    gr.Markdown("**質問の例**（押すと質問します）")
                    example_buttons = [
                        (gr.Button(f"【{label}】{text}", size="sm"), text) for label, text in EXAMPLES
                    ]
            with gr.Column(scale=5):
                programs = gr.HTML(programs_panel(None), elem_id="pa-programs")
                sources = gr.HTML(sources_panel(None, None), elem_id="pa-sources")
        gr.Markdown("API：[/docs](/docs)（OpenAPI）・回答の 👍 / 👎 は改善のために保存されます。")

        filter_inputs = [ministry, applicant, theme]
        ask_outputs = [chatbot, conv, question, programs, sources]
        timer = gr.Timer(1.5, active=True)
        readiness_outputs = [ministry, applicant, theme, status, timer]
        demo.load(ui.refresh, outputs=readiness_outputs, show_progress="hidden")
        timer.tick(ui.refresh, outputs=readiness_outputs, show_progress="hidden")

        def show_filters(m: str, a: str, t: str) -> str:
            return active_filters_html(_filters(m, a, t))

        for dropdown in filter_inputs:
            dropdown.change(show_filters, filter_inputs, active, show_progress="hidden")
        reset.click(lambda: (NO_FILTER, NO_FILTER, NO_FILTER), outputs=filter_inputs)

        question.submit(ui.ask, [question, *filter_inputs, conv], ask_outputs)
        send.click(ui.ask, [question, *filter_inputs, conv], ask_outputs)
        for button, text in example_buttons:

            def ask_example(m: str, a: str, t: str, c: dict[str, Any], _text: str = text):
                yield from ui.ask(_text, m, a, t, c)

            button.click(ask_example, [*filter_inputs, conv], ask_outputs)
        clear_outputs = [chatbot, conv, question, programs, sources, comment_box, feedback_status, comment]
        clear.click(ui.clear, outputs=clear_outputs)
        chatbot.clear(ui.clear, outputs=clear_outputs)  # the chatbot's own 🗑 button
        chatbot.select(ui.show_record, [conv], [programs, sources])
        chatbot.like(ui.rate, [conv], [conv, feedback_status, comment_box])
        comment_send.click(ui.comment, [comment, conv], [conv, feedback_status, comment])
        comment.submit(ui.comment, [comment, conv], [conv, feedback_status, comment])
    demo.queue(default_concurrency_limit=8)
    return demo


def _api_methods(request: Request) -> list[str]:
    """The methods an API route serves at this request's path. The mount at ``/`` also receives the API's
    wrong-method requests (its full match beats the route's partial one): those are 405, not 404."""
    methods: set[str] = set()
    for route in getattr(request.scope.get("router"), "routes", []):
        if isinstance(route, Route) and route.matches(request.scope)[0] == Match.PARTIAL:
            methods |= route.methods or set()
    return sorted(methods)


async def _not_found_as_api_error(request: Request, exc: StarletteHTTPException):
    """Unknown paths under the mount answer like the API (``{"error": …}``); Gradio's own errors stay."""
    allowed = _api_methods(request) if exc.status_code == 404 else []
    if allowed:
        return JSONResponse(
            status_code=405,
            content={"error": {"code": "method_not_allowed", "message": f"Use {', '.join(allowed)}."}},
            headers={"Allow": ", ".join(allowed)},
        )
    if exc.status_code in (404, 405) and exc.detail in ("Not Found", "Method Not Allowed"):
        code = "not_found" if exc.status_code == 404 else "method_not_allowed"
        return JSONResponse(
            status_code=exc.status_code, content={"error": {"code": code, "message": exc.detail}}
        )
    return await http_exception_handler(request, exc)


def mount_ui(app: FastAPI, holder: Holder) -> FastAPI:
    """Mount the chat page at ``/``; call last, so the API's routes (``/v1``, ``/docs``, …) keep priority."""
    return gr.mount_gradio_app(
        app,
        build_ui(holder),
        path="/",
        theme=THEME,
        css=CSS,
        footer_links=[],
        run_history=False,
        app_kwargs={"exception_handlers": {StarletteHTTPException: _not_found_as_api_error}},
    )
