"""The door of the chat UI: one session cookie, one rate limiter, and only the Gradio calls the page makes.

Everything outside ``/v1`` and a few open paths (health, API docs, the key form) is "the UI": the page,
its assets, Gradio's ``/gradio_api/*`` and any page route added later. This ASGI middleware guards it
as a whole, so a new page route is covered without anyone remembering to.

* **Sessions.** With API keys configured (and ``ui_public`` off) a browser must first exchange a valid
  key at ``/auth/login`` for a server-issued session (``sessions.py``): an HttpOnly, SameSite=Strict
  cookie (Secure over https). Without keys, or with ``ui_public``, opening the page issues an anonymous
  session. Either way every Gradio call needs the cookie, and Gradio's browser-chosen session hash is
  replaced by a tab id derived from the session, so a conversation is reachable only by its own browser.
  Sessions live in the runtime database, so the cookie works on every replica; a client over its quota
  ends its own oldest session, and when all ``ui_max_sessions`` are taken a new one is refused (503).
* **Static files.** The page's own code and styles carry no data: they need a session only where the page
  does (keys configured, ``ui_public`` off); with an open UI whoever may load the page loads them.
* **Limits.** Every UI request but the page's static files — page loads with or without navigation
  headers, documents, ``/config``, every Gradio call including ``queue/data`` and ``heartbeat`` — spends
  from the same rate limit as ``/v1`` (the session's key or the client IP), except the result stream of
  a question the tab just asked, which its join paid for (``stream_credits.py``: an accepted question is
  never lost to the limit); key-form attempts spend from the IP's bucket, so guessing keys is throttled.
* **Surface.** Only the paths the page uses pass (``ui_surface.py``, an allow-list); uploads, the
  REST-style ``/call``/``/run`` API, file serving, Gradio's static folder, monitoring and the rest
  answer 404 in the API's JSON shape, and so does a ``queue/join`` naming a function the page does not
  have or a ``queue/data`` for a tab that has no queue (Gradio would answer with tracebacks in the log).
  A Gradio body nested deeper than ``MAX_JSON_DEPTH`` is a 422.
* **Abandoned questions.** The door tells the chat (``ui_listeners.py``) which tabs have their result
  stream open, so a question nobody reads is not computed.
* **CSRF.** A cookie-authenticated POST must come from the page's own origin (``Origin`` /
  ``Sec-Fetch-Site``), else 403.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, RedirectResponse, Response

from assistant.config import Settings
from assistant.storage import Database
from assistant.web.api_keys import KeyRing
from assistant.web.errors import error_response as json_error
from assistant.web.key_shares import KeyShares
from assistant.web.rate_limit import RateLimiter
from assistant.web.request_id import set_client_label
from assistant.web.sessions import COOKIE_NAME, SessionsFull, SessionStore, SessionsUnavailable, UiSession
from assistant.web.stream_credits import StreamCredits
from assistant.web.ui_listeners import TabListeners
from assistant.web.ui_surface import (
    CONFIG_PATHS,
    GRADIO_CANCEL,
    GRADIO_DATA,
    GRADIO_HEARTBEAT,
    GRADIO_JOIN,
    GRADIO_PREFIX,
    is_api,
    is_asset,
    is_charged,
    is_known,
    is_open,
)

log = logging.getLogger("assistant.web.ui_gate")

LOGIN_PATH = "/auth/login"
LOGOUT_PATH = "/auth/logout"
#: Gradio's session hash as its JavaScript makes it (``Math.random().toString(36)``), with room to spare.
_BROWSER_HASH = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_FORM_BYTES = 4096
#: The page's Gradio bodies nest a few levels; a 5,000-deep body raised RecursionError (500).
MAX_JSON_DEPTH = 32
#: Refusals of one bucket are logged at most this often.
LOG_EVERY_SECONDS = 10.0
#: Set by the gate for the UI's handlers (the feedback limit's client); never taken from outside.
CLIENT_HEADER = b"x-pa-client"
#: How often a replica drops the Gradio states of tabs that ended elsewhere (another replica, a logout).
SWEEP_SECONDS = 60.0
#: Retry-After of a refused new session (all sessions taken, or the database unreachable).
SESSION_RETRY_SECONDS = 30


def client_ip(scope: dict) -> str:
    """The caller's address (X-Forwarded-For is applied by the server only for ``trusted_proxies``)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def session_cookie(scope: dict) -> str | None:
    raw = Headers(scope=scope).get("cookie")
    return cookie_parser(raw).get(COOKIE_NAME) if raw else None


def cross_site(scope: dict) -> bool:
    """True when a browser says this request comes from another origin than the one it is sent to.

    ``Sec-Fetch-Site`` is set by the browser itself and cannot be forged by a page, so it decides when
    present; older browsers are judged by ``Origin`` against ``Host``. Non-browser clients send neither
    (they are no CSRF victims: they hold their credentials themselves)."""
    headers = Headers(scope=scope)
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is not None:
        host = headers.get("host", "").lower()
        return origin == "null" or urlsplit(origin).netloc.lower() != host
    return False


def is_navigation(scope: dict) -> bool:
    """A browser opening a page (not a script's fetch)."""
    if scope["method"] not in ("GET", "HEAD") or scope["path"].startswith(GRADIO_PREFIX):
        return False
    headers = Headers(scope=scope)
    mode = headers.get("sec-fetch-mode")
    return mode == "navigate" if mode else "text/html" in headers.get("accept", "")


class Door:
    """The access policy shared by the ``/v1`` guard (``security.py``) and the UI gate."""

    def __init__(
        self, settings: Settings, keyring: KeyRing, limiter: RateLimiter, database: Database | None = None
    ) -> None:
        self.settings, self.keyring, self.limiter = settings, keyring, limiter
        self.sessions = SessionStore.for_settings(settings, database or Database.from_settings(settings))
        self._drop_tabs: Any = None  # set by bind_gradio
        self._local_tabs: Any = None
        self._queue: Any = None
        self._next_sweep = 0.0
        self._sweeping = threading.Lock()
        #: Anyone may open a UI session: no keys configured, or the UI made public on purpose.
        self.ui_open = not keyring.enabled or settings.ui_public
        self.listeners = TabListeners()
        self.stream_credits = StreamCredits()  # a question pays for its own result stream
        self.shares = KeyShares(settings.max_requests_per_key)
        self._inputs: dict[int, int] = {}  # function id -> how many input values it takes
        self._warned: dict[str, tuple[float, int]] = {}  # bucket -> (last warning, refusals since)
        self._warned_lock = threading.Lock()

    def bind_gradio(self, blocks: Any) -> None:
        """Called by the UI mount: which functions exist, and how to drop a tab's Gradio state."""
        self._inputs = {fn_id: len(fn.inputs or []) for fn_id, fn in blocks.fns.items()}
        self._queue = getattr(blocks, "_queue", None)
        holder = blocks.state_holder

        def drop(tabs: list[str]) -> None:
            with holder.lock:
                for tab in tabs:
                    holder.session_data.pop(tab, None)
                    holder.time_last_used.pop(tab, None)

        def local_tabs() -> list[str]:
            with holder.lock:
                return list(holder.session_data)

        self.sessions.on_tabs_dropped = drop
        self._drop_tabs, self._local_tabs = drop, local_tabs
        self._queue = getattr(blocks, "_queue", None)

    def has_events(self, tab_id: str) -> bool:
        """True when this process's Gradio queue holds (or held) events of the tab: its event stream can
        be read here."""
        pending = getattr(self._queue, "pending_messages_per_session", None)
        return pending is None or tab_id in pending

    def sweep_soon(self) -> None:
        """Every ``SWEEP_SECONDS``, in a thread: drop the Gradio states here whose tab or session ended
        on another replica (this one only learns of the ends it makes itself)."""
        now = time.monotonic()
        if self._local_tabs is None or now < self._next_sweep or not self._sweeping.acquire(blocking=False):
            return
        self._next_sweep = now + SWEEP_SECONDS

        def sweep() -> None:
            try:
                gone = self.sessions.missing(self._local_tabs())
                if gone:
                    self._drop_tabs(gone)
            except SessionsUnavailable:
                pass
            finally:
                self._sweeping.release()

        threading.Thread(target=sweep, name="ui-tab-sweep", daemon=True).start()

    def known_fn(self, fn_index: object) -> bool:
        return isinstance(fn_index, int) and not isinstance(fn_index, bool) and fn_index in self._inputs

    def inputs_of(self, fn_index: int) -> int:
        return self._inputs[fn_index]

    def throttled(self, bucket: str, page: bool = False) -> Response | None:
        """429 when ``bucket`` has no token left (HTML for a page load, else the API's JSON)."""
        wait = self.limiter.acquire(bucket)
        if not wait:
            return None
        self._warn_throttled(bucket, wait)
        headers = {"Retry-After": str(wait)}
        if page:
            return _page(
                429,
                "アクセスが集中しています",
                f"<p>短時間に多くのリクエストがありました。{wait}秒ほど待ってから再読み込みしてください。</p>",
                headers,
            )
        return json_error(429, "rate_limited", f"Too many requests; retry after {wait} s.", headers)

    def _warn_throttled(self, bucket: str, wait: int) -> None:
        """One log line per bucket per ``LOG_EVERY_SECONDS`` (with the count of refusals it stands for):
        a flood of refused requests must not become a flood of log lines."""
        now = time.monotonic()
        with self._warned_lock:
            since, count = self._warned.get(bucket, (0.0, 0))
            if since and now - since < LOG_EVERY_SECONDS:
                self._warned[bucket] = (since, count + 1)
                return
            if len(self._warned) > 10_000:
                self._warned.clear()
            self._warned[bucket] = (now, 0)
        more = f" ({count} more refusals since the last line)" if count else ""
        log.warning("rate limit exceeded for %s; retry after %d s%s", bucket, wait, more)

    async def open_session(
        self, scope: dict, label: str, bucket: str, keyed: bool
    ) -> tuple[str | None, Response | None]:
        """A new session's id, or the refusal to send: 503 when every session is taken (no other client's
        session is ended for it) or when the database cannot be reached."""
        try:
            return await asyncio.to_thread(self.sessions.open, label, bucket, keyed), None
        except SessionsFull:
            log.warning("refused a new UI session: all %d are open", self.settings.ui_max_sessions)
            code, title = "sessions_full", "ただいま混み合っています"
            text = "利用中のセッションが上限に達したため、新しいセッションを開始できません。"
            message = "Every chat-UI session is taken; retry later."
        except SessionsUnavailable:
            code, title = "unavailable", "ただいまログインできません"
            text = "セッションを保存するデータベースに接続できないため、新しいセッションを開始できません。"
            message = "The chat UI cannot open a session right now; retry later."
        headers = {"Retry-After": str(SESSION_RETRY_SECONDS)}
        if is_navigation(scope) or scope["path"] == LOGIN_PATH:
            body = f"<p>{text}{SESSION_RETRY_SECONDS}秒ほど待ってから、もう一度お試しください。</p>"
            return None, _page(503, title, body, headers)
        return None, json_error(503, code, message, headers)

    def cookie(self, scope: dict, session_id: str | None) -> str:
        """The Set-Cookie value for a session (or one that deletes the cookie)."""
        parts = [f"{COOKIE_NAME}={session_id or ''}", "Path=/", "HttpOnly", "SameSite=Strict"]
        parts.append(f"Max-Age={self.settings.ui_session_ttl_seconds if session_id else 0}")
        if scope.get("scheme") == "https":
            parts.append("Secure")
        return "; ".join(parts)


class UiGateMiddleware:
    """Guards every non-``/v1`` path as described in the module docstring."""

    def __init__(self, app: Any, door: Door) -> None:
        self.app, self.door = app, door

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":  # the page uses none; refuse rather than guard them
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http" or is_api(scope["path"]) or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == LOGIN_PATH:
            await self.login(scope, receive, send)
            return
        if path == LOGOUT_PATH:
            await self.logout(scope, receive, send)
            return
        door = self.door
        door.sweep_soon()
        session = await asyncio.to_thread(door.sessions.get, session_cookie(scope))
        new_cookie: str | None = None
        if session is None:
            refusal, session, new_cookie = await self._without_session(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        if session is not None:
            set_client_label(session.label)
        refusal = self._refuse(scope, session, charged=new_cookie is not None)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if session is not None:
            scope = {**scope, "headers": _with_client(scope["headers"], session.bucket)}
            scope, receive, refusal = await self._bind_tab(scope, receive, session)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        if new_cookie is not None:
            send = _adding_cookie(send, new_cookie)
        if scope["path"] != GRADIO_DATA or session is None:
            await door.shares.run(session.bucket if session else None, self.app, scope, receive, send)
            return
        tab = dict(parse_qsl(scope["query_string"].decode("latin-1")))["session_hash"]
        door.listeners.opened(tab)  # the tab reads its results: its questions are worth computing
        try:
            await door.shares.run(session.bucket, self.app, scope, receive, send)
        finally:
            door.listeners.closed(tab)

    # -- who is calling -------------------------------------------------------------------------------
    async def _without_session(self, scope: dict) -> tuple[Response | None, UiSession | None, str | None]:
        """No (live) session cookie: open an anonymous one on a page load when the UI is open (its static
        files pass without one), send a browser to the key form when it is not, refuse Gradio calls and
        (when closed) everything else."""
        door = self.door
        ip_bucket = f"ip:{client_ip(scope)}"
        navigation = is_navigation(scope)
        path = scope["path"]
        if door.ui_open:
            if is_asset(path):  # the open page's own code and styles: whoever may load the page gets them
                return None, None, None
            if navigation:
                refusal = door.throttled(ip_bucket, page=True)
                if refusal is not None:
                    return refusal, None, None
                session_id, refusal = await door.open_session(scope, "-", ip_bucket, keyed=False)
                if refusal is not None:
                    return refusal, None, None
                session = await asyncio.to_thread(door.sessions.get, session_id)
                return None, session, door.cookie(scope, session_id)
            if path.startswith(GRADIO_PREFIX) or path in CONFIG_PATHS:
                refusal = door.throttled(ip_bucket) or json_error(
                    401, "no_session", "No UI session: reload the page (ページを再読み込みしてください)."
                )
                return refusal, None, None
            # another page of the open UI (a document; the page fetched by a script): the IP pays
            return door.throttled(ip_bucket, page=scope["method"] in ("GET", "HEAD")), None, None
        if navigation:
            refusal = door.throttled(ip_bucket, page=True)
            return refusal or RedirectResponse(LOGIN_PATH, status_code=303), None, None
        log.warning("no UI session on a UI request")
        refusal = door.throttled(ip_bucket) or json_error(
            401, "unauthorized", f"The chat UI needs a session: open {LOGIN_PATH} and enter an API key."
        )
        return refusal, None, None

    def _refuse(self, scope: dict, session: UiSession | None, charged: bool) -> Response | None:
        """The rate limit (429) unless this request already paid (the page load that opened an anonymous
        session) or fetches a static file, paths the page does not use (404), cross-site posts (403). A
        result stream is charged once its tab is known (``_bind_tab_to``): its question may have paid."""
        path = scope["path"]
        if session is not None and not charged and is_charged(path) and path != GRADIO_DATA:
            refusal = self.door.throttled(session.bucket, page=is_navigation(scope))
            if refusal is not None:
                return refusal
        if not is_known(path):
            return json_error(404, "not_found", "Not Found")
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and cross_site(scope):
            log.warning("refused a cross-site %s on the UI", scope["method"])
            return json_error(403, "forbidden", "Cross-site requests are refused.")
        return None

    # -- Gradio's session hash → the session's tab id -------------------------------------------------
    async def _bind_tab(
        self, scope: dict, receive: Any, session: UiSession
    ) -> tuple[dict, Any, Response | None]:
        async def tab(session: UiSession, browser_hash: str) -> str:
            return await asyncio.to_thread(self.door.sessions.tab, session, browser_hash)

        try:
            return await self._bind_tab_to(scope, receive, session, tab)
        except SessionsUnavailable:
            message = "The chat UI cannot reach its session store; retry shortly."
            headers = {"Retry-After": str(SESSION_RETRY_SECONDS)}
            return scope, receive, json_error(503, "unavailable", message, headers)

    async def _bind_tab_to(
        self, scope: dict, receive: Any, session: UiSession, tab: Any
    ) -> tuple[dict, Any, Response | None]:
        path = scope["path"]
        if path.startswith(GRADIO_HEARTBEAT):
            browser_hash = path[len(GRADIO_HEARTBEAT) :]
            if not _BROWSER_HASH.fullmatch(browser_hash):
                return scope, receive, json_error(404, "not_found", "Not Found")
            new_path = GRADIO_HEARTBEAT + await tab(session, browser_hash)
            return {**scope, "path": new_path, "raw_path": new_path.encode()}, receive, None
        if path == GRADIO_DATA:
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
            hashes = [v for k, v in query if k == "session_hash"]
            if len(hashes) != 1 or not _BROWSER_HASH.fullmatch(hashes[0]):
                malformed = json_error(422, "invalid_request", "session_hash is missing or malformed")
                return scope, receive, self.door.throttled(session.bucket) or malformed
            rest = [(k, v) for k, v in query if k != "session_hash"]
            tab_id = await tab(session, hashes[0])
            if not self.door.stream_credits.take(tab_id):  # no question of the tab paid for it
                refusal = self.door.throttled(session.bucket)
                if refusal is not None:
                    return scope, receive, refusal
            if not self.door.has_events(tab_id):
                # Its question was queued on another replica (one that went away, and nginx moved the
                # stream here): the page asks again. Gradio would raise inside the stream (a traceback).
                return scope, receive, json_error(404, "not_found", "No pending answer for this tab here.")
            query_string = urlencode([*rest, ("session_hash", tab_id)]).encode()
            return {**scope, "query_string": query_string}, receive, None
        if path in (GRADIO_JOIN, GRADIO_CANCEL):
            body, refusal = await _read_json(receive, self.door.settings.max_body_bytes)
            if refusal is not None:
                return scope, receive, refusal
            browser_hash = body.get("session_hash")
            if not isinstance(browser_hash, str) or not _BROWSER_HASH.fullmatch(browser_hash):
                return (
                    scope,
                    receive,
                    json_error(422, "invalid_request", "session_hash is missing or malformed"),
                )
            fn_index = body.get("fn_index")
            if not self.door.known_fn(fn_index):
                return scope, receive, json_error(404, "not_found", "The page has no such function.")
            data = body.get("data", [])
            if path.endswith("/join") and (
                not isinstance(data, list) or len(data) != self.door.inputs_of(fn_index)
            ):
                return (
                    scope,
                    receive,
                    json_error(422, "invalid_request", "data must hold one value per input of the function"),
                )
            trigger = body.get("trigger_id")
            if trigger is not None and (not isinstance(trigger, int) or isinstance(trigger, bool)):
                return scope, receive, json_error(422, "invalid_request", "trigger_id must be an integer")
            body["session_hash"] = await tab(session, browser_hash)
            if path == GRADIO_JOIN:  # paid at the door: the tab's next result stream is free
                self.door.stream_credits.grant(body["session_hash"])
            return _with_body(scope, json.dumps(body, ensure_ascii=False).encode("utf-8"))
        return scope, receive, None

    # -- the key form ---------------------------------------------------------------------------------
    async def login(self, scope: dict, receive: Any, send: Any) -> None:
        door = self.door
        ip_bucket = f"ip:{client_ip(scope)}"
        if scope["method"] in ("GET", "HEAD"):
            session = await asyncio.to_thread(door.sessions.get, session_cookie(scope))
            if not door.keyring.enabled or (session is not None and session.keyed):
                response: Response = RedirectResponse("/", status_code=303)
            else:
                response = door.throttled(ip_bucket, page=True) or _login_page()
            await response(scope, receive, send)
            return
        if scope["method"] != "POST":
            await json_error(405, "method_not_allowed", "Use GET or POST.", {"Allow": "GET, POST"})(
                scope, receive, send
            )
            return
        if cross_site(scope):
            log.warning("refused a cross-site post to the key form")
            await json_error(403, "forbidden", "Cross-site requests are refused.")(scope, receive, send)
            return
        refusal = door.throttled(ip_bucket, page=True)  # every attempt spends from the IP's bucket
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        form = await _read_form(receive)
        key = door.keyring.identify(form.get("key", "").strip()) if door.keyring.enabled else None
        if key is None:
            log.warning("unknown API key on the key form")
            await _login_page("キーが正しくありません。もう一度入力してください。", 401)(scope, receive, send)
            return
        set_client_label(key.label)
        session_id, refusal = await door.open_session(scope, key.label, f"key:{key.label}", keyed=True)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        log.info("opened a UI session")
        response = RedirectResponse("/", status_code=303)
        response.headers.append("set-cookie", door.cookie(scope, session_id))
        await response(scope, receive, send)

    async def logout(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["method"] in ("GET", "HEAD"):
            await _page(
                200,
                "ログアウト",
                f'<form method="post" action="{LOGOUT_PATH}"><button type="submit">ログアウトする</button></form>',
            )(scope, receive, send)
            return
        if scope["method"] != "POST" or cross_site(scope):
            await json_error(403, "forbidden", "Log out with a POST from the page itself.")(
                scope, receive, send
            )
            return
        try:
            await asyncio.to_thread(self.door.sessions.close, session_cookie(scope))
        except SessionsUnavailable:  # the cookie goes all the same; the row ends with its idle time
            log.warning("a UI session could not be ended in the database (unreachable)")
        target = "/" if self.door.ui_open else LOGIN_PATH
        response = RedirectResponse(target, status_code=303)
        response.headers.append("set-cookie", self.door.cookie(scope, None))
        await response(scope, receive, send)


# -- helpers -------------------------------------------------------------------------------------------
def _with_client(headers: Iterable[tuple[bytes, bytes]], bucket: str) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() != CLIENT_HEADER]
    return [*kept, (CLIENT_HEADER, bucket.encode("utf-8", "replace"))]


def _adding_cookie(send: Any, cookie: str) -> Any:
    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
        await send(message)

    return wrapped


async def _read_body(receive: Any, limit: int) -> bytes | None:
    """The request body, or None when it is larger than ``limit`` (or the client left)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _read_json(receive: Any, limit: int) -> tuple[dict, Response | None]:
    raw = await _read_body(receive, limit)
    if raw is None:
        return {}, json_error(413, "payload_too_large", f"The request body is larger than {limit} bytes.")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}, json_error(422, "invalid_request", "The body must be a JSON object.")
    if not isinstance(body, dict):
        return {}, json_error(422, "invalid_request", "The body must be a JSON object.")
    if _depth(body) > MAX_JSON_DEPTH:
        return {}, json_error(422, "invalid_request", f"The body nests deeper than {MAX_JSON_DEPTH} levels.")
    return body, None


def _depth(value: object) -> int:
    """How deeply lists and objects nest in a parsed JSON value (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


async def _read_form(receive: Any) -> dict[str, str]:
    raw = await _read_body(receive, MAX_FORM_BYTES)
    if not raw:
        return {}
    try:
        return dict(parse_qsl(raw.decode("utf-8"), max_num_fields=4))
    except (UnicodeDecodeError, ValueError):
        return {}


def _with_body(scope: dict, body: bytes) -> tuple[dict, Any, None]:
    headers = [
        (k, v) for k, v in scope["headers"] if k.lower() not in (b"content-length", b"transfer-encoding")
    ]
    headers.append((b"content-length", str(len(body)).encode()))
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return {**scope, "headers": headers}, receive, None


_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}

_STYLE = """
body { font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Kaku Gothic ProN", Meiryo, system-ui,
  sans-serif; background: #f5f7fb; color: #1f2937; display: flex; min-height: 100vh; margin: 0;
  align-items: center; justify-content: center; }
main { background: #fff; border: 1px solid #d7dde8; border-radius: 12px; padding: 28px 32px;
  max-width: 440px; width: 100%; box-shadow: 0 2px 10px rgba(0,0,0,.05); }
h1 { font-size: 1.3em; margin: 0 0 6px; }
p { line-height: 1.6; }
label { display: block; font-weight: 600; margin: 14px 0 6px; }
input { width: 100%; box-sizing: border-box; padding: 9px 10px; font-size: 1em; border: 1px solid #b8c2d3;
  border-radius: 8px; }
button { margin-top: 16px; padding: 9px 18px; font-size: 1em; border: 0; border-radius: 8px;
  background: #2563eb; color: #fff; cursor: pointer; }
.error { color: #b91c1c; font-weight: 600; }
.note { font-size: .88em; color: #6b7280; }
"""


def _page(status: int, title: str, body: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    document = (
        f'<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} — 政策アシスタント</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status, headers={**_SECURITY_HEADERS, **(headers or {})})


def _login_page(error: str | None = None, status: int = 200) -> HTMLResponse:
    message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    body = (
        "<p>政策アシスタントを使うには、管理者から受け取った API キーを入力してください。</p>"
        f"{message}"
        f'<form method="post" action="{LOGIN_PATH}">'
        '<label for="key">API キー</label>'
        '<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>'
        '<button type="submit">ログイン</button></form>'
        '<p class="note">キーはこのブラウザーのセッションの開始にだけ使われ、保存されません。</p>'
    )
    return _page(status, "政策アシスタント", body)
