"""The widget's answers, remembered for their 👍/👎, and the ratings stored in the feedback database.

The widget runs on another site and holds nothing secret, so a rating must not be able to store an
answer the service never gave: the browser gets an unguessable token with each answer and sends only the
token and the rating; the question, conversation and answer stored are the server's own copy, in the same
feedback database (the app's: the SQLite file, or PostgreSQL shared by the replicas) and the same export to
eval cases as the chat UI's ratings. The newest ``widget_answers_kept`` answers are remembered, in memory;
ratings spend the client address's feedback limit shared with the UI (``feedback_per_minute``, in Redis
across replicas when configured), the database's size cap applies, and a database that cannot be
reached is a 503 saying the rating was not saved.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from assistant.config import Settings
from assistant.storage import Database
from assistant.web.feedback import (
    FeedbackFullError,
    FeedbackStore,
    FeedbackUnavailableError,
    Rating,
    feedback_limiter,
)

#: Retry-After of a rating refused because the database is down (its fail-fast window is 2 s; a restart
#: takes longer).
UNAVAILABLE_RETRY_SECONDS = 30


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

    def __init__(self, settings: Settings, database: Database | None = None) -> None:
        self.settings = settings
        self._answers: OrderedDict[str, _Remembered] = OrderedDict()
        self._lock = threading.Lock()
        # The app's database (it connects on first use), so the widget's ratings land with the UI's.
        self.store = FeedbackStore.for_settings(settings, database)
        self._limiter = feedback_limiter(settings)

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
        wait = self._limiter.acquire(f"feedback:ip:{client}")  # the UI's key for an anonymous client
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
        except FeedbackUnavailableError as exc:
            raise WidgetFeedbackError(
                503,
                "feedback_unavailable",
                "The feedback database cannot be reached: the rating was not saved. Try again later.",
                UNAVAILABLE_RETRY_SECONDS,
            ) from exc
