"""The chat page's layout (Gradio Blocks, all labels in Japanese) and its look."""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant.web.ui.chat import ChatUI, Holder
from assistant.web.ui.network_view import network_view
from assistant.web.ui.render import (
    NO_FILTER,
    _filters,
    _new_conversation,
    active_filters_html,
    programs_panel,
    sources_panel,
)

EXAMPLES: list[tuple[str, str]] = [
    ("目的から事業を探す", "うちの大学は地域の人材育成をしたい。使える事業と問い合わせ先は？"),
    ("問い合わせ先", "共創の場形成支援プログラムの問い合わせ先は？"),
    ("事業の一覧", "文科省の事業で大学が申請できるものは？"),
    ("予算額", "地方大学・地域産業創生交付金の予算額は？"),
    ("資料の記載", "総合振興パッケージを具体化するために関係府省で設置した組織は何ですか？"),
]

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
        with gr.Tab("地域ネットワーク", elem_id="pa-net-tab"):
            network_view(holder)
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
