"""How many requests one API key may have in progress at once: its share of the server's slots.

The connection ledger (``connections.py``) gives each client *address* a share of the connections; a key
used from many addresses — a help desk's tool on several hosts, or a stolen key behind many IPv6
addresses — is bounded here instead: at most ``max_requests_per_key`` of its requests (``/v1`` and the
chat UI of a session it opened, event streams included) run at once; the next gets 429
``too_many_requests_in_progress`` with ``Retry-After`` until one ends. Addresses without a key are
bounded by their connection share already.

Used from the server's event loop only, so it needs no lock.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from assistant.web.errors import error_response

log = logging.getLogger("assistant.web.key_shares")

RETRY_AFTER_SECONDS = 1


class KeyShares:
    """Counts the requests in progress per ``key:<label>`` rate-limit bucket."""

    def __init__(self, max_per_key: int) -> None:
        self.max_per_key = max_per_key
        self._running: Counter[str] = Counter()

    def running(self, bucket: str) -> int:
        return self._running[bucket]

    async def run(self, bucket: str | None, app: Any, scope: dict, receive: Any, send: Any) -> None:
        """Run ``app`` for a request of ``bucket``, or refuse it when the key's share is in use."""
        if bucket is None or not bucket.startswith("key:"):
            await app(scope, receive, send)
            return
        if self._running[bucket] >= self.max_per_key:
            log.warning("refused a request: its key has %d requests in progress", self.max_per_key)
            refusal = error_response(
                429,
                "too_many_requests_in_progress",
                f"This key has {self.max_per_key} requests in progress; retry when one has ended.",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await refusal(scope, receive, send)
            return
        self._running[bucket] += 1
        try:
            await app(scope, receive, send)
        finally:
            self._running[bucket] -= 1
            if self._running[bucket] <= 0:
                del self._running[bucket]
