"""The widget's answers, remembered for their 👍/👎, and the ratings stored in the feedback database.

The widget runs on another site and holds nothing secret, so a rating must not be able to store an
answer the service never gave: the browser gets an unguessable token with each answer and sends only the
token and the rating; the question, conversation and answer stored are the server's own copy, in the same
``feedback.sqlite3`` (and the same export to eval cases) as the chat UI's ratings. The newest
``widget_answers_kept`` answers are remembered, in memory; ratings are limited per client like the UI's
(``feedback_per_minute``) and the database's size cap applies.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from assistant.config import Settings
from assistant.web.feedback import FeedbackFullError, FeedbackStore, Rating
from assistant.web.rate_limit import RateLimiter


class WidgetFeedbackError(Exception):
    """A rating that cannot be stored: answered as ``status`` with ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


@dataclass
class _Remembered:
    question: str
    history: list[dict[str, str]]
    filters: dict[str, Any] | None
    answer: dict[str, Any]
    feedback_id: int | None = None


class WidgetAnswers:
    """Thread-safe, bounded: the oldest answer is forgotten first."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._answers: OrderedDict[str, _Remembered] = OrderedDict()
        self._lock = threading.Lock()
        self._store: FeedbackStore | None = None
        self._limiter = RateLimiter(settings.feedback_per_minute, settings.feedback_burst)

    @property
    def store(self) -> FeedbackStore:
        with self._lock:
            if self._store is None:
                s = self.settings
                self._store = FeedbackStore.for_data_dir(
                    s.data_dir,
                    max_bytes=s.feedback_max_bytes,
                    context_turns=s.feedback_context_turns,
                    context_chars=s.feedback_context_chars,
                )
            return self._store

    def remember(
        self,
        question: str,
        history: list[dict[str, str]],
        filters: dict[str, Any] | None,
        answer: dict[str, Any],
    ) -> str:
        """A token naming this answer for a later rating."""
        token = secrets.token_urlsafe(18)
        with self._lock:
            self._answers[token] = _Remembered(question, history, filters, answer)
            while len(self._answers) > self.settings.widget_answers_kept:
                self._answers.popitem(last=False)
        return token

    def rate(self, token: str, rating: Rating | None, comment: str | None, client: str) -> bool:
        """Store, change or (``rating`` None without a comment) take back the rating of an answer; True when
        a rating is stored afterwards. Raises :class:`WidgetFeedbackError`."""
        wait = self._limiter.acquire(f"feedback:{client}")
        if wait:
            raise WidgetFeedbackError(429, "rate_limited", f"Too many ratings; retry after {wait} s.", wait)
        with self._lock:
            record = self._answers.get(token)
        if record is None:
            raise WidgetFeedbackError(
                404, "not_found", "This answer can no longer be rated (the server has forgotten it)."
            )
        store = self.store
        try:
            if rating is None and comment is None:
                if record.feedback_id is not None:
                    store.delete(record.feedback_id)
                record.feedback_id = None
                return False
            if record.feedback_id is not None and store.update(record.feedback_id, rating, comment):
                return True
            if rating is None:
                raise WidgetFeedbackError(
                    409, "not_rated", "Rate the answer (👍/👎) before commenting on it."
                )
            record.feedback_id = store.add(
                question=record.question,
                answer=record.answer,
                rating=rating,
                history=record.history,
                comment=comment or "",
                filters=record.filters,
            )
            return True
        except FeedbackFullError as exc:
            raise WidgetFeedbackError(
                503, "feedback_full", "Ratings cannot be stored at the moment."
            ) from exc
