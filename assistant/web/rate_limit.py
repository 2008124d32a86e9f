"""Per-client rate limits from the ``limits`` library: moving windows, in memory or in Redis.

A client (an API key's label, a client IP, a feedback writer) may make ``per_minute`` requests in any
60 seconds and ``burst`` in any ``burst × 60 / per_minute`` seconds, so a minute's allowance cannot be
spent in one go (a ``burst`` at or above ``per_minute`` adds no window: the minute's holds alone). A
refused request gets the seconds until the oldest request of the full window leaves it — the
``Retry-After`` value, after which a request passes.

With ``redis_url`` the windows live in Redis (``limits``' Lua scripts count atomically), so a key's limit
is one limit across every replica. If Redis cannot be reached, each replica limits on its own in memory
— the log says so once — and tries Redis again every ``RETRY_SECONDS``; once it answers, the shared
limits are back without a restart.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger("assistant.web.rate_limit")

#: While Redis is down, it is tried again this often (the calls in between use memory at once).
RETRY_SECONDS = 5.0
#: Prefix of the keys in Redis, so that the database can be shared with other applications.
REDIS_PREFIX = "seisaku-assistant"


def windows(per_minute: int, burst: int) -> list[RateLimitItem]:
    """The moving windows a request must fit: the burst window (the shorter), then the minute."""
    if per_minute <= 0:
        return []
    minute = RateLimitItemPerMinute(per_minute)
    if burst >= per_minute:
        return [minute]
    return [RateLimitItemPerSecond(burst, max(1, math.ceil(burst * 60 / per_minute))), minute]


class RateLimiter:
    """Thread-safe limits keyed by client; ``namespace`` keeps two limiters' counts apart in Redis."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        redis_url: str | None = None,
        namespace: str = "requests",
        redis_timeout: float = 0.5,
    ) -> None:
        self.windows = windows(per_minute, max(burst, 1))
        self.namespace = namespace
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._redis: MovingWindowRateLimiter | None = None
        if redis_url and self.windows:
            storage = RedisStorage(
                redis_url,
                key_prefix=REDIS_PREFIX,
                wrap_exceptions=True,
                socket_timeout=redis_timeout,
                socket_connect_timeout=redis_timeout,
            )
            self._redis = MovingWindowRateLimiter(storage)
        self._retry_at = 0.0  # while Redis is down: when to try it again
        self._down = False
        self._state = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.windows)

    @property
    def shared(self) -> bool:
        """True when the limits are counted in Redis right now (False while it is down, or without it)."""
        return self._redis is not None and not self._down

    def acquire(self, client: str) -> int:
        """Count a request of ``client``: 0 when allowed, else whole seconds to wait (at least 1)."""
        if not self.windows:
            return 0
        redis = self._redis
        if redis is not None and (not self._down or time.monotonic() >= self._retry_at):
            try:
                wait = self._take(redis, client)
            except StorageError as exc:
                self._went_down(exc)
            else:
                self._came_back()
                return wait
        return self._take(self._memory, client)

    def _take(self, limiter: MovingWindowRateLimiter, client: str) -> int:
        for window in self.windows:
            if not limiter.hit(window, self.namespace, client):
                reset, _ = limiter.get_window_stats(window, self.namespace, client)
                return max(1, math.ceil(reset - time.time()))
        return 0

    def _went_down(self, exc: StorageError) -> None:
        self._retry_at = time.monotonic() + RETRY_SECONDS
        with self._state:
            first, self._down = not self._down, True
        if first:
            reason = type(getattr(exc, "storage_error", exc)).__name__
            log.error(
                "Redis is unreachable (%s): rate limits (%s) are counted in this process only, so each "
                "replica allows the full rate until Redis is back",
                reason,
                self.namespace,
            )

    def _came_back(self) -> None:
        if not self._down:
            return
        with self._state:
            was, self._down = self._down, False
        if was:
            log.warning(
                "Redis is reachable again: rate limits (%s) are shared by the replicas", self.namespace
            )
