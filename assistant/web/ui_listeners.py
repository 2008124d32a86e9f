"""Which chat-UI tabs are listening for their results, so that a question nobody waits for is not answered.

The page asks with ``queue/join`` and reads the answer from ``queue/data`` (an event stream it opens right
after the join). A client that joins and never reads — or closes the stream — used to have every
question computed anyway: 28 abandoned questions cost 10 CPU seconds and made the next answer wait 1.3 s
(issue 20). The door counts the open ``queue/data`` streams per tab here; the chat's ``ask`` handler,
before it computes, waits up to ``grace`` seconds for its tab to be listening and gives up otherwise,
as an abandoned answer stream of the API does. (Gradio itself drops the tab's queued events when a stream
it had closes.)
"""

from __future__ import annotations

import threading
from collections import Counter

#: How long a question waits for its tab's result stream: the page opens it right after the join.
GRACE_SECONDS = 2.0


class TabListeners:
    """Thread-safe count of open result streams per tab id (the door's coroutines and Gradio's threads)."""

    def __init__(self, grace_seconds: float = GRACE_SECONDS) -> None:
        self.grace = grace_seconds
        self._open: Counter[str] = Counter()
        self._changed = threading.Condition()

    def opened(self, tab: str) -> None:
        with self._changed:
            self._open[tab] += 1
            self._changed.notify_all()

    def closed(self, tab: str) -> None:
        with self._changed:
            self._open[tab] -= 1
            if self._open[tab] <= 0:
                del self._open[tab]

    def listening(self, tab: str) -> bool:
        with self._changed:
            return self._open[tab] > 0 if tab in self._open else False

    def wait_for(self, tab: str, timeout: float | None = None) -> bool:
        """True once ``tab`` has a result stream open; False if none opens within ``timeout`` (grace)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: tab in self._open, timeout=self.grace if timeout is None else timeout
            )
