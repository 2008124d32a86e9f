"""Per-client token buckets for ``/v1``: a steady rate per minute plus a burst, in process.

A bucket holds up to ``burst`` tokens and refills at ``per_minute / 60`` tokens a second; a request
takes one token or is refused with the seconds until one is there (the ``Retry-After`` value). State
lives in this process, so with several replicas each enforces the limit on its own.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Thread-safe token buckets keyed by client (an API key's label or a client IP)."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last update)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def acquire(self, client: str) -> int:
        """Take a token for ``client``: 0 when allowed, else whole seconds to wait (at least 1)."""
        if not self.enabled:
            return 0
        with self._lock:
            now = self.clock()
            tokens, updated = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - updated) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                if len(self._buckets) > self.max_clients:
                    self._forget_idle(now)
                return 0
            self._buckets[client] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled completely: they hold no state a fresh bucket would not."""
        full_after = self.burst / self.rate
        for client in [c for c, (_, updated) in self._buckets.items() if now - updated >= full_after]:
            del self._buckets[client]
