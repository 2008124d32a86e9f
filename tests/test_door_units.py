"""The door's parts without a model or a server: the worker pool, CSRF, log redaction, the feedback caps and
the chat's history cap (issue 15; the sessions are in test_sessions.py)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time

import pytest
from pydantic import SecretStr

from assistant.config import Settings
from assistant.web.api_keys import load_keyring
from assistant.web.feedback import FeedbackFullError, FeedbackStore, bounded_context
from assistant.web.rate_limit import RateLimiter
from assistant.web.request_id import AccessLogFilter, acceptable_request_id, redact_path
from assistant.web.stream_credits import StreamCredits
from assistant.web.ui.chat import ChatUI
from assistant.web.ui_gate import Door, cross_site, is_navigation
from assistant.web.workers import PoolBusy, WorkerPool

KEY = "unit-test-key-0123456789abcdef"


# -- the worker pool -----------------------------------------------------------------------------------
def test_the_pool_runs_its_workers_queues_the_rest_and_refuses_beyond():
    pool = WorkerPool(workers=2, queue=1)
    started, order = threading.Event(), []
    gate = threading.Event()

    def job(name: str) -> None:
        with pool.slot():
            order.append(name)
            started.set()
            gate.wait(5)

    threads = [threading.Thread(target=job, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    started.wait(5)
    while pool.running < 2:
        time.sleep(0.01)
    waiter = threading.Thread(target=job, args=("c",))
    waiter.start()
    while pool.waiting < 1:
        time.sleep(0.01)
    with pytest.raises(PoolBusy) as busy:
        pool.acquire_blocking()
    assert busy.value.retry_after >= 1
    gate.set()
    for t in [*threads, waiter]:
        t.join(5)
    assert sorted(order) == ["a", "b", "c"] and order[-1] == "c"
    assert pool.running == 0 and pool.waiting == 0


def test_a_coroutine_that_stops_waiting_leaves_the_line_and_slots_pass_on():
    async def scenario() -> list[str]:
        pool = WorkerPool(workers=1, queue=3)
        await pool.acquire()  # the one worker is busy
        done: list[str] = []

        async def waiter(name: str) -> None:
            await pool.acquire()
            done.append(name)
            pool.release()

        first = asyncio.ensure_future(waiter("first"))
        gone = asyncio.ensure_future(waiter("gone"))
        last = asyncio.ensure_future(waiter("last"))
        await asyncio.sleep(0.01)
        assert pool.waiting == 3
        gone.cancel()  # its client disconnected
        await asyncio.sleep(0.01)
        assert pool.waiting == 2
        pool.release()
        await asyncio.wait_for(asyncio.gather(first, last), 5)
        assert pool.running == 0 and pool.waiting == 0
        return done

    assert asyncio.run(scenario()) == ["first", "last"]


def test_threads_and_coroutines_share_one_budget():
    pool = WorkerPool(workers=1, queue=2)
    pool.acquire_blocking()  # held by "a thread"

    async def coroutine() -> str:
        await pool.acquire()
        pool.release()
        return "coroutine ran"

    def release_soon() -> None:
        time.sleep(0.1)
        pool.release()

    threading.Thread(target=release_soon).start()
    assert asyncio.run(asyncio.wait_for(coroutine(), 5)) == "coroutine ran"
    assert pool.running == 0


# -- CSRF and navigation ----------------------------------------------------------------------------------
def _scope(method: str = "POST", **headers: str) -> dict:
    return {
        "type": "http",
        "method": method,
        "path": "/",
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


def test_a_joined_question_pays_for_one_result_stream_of_its_tab_and_credits_stay_bounded(monkeypatch):
    credits = StreamCredits(ttl=60, per_tab=2, max_tabs=3)
    assert not credits.take("tab-a")  # no question asked: the stream is charged
    credits.grant("tab-a")
    assert not credits.take("tab-b")  # another tab's question pays nothing for it
    assert credits.take("tab-a") and not credits.take("tab-a")  # one stream per question
    for _ in range(5):
        credits.grant("tab-a")
    assert [credits.take("tab-a") for _ in range(3)] == [True, True, False]  # at most per_tab
    for tab in ("t1", "t2", "t3", "t4"):
        credits.grant(tab)
    assert not credits.take("t1") and credits.take("t4")  # at most max_tabs: the oldest went
    now = time.monotonic()
    credits.grant("tab-c")
    monkeypatch.setattr("assistant.web.stream_credits.time.monotonic", lambda: now + 61)
    assert not credits.take("tab-c")  # expired


def test_cross_site_requests_are_told_by_sec_fetch_site_then_origin():
    assert not cross_site(_scope(host="a.example", sec_fetch_site="same-origin", origin="null"))
    assert cross_site(_scope(host="a.example", sec_fetch_site="cross-site"))
    assert cross_site(_scope(host="a.example", sec_fetch_site="same-site"))
    assert not cross_site(_scope(host="a.example:8000", origin="https://a.example:8000"))
    assert cross_site(_scope(host="a.example", origin="https://evil.example"))
    assert cross_site(_scope(host="a.example", origin="null"))
    assert not cross_site(_scope(host="a.example"))  # curl, scripts: no browser, no CSRF victim
    assert is_navigation(_scope("GET", accept="text/html,application/xhtml+xml"))
    assert is_navigation(_scope("GET", sec_fetch_mode="navigate"))
    assert not is_navigation(_scope("GET", accept="*/*", sec_fetch_mode="cors"))
    assert not is_navigation(_scope("POST", accept="text/html"))


def test_the_session_cookie_is_httponly_strict_and_secure_over_https():
    settings = Settings(api_keys=SecretStr(KEY))
    door = Door(settings, load_keyring(settings), RateLimiter(0, 1))
    plain = door.cookie({"scheme": "http"}, "abc")
    assert plain.startswith("pa_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800")
    assert "Secure" not in plain and door.cookie({"scheme": "https"}, "abc").endswith("; Secure")
    assert "Max-Age=0" in door.cookie({"scheme": "http"}, None)
    assert not door.ui_open and Door(Settings(), load_keyring(Settings()), RateLimiter(0, 1)).ui_open


def test_refusals_of_one_client_are_logged_once_per_interval(caplog):
    settings = Settings(api_keys=SecretStr(KEY))
    door = Door(settings, load_keyring(settings), RateLimiter(60, 1))
    with caplog.at_level(logging.WARNING, logger="assistant.web.ui_gate"):
        refusals = [door.throttled("ip:9.9.9.9") for _ in range(50)]
    assert refusals[0] is None and all(r is not None and r.status_code == 429 for r in refusals[1:])
    assert len([r for r in caplog.records if "rate limit exceeded" in r.getMessage()]) == 1


# -- what the logs may show --------------------------------------------------------------------------------
def test_access_log_paths_lose_query_strings_and_session_ids():
    assert redact_path("/v1/search?q=山田花子 090-1234-5678") == "/v1/search?[redacted]"
    assert redact_path("/v1/programs?api_key=" + KEY) == "/v1/programs?[redacted]"
    assert redact_path("/gradio_api/heartbeat/k3j5h6") == "/gradio_api/heartbeat/[redacted]"
    assert redact_path("/gradio_api/queue/data?session_hash=k3j5h6") == "/gradio_api/queue/data?[redacted]"
    assert redact_path("/v1/programs/p-0b74025205") == "/v1/programs/p-0b74025205"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/v1/search?q=secret", "1.1", 200),
        None,
    )
    assert AccessLogFilter().filter(record) and "secret" not in record.getMessage()


def test_a_request_id_that_is_a_configured_key_is_replaced():
    keyring = load_keyring(Settings(api_keys=SecretStr(KEY)))

    assert acceptable_request_id("helpdesk-4711", keyring)
    assert not acceptable_request_id(KEY, keyring)
    assert not acceptable_request_id(f"{KEY}.x", keyring) and not acceptable_request_id(f"x:{KEY}", keyring)


# -- feedback bounds ------------------------------------------------------------------------------------------
ANSWER = {"answer": "回答" * 500, "abstained": False, "intent": "fact", "citations": [], "programs": []}


def test_a_feedback_row_keeps_a_bounded_context_not_the_whole_conversation():
    history = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"{i}:" + "あ" * 3000} for i in range(400)
    ]
    context = bounded_context(history, turns=4, chars=4000)
    assert 1 <= len(context) <= 4 and sum(len(t["content"]) for t in context) <= 4000
    assert context[-1]["content"].startswith("399:") and context[0]["content"].startswith("…")
    assert bounded_context(history, turns=0, chars=4000) == []


def test_the_feedback_database_stays_under_its_cap_after_500_rows(tmp_path):
    cap = 1_000_000
    store = FeedbackStore.for_data_dir(tmp_path, max_bytes=cap, context_turns=4, context_chars=4000)
    history = [{"role": "user", "content": "い" * 5000}] * 40
    stored = refused = 0
    for i in range(500):
        try:
            store.add(f"質問{i}", ANSWER, "up", history=history)
            stored += 1
        except FeedbackFullError:
            refused += 1
    store.database.dispose()
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the rows in the file itself, not in its WAL
    size = (tmp_path / "feedback.sqlite3").stat().st_size
    assert size <= cap, size
    assert stored > 20 and refused > 0 and stored + refused == 500
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as conn:
        longest = max(len(h) for (h,) in conn.execute("SELECT history FROM feedback"))
    assert longest < 4000 * 3 + 200  # 4,000 characters of context, as JSON
    with pytest.raises(FeedbackFullError, match="ASSISTANT_FEEDBACK_MAX_BYTES"):
        store.update(1, comment="あ" * 2000 * 400)


class _Holder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def get(self):  # pragma: no cover - not used by these tests
        raise RuntimeError


class _Request:
    def __init__(self, client: str) -> None:
        self.headers = {"x-pa-client": client}


def test_feedback_is_limited_per_client(monkeypatch):
    import gradio as gr

    monkeypatch.setattr(gr, "Warning", lambda *_a, **_k: None)
    ui = ChatUI(_Holder(Settings(feedback_per_minute=60, feedback_burst=3)))
    verdicts = [ui._feedback_refused(_Request("key:helpdesk-a")) for _ in range(5)]
    assert verdicts == [False, False, False, True, True]
    assert ui._feedback_refused(_Request("key:helpdesk-b")) is False  # another client, its own bucket


def test_the_chat_keeps_the_history_and_messages_of_the_api_limits():
    ui = ChatUI(_Holder(Settings(max_history_turns=6, max_history_chars=1000)))
    conv = {"messages": [], "turns": [], "records": {}, "last_rated": None}
    for i in range(10):
        conv["messages"] += [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]
        conv["records"][str(len(conv["messages"]) - 1)] = {"question": f"q{i}"}
        conv["turns"] += [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "x" * 100}]
        conv["last_rated"] = str(len(conv["messages"]) - 1)
        ui._trim(conv)
    assert len(conv["turns"]) == 6 and conv["turns"][0]["content"] == "q7"
    assert [m["content"] for m in conv["messages"]] == ["q7", "a7", "q8", "a8", "q9", "a9"]
    assert conv["records"] == {"1": {"question": "q7"}, "3": {"question": "q8"}, "5": {"question": "q9"}}
    assert conv["last_rated"] == "5"
    conv["turns"] = [{"role": "user", "content": "y" * 600}, {"role": "assistant", "content": "z" * 600}] * 2
    ui._trim(conv)
    assert sum(len(t["content"]) for t in conv["turns"]) <= 1000
