"""Hostile-client soak: replays the attacks of issue 15 against a server it starts, and prints what each cost.

    .venv/bin/python benchmarks/hostile_soak.py [--code-dir DIR] [--index-from DATA_DIR] [--only a,b]
                                                [--json reports/soak.json] [--max-seconds 900]

The script starts ``assistant serve`` from ``--code-dir`` (default: this checkout; point it at an export of
an older commit to measure that code with the same attacks) on a free loopback port, with two API keys
(the attacker's and the probe's), the chat UI on, default limits, and a copy of an existing index
(``--index-from``, default ``data/``) in a temporary data directory, so nothing of yours is touched.
Gradio's upload folder is put inside that directory too, so its disk use is counted.

Attacks (each bounded in requests, bytes and seconds):

* ``side_door``       40 questions through the chat UI's Gradio API without a key
* ``ui_spam``         100 quick UI calls from one browser session
* ``feedback_flood``  one session asks long questions and rates every answer 👍
* ``upload``          100 files of 60 kB posted to ``/gradio_api/upload``
* ``huge_header``     one request with a 16 MB header
* ``slow_headers``    300 connections sending one header byte a second
* ``ui_sessions``     600 UI sessions (page tabs), one call each
* ``abandoned``       200 answer streams opened and closed at once, then one normal question
* ``unknown_api``     40 calls of Gradio API names and functions that do not exist
* ``key_guessing``    100 wrong API keys on ``/v1`` (and 50 on the key form, when there is one)
* ``log_privacy``     question text in ``?q=``, a key as ``?api_key=`` and as ``X-Request-ID``, session ids:
                      afterwards the server log is searched for each

For every attack it reports the server's RSS (after, and its peak during the attack) against before, the
growth of the data directory, the bytes the server logged, the CPU seconds it spent, and the latency of a
normal question (``POST /v1/answer`` with the probe's key, once a second) while the attack ran. Only
loopback is ever contacted, and the whole run stops after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
ATTACKER_KEY = "soak-attacker-key-" + secrets.token_urlsafe(18)
PROBE_KEY = "soak-probe-key-" + secrets.token_urlsafe(18)
PROBE_QUESTION = "共創の場形成支援プログラムの問い合わせ先は？"
SECRET_QUESTION = "山田花子です。電話090-4321-8765に折り返しください。地方大学の交付金について"
NO_FILTER = "指定なし"


# -- the server under test ------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base: str
    port: int
    data_dir: Path
    gradio_dir: Path
    log_path: Path

    def rss_mb(self) -> float:
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return float("nan")
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else float("nan")

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def disk_mb(self) -> float:
        total = 0
        for folder in (self.data_dir, self.gradio_dir):
            for path in folder.rglob("*"):
                with contextlib.suppress(OSError):
                    if path.is_file():
                        total += path.stat().st_size
        return total / 1e6

    def log_bytes(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_server(code_dir: Path, index_from: Path, workdir: Path, timeout: float = 300) -> Server:
    data_dir = workdir / "data"
    shutil.copytree(index_from / "index", data_dir / "index", ignore=shutil.ignore_patterns("*.lock"))
    gradio_dir = workdir / "gradio"
    gradio_dir.mkdir()
    log_path = workdir / "server.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "GRADIO_"))}
    env |= {
        "PYTHONPATH": str(code_dir),
        "PYTHONUNBUFFERED": "1",
        "ASSISTANT_DATA_DIR": str(data_dir),
        "ASSISTANT_CORPUS_DIR": str(code_dir / "corpus"),
        "ASSISTANT_API_KEYS": f"{ATTACKER_KEY},{PROBE_KEY}",
        "GRADIO_TEMP_DIR": str(gradio_dir),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=code_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", port, data_dir, gradio_dir, log_path)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}):\n{server.log_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base}/readyz", timeout=2).status_code == 200:
                return server
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the server did not become ready in {timeout} s")
        time.sleep(0.3)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=30)


# -- a normal client, measuring latency all along ---------------------------------------------------
class Probe:
    """Asks a normal question with its own key once a second; latencies are read per attack window."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.samples: list[tuple[float, float, int]] = []  # (end time, seconds, status)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=70)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while not self._stop.is_set():
                self.samples.append(self.ask(client))
                self._stop.wait(1.0)

    @staticmethod
    def ask(client: httpx.Client) -> tuple[float, float, int]:
        started = time.monotonic()
        try:
            status = client.post(
                "/v1/answer",
                json={"question": PROBE_QUESTION},
                headers={"Authorization": f"Bearer {PROBE_KEY}"},
            ).status_code
        except httpx.HTTPError:
            status = 0
        ended = time.monotonic()
        return ended, ended - started, status

    def window(self, start: float, end: float) -> list[tuple[float, int]]:
        return [(seconds, status) for t, seconds, status in list(self.samples) if start <= t <= end + 1.5]


# -- a minimal client of the chat page (Gradio's queue protocol, as its JavaScript speaks it) -----------
class UiClient:
    """One browser tab: opens the page (exchanging the key for a session where the server asks for one),
    then calls the page's functions by name through ``/gradio_api/queue/join`` + ``queue/data``."""

    def __init__(self, base: str, key: str | None = None, http: httpx.Client | None = None) -> None:
        self.http = http or httpx.Client(base_url=base, timeout=60, follow_redirects=False)
        self.key = key
        self.session_hash = secrets.token_hex(6)
        self.config: dict[str, Any] | None = None
        self.door = False
        self.messages: list[Any] = []

    def new_tab(self) -> UiClient:
        """Another tab of the same browser (same cookies, new Gradio session hash)."""
        tab = UiClient(str(self.http.base_url), self.key, self.http)
        tab.config, tab.door = self.config, self.door
        return tab

    def open(self) -> int:
        page = self.http.get("/", headers={"Accept": "text/html"})
        if page.status_code in (301, 302, 303, 307, 401) and self.key:
            self.door = True
            target = page.headers.get("location") or "/"
            login = self.http.post(
                target if target != "/" else "/auth/login",
                data={"key": self.key},
                headers={"Origin": str(self.http.base_url).rstrip("/")},
            )
            if login.status_code not in (200, 303):
                return login.status_code
            page = self.http.get("/", headers={"Accept": "text/html"})
        if page.status_code != 200:
            return page.status_code
        config = self.http.get("/config")
        if config.status_code != 200:
            return config.status_code
        self.config = config.json()
        return 200

    def _dependency(self, api_name: str) -> dict[str, Any]:
        assert self.config is not None
        for dep in self.config["dependencies"]:
            if dep.get("api_name") == api_name:
                return dep
        raise KeyError(api_name)

    def call(
        self,
        api_name: str,
        data: list[Any],
        event_data: dict[str, Any] | None = None,
        fn_index: int | None = None,
        read: bool = True,
    ) -> tuple[int, dict[str, Any] | None]:
        """Join the queue for a function; returns (status of the join, final output or None)."""
        if fn_index is None:
            dep = self._dependency(api_name)
            fn_index, trigger = dep["id"], dep["targets"][0][0]
        else:
            trigger = None
        body = {
            "data": data,
            "event_data": event_data,
            "fn_index": fn_index,
            "trigger_id": trigger,
            "session_hash": self.session_hash,
        }
        try:
            joined = self.http.post("/gradio_api/queue/join", json=body)
        except httpx.HTTPError:
            return 0, None
        if joined.status_code != 200 or not read:
            return joined.status_code, None
        event_id = joined.json().get("event_id")
        try:
            with self.http.stream(
                "GET", "/gradio_api/queue/data", params={"session_hash": self.session_hash}
            ) as stream:
                for line in stream.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    message = json.loads(line[5:])
                    if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
                        return 200, message.get("output")
                    if message.get("msg") == "close_stream":
                        break
        except httpx.HTTPError:
            return 0, None
        return 200, None

    def ask(self, question: str) -> tuple[int, str | None]:
        """Ask through the page; returns (status, answer text or None). Keeps the shown messages."""
        status, output = self.call("ask", [question, NO_FILTER, NO_FILTER, NO_FILTER, None])
        if not output or not output.get("data"):
            return status, None
        messages = output["data"][0]
        if not isinstance(messages, list) or not messages:
            return status, None
        self.messages = messages
        content = messages[-1].get("content") if isinstance(messages[-1], dict) else None
        text = json.dumps(content, ensure_ascii=False) if content is not None else None
        answered = text is not None and "回答を作成しています" not in text and "準備中" not in text
        return status, text if answered else None

    def like_last(self) -> int:
        index = len(self.messages) - 1
        event = {"index": index, "value": self.messages[-1] if self.messages else "", "liked": True}
        return self.call("rate", [None], event_data=event)[0]


# -- measuring one attack ------------------------------------------------------------------------------
@dataclass
class Outcome:
    name: str
    sent: str
    result: str
    statuses: Counter[int] = field(default_factory=Counter)
    rss_before: float = 0.0
    rss_after: float = 0.0
    rss_peak: float = 0.0
    disk_delta_mb: float = 0.0
    log_bytes: int = 0
    cpu_seconds: float = 0.0
    seconds: float = 0.0
    probe_ms: list[float] = field(default_factory=list)
    probe_failures: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        probe = sorted(self.probe_ms)
        return {
            "attack": self.name,
            "sent": self.sent,
            "result": self.result,
            "statuses": dict(sorted(self.statuses.items())),
            "rss_mb_before": round(self.rss_before, 1),
            "rss_mb_after": round(self.rss_after, 1),
            "rss_mb_peak": round(self.rss_peak, 1),
            "disk_delta_mb": round(self.disk_delta_mb, 2),
            "log_bytes": self.log_bytes,
            "server_cpu_s": round(self.cpu_seconds, 1),
            "seconds": round(self.seconds, 1),
            "probe_p50_ms": round(statistics.median(probe), 0) if probe else None,
            "probe_max_ms": round(probe[-1], 0) if probe else None,
            "probe_failures": self.probe_failures,
            **self.extra,
        }


class Peak:
    """Samples the server's RSS every 0.1 s while an attack runs."""

    def __init__(self, server: Server) -> None:
        self.server, self.peak = server, server.rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, self.server.rss_mb())

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def wait_until_idle(server: Server, quiet_seconds: float = 2.0, limit: float = 60.0) -> None:
    """Until work the attack queued has finished: the server's CPU use over ``quiet_seconds`` is no more
    than the probe's one question a second costs (well under a quarter of a core)."""
    deadline = time.monotonic() + limit
    last = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(quiet_seconds)
        now = server.cpu_seconds()
        if now - last < 0.25 * quiet_seconds:
            return
        last = now


def measure(server: Server, probe: Probe, name: str, attack: Callable[[Server], Outcome]) -> Outcome:
    wait_until_idle(server)
    rss, disk, log, cpu = server.rss_mb(), server.disk_mb(), server.log_bytes(), server.cpu_seconds()
    started = time.monotonic()
    with Peak(server) as peak:
        outcome = attack(server)
        wait_until_idle(server)
    ended = time.monotonic()
    outcome.name = name
    outcome.seconds = ended - started
    outcome.rss_before, outcome.rss_after, outcome.rss_peak = rss, server.rss_mb(), peak.peak
    outcome.disk_delta_mb = server.disk_mb() - disk
    outcome.log_bytes = server.log_bytes() - log
    outcome.cpu_seconds = server.cpu_seconds() - cpu
    window = probe.window(started, ended)
    outcome.probe_ms = [s * 1000 for s, status in window if status == 200]
    outcome.probe_failures = sum(1 for _, status in window if status != 200)
    return outcome


# -- the attacks -----------------------------------------------------------------------------------------
def side_door(server: Server) -> Outcome:
    """Questions through the page's Gradio API by a client that has no key."""
    ui = UiClient(server.base)  # no key
    opened = ui.open()
    statuses: Counter[int] = Counter()
    answered = 0
    if ui.config is None:  # the page is closed to us: try the Gradio API blind, as an attacker would
        with httpx.Client(base_url=server.base, timeout=30) as http:
            for i in range(40):
                body = {"data": [PROBE_QUESTION, NO_FILTER, NO_FILTER, NO_FILTER, None], "fn_index": 6}
                body |= {"trigger_id": 17, "session_hash": f"sidedoor{i}", "event_data": None}
                statuses[http.post("/gradio_api/queue/join", json=body).status_code] += 1
        return Outcome("", "40 questions, no key", f"page {opened}; answered 0/40", statuses)
    for _ in range(40):
        status, text = ui.ask(PROBE_QUESTION)
        statuses[status] += 1
        answered += text is not None and "coi-next" in text
    return Outcome("", "40 questions, no key", f"page {opened}; answered {answered}/40", statuses)


def ui_spam(server: Server) -> Outcome:
    ui = UiClient(server.base, ATTACKER_KEY)
    ui.open()
    statuses: Counter[int] = Counter()
    for _ in range(100):
        status, _ = ui.call("show_filters", [NO_FILTER, NO_FILTER, NO_FILTER], read=False)
        statuses[status] += 1
    return Outcome("", "100 UI calls, one session", f"{statuses.get(200, 0)} accepted", statuses)


def feedback_flood(server: Server, asks: int = 60) -> Outcome:
    """One session asks long questions and likes every answer: with the whole history in every row, the
    feedback database grows with the square of the conversation."""
    ui = UiClient(server.base, ATTACKER_KEY)
    ui.open()
    statuses: Counter[int] = Counter()
    rng = random.Random(15)
    filler = "地域の大学と自治体と企業が連携して人材育成と研究開発を進めたい。"
    likes = 0
    for i in range(asks):
        question = f"{i}: " + "".join("".join(rng.sample(filler, len(filler))) for _ in range(60))[:1900]
        status, text = ui.ask(question)
        statuses[status] += 1
        if text is not None:
            liked = ui.like_last()
            statuses[liked] += 1
            likes += liked == 200
    db = server.data_dir / "feedback.sqlite3"
    rows, max_turns, size = 0, 0, 0.0
    if db.exists():
        size = db.stat().st_size / 1e6
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            for (history,) in conn.execute("SELECT history FROM feedback"):
                rows += 1
                max_turns = max(max_turns, len(json.loads(history or "[]")))
    result = f"DB {size:.2f} MB, {rows} rows, longest context {max_turns} turns"
    return Outcome(
        "",
        f"{asks} long questions + 👍 each",
        result,
        statuses,
        extra={"feedback_db_mb": round(size, 2), "feedback_rows": rows, "max_turns_in_a_row": max_turns},
    )


def upload(server: Server, count: int = 100, size: int = 60_000) -> Outcome:
    """Files under the body limit, one request each (the page has no upload control at all)."""
    ui = UiClient(server.base, ATTACKER_KEY)
    ui.open()
    statuses: Counter[int] = Counter()
    for i in range(count):
        files = [("files", (f"f{i}.bin", os.urandom(size), "application/octet-stream"))]
        try:
            statuses[ui.http.post("/gradio_api/upload", files=files).status_code] += 1
        except httpx.HTTPError:
            statuses[0] += 1
    kept = sum(1 for p in server.gradio_dir.rglob("*") if p.is_file())
    return Outcome("", f"{count} files of {size // 1000} kB", f"{kept} files kept", statuses)


def _raw_request(port: int, head: bytes, timeout: float = 30) -> str:
    """Send raw bytes; return the status line, or what happened to the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        error = None
        try:
            sock.sendall(head)
        except OSError as exc:  # the server may refuse and close before the head is all sent
            error = exc
        try:
            data = sock.recv(200)
        except OSError as exc:
            return f"connection {type(error or exc).__name__}"
    status = data.split(b"\r\n", 1)[0].decode("latin-1")
    return status or (f"connection {type(error).__name__}" if error else "closed without answer")


def huge_header(server: Server) -> Outcome:
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Junk: " + b"a" * 16_000_000 + b"\r\n\r\n"
    status = _raw_request(server.port, head)
    code = int(status.split()[1]) if status.startswith("HTTP/") else 0
    return Outcome("", "one 16 MB header", status, Counter([code]))


def slow_headers(server: Server, connections: int = 300, seconds: float = 20.0) -> Outcome:
    socks: list[socket.socket] = []
    for _ in range(connections):
        with contextlib.suppress(OSError):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            socks.append(sock)
    opened = len(socks)
    closed_at: dict[int, float] = {}
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        for i, sock in enumerate(socks):
            if i in closed_at:
                continue
            try:
                sock.sendall(b"X")
                sock.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    if sock.recv(1 << 16) is not None:
                        closed_at[i] = time.monotonic() - started
                sock.setblocking(True)
            except OSError:
                closed_at[i] = time.monotonic() - started
        time.sleep(1.0)
    for sock in socks:
        sock.close()
    still = opened - len(closed_at)
    when = f", closed after ≈{statistics.median(closed_at.values()):.0f} s" if closed_at else ""
    return Outcome(
        "",
        f"{connections} connections, 1 header byte/s for {seconds:.0f} s",
        f"{len(closed_at)}/{opened} closed by the server{when}; {still} still open",
        Counter(),
    )


def ui_sessions(server: Server, tabs: int = 600) -> Outcome:
    first = UiClient(server.base, ATTACKER_KEY)
    first.open()
    statuses: Counter[int] = Counter()
    for _ in range(tabs):
        tab = first.new_tab()
        statuses[tab.call("refresh", [])[0]] += 1
    return Outcome(
        "", f"{tabs} page tabs, one call each", f"{statuses.get(200, 0)} sessions served", statuses
    )


def abandoned(server: Server, streams: int = 200) -> Outcome:
    body = json.dumps({"question": "地方大学・地域産業創生交付金の予算額は？"}, ensure_ascii=False).encode()
    request = (
        b"POST /v1/answer/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {ATTACKER_KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    cpu = server.cpu_seconds()
    for _ in range(streams):
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", server.port), timeout=5) as s,
        ):
            s.sendall(request)
    time.sleep(0.2)
    with httpx.Client(base_url=server.base, timeout=120) as client:
        _, seconds, status = Probe.ask(client)
    wait_until_idle(server)
    spent = server.cpu_seconds() - cpu
    return Outcome(
        "",
        f"{streams} SSE answers opened and closed",
        f"next question {seconds * 1000:.0f} ms (HTTP {status}); {spent:.1f} CPU s",
        Counter([status]),
        extra={"next_request_ms": round(seconds * 1000)},
    )


def unknown_api(server: Server) -> Outcome:
    ui = UiClient(server.base, ATTACKER_KEY)
    ui.open()
    statuses: Counter[int] = Counter()
    for i in range(20):
        statuses[ui.http.post(f"/gradio_api/call/nope{i}", json={"data": []}).status_code] += 1
        statuses[ui.call("", [], fn_index=9000 + i, read=False)[0]] += 1
    tracebacks = server.log_text().count("Traceback")
    return Outcome(
        "",
        "20 unknown API names + 20 unknown fn_index",
        f"{tracebacks} tracebacks in the log so far",
        statuses,
    )


def key_guessing(server: Server) -> Outcome:
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=server.base, timeout=30) as http:
        for _ in range(100):
            guess = secrets.token_urlsafe(32)
            statuses[http.get("/v1/programs", headers={"Authorization": f"Bearer {guess}"}).status_code] += 1
        form = http.get("/auth/login")
        if form.status_code == 200:
            for _ in range(50):
                origin = {"Origin": server.base}
                statuses[
                    http.post(
                        "/auth/login", data={"key": secrets.token_urlsafe(32)}, headers=origin
                    ).status_code
                ] += 1
    refused = statuses.get(429, 0)
    return Outcome("", "100 wrong keys on /v1 (+50 on the key form)", f"{refused} throttled (429)", statuses)


def log_privacy(server: Server) -> Outcome:
    statuses: Counter[int] = Counter()
    auth = {"Authorization": f"Bearer {ATTACKER_KEY}"}
    ui = UiClient(server.base, ATTACKER_KEY)
    ui.open()
    ui.call("refresh", [])
    cookie_values = [c.value for c in ui.http.cookies.jar]
    with httpx.Client(base_url=server.base, timeout=60) as http:
        statuses[http.get("/v1/search", params={"q": SECRET_QUESTION}, headers=auth).status_code] += 1
        statuses[http.get("/v1/programs", params={"api_key": PROBE_KEY}).status_code] += 1
        statuses[http.get("/healthz", headers={"X-Request-ID": PROBE_KEY}).status_code] += 1
    time.sleep(0.5)
    log = server.log_text()
    leaks = {
        "question text": SECRET_QUESTION[:8] in log or "090-4321-8765" in log or "%E5%B1%B1" in log,
        "key in ?api_key=": PROBE_KEY in log,
        "Gradio session hash": ui.session_hash in log,
        "session cookie": any(value and value in log for value in cookie_values),
    }
    found = [name for name, leaked in leaks.items() if leaked]
    return Outcome(
        "",
        "?q=question, ?api_key=, key as X-Request-ID, session ids",
        "leaked: " + (", ".join(found) if found else "nothing"),
        statuses,
        extra={"leaks": found},
    )


# -- issue 20: connection-level attacks and the last side doors ------------------------------------------
#: The attacker's own loopback address: a client other than the probe (the share is per address).
ATTACKER_ADDRESS = "127.0.0.2"


def _attacker_socket(port: int, timeout: float = 5) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((ATTACKER_ADDRESS, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def _open_fds(server: Server) -> int:
    try:
        return len(os.listdir(f"/proc/{server.process.pid}/fd"))
    except OSError:
        return -1


def _keyed_answers(
    server: Server, count: int, stop: threading.Event | None = None
) -> list[tuple[float, int]]:
    """``count`` real questions with the probe's key, a new connection each: (seconds, status)."""
    results = []
    for _ in range(count):
        if stop is not None and stop.is_set():
            break
        with httpx.Client(base_url=server.base, timeout=30) as client:
            _, seconds, status = Probe.ask(client)
        results.append((seconds, status))
        time.sleep(0.5)
    return results


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))] if ordered else float("nan")


def _keyed_summary(results: list[tuple[float, int]]) -> tuple[str, dict[str, Any]]:
    ok = [seconds * 1000 for seconds, status in results if status == 200]
    text = (
        f"keyed answers {len(ok)}/{len(results)} OK, p95 {_p95(ok):.0f} ms"
        if ok
        else (f"keyed answers 0/{len(results)} OK")
    )
    return text, {
        "keyed_ok": len(ok),
        "keyed_sent": len(results),
        "keyed_p95_ms": round(_p95(ok)) if ok else None,
    }


def idle_flood(server: Server, connections: int = 505, seconds: float = 25.0) -> Outcome:
    """Connections that send nothing, reopened as soon as the server closes them; a keyed client asks
    20 real questions meanwhile."""
    socks: list[socket.socket] = []
    stop = threading.Event()
    reopened = 0

    def hold() -> None:
        nonlocal reopened
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not stop.is_set():
            for i, sock in enumerate(list(socks)):
                sock.setblocking(False)
                try:
                    closed = sock.recv(4096) == b""
                except BlockingIOError:
                    closed = False
                except OSError:
                    closed = True
                if closed:
                    sock.close()
                    with contextlib.suppress(OSError):
                        socks[i] = _attacker_socket(server.port)
                        reopened += 1
            while len(socks) < connections:
                try:
                    socks.append(_attacker_socket(server.port))
                except OSError:
                    break
            time.sleep(0.2)

    fds_before = _open_fds(server)
    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    time.sleep(2)
    fds_during = _open_fds(server)
    results = _keyed_answers(server, 20)
    stop.set()
    holder.join()
    for sock in socks:
        sock.close()
    text, extra = _keyed_summary(results)
    statuses = Counter(status for _, status in results)
    return Outcome(
        "",
        f"{connections} idle connections from one address, reopened ({reopened} reconnects)",
        f"{text}; server fds {fds_before} → {fds_during}",
        statuses,
        extra=extra,
    )


def _largest_file(server: Server, cookie: str) -> tuple[str, int]:
    """The biggest response the attacker gets: Gradio's ffmpeg build through the open vendor folder, with
    no key at all (issue 20), else the largest file of the page's frontend, with a session."""
    import gradio

    build = Path(gradio.__file__).parent / "templates" / "frontend" / "assets"
    largest = max(build.glob("*.js"), key=lambda p: p.stat().st_size)
    for path, headers in (
        ("/static/vendor/x/../../ffmpeg/ffmpeg-core.wasm", ""),
        (f"/assets/{largest.name}", f"Cookie: {cookie}\r\n"),
    ):
        head = _raw(
            server.port,
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n".encode(),
            10,
            ATTACKER_ADDRESS,
            head_only=True,
        )
        match = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
        if _status(head) == 200 and match:
            return path, int(match.group(1))
    raise RuntimeError("no large file to read slowly")


def slow_read(server: Server, connections: int = 510, seconds: float = 45.0) -> Outcome:
    """GETs of the largest file the attacker can reach, never read; a keyed client asks meanwhile."""
    ui = UiClient(server.base, ATTACKER_KEY)
    ui.open()
    cookie = "; ".join(f"{c.name}={c.value}" for c in ui.http.cookies.jar)
    path, size = _largest_file(server, cookie)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n".encode()
    socks: list[socket.socket] = []
    for _ in range(connections):
        try:
            sock = _attacker_socket(server.port)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(request)
            socks.append(sock)
        except OSError:
            break
    fds_before = _open_fds(server)
    started = time.monotonic()
    time.sleep(5)
    fds_early = _open_fds(server)
    results = _keyed_answers(server, 20)
    while time.monotonic() - started < seconds:
        time.sleep(1)
    fds_after = _open_fds(server)
    answered: Counter[int] = Counter()
    for sock in socks:  # nothing was read: the first bytes waiting are each response's status line
        sock.setblocking(False)
        try:
            answered[_status(sock.recv(16))] += 1
        except OSError:
            answered[0] += 1
        sock.close()
    text, extra = _keyed_summary(results)
    return Outcome(
        "",
        f"{len(socks)} GETs of a {size / 1e6:.1f} MB file, never read, {seconds:.0f} s",
        f"{text}; attacker got {dict(sorted(answered.items()))}; server fds {fds_before} → {fds_early} "
        f"(5 s) → {fds_after} ({seconds:.0f} s)",
        Counter(status for _, status in results),
        extra={**extra, "fds": [fds_before, fds_early, fds_after]},
    )


def _raw(
    port: int, data: bytes, read_seconds: float = 5.0, address: str = "127.0.0.1", head_only: bool = False
) -> bytes:
    """Send raw bytes from ``address``; everything the server answers until it closes (or time is up),
    or only the response head."""
    sock = socket.socket()
    sock.settimeout(read_seconds)
    sock.bind((address, 0))
    sock.connect(("127.0.0.1", port))
    received = b""
    with sock:
        with contextlib.suppress(OSError):
            sock.sendall(data)
        deadline = time.monotonic() + read_seconds
        with contextlib.suppress(OSError):
            while time.monotonic() < deadline:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                received += chunk
                if head_only and b"\r\n\r\n" in received:
                    break
    return received


def _status(raw: bytes) -> int:
    match = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    return int(match.group(1)) if match else 0


def path_traversal(server: Server) -> Outcome:
    statuses: Counter[int] = Counter()
    served = 0
    for path in (
        "/static/vendor/x/../../ffmpeg/ffmpeg-core.wasm",
        "/static/vendor/../../config",
        "/static/vendor/x/../../fonts/Inconsolata/Inconsolata-Bold.woff2",
        "/static/ffmpeg/ffmpeg-core.js",
    ):
        raw = _raw(
            server.port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode(), 20
        )
        statuses[_status(raw)] += 1
        served += len(raw.split(b"\r\n\r\n", 1)[-1]) if _status(raw) == 200 else 0
    return Outcome(
        "",
        "4 paths out of /static/vendor (dot-segments sent as is), no key",
        f"{served / 1e6:.1f} MB served",
        statuses,
    )


def log_forging(server: Server) -> Outcome:
    statuses: Counter[int] = Counter()
    forged = "2026-01-01 00:00:00,000 CRITICAL [x -] assistant: FORGED-LINE"
    requests = [
        f"GET /v1/x%0D%0A{forged.replace(' ', '%20')} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
        b"GET /v1/a\x1b[31mESCAPED HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /v1/b%1B%5B31mESCAPED HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        f"GET /v1/{PROBE_KEY} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
    ]
    for data in requests:
        statuses[_status(_raw(server.port, data + b"", 5))] += 1
    echoed = httpx.get(f"{server.base}/healthz", headers={"X-Request-ID": f"{PROBE_KEY}.x"})
    statuses[echoed.status_code] += 1
    time.sleep(0.5)
    log = server.log_text()
    found = {
        "forged line": any(line.startswith(forged[:23]) for line in log.splitlines()),
        "raw ESC": "\x1b" in log,
        "key in the log": PROBE_KEY in log,
        "key echoed as X-Request-ID": PROBE_KEY in echoed.headers.get("x-request-id", ""),
    }
    got = [name for name, hit in found.items() if hit]
    return Outcome(
        "",
        "CR LF and ESC in paths, a key in the path and in X-Request-ID, no key",
        "found: " + (", ".join(got) if got else "nothing"),
        statuses,
        extra={"found": got},
    )


def session_eviction(server: Server, logins: int = 205) -> Outcome:
    """Another key holder logs in ``logins`` times with their own key, obeying Retry-After; does the
    victim's UI session survive?"""
    victim = UiClient(server.base, PROBE_KEY)
    victim.open()
    statuses: Counter[int] = Counter()
    done = 0
    deadline = time.monotonic() + 150
    with httpx.Client(base_url=server.base, timeout=30) as http:
        while done < logins and time.monotonic() < deadline:
            http.cookies.clear()
            response = http.post("/auth/login", data={"key": ATTACKER_KEY}, headers={"Origin": server.base})
            statuses[response.status_code] += 1
            if response.status_code == 429:
                time.sleep(min(5.0, float(response.headers.get("retry-after", "1"))))
            else:
                done += 1
    alive = victim.http.get("/config").status_code == 200
    return Outcome(
        "",
        f"{done} logins with the attacker's own key (Retry-After obeyed)",
        f"victim's session {'alive' if alive else 'ended'}",
        statuses,
        extra={"victim_alive": alive},
    )


def traceback_flood(server: Server) -> Outcome:
    ui = UiClient(server.base, ATTACKER_KEY)
    ui.open()
    statuses: Counter[int] = Counter()
    before = server.log_text().count("Traceback")
    size = server.log_bytes()
    for i in range(200):
        try:
            statuses[
                ui.http.get("/gradio_api/queue/data", params={"session_hash": f"unknown{i}"}).status_code
            ] += 1
        except httpx.HTTPError:
            statuses[0] += 1
    nested = "[" * 5000 + "]" * 5000
    body = '{"data": ' + nested + ', "fn_index": 0, "session_hash": "abc"}'
    statuses[
        ui.http.post(
            "/gradio_api/queue/join", content=body, headers={"Content-Type": "application/json"}
        ).status_code
    ] += 1
    statuses[
        _status(_raw(server.port, b"GET /static/app/page.js%00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
    ] += 1
    time.sleep(0.5)
    tracebacks = server.log_text().count("Traceback") - before
    return Outcome(
        "",
        "200 queue/data with unknown hashes, a body nested 5,000 deep, a NUL in a path",
        f"{tracebacks} tracebacks, +{(server.log_bytes() - size) / 1e3:.0f} kB of log; "
        f"{sum(n for s, n in statuses.items() if s >= 500)} answers ≥ 500",
        statuses,
    )


def index_damage(server: Server) -> Outcome:
    """Overwrite the served build's Chroma database, ask, then repair it in place and look again."""
    ready = httpx.get(f"{server.base}/readyz", timeout=10).json()
    build = ready.get("build_id")
    database = server.data_dir / "index" / "builds" / str(build) / "chroma" / "chroma.sqlite3"
    intact = database.read_bytes()
    before = server.log_text().count("Traceback")
    statuses: Counter[int] = Counter()
    database.write_bytes(b"this is not sqlite" * 400)
    try:
        time.sleep(0.5)
        for _ in range(10):
            statuses[Probe.ask(httpx.Client(base_url=server.base, timeout=30))[2]] += 1
            time.sleep(0.5)
        damaged = httpx.get(f"{server.base}/readyz", timeout=10).json()
    finally:
        database.write_bytes(intact)
    repaired_at = time.monotonic()
    while time.monotonic() - repaired_at < 90:  # the repaired build, once the server has picked it up
        repaired = httpx.get(f"{server.base}/readyz", timeout=10).json()
        if repaired.get("build_id") == build and not repaired.get("note"):
            break
        time.sleep(1)
    waited = time.monotonic() - repaired_at
    tracebacks = server.log_text().count("Traceback") - before
    return Outcome(
        "",
        "served build's chroma.sqlite3 overwritten, 10 questions, then repaired in place",
        f"readyz while damaged: {damaged.get('status')} {damaged.get('build_id', '')[-6:]}"
        f"{' + note' if damaged.get('note') else ''}; {tracebacks} tracebacks; after repair: "
        f"{repaired.get('build_id', '')[-6:]}{' + note' if repaired.get('note') else ''} after {waited:.0f} s",
        statuses,
    )


def uncharged_work(server: Server) -> Outcome:
    """UI and document routes that may cost no token: 60 requests each, from one session."""
    ui = UiClient(server.base, ATTACKER_KEY)
    ui.open()
    limited: dict[str, int] = {}
    documents = httpx.get(
        f"{server.base}/v1/documents", headers={"Authorization": f"Bearer {PROBE_KEY}"}
    ).json()
    doc_id = documents["documents"][0]["doc_id"]
    for name, path, params in [
        ("/documents/{id}", f"/documents/{doc_id}", None),
        ("/ (no navigation headers)", "/", None),
        ("/config/", "/config/", None),
        ("heartbeat", f"/gradio_api/heartbeat/{ui.session_hash}", None),
    ]:
        time.sleep(16)  # a full bucket for each route
        refused = 0
        for _ in range(60):
            try:
                if name == "heartbeat":
                    with ui.http.stream("GET", path, timeout=5) as response:
                        refused += response.status_code == 429
                else:
                    refused += ui.http.get(path, params=params).status_code == 429
            except httpx.HTTPError:
                pass
        limited[name] = refused
    text = ", ".join(f"{name} {count}/60" for name, count in limited.items())
    return Outcome(
        "",
        "60 requests each of 4 UI routes, one session",
        f"429s: {text}",
        Counter(),
        extra={"refused": limited},
    )


def abandoned_ui(server: Server, questions: int = 28) -> Outcome:
    """UI questions joined and never read, then one normal question."""
    ui = UiClient(server.base, ATTACKER_KEY)
    ui.open()
    cpu = server.cpu_seconds()
    statuses: Counter[int] = Counter()
    for i in range(questions):
        tab = ui.new_tab()
        tab.session_hash = f"abandon{i}{secrets.token_hex(3)}"
        statuses[
            tab.call("ask", [f"{PROBE_QUESTION} {i}", NO_FILTER, NO_FILTER, NO_FILTER, None], read=False)[0]
        ] += 1
    time.sleep(0.5)
    with httpx.Client(base_url=server.base, timeout=120) as client:
        _, seconds, status = Probe.ask(client)
    wait_until_idle(server)
    return Outcome(
        "",
        f"{questions} UI questions joined, never read",
        f"next answer {seconds * 1000:.0f} ms (HTTP {status}); {server.cpu_seconds() - cpu:.1f} CPU s",
        statuses,
        extra={"next_request_ms": round(seconds * 1000)},
    )


def front_contract(server: Server) -> Outcome:
    """The front end's own answers: their shape, and what they cost."""
    notes = []
    host = _raw(server.port, b"GET / HTTP/1.1\r\nHost: evil.example\r\nAccept: text/html\r\n\r\n", 5)
    notes.append(f"Host evil.example → {_status(host)}")
    garbage = _raw(server.port, b"\x16\x03\x01 not http\r\n\r\n", 5)
    notes.append(f"parser {_status(garbage)} {'JSON' if b'application/json' in garbage else 'text'}")
    big = _raw(
        server.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Junk: " + b"a" * 40_000 + b"\r\n\r\n", 5
    )
    notes.append(f"431 {'with' if b'x-request-id' in big.lower() else 'without'} id")
    # 100 MB behind a request that is refused at once: how much does the server read?
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sent = 0
    started = time.monotonic()
    with sock, contextlib.suppress(OSError):
        sock.sendall(
            b"POST /v1/answer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000\r\n\r\n"
        )
        chunk = b"x" * 65536
        while sent < 100_000_000 and time.monotonic() - started < 20:
            sock.sendall(chunk)
            sent += len(chunk)
    notes.append(f"401 + 100 MB body: {sent / 1e6:.0f} MB taken")
    body = b'{"question": "' + b"a" * 65000 + b'"}'
    one = (
        b"POST /v1/answer/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {PROBE_KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    pipelined = _raw(server.port, one * 5, 20)
    codes = [int(c) for c in re.findall(rb"HTTP/1\.1 (\d{3})", pipelined)]
    notes.append(f"5 pipelined 64 kB POSTs → {codes}")
    # the connection cap: 500+ connections from many addresses, then one request
    held = []
    for i in range(520):
        try:
            sock = socket.socket()
            sock.bind((f"127.0.1.{i % 250 + 1}", 0))
            sock.connect(("127.0.0.1", server.port))
            held.append(sock)
        except OSError:
            break
    capped = _raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 5, "127.0.2.1")
    for sock in held:
        sock.close()
    shape = "JSON" if b"application/json" in capped else "text"
    retry = "Retry-After" if b"retry-after" in capped.lower() else "no Retry-After"
    notes.append(f"cap {_status(capped)} {shape}, {retry}")
    return Outcome(
        "",
        "Host header, bad request line, 40 kB header, 100 MB refused body, pipelining, 520 conns",
        "; ".join(notes),
        Counter([_status(host)]),
    )


ATTACKS: dict[str, Callable[[Server], Outcome]] = {
    "side_door": side_door,
    "ui_spam": ui_spam,
    "unknown_api": unknown_api,
    "key_guessing": key_guessing,
    "log_privacy": log_privacy,
    "upload": upload,
    "huge_header": huge_header,
    "slow_headers": slow_headers,
    "abandoned": abandoned,
    "ui_sessions": ui_sessions,
    "feedback_flood": feedback_flood,
    # issue 20
    "idle_flood": idle_flood,
    "slow_read": slow_read,
    "path_traversal": path_traversal,
    "log_forging": log_forging,
    "session_eviction": session_eviction,
    "traceback_flood": traceback_flood,
    "uncharged_work": uncharged_work,
    "abandoned_ui": abandoned_ui,
    "front_contract": front_contract,
    "index_damage": index_damage,
}


def render(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| attack | sent | outcome | RSS MB before → after (peak) | disk Δ MB | log bytes | server CPU s "
        "| normal question p50 / max ms (failed) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        probe = f"{r['probe_p50_ms']:.0f} / {r['probe_max_ms']:.0f}" if r["probe_p50_ms"] is not None else "–"
        lines.append(
            f"| {r['attack']} | {r['sent']} | {r['result']} | {r['rss_mb_before']:.0f} → {r['rss_mb_after']:.0f} "
            f"({r['rss_mb_peak']:.0f}) | {r['disk_delta_mb']:+.2f} | {r['log_bytes']:,} | {r['server_cpu_s']:.1f} "
            f"| {probe} ({r['probe_failures']}) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--code-dir", type=Path, default=ROOT, help="checkout whose `assistant serve` is attacked"
    )
    parser.add_argument("--index-from", type=Path, default=ROOT / "data", help="data dir holding index/")
    parser.add_argument("--only", help="comma-separated attack names (default: all)")
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop starting attacks after this")
    parser.add_argument(
        "--start-timeout", type=float, default=300, help="seconds the server may take to become ready"
    )
    args = parser.parse_args(argv)
    if not (args.index_from / "index").is_dir():
        parser.error(f"no index in {args.index_from}; run `assistant ingest` or pass --index-from")
    names = [n.strip() for n in args.only.split(",")] if args.only else list(ATTACKS)
    unknown = [n for n in names if n not in ATTACKS]
    if unknown:
        parser.error(f"unknown attacks {unknown}; known: {', '.join(ATTACKS)}")

    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hostile-soak-") as tmp:
        server = start_server(
            args.code_dir.resolve(), args.index_from.resolve(), Path(tmp), timeout=args.start_timeout
        )
        probe = Probe(server.base)
        try:
            probe.start()
            time.sleep(2)
            for name in names:
                if time.monotonic() - started > args.max_seconds:
                    print(f"stopping: --max-seconds {args.max_seconds:.0f} reached", file=sys.stderr)
                    break
                print(f"… {name}", file=sys.stderr, flush=True)
                try:
                    outcome = measure(server, probe, name, ATTACKS[name])
                except Exception as exc:  # one broken attack must not lose the others' figures
                    outcome = Outcome(name, "", f"the attack failed: {type(exc).__name__}: {exc}")
                rows.append(outcome.row())
                print(f"  {rows[-1]}", file=sys.stderr, flush=True)
        finally:
            probe.stop()
            stop_server(server)
    print(render(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
