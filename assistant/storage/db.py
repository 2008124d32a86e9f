"""The database of the runtime state: one SQLAlchemy engine, migrated on first use, failing safe.

* **Engines.** ``ASSISTANT_DATABASE_URL`` empty → the SQLite file ``<data_dir>/feedback.sqlite3`` (the
  file the feedback always lived in, so an upgrade keeps every row); ``postgresql://…`` → PostgreSQL
  through psycopg 3. SQLite runs in WAL mode and every transaction starts with ``BEGIN IMMEDIATE``, so
  writers of several processes queue for the write lock instead of failing half-way.
* **Migrations.** Alembic's ``upgrade head`` runs the first time a process needs the database, under a
  lock (PostgreSQL: an advisory lock; SQLite: the write lock), so replicas starting together migrate once.
* **Failing safe.** A database that cannot be reached (refused, timed out, locked past the timeout) is a
  :class:`StorageUnavailable` for the caller — the chat says the rating could not be saved, answers go
  on — logged once, not per request; for ``RETRY_SECONDS`` after a failure calls fail at once instead of
  waiting for the timeout again, and the next call after that reconnects by itself.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from assistant.config import Settings

log = logging.getLogger("assistant.storage")

#: The SQLite file of the default engine (named for what it first held; it holds the UI sessions too).
SQLITE_FILE = "feedback.sqlite3"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: After a failed call, calls fail at once for this long instead of each waiting for the timeout.
RETRY_SECONDS = 2.0
_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeoutError, OSError)


class StorageUnavailable(RuntimeError):
    """The database could not be reached (or stayed locked past the timeout); nothing was written."""


class StorageConfigError(ValueError):
    """``ASSISTANT_DATABASE_URL`` is not a URL of a supported database (the message never quotes it)."""


def database_url(settings: Settings) -> URL:
    """The configured URL (``postgresql://`` means psycopg 3), or the default SQLite file's."""
    raw = settings.database_url.get_secret_value().strip()
    if not raw:
        return URL.create("sqlite", database=str(Path(settings.data_dir).resolve() / SQLITE_FILE))
    try:
        url = make_url(raw)
    except ArgumentError:
        raise StorageConfigError(
            "ASSISTANT_DATABASE_URL is not a database URL; use postgresql://user:password@host:5432/name "
            "(or leave it empty for the SQLite file in the data directory)"
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres") and url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend in ("postgresql", "sqlite"):
        return url
    raise StorageConfigError(
        f"ASSISTANT_DATABASE_URL names a {backend!r} database; supported are postgresql:// and sqlite:///"
    )


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Transactions are begun by SQLAlchemy's ``begin`` event below, not by the driver."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _engine(url: URL, timeout: float) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": timeout, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    millis = int(timeout * 1000)
    return create_engine(
        url,
        pool_pre_ping=True,  # a connection from before a database restart is replaced, not failed
        pool_size=5,
        max_overflow=10,
        pool_timeout=timeout,
        connect_args={
            "connect_timeout": max(2, round(timeout)),
            "options": f"-c lock_timeout={millis} -c statement_timeout={max(millis, 10_000)}",
        },
    )


def lock_key(name: str) -> int:
    """A stable 32-bit key for a PostgreSQL advisory lock named ``name``."""
    return zlib.crc32(f"seisaku-assistant:{name}".encode())


class Database:
    """The engine plus the schema check and the fail-safe described in the module docstring."""

    def __init__(self, url: URL | str, timeout: float = 3.0) -> None:
        self.url = make_url(url) if isinstance(url, str) else url
        self.timeout = timeout
        self.engine = _engine(self.url, timeout)
        self._migrated = False
        self._migrate_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._down_until = 0.0
        self._down = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(database_url(settings), settings.database_timeout_seconds)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.url.database) if self.dialect == "sqlite" and self.url.database else None

    def dispose(self) -> None:
        self.engine.dispose()

    # -- transactions -------------------------------------------------------------------------------
    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction (committed at the end of the block, rolled back on an exception), on an
        up-to-date schema. Raises :class:`StorageUnavailable` when the database cannot be reached."""
        if time.monotonic() < self._down_until:
            raise StorageUnavailable("the database is unreachable")
        try:
            self._ensure_schema()
            with self.engine.begin() as connection:
                yield connection
        except _UNREACHABLE as exc:
            self._went_down(exc)
            raise StorageUnavailable("the database is unreachable") from exc
        self._came_back()

    def prepare(self) -> bool:
        """Connect and migrate now (at start); False when the database cannot be reached yet (logged)."""
        try:
            with self.begin():
                return True
        except StorageUnavailable:
            return False

    def lock(self, connection: Connection, name: str) -> None:
        """Serialise this transaction with every other one taking the same lock, in any replica (SQLite's
        ``BEGIN IMMEDIATE`` already serialises all writers)."""
        if self.dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})

    def insert(self, table: Table) -> Any:
        """The dialect's INSERT, which has ``on_conflict_do_nothing``/``_do_update`` on both engines."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # -- schema ---------------------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        if self._migrated:
            return
        with self._migrate_lock:
            if not self._migrated:
                self.upgrade()
                self._migrated = True

    def upgrade(self) -> None:
        """Alembic ``upgrade head`` in one transaction, under a lock so that replicas migrate once."""
        from alembic import command
        from alembic.config import Config

        path = self.sqlite_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as connection:
            self.lock(connection, "migrate")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    # -- the fail-safe's log --------------------------------------------------------------------------
    def _went_down(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + RETRY_SECONDS
        with self._state_lock:
            first, self._down = not self._down, True
        if first:
            log.error(
                "the %s database is unreachable (%s); feedback and new chat-UI sessions are refused until "
                "it is back, answers go on",
                self.dialect,
                _reason(exc),
            )

    def _came_back(self) -> None:
        if not self._down:
            return
        with self._state_lock:
            was, self._down = self._down, False
        if was:
            log.warning("the %s database is reachable again", self.dialect)


def _reason(exc: BaseException) -> str:
    """The exception's type and the first line of the driver's message (no URL, no password)."""
    original = getattr(exc, "orig", None) or exc
    if isinstance(original, OSError):  # its str() names the path
        return f"{type(original).__name__}: {original.strerror or ''}".rstrip(": ")
    first_line = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {first_line[:160]}" if first_line else type(original).__name__
