"""Chat-UI sessions: random ids issued by the server in an HttpOnly cookie, kept in the runtime database
(shared by replicas), bounded per client.

Gradio's own session hash is picked by the browser and travels in URLs (``?session_hash=``), so it
proves nothing: whoever reads it could read that conversation. The door (``ui_gate``) therefore gives
every browser a server-issued id (256 random bits) in a cookie, keeps only its SHA-256 here, and hands
Gradio a *tab id* derived from (session, browser hash) with a secret every replica shares (stored in the
database once), so a tab's state can only be reached with the cookie that created it, on any replica.

Bounds, all held across replicas (the database is the one truth; opening a session is serialised):

* a session ends ``ttl`` after it was opened or ``idle`` after its last request (wall-clock times, so
  every replica agrees);
* a client holds at most ``per_key`` sessions (keyed) or ``per_address`` (anonymous: its address, an
  IPv6 /64 as one): its next session ends *its own* least recently used one, never another client's;
* at most ``max_sessions`` exist in all, as a last resort: beyond it new sessions are refused
  (:class:`SessionsFull`) until some end;
* each session keeps at most ``max_tabs`` tabs (the least recently used tab's Gradio state goes first).

If the database cannot be reached, sessions this replica saw recently go on working from memory (their
TTL and idle time still apply) and new ones are refused (:class:`SessionsUnavailable`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Row, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from assistant.config import Settings
from assistant.storage import Database, StorageUnavailable
from assistant.storage.schema import app_secrets, ui_sessions, ui_tabs

COOKIE_NAME = "pa_session"
#: A session's last use is written at most this often; requests in between only read it.
TOUCH_SECONDS = 15.0
#: A tab registered this recently is not registered again (its last use is coarse by as much).
TAB_TOUCH_SECONDS = 30.0
#: The database row holding the key that derives tab ids.
TAB_SECRET = "ui_tab_key"

#: The database cannot be reached: no new session now (the page says so); known ones go on from memory.
SessionsUnavailable = StorageUnavailable


class SessionsFull(RuntimeError):
    """``max_sessions`` are open: a new session is refused rather than another client's ended."""


@dataclass
class UiSession:
    """One browser's session. ``keyed`` sessions were opened with an API key and also open ``/v1``."""

    digest: str  # SHA-256 of the id; the id itself is never kept or logged
    label: str  # the API key's label, or "-" for an anonymous session
    bucket: str  # the rate-limit bucket it spends from (its key's, or its client IP's)
    keyed: bool
    created: float
    last_seen: float
    owner: str = ""  # the client whose quota it counts against (see owner_of)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


def owner_of(bucket: str, keyed: bool) -> str:
    """The client a session counts against: its key; else its address — an IPv6 address as its /64, the
    block one host or household gets, so that a client cannot pass its quota by changing addresses."""
    if keyed or not bucket.startswith("ip:"):
        return bucket
    try:
        address = ipaddress.ip_address(bucket[3:])
    except ValueError:
        return bucket
    if address.version == 6 and address.ipv4_mapped is None:
        return f"net:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return bucket


class SessionStore:
    """Sessions in ``database``; thread-safe. ``on_tabs_dropped`` (set by the UI mount) is called with the
    tab ids whose Gradio state must go: tabs of ended sessions and tabs pushed out by newer ones."""

    def __init__(
        self,
        database: Database,
        ttl_seconds: float,
        idle_seconds: float,
        max_sessions: int,
        max_tabs: int,
        per_key: int,
        per_address: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.ttl, self.idle = ttl_seconds, idle_seconds
        self.max_sessions, self.max_tabs = max_sessions, max_tabs
        self.per_key, self.per_address = per_key, per_address
        self.clock = clock
        self.on_tabs_dropped: Callable[[list[str]], None] | None = None
        self._key: bytes | None = None
        self._key_lock = threading.Lock()
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, UiSession] = OrderedDict()  # for a database outage
        self._tabs_seen: OrderedDict[str, float] = OrderedDict()  # tab id -> when it was registered

    @classmethod
    def for_settings(cls, settings: Settings, database: Database) -> SessionStore:
        return cls(
            database,
            settings.ui_session_ttl_seconds,
            settings.ui_session_idle_seconds,
            settings.ui_max_sessions,
            settings.ui_tabs_per_session,
            settings.ui_sessions_per_key,
            settings.ui_sessions_per_address,
        )

    # -- sessions -------------------------------------------------------------------------------------
    def open(self, label: str, bucket: str, keyed: bool) -> str:
        """A new session; returns its id (for the cookie only). A client at its quota loses its own least
        recently used session. Raises :class:`SessionsFull` or :class:`SessionsUnavailable`."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        owner = owner_of(bucket, keyed)
        quota = self.per_key if keyed else self.per_address
        with self.database.begin() as conn:
            self.database.lock(conn, "ui_sessions")
            dropped = self._expire(conn, now)
            own = (
                conn.execute(
                    select(ui_sessions.c.digest)
                    .where(ui_sessions.c.owner == owner)
                    .order_by(ui_sessions.c.last_seen, ui_sessions.c.created_at)
                )
                .scalars()
                .all()
            )
            if len(own) >= quota:
                dropped += self._end(conn, list(own[: len(own) - quota + 1]))
            if conn.execute(select(func.count()).select_from(ui_sessions)).scalar_one() >= self.max_sessions:
                raise SessionsFull(f"{self.max_sessions} chat-UI sessions are open")
            conn.execute(
                ui_sessions.insert().values(
                    digest=_digest(session_id),
                    owner=owner,
                    label=label,
                    bucket=bucket,
                    keyed=keyed,
                    created_at=now,
                    last_seen=now,
                )
            )
        self._dropped(dropped)
        return session_id

    def get(self, session_id: str | None) -> UiSession | None:
        """The live session with this id (marked used), or None. While the database is unreachable: the
        session as this replica last saw it, if it has not ended since."""
        if not session_id:
            return None
        digest = _digest(session_id)
        now = self.clock()
        dropped: list[str] = []
        try:
            with self.database.begin() as conn:
                row = conn.execute(select(ui_sessions).where(ui_sessions.c.digest == digest)).first()
                session = _session(row) if row is not None else None
                if session is not None and self._expired(session, now):
                    dropped = self._end(conn, [digest])
                    session = None
                elif session is not None and now - session.last_seen >= TOUCH_SECONDS:
                    conn.execute(
                        update(ui_sessions).where(ui_sessions.c.digest == digest).values(last_seen=now)
                    )
                    session.last_seen = now
        except StorageUnavailable:
            with self._lock:
                cached = self._recent.get(digest)
            return cached if cached is not None and not self._expired(cached, now) else None
        self._dropped(dropped)
        self._remember(digest, session)
        return session

    def close(self, session_id: str | None) -> bool:
        """End a session (logout); False when there was none."""
        if not session_id:
            return False
        digest = _digest(session_id)
        self._remember(digest, None)
        with self.database.begin() as conn:
            exists = conn.execute(select(ui_sessions.c.digest).where(ui_sessions.c.digest == digest)).first()
            dropped = self._end(conn, [digest]) if exists else []
        self._dropped(dropped)
        return exists is not None

    # -- tabs -----------------------------------------------------------------------------------------
    def tab(self, session: UiSession, browser_hash: str) -> str:
        """The Gradio session id for a browser tab of this session: keyed with the shared secret, so it
        is the same on every replica and cannot be guessed or reused from another session; registering
        it may push the session's least recently used tab out."""
        tab_id = hmac.new(
            self._secret(), f"{session.digest}:{browser_hash}".encode("utf-8", "replace"), hashlib.sha256
        ).hexdigest()[:40]
        now = self.clock()
        with self._lock:
            seen = self._tabs_seen.get(tab_id)
        if seen is not None and now - seen < TAB_TOUCH_SECONDS:
            return tab_id
        dropped: list[str] = []
        try:
            with self.database.begin() as conn:
                upsert = self.database.insert(ui_tabs).values(
                    tab_id=tab_id, session_digest=session.digest, last_used=now
                )
                conn.execute(upsert.on_conflict_do_update(index_elements=["tab_id"], set_={"last_used": now}))
                tabs = (
                    conn.execute(
                        select(ui_tabs.c.tab_id)
                        .where(ui_tabs.c.session_digest == session.digest)
                        .order_by(ui_tabs.c.last_used.desc(), ui_tabs.c.tab_id)
                    )
                    .scalars()
                    .all()
                )
                dropped = [t for t in tabs[self.max_tabs :] if t != tab_id]
                if dropped:
                    conn.execute(delete(ui_tabs).where(ui_tabs.c.tab_id.in_(dropped)))
        except (StorageUnavailable, IntegrityError):  # registered at a later request / the session ended
            return tab_id
        with self._lock:
            self._tabs_seen[tab_id] = now
            self._tabs_seen.move_to_end(tab_id)
            while len(self._tabs_seen) > self.max_sessions * self.max_tabs:
                self._tabs_seen.popitem(last=False)
        self._dropped(dropped)
        return tab_id

    def missing(self, tab_ids: Iterable[str]) -> list[str]:
        """Of these tab ids (the Gradio states this replica holds), those whose tab or session has ended
        — ended by another replica, so their state here is dropped too."""
        wanted = list(dict.fromkeys(tab_ids))
        found: set[str] = set()
        with self.database.begin() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                found |= set(
                    conn.execute(select(ui_tabs.c.tab_id).where(ui_tabs.c.tab_id.in_(chunk))).scalars()
                )
        return [t for t in wanted if t not in found]

    def _secret(self) -> bytes:
        """The key of tab ids, made once by whichever replica needs it first and shared through the
        database (raises :class:`SessionsUnavailable` if it cannot be read yet)."""
        if self._key is not None:
            return self._key
        with self._key_lock:
            if self._key is None:
                query = select(app_secrets.c.value).where(app_secrets.c.name == TAB_SECRET)
                with self.database.begin() as conn:
                    value = conn.execute(query).scalar()
                    if value is None:
                        new = self.database.insert(app_secrets).values(
                            name=TAB_SECRET, value=secrets.token_hex(32)
                        )
                        conn.execute(new.on_conflict_do_nothing(index_elements=["name"]))
                        value = conn.execute(query).scalar_one()
                self._key = bytes.fromhex(value)
        return self._key

    # -- helpers --------------------------------------------------------------------------------------
    def _expired(self, session: UiSession, now: float) -> bool:
        return now - session.created >= self.ttl or now - session.last_seen >= self.idle

    def _expire(self, conn: Connection, now: float) -> list[str]:
        """End every session past its TTL or idle time (a session in use past its TTL ends on its next
        request anyway); returns the tabs to drop."""
        ended = (
            conn.execute(
                select(ui_sessions.c.digest).where(
                    (ui_sessions.c.created_at <= now - self.ttl)
                    | (ui_sessions.c.last_seen <= now - self.idle)
                )
            )
            .scalars()
            .all()
        )
        return self._end(conn, list(ended)) if ended else []

    def _end(self, conn: Connection, digests: list[str]) -> list[str]:
        """Delete these sessions and their tabs; returns the tab ids."""
        tabs = list(
            conn.execute(select(ui_tabs.c.tab_id).where(ui_tabs.c.session_digest.in_(digests))).scalars()
        )
        conn.execute(delete(ui_tabs).where(ui_tabs.c.session_digest.in_(digests)))
        conn.execute(delete(ui_sessions).where(ui_sessions.c.digest.in_(digests)))
        with self._lock:
            for digest in digests:
                self._recent.pop(digest, None)
        return tabs

    def _remember(self, digest: str, session: UiSession | None) -> None:
        """Keep what this replica last saw of a session, for a database outage (bounded)."""
        with self._lock:
            if session is None:
                self._recent.pop(digest, None)
                return
            self._recent[digest] = session
            self._recent.move_to_end(digest)
            while len(self._recent) > self.max_sessions:
                self._recent.popitem(last=False)

    def _dropped(self, tabs: list[str]) -> None:
        if not tabs:
            return
        with self._lock:
            for tab in tabs:
                self._tabs_seen.pop(tab, None)
        if self.on_tabs_dropped is not None:
            self.on_tabs_dropped(tabs)


def _session(row: Row) -> UiSession:
    return UiSession(
        digest=row.digest,
        label=row.label,
        bucket=row.bucket,
        keyed=bool(row.keyed),
        created=float(row.created_at),
        last_seen=float(row.last_seen),
        owner=row.owner,
    )
