"""Warm latency on this machine: hybrid retrieval in process, and /v1/answer over HTTP.

    .venv/bin/python benchmarks/latency.py [--rounds 3] [--url http://127.0.0.1:8000]

Questions are the eval set's (253 Japanese and English questions of every answer kind, follow-ups with
history; ``--dataset`` for another JSONL of cases).
Without --url the script starts the real app with uvicorn on a free loopback port in this process.
Targets (issues): retrieval p95 ≤ 50 ms; /v1/answer p50 ≤ 60 ms (issue 11), p95 ≤ 250 ms.
Everything is measured after one warm-up pass, so model and index loading are not counted.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from assistant.config import get_settings
from evals.dataset import load_cases
from evals.metrics import percentile

ROOT = Path(__file__).resolve().parent.parent


def _report(label: str, millis: list[float], target: str) -> None:
    print(
        f"{label:<28} n={len(millis):<4} p50={percentile(millis, 50):7.1f} ms  p95={percentile(millis, 95):7.1f} ms"
        f"  mean={statistics.fmean(millis):7.1f} ms  max={max(millis):7.1f} ms   target: {target}"
    )


def bench_retrieval(questions: list[str], rounds: int) -> list[float]:
    from assistant.pipeline.service import AnswerService

    service = AnswerService(get_settings())
    for q in questions:  # warm-up
        service.search(q)
    timings = []
    for _ in range(rounds):
        for q in questions:
            started = time.perf_counter()
            service.search(q, k=8, mode="hybrid")
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _start_server() -> tuple[str, uvicorn.Server, threading.Thread]:
    from assistant.web.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(
                get_settings().model_copy(update={"rate_limit_per_minute": 0}), load_in_background=False
            ),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return base, server, thread
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not become ready")


def bench_answers(url: str, bodies: list[dict], rounds: int) -> list[float]:
    timings = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for body in bodies:  # warm-up
            client.post("/v1/answer", json=body).raise_for_status()
        for _ in range(rounds):
            for body in bodies:
                started = time.perf_counter()
                client.post("/v1/answer", json=body).raise_for_status()
                timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", help="benchmark a running server instead of starting one")
    parser.add_argument("--dataset", type=Path, default=ROOT / "evals" / "cases.jsonl")
    args = parser.parse_args()

    cases = load_cases(args.dataset)
    questions = [c.question for c in cases]
    bodies = []
    for c in cases:
        body: dict = {"question": c.question, "history": [t.model_dump() for t in c.history]}
        if c.filters:
            body["filters"] = c.filters.model_dump(exclude_none=True)
        bodies.append(body)

    _report("retrieval (hybrid, in process)", bench_retrieval(questions, args.rounds), "p95 ≤ 50 ms")
    server = None
    url = args.url
    if url is None:
        url, server, thread = _start_server()
    try:
        _report(
            "POST /v1/answer (HTTP)", bench_answers(url, bodies, args.rounds), "p50 ≤ 60 ms, p95 ≤ 250 ms"
        )
    finally:
        if server is not None:
            server.should_exit = True
            thread.join(timeout=10)


if __name__ == "__main__":
    main()
