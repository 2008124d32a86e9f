"""The chat page's layout (Gradio Blocks, all labels in Japanese); its look is ``static/page.css``.

Tabs: チャット (answers with their sources inline, one scroll area — the page's), 事業一覧, 関連事業マップ,
収録資料 (``catalog_view``). On a phone the columns stack: the conversation and a full-width question box
first, the filters (collapsed) and the examples below.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant.storage import Database
from assistant.web.ui.catalog_view import CatalogTabs
from assistant.web.ui.chat import ChatUI, Holder
from assistant.web.ui.network_view import network_view
from assistant.web.ui.render import NO_FILTER, _filters, _new_conversation, active_filters_html

EXAMPLES: list[tuple[str, str]] = [
    ("目的から事業を探す", "うちの大学は地域の人材育成をしたい。使える事業と問い合わせ先は？"),
    ("問い合わせ先", "共創の場形成支援プログラムの問い合わせ先は？"),
    ("事業の一覧", "文科省の事業で大学が申請できるものは？"),
    ("予算額", "地方大学・地域産業創生交付金の予算額は？"),
    ("資料の記載", "総合振興パッケージを具体化するために関係府省で設置した組織は何ですか？"),
]

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


def build_ui(holder: Holder, database: Database | None = None) -> gr.Blocks:
    """The page; ``database`` (the app's) keeps its feedback (default: the one ``holder.settings`` name)."""
    ui = ChatUI(holder, database)
    tabs = CatalogTabs(holder)
    with gr.Blocks(title="政策アシスタント", analytics_enabled=False) as demo:
        conv = gr.State(_new_conversation())
        gr.Markdown(
            "# 政策アシスタント\n"
            "地方大学・産学官連携に関する政府資料から、使える事業・問い合わせ先・予算などをお答えします。"
            "回答は収録資料の記載だけから作られ、[1] などの番号を押すと回答の下の出典に移動します。",
            elem_id="pa-header",
        )
        status = gr.HTML('<div class="pa-status">⏳ 準備中…</div>', elem_id="pa-status")
        with gr.Tabs(elem_id="pa-tabs", overflow_behavior="wrap"):  # no tab hidden behind 「⋯」 on a phone
            with gr.Tab("チャット", id="chat", elem_id="pa-tab-chat"), gr.Row():
                with gr.Column(scale=7, min_width=320, elem_id="pa-main"):
                    active = gr.HTML(active_filters_html({}), elem_id="pa-active-filters")
                    chatbot = gr.Chatbot(
                        label="会話",
                        show_label=False,
                        elem_id="pa-chat",
                        height=None,
                        autoscroll=False,
                        render_markdown=False,
                        sanitize_html=True,
                        allow_tags=False,
                        latex_delimiters=[],
                        feedback_options=("Like", "Dislike"),
                        buttons=[],  # a copy button would copy the HTML source; each answer has its own
                        placeholder=(
                            "**ご質問をどうぞ。** 「質問の例」を押すと、そのまま質問できます。"
                            "「その事業の問い合わせ先は？」のような続けての質問もできます。"
                        ),
                    )
                    with gr.Column(elem_id="pa-ask-row"):
                        question = gr.Textbox(
                            label="質問",
                            placeholder="例：地域の人材育成に使える事業は？（Enter で送信、Shift+Enter で改行）",
                            lines=1,
                            max_lines=6,
                            elem_id="pa-question",
                        )
                        with gr.Row():
                            send = gr.Button("送信", variant="primary", elem_id="pa-send", scale=3)
                            clear = gr.Button("会話をクリア", elem_id="pa-clear", scale=1, min_width=120)
                    with gr.Column(elem_id="pa-feedback"):
                        feedback_status = gr.HTML("", elem_id="pa-feedback-status")
                        with gr.Column(visible=False) as comment_box, gr.Row(equal_height=True):
                            comment = gr.Textbox(
                                label="この回答へのコメント（任意）",
                                placeholder="例：問い合わせ先が古い／〇〇事業も挙げてほしい",
                                lines=1,
                                scale=5,
                                elem_id="pa-comment",
                            )
                            comment_send = gr.Button("コメントを送信", scale=1, elem_id="pa-comment-send")
                with gr.Column(scale=3, min_width=260, elem_id="pa-sidebar"):
                    with gr.Accordion("絞り込み条件（次の質問から適用）", open=False, elem_id="pa-filters"):
                        ministry = gr.Dropdown(
                            [NO_FILTER], value=NO_FILTER, label="所管府省", elem_id="pa-f-ministry"
                        )
                        applicant = gr.Dropdown(
                            [NO_FILTER], value=NO_FILTER, label="申請主体", elem_id="pa-f-applicant"
                        )
                        theme = gr.Dropdown(
                            [NO_FILTER], value=NO_FILTER, label="テーマ", elem_id="pa-f-theme"
                        )
                        reset = gr.Button("絞り込みを解除", size="sm", elem_id="pa-reset")
                    with gr.Column(elem_id="pa-examples"):
                        gr.Markdown("**質問の例**（押すと質問します）")
                        example_buttons = [
                            (gr.Button(f"【{label}】{text}", size="sm"), text) for label, text in EXAMPLES
                        ]
            catalog_outputs, _ = tabs.build()
            with gr.Tab("地域ネットワーク", id="networks", elem_id="pa-net-tab"):
                network_view(holder)
        gr.Markdown(
            "API：[/docs](docs)（Swagger UI）・[/redoc](redoc)（ReDoc）・回答の 👍 / 👎 は改善のために保存されます。",
            elem_id="pa-footer",
        )

        filter_inputs = [ministry, applicant, theme]
        ask_outputs = [chatbot, conv, question, feedback_status, comment_box]
        timer = gr.Timer(1.5, active=True)
        readiness_outputs = [ministry, applicant, theme, status, timer]
        demo.load(ui.refresh, outputs=readiness_outputs, show_progress="hidden")
        timer.tick(ui.refresh, outputs=readiness_outputs, show_progress="hidden")
        demo.load(tabs.refresh, outputs=catalog_outputs, show_progress="hidden")
        timer.tick(tabs.refresh, outputs=catalog_outputs, show_progress="hidden")

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
        clear_outputs = [chatbot, conv, question, comment_box, feedback_status, comment]
        clear.click(ui.clear, outputs=clear_outputs)
        chatbot.clear(ui.clear, outputs=clear_outputs)  # the chatbot's own 🗑 button
        chatbot.like(ui.rate, [conv], [conv, feedback_status, comment_box])
        comment_send.click(ui.comment, [comment, conv], [conv, feedback_status, comment])
        comment.submit(ui.comment, [comment, conv], [conv, feedback_status, comment])
    demo.queue(default_concurrency_limit=8)
    return demo
