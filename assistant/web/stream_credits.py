"""A chat-UI question pays for its own result stream: the rate limit is not charged twice for one answer.

The page asks with ``queue/join`` and reads the answer from ``queue/data``, an event stream it opens right
after. When both spent from the client's rate limit, the last request of a full window could be the join:
the question was accepted, its result stream refused (429), so nobody read the answer — and, nobody
listening, it was never computed (``ui_listeners.py``). Now a join that passes the door leaves its tab one
credit, which the tab's next ``queue/data`` spends instead of the rate limit; a stream without a credit
(a made-up tab, a client reopening streams in a loop) is charged as before. So a question is refused, if
at all, when it is asked, and an accepted one is delivered.

Credits cannot pile up: each was paid by a join, lasts ``ttl`` seconds (the page opens its stream at
once), a tab holds at most ``per_tab`` and at most ``max_tabs`` tabs hold any (the oldest go first).
A tab's join and stream reach the same process (nginx routes a session's queue calls to one replica),
so the credits live in memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

CREDIT_SECONDS = 60.0
PER_TAB = 8
MAX_TABS = 10_000


class StreamCredits:
    """Thread-safe credits per tab id; expired ones are dropped when the tab is next touched."""

    def __init__(self, ttl: float = CREDIT_SECONDS, per_tab: int = PER_TAB, max_tabs: int = MAX_TABS) -> None:
        self.ttl, self.per_tab, self.max_tabs = ttl, per_tab, max_tabs
        self._expiries: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def grant(self, tab: str) -> None:
        """A join of ``tab`` passed the door (and paid): its next result stream is free."""
        now = time.monotonic()
        with self._lock:
            live = self._live(tab, now)
            if len(live) < self.per_tab:
                live.append(now + self.ttl)
            self._expiries[tab] = live
            self._expiries.move_to_end(tab)
            while len(self._expiries) > self.max_tabs:
                self._expiries.popitem(last=False)

    def take(self, tab: str) -> bool:
        """Spend one of ``tab``'s credits; False when it has none (the stream is charged)."""
        with self._lock:
            live = self._live(tab, time.monotonic())
            if not live:
                self._expiries.pop(tab, None)
                return False
            live.pop(0)
            if live:
                self._expiries[tab] = live
            else:
                del self._expiries[tab]
            return True

    def _live(self, tab: str, now: float) -> list[float]:
        return [expiry for expiry in self._expiries.get(tab, []) if expiry > now]
