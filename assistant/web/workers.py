"""A bounded worker pool for the CPU-heavy calls (answers, searches), shared by the API and the chat UI.

The model encodes one question at a time on a few cores, so letting every request start its answer
only makes all of them slow, and a client that opens 200 streams and goes away would keep the server
busy for its 200 answers. Instead ``workers`` answers run at once, ``queue`` more may wait in line
(first come, first served), and the next one is refused at once with 503 ``busy`` + ``Retry-After``.
A request whose client disconnects while it waits leaves the line without being computed.

The pool hands slots to waiters of two kinds: coroutines of the API (``PoolMiddleware``) and threads of
the chat UI (``PooledHolder``), so both share one budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from assistant.web.errors import error_response

log = logging.getLogger("assistant.web.workers")

#: Requests that compute an answer or embed a query; the rest of the API answers from memory.
HEAVY_PATHS = {
    ("POST", "/v1/answer"),
    ("POST", "/v1/answer/stream"),
    ("GET", "/v1/search"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/widget/answer"),
}


class PoolBusy(Exception):
    """Every worker is busy and the line is full; ``retry_after`` is a fair guess in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"busy; retry after {retry_after} s")
        self.retry_after = retry_after


class _ThreadWaiter:
    def __init__(self) -> None:
        self.event = threading.Event()


class WorkerPool:
    """``workers`` slots plus a line of ``queue`` waiters; thread-safe, usable from threads and coroutines."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers, self.queue = max(1, workers), max(0, queue)
        self.running = 0
        self._waiters: deque[Any] = deque()  # asyncio futures and thread waiters, oldest first
        self._lock = threading.Lock()
        self._seconds = 0.3  # moving average of one job, for Retry-After

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def _busy(self) -> PoolBusy:
        ahead = self.running + len(self._waiters)
        return PoolBusy(max(1, math.ceil(ahead / self.workers * self._seconds)))

    def _enter(self, make_waiter: Any) -> Any | None:
        """Take a free slot (returns None) or join the line (returns the waiter); PoolBusy when full."""
        with self._lock:
            if self.running < self.workers and not self._waiters:
                self.running += 1
                return None
            if len(self._waiters) >= self.queue:
                raise self._busy()
            waiter = make_waiter()
            self._waiters.append(waiter)
            return waiter

    async def acquire(self) -> None:
        """Wait for a slot (FIFO). Cancelling the wait leaves the line; a slot granted meanwhile is passed on."""
        loop = asyncio.get_running_loop()
        future = self._enter(loop.create_future)
        if future is None:
            return
        try:
            await future
        except asyncio.CancelledError:
            with self._lock:
                if future in self._waiters:
                    self._waiters.remove(future)
                    raise
            if future.done() and not future.cancelled():
                self.release()  # granted just before the cancellation: pass the slot on
            raise

    def acquire_blocking(self) -> None:
        """The same for a thread (the chat UI's handlers run in Gradio's worker threads)."""
        waiter = self._enter(_ThreadWaiter)
        if waiter is not None:
            waiter.event.wait()

    def release(self) -> None:
        """Give the slot to the oldest waiter still waiting, or free it."""
        with self._lock:
            while self._waiters:
                waiter = self._waiters.popleft()
                if isinstance(waiter, _ThreadWaiter):
                    waiter.event.set()
                    return
                if not waiter.done():
                    waiter.get_loop().call_soon_threadsafe(self._grant, waiter)
                    return
            self.running -= 1

    def _grant(self, future: asyncio.Future) -> None:
        if future.done():  # cancelled between release() and now: the slot goes to the next one
            self.release()
        else:
            future.set_result(None)

    def record(self, seconds: float) -> None:
        self._seconds = 0.8 * self._seconds + 0.2 * seconds

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """A slot for a thread, for the duration of the block (raises PoolBusy when full)."""
        self.acquire_blocking()
        started = time.perf_counter()
        try:
            yield
        finally:
            self.record(time.perf_counter() - started)
            self.release()


def busy_response(exc: PoolBusy):
    return error_response(
        503,
        "busy",
        f"The server is busy answering other questions; retry after {exc.retry_after} s.",
        {"Retry-After": str(exc.retry_after)},
    )


class PoolMiddleware:
    """Runs the heavy ``/v1`` requests through the pool: 503 when it is full, nothing computed for a
    client that went away while waiting, and the slot freed as soon as the response starts (a stream's
    answer is computed before its first byte, so a slow reader does not hold a worker)."""

    def __init__(self, app: Any, pool: WorkerPool, max_body_bytes: int) -> None:
        self.app, self.pool, self.max_body_bytes = app, pool, max_body_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in HEAVY_PATHS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self.app(scope, receive, send)  # refused at once by the body limit (413), unread
            return
        body, complete = await self._read_body(receive)
        if not complete:
            return  # the client left before sending its request
        if len(body) > self.max_body_bytes:  # streamed without a Content-Length: the body limit's answer
            await error_response(
                413, "payload_too_large", f"The request body is larger than {self.max_body_bytes} bytes."
            )(scope, receive, send)
            return
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            acquiring = asyncio.ensure_future(self.pool.acquire())
            done, _ = await asyncio.wait({acquiring, gone}, return_when=asyncio.FIRST_COMPLETED)
            if acquiring not in done:
                acquiring.cancel()
                try:
                    await acquiring
                except (asyncio.CancelledError, PoolBusy):
                    pass
                else:  # the slot came just as the client left
                    self.pool.release()
                log.info("skipped a request whose client disconnected while it waited")
                return
            error = acquiring.exception()
            if isinstance(error, PoolBusy):
                await busy_response(error)(scope, receive, send)
                return
            if error is not None:
                raise error
        except BaseException:
            gone.cancel()
            raise
        await self._run(scope, body, gone, send)

    async def _run(self, scope: dict, body: bytes, gone: asyncio.Future, send: Any) -> None:
        held = True
        started = time.perf_counter()

        def free() -> None:
            nonlocal held
            if held:
                held = False
                self.pool.record(time.perf_counter() - started)
                self.pool.release()

        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await asyncio.shield(gone)

        async def send_and_free(message: dict) -> None:
            if message["type"] == "http.response.start":
                free()
            await send(message)

        try:
            if gone.done():
                log.info("skipped a request whose client disconnected before its turn")
                return
            await self.app(scope, replay, send_and_free)
        finally:
            free()
            gone.cancel()

    async def _read_body(self, receive: Any) -> tuple[bytes, bool]:
        """The whole request body — cut at one byte over the limit, which the caller refuses — or
        (b"", False) when the client disconnected. Reading it first lets the wait for a worker watch for
        the disconnect."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", False
            chunk = message.get("body", b"")
            if size <= self.max_body_bytes:
                chunks.append(chunk[: self.max_body_bytes + 1 - size])  # beyond the limit: dropped
            size += len(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), True


async def _disconnected(receive: Any) -> dict:
    """Resolves with the ``http.disconnect`` message once the client has gone (the body was read)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return message


class PooledService:
    """The AnswerService as the chat UI sees it: answers (and searches) wait for a worker of the pool."""

    def __init__(self, service: Any, pool: WorkerPool) -> None:
        self._service, self._pool = service, pool

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)

    def answer(self, *args: Any, **kwargs: Any) -> Any:
        with self._pool.slot():
            return self._service.answer(*args, **kwargs)

    def search(self, *args: Any, **kwargs: Any) -> Any:
        with self._pool.slot():
            return self._service.search(*args, **kwargs)

    def plan_question(self, *args: Any, **kwargs: Any) -> Any:
        with self._pool.slot():
            return self._service.plan_question(*args, **kwargs)

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """Composing (a generative composer writes for seconds) holds a worker until the answer is done; the
        events are passed on after the slot is free, so a slow reader never holds a worker. (A generative
        composer holds its verified sentences back until the answer is complete anyway.)"""
        with self._pool.slot():
            events = list(self._service.stream(*args, **kwargs))
        yield from events


class PooledHolder:
    """The service holder handed to the chat UI: same settings, the current service behind the pool."""

    def __init__(self, holder: Any, pool: WorkerPool, listeners: Any = None) -> None:
        self._holder, self.pool = holder, pool
        self.settings = holder.settings
        self.listeners = listeners  # the door's TabListeners: is anyone reading a tab's results?

    def __getattr__(self, name: str) -> Any:
        return getattr(self._holder, name)

    def get(self) -> Any:
        return PooledService(self._holder.get(), self.pool)
