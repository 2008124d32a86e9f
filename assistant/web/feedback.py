"""👍/👎 feedback on answers, kept in SQLite (``<data_dir>/feedback.sqlite3``), exportable as eval cases.

Each row holds what is needed to replay the question: the question, the end of the conversation before
it (a bounded context: the last ``context_turns`` turns within ``context_chars`` characters — the whole
conversation made rows grow with its square), the filters it was asked with, the full answer JSON, the
rating, an optional comment and the time. The file has a size cap: once it is reached new ratings are
refused (:class:`FeedbackFullError`) rather than older ones dropped, so nothing collected is lost silently.
``export`` writes the rows as JSONL in the format of ``evals/dataset.py`` so that a 👎 can be turned
into a regression case (its gold is left empty for a person to fill in; a 👍 carries the answer's
programs and citation spans as gold).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

Rating = Literal["up", "down"]
RATINGS: tuple[str, ...] = ("up", "down")
FEEDBACK_FILE = "feedback.sqlite3"

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

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    question   TEXT NOT NULL,
    history    TEXT NOT NULL DEFAULT '[]',   -- JSON: [{"role", "content"}], the turns before the question
    filters    TEXT,                         -- JSON: {"ministry", "applicant_type", "theme"} or NULL
    answer     TEXT NOT NULL,                -- JSON: the AnswerResponse as the API returns it
    rating     TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment    TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL                 -- ISO 8601, UTC
)
"""


class FeedbackFullError(RuntimeError):
    """The feedback database has reached its size cap (``ASSISTANT_FEEDBACK_MAX_BYTES``)."""


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
    """Thread-safe: one short-lived connection per call, writes serialised by a lock.

    ``max_bytes`` (0 = no cap) bounds the database file; ``context_turns``/``context_chars`` bound the
    conversation stored with each rating.
    """

    def __init__(
        self,
        path: Path | str,
        max_bytes: int = 0,
        context_turns: int = 4,
        context_chars: int = 4000,
    ) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.context_turns, self.context_chars = context_turns, context_chars
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(_SCHEMA)

    @classmethod
    def for_data_dir(cls, data_dir: Path | str, **limits: int) -> FeedbackStore:
        return cls(Path(data_dir) / FEEDBACK_FILE, **limits)

    def _check_room(self, conn: sqlite3.Connection, new_bytes: int) -> None:
        """Refuse a write that could take the file past ``max_bytes`` (with room for page overhead)."""
        if not self.max_bytes:
            return
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        if (pages - free) * page_size + int(new_bytes * 1.1) + 2 * page_size > self.max_bytes:
            raise FeedbackFullError(
                f"the feedback database has reached its cap of {self.max_bytes:,} bytes; export it "
                "(`assistant feedback export`) and archive it, or raise ASSISTANT_FEEDBACK_MAX_BYTES"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            with conn:  # commits, or rolls back on an exception
                yield conn
        finally:
            conn.close()

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
        """Store one rating with a bounded context; returns its id. Raises :class:`FeedbackFullError`."""
        _check_rating(rating)
        active = {k: v for k, v in (filters or {}).items() if v}
        context = bounded_context(history, self.context_turns, self.context_chars)
        values = (
            question,
            json.dumps(context, ensure_ascii=False),
            json.dumps(active, ensure_ascii=False) if active else None,
            json.dumps(answer, ensure_ascii=False),
            rating,
            comment.strip(),
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._lock, self._connect() as conn:
            self._check_room(conn, sum(len(v.encode("utf-8")) for v in values if v))
            cursor = conn.execute(
                "INSERT INTO feedback (question, history, filters, answer, rating, comment, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            return int(cursor.lastrowid)

    def update(self, feedback_id: int, rating: Rating | None = None, comment: str | None = None) -> bool:
        """Change the rating and/or comment of a row; False when there is no such row."""
        sets, values = [], []
        if rating is not None:
            _check_rating(rating)
            sets.append("rating = ?")
            values.append(rating)
        if comment is not None:
            sets.append("comment = ?")
            values.append(comment.strip())
        if not sets:
            return self.get(feedback_id) is not None
        with self._lock, self._connect() as conn:
            self._check_room(conn, len((comment or "").encode("utf-8")))
            cursor = conn.execute(
                f"UPDATE feedback SET {', '.join(sets)} WHERE id = ?", (*values, feedback_id)
            )
            return cursor.rowcount > 0

    def delete(self, feedback_id: int) -> bool:
        """Remove a rating the user took back."""
        with self._lock, self._connect() as conn:
            return conn.execute("DELETE FROM feedback WHERE id = ?", (feedback_id,)).rowcount > 0

    # -- reading ----------------------------------------------------------------------------------
    def get(self, feedback_id: int) -> FeedbackRow | None:
        rows = self._select("WHERE id = ?", (feedback_id,))
        return rows[0] if rows else None

    def all(self, rating: Rating | None = None) -> list[FeedbackRow]:
        """Every row, oldest first (optionally only 👍 or 👎)."""
        if rating is None:
            return self._select("", ())
        _check_rating(rating)
        return self._select("WHERE rating = ?", (rating,))

    def _select(self, where: str, params: tuple[Any, ...]) -> list[FeedbackRow]:
        with self._connect() as conn:
            cursor = conn.execute(
                "SELECT id, question, history, filters, answer, rating, comment, created_at"
                f" FROM feedback {where} ORDER BY id",
                params,
            )
            return [
                FeedbackRow(
                    id=row[0],
                    question=row[1],
                    history=json.loads(row[2] or "[]"),
                    filters=json.loads(row[3]) if row[3] else None,
                    answer=json.loads(row[4]),
                    rating=row[5],
                    comment=row[6] or "",
                    created_at=row[7],
                )
                for row in cursor.fetchall()
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
