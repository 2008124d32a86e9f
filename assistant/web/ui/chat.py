"""The chat page's handlers: asking (streamed), clearing, showing an earlier answer, 👍/👎 and comments.

It calls the process's ``AnswerService`` directly (no HTTP to itself) through the API's service
holder, so the page and the API share one model, one index and one worker pool. Per browser session it
keeps the conversation (for follow-ups such as 「その事業の問い合わせ先は？」) and the JSON of the answers
still shown (for the program and source cards and for 👍/👎 feedback, stored by ``assistant.web.feedback``).

What a session keeps is bounded like the API's requests: the history sent with a question holds at most
``max_history_turns`` turns and ``max_history_chars`` characters (the oldest go first), and the chat
shows at most as many messages. Feedback is limited per client (``feedback_per_minute``, counted in
Redis across replicas when configured) and its store has a size cap; a database that cannot be reached
is said to the user (the rating was not saved) while answers go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any, Protocol

import gradio as gr

from assistant.config import Settings, get_settings
from assistant.index.store import IndexReadError
from assistant.pipeline.read import Turn
from assistant.pipeline.service import AnswerResponse, AnswerService
from assistant.storage import Database
from assistant.web.feedback import (
    FeedbackFullError,
    FeedbackStore,
    FeedbackUnavailableError,
    bounded_context,
    feedback_limiter,
)
from assistant.web.ui.render import (
    NO_FILTER,
    _filters,
    _new_conversation,
    answer_html,
    answer_message_html,
    question_html,
    split_for_streaming,
)
from assistant.web.workers import PoolBusy

log = logging.getLogger("assistant.web.ui")

MAX_QUESTION_CHARS = get_settings().max_question_chars  # the API's limit, from the one config
#: Pause between streamed sentences, so the answer visibly builds up (the answer itself takes ~100 ms).
STREAM_DELAY_S = 0.04
#: Title of the page's notices (Gradio's default is the English 「Warning」).
NOTICE_TITLE = "ご確認ください"
#: Said when the feedback database cannot be reached (the answer itself is unaffected).
UNAVAILABLE = (
    "データベースに接続できないため、評価を保存できませんでした。時間をおいてもう一度お試しください。"
)


def _warn(message: str) -> None:
    gr.Warning(message, title=NOTICE_TITLE)


def answer_number(index: int) -> int:
    """The n-th answer of the conversation for chatbot message ``index`` (user and answer alternate)."""
    return (index + 1) // 2


class Holder(Protocol):
    """What the page needs from the API's ``ServiceHolder``."""

    settings: Settings

    def get(self) -> AnswerService: ...


def ready_service(holder: Holder) -> AnswerService | None:
    """The service as the page may use it (behind the worker pool), or None while it loads or is broken."""
    try:
        return holder.get()
    except Exception:
        return None


class ChatUI:
    """The handlers of the page; state per browser session lives in a ``gr.State``."""

    def __init__(self, holder: Holder, database: Database | None = None) -> None:
        self.holder = holder
        settings = holder.settings
        # The database connects (and migrates) on the first rating, so a read-only data directory or a
        # database that is down does not stop the page.
        self.feedback = FeedbackStore.for_settings(settings, database)
        self._feedback_limiter = feedback_limiter(settings)

    def _feedback_refused(self, request: gr.Request | None) -> bool:
        """Spend one of the client's feedback tokens (the door names the client: its key or its IP)."""
        headers = getattr(request, "headers", None) or {}
        client = headers.get("x-pa-client") or "ui"
        if not self._feedback_limiter.acquire(f"feedback:{client}"):
            return False
        _warn("評価の送信が続いています。少し待ってからもう一度お試しください。")
        return True

    def _someone_waits(self, request: gr.Request | None) -> bool:
        """Whether the tab reads its results (the door counts its open result streams); the page opens
        the stream right after asking, so this waits a short grace for it."""
        listeners = getattr(self.holder, "listeners", None)
        tab = getattr(request, "session_hash", None)
        return listeners is None or not tab or listeners.wait_for(tab)

    def _trim(self, conv: dict[str, Any]) -> None:
        """Bound the session like an API request: the newest turns within the history limits, and only
        the messages (and their answer records) of that span on screen."""
        settings = self.holder.settings
        turns = conv["turns"][-settings.max_history_turns :] if settings.max_history_turns else []
        while turns and sum(len(t["content"]) for t in turns) > settings.max_history_chars:
            turns = turns[2:] if len(turns) > 1 else []
        conv["turns"] = turns
        excess = len(conv["messages"]) - max(2, settings.max_history_turns)
        if excess > 0:
            excess += excess % 2  # drop whole question/answer pairs
            conv["messages"] = conv["messages"][excess:]
            conv["records"] = {
                str(int(i) - excess): r for i, r in conv["records"].items() if int(i) >= excess
            }
            last = conv.get("last_rated")
            conv["last_rated"] = str(int(last) - excess) if last and int(last) >= excess else None

    # -- readiness and filter choices -------------------------------------------------------------
    def refresh(self):
        """Filter choices from the catalog once the service has loaded; the timer stops then."""
        svc = ready_service(self.holder)
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
        self,
        question: str,
        ministry: str,
        applicant_type: str,
        theme: str,
        conv: dict[str, Any],
        request: gr.Request = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Yields (chatbot, conversation, question box, feedback notice, comment box) as the answer streams.

        Asking clears the 👍 notice and the comment box: they belong to the answer that was rated. A
        question whose tab is not reading its results (the client joined and left) is not computed.
        """
        conv = conv or _new_conversation()
        question = (question or "").strip()
        if not question:
            _warn("質問を入力してください。")
            yield gr.skip(), conv, gr.skip(), gr.skip(), gr.skip()
            return
        if len(question) > MAX_QUESTION_CHARS:
            _warn(f"質問は{MAX_QUESTION_CHARS:,}文字以内でお願いします（現在 {len(question):,}文字）。")
            yield gr.skip(), conv, gr.skip(), gr.skip(), gr.skip()
            return

        self._trim(conv)
        messages = conv["messages"]
        messages.append({"role": "user", "content": question_html(question)})
        messages.append({"role": "assistant", "content": "回答を作成しています…"})
        yield list(messages), conv, "", "", gr.Column(visible=False)

        if not self._someone_waits(request):
            log.info("skipped a chat-UI question whose tab is not reading its results")
            return
        svc = ready_service(self.holder)
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
        except PoolBusy as busy:  # shown, but kept out of the history sent with the next question
            messages[-1]["content"] = (
                f"ただいま混雑しています。{busy.retry_after}秒ほど待ってから、もう一度お試しください。"
            )
            yield list(messages), conv, question, gr.skip(), gr.skip()
            return
        except IndexReadError as exc:  # the served build is damaged: the holder falls back to an intact one
            report = getattr(self.holder, "failed_while_serving", None)
            if report is not None:
                report(exc)
        except Exception:
            log.exception("answering failed in the chat UI")
        if not isinstance(result, AnswerResponse):
            messages[-1]["content"] = (
                "申し訳ありません。回答の作成中にエラーが発生しました。言い換えてもう一度お試しください。"
            )
            yield list(messages), conv, gr.skip(), gr.skip(), gr.skip()
            return

        answer = result.model_dump(mode="json")
        # Anchors ([n] → its source) are numbered by a counter that trimming never reuses.
        serial = conv.get("serial", 0)
        conv["serial"] = serial + 1
        messages[-1]["content"] = answer_message_html(answer, filters, svc, serial)
        settings = self.holder.settings
        conv["records"][str(len(messages) - 1)] = {
            "question": question,
            "history": bounded_context(
                conv["turns"], settings.feedback_context_turns, settings.feedback_context_chars
            ),
            "filters": filters,
            "answer": answer,
            "feedback_id": None,
        }
        conv["turns"] = [
            *conv["turns"],
            {"role": "user", "content": question},
            {"role": "assistant", "content": result.answer},
        ]
        self._trim(conv)
        messages = conv["messages"]
        yield list(messages), conv, gr.skip(), gr.skip(), gr.skip()

    def clear(self):
        conv = _new_conversation()
        return [], conv, "", gr.Column(visible=False), "", ""

    # -- feedback -----------------------------------------------------------------------------------
    def rate(self, conv: dict[str, Any], evt: gr.LikeData, request: gr.Request = None):
        """👍/👎 on an answer: stored at once; clicking the same thumb again takes the rating back."""
        conv = conv or _new_conversation()
        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        record = conv["records"].get(str(index))
        if record is None or self._feedback_refused(request):
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
        except FeedbackFullError as exc:
            log.error("feedback refused: %s", exc)
            _warn("評価の保存容量が上限に達したため、保存できませんでした。")
            return conv, gr.skip(), gr.skip()
        except FeedbackUnavailableError:
            log.warning("feedback not stored: the database is unreachable")
            _warn(UNAVAILABLE)
            return conv, gr.skip(), gr.skip()
        except Exception:
            log.exception("could not store feedback")
            _warn("評価を保存できませんでした。")
            return conv, gr.skip(), gr.skip()
        conv["last_rated"] = str(index)
        thumb = "👍" if rating == "up" else "👎"
        status = (
            f'<div class="pa-status">回答{answer_number(index)}への {thumb} 評価を保存しました。'
            "ありがとうございます。よろしければ、理由や正しい答えをコメントでお知らせください（任意）。</div>"
        )
        return conv, status, gr.Column(visible=True)

    def comment(self, text: str, conv: dict[str, Any], request: gr.Request = None):
        conv = conv or _new_conversation()
        record = conv["records"].get(conv.get("last_rated") or "")
        text = (text or "").strip()
        if record is None or record.get("feedback_id") is None:
            _warn("先に回答の 👍 / 👎 を押してください。")
            return conv, gr.skip(), gr.skip()
        if not text:
            _warn("コメントを入力してください。")
            return conv, gr.skip(), gr.skip()
        if self._feedback_refused(request):
            return conv, gr.skip(), gr.skip()
        try:
            self.feedback.update(record["feedback_id"], comment=text[:MAX_QUESTION_CHARS])
        except FeedbackFullError as exc:
            log.error("feedback comment refused: %s", exc)
            _warn("評価の保存容量が上限に達したため、コメントを保存できませんでした。")
            return conv, gr.skip(), gr.skip()
        except FeedbackUnavailableError:
            log.warning("feedback comment not stored: the database is unreachable")
            _warn(UNAVAILABLE)
            return conv, gr.skip(), gr.skip()
        except Exception:
            log.exception("could not store the feedback comment")
            _warn("コメントを保存できませんでした。")
            return conv, gr.skip(), gr.skip()
        return conv, '<div class="pa-status">コメントを保存しました。ありがとうございました。</div>', ""
