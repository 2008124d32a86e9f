"""The chat page's handlers: asking (streamed), clearing, showing an earlier answer, 👍/👎 and comments.

It calls the process's ``AnswerService`` directly (no HTTP to itself) through the API's service
holder, so the page and the API share one model and one index. Per browser session it keeps the
conversation (for follow-ups such as 「その事業の問い合わせ先は？」) and every answer's JSON (for the
program and source cards and for 👍/👎 feedback, stored by ``assistant.web.feedback``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

import gradio as gr

from assistant.config import Settings, get_settings
from assistant.pipeline.read import Turn
from assistant.pipeline.service import AnswerResponse, AnswerService
from assistant.web.feedback import FeedbackStore
from assistant.web.ui.render import (
    NO_FILTER,
    _filters,
    _new_conversation,
    answer_html,
    composer_label,
    programs_panel,
    question_html,
    sources_panel,
    split_for_streaming,
)

log = logging.getLogger("assistant.web.ui")

MAX_QUESTION_CHARS = get_settings().max_question_chars  # the API's limit, from the one config
#: Pause between streamed sentences, so the answer visibly builds up (the answer itself takes ~100 ms).
STREAM_DELAY_S = 0.04


class Holder(Protocol):
    """What the page needs from the API's ``ServiceHolder``."""

    settings: Settings

    def get(self) -> AnswerService: ...


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
        shown = ""
        result = None
        try:  # verified sentences as they come (a generative composer writes them one by one)
            plan, retrieved_ms = svc.plan_question(question, history, filters or None)
            for name, data in svc.stream(plan, retrieved_ms):
                if name == "final":
                    result = data
                    continue
                for piece in split_for_streaming(str(data)):
                    shown += piece
                    messages[-1]["content"] = answer_html(shown, filters) + '<span class="pa-cursor">▍</span>'
                    yield list(messages), conv, gr.skip(), gr.skip(), gr.skip()
                    time.sleep(STREAM_DELAY_S)
        except Exception:
            log.exception("answering failed in the chat UI")
        if not isinstance(result, AnswerResponse):
            messages[-1]["content"] = (
                "申し訳ありません。回答の作成中にエラーが発生しました。言い換えてもう一度お試しください。"
            )
            yield list(messages), conv, gr.skip(), gr.skip(), gr.skip()
            return

        answer = result.model_dump(mode="json")
        messages[-1]["content"] = answer_html(result.answer, filters) + composer_label(answer)
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
