"""Several replicas, one truth (issue 22), with real parts only: a throwaway PostgreSQL cluster, a
redis-server, a Chroma server, two ``assistant serve`` replicas and nginx in front running the shipped
``deploy/nginx/replicas.conf`` (round-robin; a chat tab's Gradio queue kept on one replica by its cookie).

Through nginx: a UI session survives alternating replicas (HTTP and Chromium); a key's limit is enforced
once across both; 200 feedback rows from 8 clients on both replicas all arrive, once; an ingest is picked
up by both; PostgreSQL or Redis down keeps answers flowing and needs no restart when back; one replica
killed mid-load loses no saved feedback and the other keeps answering. One module-scoped setup.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from assistant.config import Settings
from ingest.pipeline import run_ingest
from tests.services import (
    Nginx,
    Postgres,
    Redis,
    Replica,
    free_port,
    nginx_server,
    postgres_cluster,
    redis_server,
)
from tests.support import chroma_server, small_corpus

QUESTION = "知的クラスター創生事業はいつ開始されましたか？"
FOLLOW_UP = "その事業の目的は何ですか？"
NO_FILTER = "指定なし"
LIMIT_PER_MINUTE = 120
FEEDBACK_CLIENTS = 8
FEEDBACK_EACH = 25
SAVED = "評価を保存しました"


def _key(name: str) -> str:
    return f"replica-test-{name}-0123456789abcdef"


#: Each test spends its own keys' limits (120 in any minute): a key another test just used may have
#: little of its window left.
OUTAGE_KEY = _key("outage")
ASKER_KEY = _key("asker")  # the killed-replica test's API clients
FEEDBACK_KEYS = [_key(f"client{i}") for i in range(24)]  # candidates for 4 page clients per replica
KILL_KEYS = [_key(f"kill{i}") for i in range(16)]  # … for 2 per replica
KEYS = [_key(n) for n in ("browser", "limited", "probe")] + [
    OUTAGE_KEY,
    ASKER_KEY,
    *FEEDBACK_KEYS,
    *KILL_KEYS,
]
#: The killed-replica test's clients keep under their keys' limit: a question a second per page client,
#: an answer every 0.3 s per API client (2 of them on one key: 80 in its 12 s).
RATER_SECONDS, ASKER_SECONDS = 1.0, 0.3

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting.*"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


@dataclass
class Cluster:
    nginx: Nginx
    replicas: list[Replica]
    postgres: Postgres
    redis: Redis
    database_url: str
    settings: Settings  # what an ingest uses (the same data folder and Chroma server)
    timings: dict[str, float] = field(default_factory=dict)

    def feedback_questions(self) -> list[str]:
        engine = create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with engine.connect() as conn:
                return list(conn.execute(text("SELECT question FROM feedback ORDER BY id")).scalars())
        finally:
            engine.dispose()

    def upstreams(self, marker: str, at_least: int = 1) -> list[str]:
        """The replicas nginx sent the requests whose logged path contains ``marker`` to. nginx writes a
        line once the response is sent, so a client can read the log before its last request's line is
        there: wait (up to 5 s) for ``at_least`` lines."""
        deadline = time.monotonic() + 5
        while True:
            lines = self.nginx.access_log.read_text(errors="replace").splitlines()
            found = [
                m.group(1)
                for line in lines
                if marker in line
                for m in [re.search(r"upstream=(\S+)", line)]
                if m
            ]
            if len(found) >= at_least or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    started = time.monotonic()
    folder = tmp_path_factory.mktemp("replicas")
    corpus = small_corpus(folder)
    data = folder / "data"
    with (
        postgres_cluster() as postgres,
        redis_server() as redis,
        chroma_server(folder / "chroma", required=True) as chroma,
    ):
        timings = {"services_s": time.monotonic() - started}
        database_url = postgres.create_database("assistant")
        settings = Settings(
            corpus_dir=corpus,
            data_dir=data,
            chroma_mode="http",
            chroma_host="127.0.0.1",
            chroma_port=chroma.port,
        )
        run_ingest(settings, show_progress=False, log=lambda _msg: None)
        timings["ingest_s"] = time.monotonic() - started - timings["services_s"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env |= {
            "PYTHONUNBUFFERED": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "ANONYMIZED_TELEMETRY": "False",
            "ASSISTANT_CORPUS_DIR": str(corpus),
            "ASSISTANT_DATA_DIR": str(data),
            "ASSISTANT_CHROMA_MODE": "http",
            "ASSISTANT_CHROMA_HOST": "127.0.0.1",
            "ASSISTANT_CHROMA_PORT": str(chroma.port),
            "ASSISTANT_DATABASE_URL": database_url,
            "ASSISTANT_DATABASE_TIMEOUT_SECONDS": "2",
            "ASSISTANT_REDIS_URL": redis.url,
            "ASSISTANT_API_KEYS": ",".join(KEYS),
            "ASSISTANT_TRUSTED_PROXIES": "127.0.0.1",
            "ASSISTANT_INDEX_RELOAD_SECONDS": "1",
            "ASSISTANT_RATE_LIMIT_PER_MINUTE": str(LIMIT_PER_MINUTE),
            "ASSISTANT_RATE_LIMIT_BURST": str(LIMIT_PER_MINUTE),
            "ASSISTANT_FEEDBACK_PER_MINUTE": "1000",
            "ASSISTANT_FEEDBACK_BURST": "1000",
            "ASSISTANT_ANSWER_QUEUE": "64",
        }
        replicas = [Replica(free_port(), env, folder / f"replica{n}.log") for n in (1, 2)]
        try:
            for replica in replicas:
                replica.launch()
            for replica in replicas:
                replica.wait_ready()
            with nginx_server([r.port for r in replicas]) as nginx:
                result = Cluster(nginx, replicas, postgres, redis, database_url, settings, timings)
                timings["setup_s"] = time.monotonic() - started
                yield result
                print(f"\ntest_replicas timings: {json.dumps({k: round(v, 1) for k, v in timings.items()})}")
        finally:
            for replica in replicas:
                replica.stop()
            logs = "".join(r.log_text() for r in replicas if r.log.exists())
            at = logs.find("Traceback")
            assert at < 0, logs[max(0, at - 600) : at + 4000]


# -- a browser tab of the chat page, as its JavaScript calls Gradio ---------------------------------------
class UiTab:
    def __init__(self, http: httpx.Client, browser_hash: str) -> None:
        self.http, self.browser_hash = http, browser_hash
        config = http.get("/config")
        assert config.status_code == 200, config.text
        self.config = config.json()

    def call(self, api_name: str, data: list[Any], event_data: dict | None = None) -> tuple[dict, list[str]]:
        """The function's completed output and the notices (gr.Warning) it showed."""
        dep = next(d for d in self.config["dependencies"] if d.get("api_name") == api_name)
        body = {
            "data": data,
            "event_data": event_data,
            "fn_index": dep["id"],
            "trigger_id": dep["targets"][0][0],
            "session_hash": self.browser_hash,
        }
        joined = self.http.post("/gradio_api/queue/join", json=body)
        assert joined.status_code == 200, joined.text
        event_id = joined.json()["event_id"]
        notices: list[str] = []
        params = {"session_hash": self.browser_hash}
        seen: list[str] = []
        with self.http.stream("GET", "/gradio_api/queue/data", params=params) as stream:
            for line in stream.iter_lines():
                seen.append(line[:300])
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") != event_id:
                    continue
                if message.get("msg") == "log":
                    notices.append(str(message.get("log")))
                if message.get("msg") == "process_completed":
                    return message["output"], notices
        raise AssertionError(f"no process_completed message (HTTP {stream.status_code}): {seen[-5:]}")

    def ask(self, question: str) -> list[dict]:
        output, _ = self.call("ask", [question, NO_FILTER, NO_FILTER, NO_FILTER, None])
        return output["data"][0]

    def rate_last(self, messages: list[dict]) -> tuple[str, list[str]]:
        """👍 on the last answer: the page's status text and notices."""
        like = {"index": len(messages) - 1, "value": messages[-1], "liked": True}
        output, notices = self.call("rate", [None], like)
        return json.dumps(output, ensure_ascii=False), notices


def _login(base: str, key: str) -> httpx.Client:
    http = httpx.Client(base_url=base, timeout=120)
    response = http.post("/auth/login", data={"key": key}, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303, response.text
    return http


def _page(http: httpx.Client) -> httpx.Response:
    return http.get("/", headers={"Accept": "text/html", "Sec-Fetch-Mode": "navigate"})


# -- the tests ----------------------------------------------------------------------------------------------
def test_a_ui_session_survives_alternating_replicas(cluster):
    """One login through nginx: the page loads on both replicas without another login, the cookie opens
    either replica directly, and a tab's conversation goes on (its Gradio queue stays on one replica)."""
    http = _login(cluster.nginx.url, KEYS[0])
    pages = [_page(http) for _ in range(4)]
    assert [p.status_code for p in pages] == [200] * 4, [p.headers.get("location") for p in pages]
    served = cluster.upstreams('"GET /"', at_least=len(pages))
    assert {f"127.0.0.1:{r.port}" for r in cluster.replicas} <= set(served), served
    for replica in cluster.replicas:  # the cookie made through nginx opens each replica by itself
        direct = httpx.get(
            f"{replica.url}/",
            headers={"Accept": "text/html"},
            cookies={"pa_session": http.cookies["pa_session"]},
        )
        assert direct.status_code == 200
    tab = UiTab(http, "replicatab1")
    first = tab.ask(QUESTION)
    second = tab.ask(FOLLOW_UP)
    assert len(first) == 2 and len(second) == 4  # the conversation carried on
    assert "平成14年度" in json.dumps(first[-1], ensure_ascii=False)
    configs = {json.dumps([d["id"] for d in UiTab(http, "x").config["dependencies"]]) for _ in range(2)}
    assert len(configs) == 1  # /config, from either replica, names the same functions
    # A tab's event stream read where none of its events are (its replica went away): a JSON 404.
    lost = http.get("/gradio_api/queue/data", params={"session_hash": "neverjoined"})
    assert lost.status_code == 404 and lost.json()["error"]["code"] == "not_found"


def test_a_browser_keeps_its_session_across_replicas(cluster):
    """Chromium through nginx: the key once, a question, a reload served by the other replica, another
    question — never the key form again."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.fail(f"{chromium} is missing: apt-get install -y chromium (.ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            page = browser.new_context(locale="ja-JP").new_page()
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{cluster.nginx.url}/")
            assert page.url.endswith("/auth/login")
            page.fill("#key", KEYS[0])
            page.click("button[type=submit]")
            for round_ in range(3):  # the page loads alternate between the replicas
                page.get_by_text("準備完了").wait_for()
                assert "/auth/login" not in page.url
                box = page.locator("#pa-question textarea")
                box.fill(QUESTION)
                box.press("Enter")
                page.wait_for_function(
                    "() => [...document.querySelectorAll('#pa-chat .pa-answer')].some("
                    "a => !a.closest('[data-testid=bot]').querySelector('.pa-cursor')"
                    " && a.textContent.includes('平成14年度'))"
                )
                if round_ < 2:
                    page.reload()
            assert errors == [], errors
        finally:
            browser.close()
    loads = cluster.upstreams('"GET /"')
    assert len(set(loads)) == 2, loads


def test_a_keys_limit_is_enforced_once_across_both_replicas(cluster):
    auth = {"Authorization": f"Bearer {KEYS[1]}"}
    with httpx.Client(base_url=cluster.nginx.url, timeout=60, headers=auth) as http:
        responses = [
            http.get("/v1/programs", params={"q": f"limit-{i}"}) for i in range(LIMIT_PER_MINUTE + 15)
        ]
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == LIMIT_PER_MINUTE and statuses.count(429) == 15, statuses
    assert statuses[:LIMIT_PER_MINUTE] == [200] * LIMIT_PER_MINUTE
    refused = responses[-1]
    assert (
        refused.json()["error"]["code"] == "rate_limited" and 1 <= int(refused.headers["retry-after"]) <= 60
    )
    served = cluster.upstreams('"GET /v1/programs"', at_least=len(responses))
    assert len(set(served)) == 2  # both replicas answered, and counted in one window
    other = httpx.get(f"{cluster.nginx.url}/v1/programs", headers={"Authorization": f"Bearer {KEYS[2]}"})
    assert other.status_code == 200  # another key: its own limit


def _clients_on_both_replicas(
    cluster: Cluster, per_replica: int, keys: list[str]
) -> list[tuple[str, httpx.Client]]:
    """Logged-in clients, one per key of ``keys``, whose tab queue nginx sends to each replica (found with
    a probe per cookie)."""
    by_replica: dict[str, list[tuple[str, httpx.Client]]] = {}
    for n, key in enumerate(keys):
        http = _login(cluster.nginx.url, key)
        probe = f"replica-probe-{n}-{time.monotonic_ns()}"
        assert http.get(f"/gradio_api/{probe}").status_code == 404
        [upstream] = cluster.upstreams(probe)
        chosen = by_replica.setdefault(upstream, [])
        if len(chosen) < per_replica:
            chosen.append((f"c{n}", http))
        else:
            http.close()
        if len(by_replica) == 2 and all(len(c) == per_replica for c in by_replica.values()):
            return [client for clients in by_replica.values() for client in clients]
    raise AssertionError(f"nginx sent the sessions to {sorted(by_replica)} only")


def test_200_feedback_rows_from_8_clients_all_arrive_once(cluster):
    clients = _clients_on_both_replicas(cluster, FEEDBACK_CLIENTS // 2, FEEDBACK_KEYS)
    confirmed: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    started = time.monotonic()
    threads = [
        threading.Thread(target=_feedback_loop, args=(n, h, confirmed, failures, lock)) for n, h in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cluster.timings["feedback_200_s"] = time.monotonic() - started
    assert failures == [], failures[:5]
    rows = [q for q in cluster.feedback_questions() if "（c" in q]
    assert len(confirmed) == FEEDBACK_CLIENTS * FEEDBACK_EACH == 200
    assert sorted(rows) == sorted(confirmed)  # every one arrived, once, and nothing else
    joins = cluster.upstreams('"POST /gradio_api/queue/join"')
    assert len(set(joins)) == 2


def _feedback_loop(
    name: str, http: httpx.Client, confirmed: list, failures: list, lock: threading.Lock
) -> None:
    """One client: ``FEEDBACK_EACH`` questions in one tab, each answer rated 👍."""
    try:
        tab = UiTab(http, f"fb{name}")
        for i in range(FEEDBACK_EACH):
            question = f"{QUESTION}（{name}-{i}）"
            status, notices = tab.rate_last(tab.ask(question))
            with lock:
                if SAVED in status:
                    confirmed.append(question)
                else:
                    failures.append(f"{question}: {status[:200]} {notices}")
    except Exception as exc:
        with lock:
            failures.append(f"{name}: {type(exc).__name__}: {exc}")


def test_an_ingest_is_picked_up_by_both_replicas(cluster):
    before = {httpx.get(f"{r.url}/readyz").json()["build_id"] for r in cluster.replicas}
    report = run_ingest(cluster.settings, rebuild=True, show_progress=False, log=lambda _msg: None)
    assert before != {report.build_id} and len(before) == 1
    deadline = time.monotonic() + 30
    while {httpx.get(f"{r.url}/readyz").json()["build_id"] for r in cluster.replicas} != {report.build_id}:
        assert time.monotonic() < deadline, "the replicas did not switch to the new build"
        time.sleep(0.3)
    through_nginx = {httpx.get(f"{cluster.nginx.url}/readyz").json()["build_id"] for _ in range(4)}
    assert through_nginx == {report.build_id}
    auth = {"Authorization": f"Bearer {KEYS[2]}"}
    for _ in range(2):
        answer = httpx.post(
            f"{cluster.nginx.url}/v1/answer", json={"question": QUESTION}, headers=auth, timeout=60
        )
        assert answer.status_code == 200 and "平成14年度" in answer.json()["answer"]


def _answers_flow(cluster: Cluster, count: int = 4) -> None:
    auth = {"Authorization": f"Bearer {KEYS[2]}"}
    for _ in range(count):
        answer = httpx.post(
            f"{cluster.nginx.url}/v1/answer", json={"question": QUESTION}, headers=auth, timeout=60
        )
        assert answer.status_code == 200, answer.text


def test_postgres_down_answers_go_on_feedback_says_it_was_not_saved_and_comes_back(cluster):
    http = _login(cluster.nginx.url, OUTAGE_KEY)  # a key no other test spent
    tab = UiTab(http, "outage1")
    status, _ = tab.rate_last(tab.ask(QUESTION))
    assert SAVED in status
    cluster.postgres.stop()
    try:
        _answers_flow(cluster)
        status, notices = tab.rate_last(tab.ask(QUESTION))  # the session goes on from memory
        assert SAVED not in status and any("データベースに接続できない" in n for n in notices), notices
    finally:
        cluster.postgres.start()
    deadline = time.monotonic() + 30
    while True:  # back: saved again, no replica restarted
        status, _ = tab.rate_last(tab.ask(QUESTION))
        if SAVED in status:
            break
        assert time.monotonic() < deadline, status
        time.sleep(1)
    for replica in cluster.replicas:
        assert replica.process.poll() is None


def test_redis_down_limits_fall_back_and_say_so_once_and_come_back(cluster):
    cluster.redis.stop()
    try:
        _answers_flow(cluster, 6)
        time.sleep(6)  # past the retry interval: Redis is tried again, and is still down
        _answers_flow(cluster, 4)
    finally:
        cluster.redis.start()
    time.sleep(6)
    _answers_flow(cluster, 4)
    for replica in cluster.replicas:
        log = replica.log_text()
        assert log.count("Redis is unreachable") == 1, re.findall(r".*Redis is.*", log)
        assert log.count("Redis is reachable again") == 1
        assert replica.process.poll() is None


def test_one_replica_killed_mid_load_loses_no_saved_feedback_and_the_other_keeps_answering(cluster):
    ui_clients = _clients_on_both_replicas(cluster, 2, KILL_KEYS)
    before = set(cluster.feedback_questions())
    confirmed: list[tuple[float, str]] = []
    api: list[tuple[float, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def rater(name: str, http: httpx.Client) -> None:
        i = 0
        while not stop.is_set():
            try:
                tab = UiTab(http, f"kill{name}{i}")
                while not stop.is_set():
                    began = time.monotonic()
                    question = f"{QUESTION}（kill-{name}-{i}）"
                    i += 1
                    status, _ = tab.rate_last(tab.ask(question))
                    if SAVED in status:
                        with lock:
                            confirmed.append((time.monotonic(), question))
                    stop.wait(RATER_SECONDS - (time.monotonic() - began))
            except (httpx.HTTPError, AssertionError, KeyError, ValueError):
                time.sleep(0.2)  # the tab's replica went away: a new tab, on the replica left

    def asker() -> None:
        auth = {"Authorization": f"Bearer {ASKER_KEY}"}
        with httpx.Client(base_url=cluster.nginx.url, timeout=60, headers=auth) as http:
            while not stop.is_set():
                began = time.monotonic()
                try:
                    status = http.post("/v1/answer", json={"question": QUESTION}).status_code
                except httpx.HTTPError:
                    status = 0
                with lock:
                    api.append((began, status))
                stop.wait(ASKER_SECONDS - (time.monotonic() - began))

    threads = [threading.Thread(target=rater, args=c) for c in ui_clients]
    threads += [threading.Thread(target=asker) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(4)
    killed_at = time.monotonic()
    cluster.replicas[0].kill()
    time.sleep(8)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    rows = [q for q in cluster.feedback_questions() if "（kill-" in q]
    saved = [q for _, q in confirmed]
    assert set(saved) <= set(rows), sorted(set(saved) - set(rows))[:5]  # nothing saved was lost
    assert len(rows) == len(set(rows)) and before <= set(cluster.feedback_questions())  # none twice
    assert any(t > killed_at + 1 for t, _ in confirmed)  # ratings went on, on the replica left
    after = [status for began, status in api if began > killed_at + 1]
    assert len(after) >= 5 and set(after) == {200}, after  # the other keeps answering
    cluster.timings["kill_ratings_saved"] = len(saved)
    cluster.timings["kill_answers_after"] = len(after)
