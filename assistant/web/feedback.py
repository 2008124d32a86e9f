"""👍/👎 feedback on answers, kept in the runtime database (``assistant.storage``), exportable as eval cases.

Each row holds what is needed to replay the question: the question, the end of the conversation before
it (a bounded context: the last ``context_turns`` turns within ``context_chars`` characters — the whole
conversation made rows grow with its square), the filters it was asked with, the full answer JSON, the
rating, an optional comment and the time. The rows are in the SQLite file ``<data_dir>/feedback.sqlite3``
by default, or in PostgreSQL shared by every replica (``ASSISTANT_DATABASE_URL``).

The store has a size cap (on SQLite the file's pages in use, on PostgreSQL the UTF-8 bytes of the rows'
text). A write that would pass it is refused
(:class:`FeedbackFullError`) rather than older rows dropped, so nothing collected is lost silently; the
check and the write are one transaction under a lock, so replicas writing at once cannot pass the cap
together. A database that cannot be reached is :class:`FeedbackUnavailableError`: nothing is stored and
the caller says so. ``export`` writes the rows as JSONL in the format of ``evals/dataset.py`` so that a
👎 can be turned into a regression case (its gold is left empty for a person to fill in; a 👍 carries the
answer's programs and citation spans as gold).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy import Connection, delete, func, insert, select, update

from assistant.config import Settings
from assistant.storage import Database, StorageUnavailable
from assistant.storage.db import SQLITE_FILE
from assistant.storage.schema import feedback
from assistant.web.rate_limit import RateLimiter

Rating = Literal["up", "down"]
RATINGS: tuple[str, ...] = ("up", "down")
FEEDBACK_FILE = SQLITE_FILE
#: The text columns a row's size counts.
_TEXT_COLUMNS = ("question", "history", "filters", "answer", "rating", "comment", "created_at")

#: Answer intents are the eval categories of the same name.
#: The answer plan's kind → the eval set's category of a case like it (the categories predate the kinds).
_KIND_CATEGORIES = {
    "fit": "program_fit",
    "contact": "contact",
    "list": "list",
    "ranking": "ranking",
    "compare": "compare",
    "yes_no": "yes_no",
    "attribute": "figure",
    "prose": "fact",
    "network": "network",
    "not_stated": "not_stated",
    "not_found": "refusal",
    "clarify": "clarify",
}


class FeedbackFullError(RuntimeError):
    """The stored feedback has reached its size cap (``ASSISTANT_FEEDBACK_MAX_BYTES``)."""


#: The database could not be reached: the rating was not stored (the chat says so; answers go on).
FeedbackUnavailableError = StorageUnavailable


def feedback_limiter(settings: Settings) -> RateLimiter:
    """The ratings limit of one client (``feedback:<its bucket>``), the same for the chat UI and the widget
    and, with Redis, counted once across replicas."""
    return RateLimiter(
        settings.feedback_per_minute,
        settings.feedback_burst,
        settings.redis_url.get_secret_value() or None,
        namespace="feedback",
        redis_timeout=settings.redis_timeout_seconds,
    )


def bounded_context(history: list[dict[str, str]] | None, turns: int, chars: int) -> list[dict[str, str]]:
    """The newest ``turns`` turns of a conversation within ``chars`` characters (the oldest kept turn is
    cut from its start, marked with …): enough to replay a follow-up, bounded whatever the chat's length."""
    kept: list[dict[str, str]] = []
    budget = chars
    for turn in reversed((history or [])[-turns:] if turns else []):
        if budget <= 0:
            break
        content = str(turn.get("content", ""))
        if len(content) > budget:
            content = "…" + content[len(content) - budget + 1 :] if budget > 1 else "…"
        kept.append({"role": str(turn.get("role", "")), "content": content})
        budget -= len(content)
    return kept[::-1]


def row_bytes(values: dict[str, Any]) -> int:
    """What a row counts against the cap: the UTF-8 bytes of its text columns."""
    return sum(len(str(values[c]).encode("utf-8")) for c in _TEXT_COLUMNS if values.get(c) is not None)


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    question: str
    history: list[dict[str, str]]
    filters: dict[str, str] | None
    answer: dict[str, Any]
    rating: Rating
    comment: str
    created_at: str


class FeedbackStore:
    """Feedback rows in ``database``; thread-safe and safe with several processes writing at once.

    ``max_bytes`` (0 = no cap) bounds the stored rows; ``context_turns``/``context_chars`` bound the
    conversation stored with each rating.
    """

    def __init__(
        self,
        database: Database,
        max_bytes: int = 0,
        context_turns: int = 4,
        context_chars: int = 4000,
    ) -> None:
        self.database = database
        self.max_bytes = max_bytes
        self.context_turns, self.context_chars = context_turns, context_chars

    @classmethod
    def for_settings(cls, settings: Settings, database: Database | None = None) -> FeedbackStore:
        return cls(
            database or Database.from_settings(settings),
            max_bytes=settings.feedback_max_bytes,
            context_turns=settings.feedback_context_turns,
            context_chars=settings.feedback_context_chars,
        )

    @classmethod
    def for_data_dir(cls, data_dir: Path | str, **limits: int) -> FeedbackStore:
        """The default SQLite file of a data directory."""
        return cls(Database(f"sqlite:///{Path(data_dir).resolve() / FEEDBACK_FILE}"), **limits)

    def _used(self, conn: Connection, added: int) -> int:
        """The bytes the cap counts once ``added`` more are written. SQLite: the file's pages in use plus
        the new text with room for page overhead (the file itself stays under the cap, whatever else it
        holds); PostgreSQL: the UTF-8 bytes of the rows' text (long text is compressed on disk)."""
        if self.database.dialect == "sqlite":
            page_size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
            return (pages - free) * page_size + int(added * 1.1) + 2 * page_size
        used = conn.execute(select(func.coalesce(func.sum(feedback.c.size_bytes), 0))).scalar_one()
        return int(used) + added

    def _check_room(self, conn: Connection, added: int) -> None:
        """Refuse a write that would take the feedback past ``max_bytes``; the lock makes the check and
        the write one step for every replica."""
        if not self.max_bytes or added <= 0:
            return
        self.database.lock(conn, "feedback")
        if self._used(conn, added) > self.max_bytes:
            raise FeedbackFullError(
                f"the stored feedback has reached its cap of {self.max_bytes:,} bytes; export it "
                "(`assistant feedback export`) and archive it, or raise ASSISTANT_FEEDBACK_MAX_BYTES"
            )

    # -- writing ----------------------------------------------------------------------------------
    def add(
        self,
        question: str,
        answer: dict[str, Any],
        rating: Rating,
        history: list[dict[str, str]] | None = None,
        comment: str = "",
        filters: dict[str, str | None] | None = None,
    ) -> int:
        """Store one rating with a bounded context; returns its id. Raises :class:`FeedbackFullError` or
        :class:`FeedbackUnavailableError`."""
        _check_rating(rating)
        active = {k: v for k, v in (filters or {}).items() if v}
        context = bounded_context(history, self.context_turns, self.context_chars)
        values: dict[str, Any] = {
            "question": question,
            "history": json.dumps(context, ensure_ascii=False),
            "filters": json.dumps(active, ensure_ascii=False) if active else None,
            "answer": json.dumps(answer, ensure_ascii=False),
            "rating": rating,
            "comment": comment.strip(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        values["size_bytes"] = row_bytes(values)
        with self.database.begin() as conn:
            self._check_room(conn, values["size_bytes"])
            return int(conn.execute(insert(feedback).values(**values)).inserted_primary_key[0])

    def update(self, feedback_id: int, rating: Rating | None = None, comment: str | None = None) -> bool:
        """Change the rating and/or comment of a row; False when there is no such row."""
        changes: dict[str, Any] = {}
        if rating is not None:
            _check_rating(rating)
            changes["rating"] = rating
        if comment is not None:
            changes["comment"] = comment.strip()
        columns = [feedback.c[c] for c in _TEXT_COLUMNS]
        with self.database.begin() as conn:
            row = conn.execute(select(*columns).where(feedback.c.id == feedback_id)).mappings().first()
            if row is None:
                return False
            if not changes:
                return True
            values = {**row, **changes}
            size = row_bytes(values)
            self._check_room(conn, size - row_bytes(dict(row)))
            conn.execute(
                update(feedback).where(feedback.c.id == feedback_id).values(**changes, size_bytes=size)
            )
            return True

    def delete(self, feedback_id: int) -> bool:
        """Remove a rating the user took back."""
        with self.database.begin() as conn:
            return conn.execute(delete(feedback).where(feedback.c.id == feedback_id)).rowcount > 0

    # -- reading ----------------------------------------------------------------------------------
    def get(self, feedback_id: int) -> FeedbackRow | None:
        rows = self._select(feedback.c.id == feedback_id)
        return rows[0] if rows else None

    def all(self, rating: Rating | None = None) -> list[FeedbackRow]:
        """Every row, oldest first (optionally only 👍 or 👎)."""
        if rating is None:
            return self._select(None)
        _check_rating(rating)
        return self._select(feedback.c.rating == rating)

    def _select(self, where: Any) -> list[FeedbackRow]:
        query = select(feedback.c.id, *(feedback.c[c] for c in _TEXT_COLUMNS)).order_by(feedback.c.id)
        if where is not None:
            query = query.where(where)
        with self.database.begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            FeedbackRow(
                id=row["id"],
                question=row["question"],
                history=json.loads(row["history"] or "[]"),
                filters=json.loads(row["filters"]) if row["filters"] else None,
                answer=json.loads(row["answer"]),
                rating=row["rating"],
                comment=row["comment"] or "",
                created_at=row["created_at"],
            )
            for row in rows
        ]

    # -- export -----------------------------------------------------------------------------------
    def export(self, out: IO[str], rating: Rating | None = None) -> int:
        """Write the rows as eval cases (JSONL, one per line); returns how many were written."""
        count = 0
        for row in self.all(rating):
            out.write(json.dumps(to_eval_case(row), ensure_ascii=False) + "\n")
            count += 1
        return count


def _check_rating(rating: str) -> None:
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")


def to_eval_case(row: FeedbackRow) -> dict[str, Any]:
    """One row in the format of ``evals.dataset.EvalCase`` (validated against that schema).

    A 👍 keeps the answer's programs and citation spans as gold; a 👎 keeps none, so the case fails
    validation until someone writes the expected answer in (the note says what the user disliked).
    """
    from evals.dataset import EvalCase

    answer = row.answer
    abstained = bool(answer.get("abstained"))
    history = [
        {"role": t["role"], "content": t["content"]}
        for t in row.history
        if t.get("role") in ("user", "assistant") and str(t.get("content", "")).strip()
    ]
    if abstained:
        category = "refusal"
    elif history:
        category = "follow_up"
    else:
        category = _KIND_CATEGORIES.get(str(answer.get("intent")), "fact")

    liked = row.rating == "up"
    programs: list[str] = []
    evidence: list[dict[str, Any]] = []
    if liked and not abstained:
        programs = list(dict.fromkeys(p["name"] for p in answer.get("programs", []) if p.get("name")))
        spans = dict.fromkeys(
            (c["doc_id"], c["line_start"], c["line_end"]) for c in answer.get("citations", [])
        )
        evidence = [{"doc_id": d, "line_start": s, "line_end": e} for d, s, e in spans]

    note = "👍" if liked else "👎"
    if row.comment:
        note += f" {row.comment}"
    note += f" (feedback #{row.id}, {row.created_at})"
    case = EvalCase.model_validate(
        {
            "id": f"feedback-{row.id:05d}",
            "category": category,
            "question": row.question,
            "history": history,
            "filters": row.filters or None,
            "expected_programs": programs,
            "expected_strings": [],
            "evidence": evidence,
            "abstain": abstained,
            "note": note,
        }
    )
    return case.model_dump(mode="json")
