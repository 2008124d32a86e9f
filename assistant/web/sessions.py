"""Chat-UI sessions: random ids issued by the server in an HttpOnly cookie, kept in memory, bounded.

Gradio's own session hash is picked by the browser and travels in URLs (``?session_hash=``), so it
proves nothing: whoever reads it could read that conversation. The door (``ui_gate``) therefore gives
every browser a server-issued id (256 random bits) in a cookie, keeps only its SHA-256 here, and hands
Gradio a *tab id* derived from (session, browser hash) with a per-process secret: a tab's state can only
be reached with the cookie that created it, and the ids in URLs and logs are worthless to anyone else.

Everything is bounded: a session ends ``ttl`` after it was opened or ``idle`` after its last request;
at most ``max_sessions`` are kept (the least recently used ends first) and each keeps at most
``max_tabs`` tabs (the oldest tab's Gradio state is dropped first). The store is per process, so
behind a load balancer the UI needs sticky sessions, as Gradio's queue already does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE_NAME = "pa_session"


@dataclass
class UiSession:
    """One browser's session. ``keyed`` sessions were opened with an API key and also open ``/v1``."""

    digest: str  # SHA-256 of the id; the id itself is never kept or logged
    label: str  # the API key's label, or "-" for an anonymous session
    bucket: str  # the rate-limit bucket it spends from (its key's, or its client IP's)
    keyed: bool
    created: float
    last_seen: float
    tabs: OrderedDict[str, None] = field(default_factory=OrderedDict)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


class SessionStore:
    """Thread-safe store of :class:`UiSession` by id digest.

    ``on_tabs_dropped`` (set by the UI mount) is called, outside the lock, with the tab ids whose state
    must go: tabs of ended sessions and tabs pushed out by newer ones.
    """

    def __init__(
        self,
        ttl_seconds: float,
        idle_seconds: float,
        max_sessions: int,
        max_tabs: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl, self.idle = ttl_seconds, idle_seconds
        self.max_sessions, self.max_tabs = max_sessions, max_tabs
        self.clock = clock
        self.on_tabs_dropped: Callable[[list[str]], None] | None = None
        self._secret = secrets.token_bytes(32)
        self._sessions: OrderedDict[str, UiSession] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def open(self, label: str, bucket: str, keyed: bool) -> str:
        """A new session; returns its id (for the cookie only)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        session = UiSession(_digest(session_id), label, bucket, keyed, now, now)
        dropped: list[str] = []
        with self._lock:
            dropped += self._expire(now)
            self._sessions[session.digest] = session
            while len(self._sessions) > self.max_sessions:
                _, oldest = self._sessions.popitem(last=False)
                dropped += oldest.tabs
        self._dropped(dropped)
        return session_id

    def get(self, session_id: str | None) -> UiSession | None:
        """The live session with this id (and mark it used), or None."""
        if not session_id:
            return None
        digest = _digest(session_id)
        now = self.clock()
        dropped: list[str] = []
        with self._lock:
            session = self._sessions.get(digest)
            if session is not None and self._expired(session, now):
                del self._sessions[digest]
                dropped += session.tabs
                session = None
            elif session is not None:
                session.last_seen = now
                self._sessions.move_to_end(digest)
        self._dropped(dropped)
        return session

    def close(self, session_id: str | None) -> bool:
        """End a session (logout); False when there was none."""
        if not session_id:
            return False
        with self._lock:
            session = self._sessions.pop(_digest(session_id), None)
        if session is None:
            return False
        self._dropped(list(session.tabs))
        return True

    def tab(self, session: UiSession, browser_hash: str) -> str:
        """The Gradio session id for a browser tab of this session: keyed, so it cannot be guessed or
        reused from another session; registering it may push the session's oldest tab out."""
        tab_id = hmac.new(
            self._secret, f"{session.digest}:{browser_hash}".encode("utf-8", "replace"), hashlib.sha256
        ).hexdigest()[:40]
        dropped: list[str] = []
        with self._lock:
            if tab_id in session.tabs:
                session.tabs.move_to_end(tab_id)
            else:
                session.tabs[tab_id] = None
                while len(session.tabs) > self.max_tabs:
                    dropped.append(session.tabs.popitem(last=False)[0])
        self._dropped(dropped)
        return tab_id

    def _expired(self, session: UiSession, now: float) -> bool:
        return now - session.created >= self.ttl or now - session.last_seen >= self.idle

    def _expire(self, now: float) -> list[str]:
        """Drop ended sessions from the least recently used end (called under the lock). A session that
        reached its TTL while still in use ends on its next request instead."""
        dropped: list[str] = []
        for digest, session in list(self._sessions.items()):
            if not self._expired(session, now):
                break
            del self._sessions[digest]
            dropped += session.tabs
        return dropped

    def _dropped(self, tabs: list[str]) -> None:
        if tabs and self.on_tabs_dropped is not None:
            self.on_tabs_dropped(tabs)
