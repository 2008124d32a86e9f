"""The runtime database on both engines (a SQLite file, a throwaway PostgreSQL cluster): Alembic's schema,
an upgrade that keeps the feedback of the old SQLite file, writers in several processes that lose no row and
pass no cap together, and a database that goes away and comes back while the stores stay in use."""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from assistant.storage import Database, StorageUnavailable
from assistant.storage.db import StorageConfigError, database_url
from assistant.storage.schema import metadata
from assistant.web.feedback import FEEDBACK_FILE, FeedbackFullError, FeedbackStore, FeedbackUnavailableError
from assistant.web.sessions import SessionStore, SessionsUnavailable
from tests.services import postgres_cluster

ANSWER = {"answer": "回答", "abstained": False, "intent": "contact", "citations": [], "programs": []}

#: The feedback table as the releases before Alembic made it (assistant/web/feedback.py, _SCHEMA).
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    question   TEXT NOT NULL,
    history    TEXT NOT NULL DEFAULT '[]',
    filters    TEXT,
    answer     TEXT NOT NULL,
    rating     TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment    TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
)
"""


def test_the_migrations_build_exactly_the_schema_the_code_uses(database):
    assert database.prepare()
    with database.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0002"
    again = Database(database.url)  # a second replica: nothing left to migrate, nothing changed
    try:
        assert again.prepare()
    finally:
        again.dispose()


def test_an_old_feedback_file_is_upgraded_with_every_row_kept(tmp_path):
    path = tmp_path / FEEDBACK_FILE
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_SCHEMA)
        for i in range(3):
            conn.execute(
                "INSERT INTO feedback (question, history, filters, answer, rating, comment, created_at)"
                " VALUES (?, '[]', NULL, ?, ?, ?, '2026-01-01T00:00:00+00:00')",
                (f"古い質問{i}", '{"answer": "古い回答", "intent": "prose"}', "up" if i else "down", "古い"),
            )
        conn.execute("DELETE FROM feedback WHERE id = 2")  # AUTOINCREMENT: id 2 is never given again
    store = FeedbackStore.for_data_dir(tmp_path, max_bytes=10_000_000)
    try:
        rows = store.all()
        assert [(r.id, r.question, r.rating, r.comment) for r in rows] == [
            (1, "古い質問0", "down", "古い"),
            (3, "古い質問2", "up", "古い"),
        ]
        with store.database.begin() as conn:
            sizes = conn.execute(text("SELECT size_bytes FROM feedback ORDER BY id")).scalars().all()
        assert all(size > len("古い質問0".encode()) for size in sizes)  # counted for the cap
        assert store.add("新しい質問", ANSWER, "up") == 4
    finally:
        store.database.dispose()


def _write_rows(url: str, worker: int, count: int, cap: int, queue) -> None:
    """One 'replica' process: ``count`` ratings, reporting the ids it was told were stored."""
    store = FeedbackStore(Database(url), max_bytes=cap)
    stored: list[int] = []
    full = 0
    for i in range(count):
        try:
            stored.append(store.add(f"質問 {worker}-{i}", {**ANSWER, "answer": "回答" * 300}, "up"))
        except FeedbackFullError:
            full += 1
    store.database.dispose()
    queue.put((worker, stored, full))


def _run_writers(url: str, processes: int, count: int, cap: int) -> list[tuple[int, list[int], int]]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [
        context.Process(target=_write_rows, args=(url, n, count, cap, queue)) for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return results


def test_writers_in_four_processes_lose_no_row_write_none_twice_and_pass_no_cap_together(database):
    """Four processes (four replicas) race to write 30 rows each against a cap of about 40 rows: every row
    a writer was told it stored is there, once, nothing else is, and the cap holds for all of them."""
    database.prepare()
    row = FeedbackStore(database).add("質問 x-0", {**ANSWER, "answer": "回答" * 300}, "up")
    with database.begin() as conn:
        one_row = conn.execute(text("SELECT size_bytes FROM feedback WHERE id = :id"), {"id": row}).scalar()
        conn.execute(text("DELETE FROM feedback"))
    cap = 40 * one_row if database.dialect == "postgresql" else 200_000  # SQLite: the file's pages
    results = _run_writers(str(database.url.render_as_string(hide_password=False)), 4, 30, cap=cap)
    reported = sorted(fid for _, ids, _ in results for fid in ids)
    refused = sum(full for _, _, full in results)
    with database.begin() as conn:
        rows = conn.execute(text("SELECT id, question FROM feedback ORDER BY id")).all()
        used = conn.execute(text("SELECT SUM(size_bytes) FROM feedback")).scalar()
    ids = [r.id for r in rows]
    assert ids == reported and refused > 0 and len(ids) + refused == 120
    assert len({r.question for r in rows}) == len(rows)  # no rating stored twice
    if database.dialect == "postgresql":
        assert used <= cap and len(ids) >= 35, (used, cap, len(ids))
    else:
        database.dispose()
        with sqlite3.connect(database.sqlite_path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert database.sqlite_path.stat().st_size <= cap


def test_a_database_that_goes_away_is_refused_fast_logged_once_and_used_again_when_back(caplog):
    """PostgreSQL stopped under live stores: ratings are refused with FeedbackUnavailableError (quickly, one
    log line for the whole outage), a known UI session goes on from memory, new ones are refused; started
    again, the same objects work — nothing restarted."""
    with postgres_cluster() as cluster:
        database = Database(cluster.create_database("outage"), timeout=2)
        feedback = FeedbackStore(database)
        sessions = SessionStore(
            database,
            ttl_seconds=3600,
            idle_seconds=600,
            max_sessions=10,
            max_tabs=2,
            per_key=3,
            per_address=3,
        )
        try:
            before = feedback.add("停止前", ANSWER, "up")
            known = sessions.open("helpdesk", "key:helpdesk", keyed=True)
            assert sessions.get(known) is not None
            cluster.stop()
            with caplog.at_level(logging.WARNING, logger="assistant.storage"):
                started = time.monotonic()
                for _ in range(20):
                    with pytest.raises(FeedbackUnavailableError):
                        feedback.add("停止中", ANSWER, "up")
                assert time.monotonic() - started < 10  # refused at once after the first failure
                assert sessions.get(known) is not None  # seen before: it goes on from memory
                assert sessions.get("never-seen-session-id") is None
                with pytest.raises(SessionsUnavailable):
                    sessions.open("helpdesk", "key:helpdesk", keyed=True)
                cluster.start()
                deadline = time.monotonic() + 30
                while True:
                    try:
                        after = feedback.add("再開後", ANSWER, "up")
                        break
                    except FeedbackUnavailableError:
                        assert time.monotonic() < deadline, "the store did not come back by itself"
                        time.sleep(0.5)
            lines = [r.getMessage() for r in caplog.records if r.name == "assistant.storage"]
            assert sum("unreachable" in line for line in lines) == 1, lines
            assert sum("reachable again" in line for line in lines) == 1, lines
            assert not any("postgresql://" in line for line in lines)
            assert [r.question for r in feedback.all()] == ["停止前", "再開後"] and after > before
            assert sessions.get(known) is not None and sessions.open("x", "key:x", keyed=True)
        finally:
            database.dispose()


def test_an_unreachable_sqlite_folder_is_storage_unavailable_not_a_crash(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    store = FeedbackStore(Database(f"sqlite:///{blocker / 'feedback.sqlite3'}"))
    with pytest.raises(StorageUnavailable):
        store.add("質問", ANSWER, "up")


def test_a_bad_database_url_is_refused_without_quoting_it(tmp_path, monkeypatch, capsys):
    from assistant.cli import main
    from assistant.config import Settings, get_settings

    for bad in ("mysql://admin:s3cret-pw@db.internal/assistant", "not a url at all s3cret-pw"):
        with pytest.raises(StorageConfigError) as refused:
            database_url(Settings(database_url=bad, data_dir=tmp_path))
        assert "s3cret-pw" not in str(refused.value)
        monkeypatch.setenv("ASSISTANT_DATABASE_URL", bad)
        get_settings.cache_clear()
        try:
            assert main(["feedback", "export"]) == 2
        finally:
            get_settings.cache_clear()
        err = capsys.readouterr().err
        assert err.startswith("error: ASSISTANT_DATABASE_URL") and "s3cret-pw" not in err
    monkeypatch.delenv("ASSISTANT_DATABASE_URL")
    url = database_url(Settings(database_url="postgresql://u:p@db:5432/a", data_dir=tmp_path))
    assert url.drivername == "postgresql+psycopg"
    default = database_url(Settings(data_dir=tmp_path))
    assert Path(default.database) == tmp_path.resolve() / FEEDBACK_FILE


def test_serve_says_where_the_shared_state_is_without_its_passwords(tmp_path):
    from pydantic import SecretStr

    from assistant.config import Settings
    from assistant.web.serving import startup_report

    shared = Settings(
        data_dir=tmp_path,
        database_url=SecretStr("postgresql://assistant:pg-s3cret@db.internal:5432/assistant"),
        redis_url=SecretStr("redis://:redis-s3cret@cache.internal:6380/0"),
    )
    lines = "\n".join(startup_report(shared, "127.0.0.1", False))
    assert (
        "PostgreSQL at db.internal:5432/assistant" in lines
        and "shared in Redis at cache.internal:6380" in lines
    )
    assert "s3cret" not in lines
    alone = "\n".join(startup_report(Settings(data_dir=tmp_path), "127.0.0.1", False))
    assert "the SQLite file in the data directory" in alone and "(in this process)" in alone
