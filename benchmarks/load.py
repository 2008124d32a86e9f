"""Load test: concurrent clients sending mixed help-desk traffic to the answer API, on loopback only.

    .venv/bin/python benchmarks/load.py [--clients 8] [--requests 200] [--url http://127.0.0.1:8000] [--api-key K]
                                        [--json reports/load.json] [--max-seconds 1200] [--seed 7]

Each client is a thread with its own HTTP connection that sends ``--requests`` requests one after the
other; the mix is drawn from the eval set (``evals/cases.jsonl``): answers, SSE streams, follow-ups with
their history, search in every mode, the catalog with filters, program details and cited passages.
Every response is checked (status 200 and the expected JSON or the stream's final event); any error
makes the exit code 1. The report gives the throughput (req/s) and p50/p95/max latency overall and per
endpoint, as text and, with ``--json``, as JSON.

Without ``--url`` the script starts ``assistant serve`` in a child process on a free loopback port (the
index must exist: ``assistant ingest``) and stops it afterwards. Only loopback URLs are accepted, and the
run is bounded: at most 64 clients × 5,000 requests, and ``--max-seconds`` (requests not sent by then
count as errors). Target (this 2-core machine): zero errors; throughput and latency are recorded in the
README's Benchmarks section, not asserted by the tests.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from evals.dataset import EvalCase, load_cases
from evals.metrics import percentile

ROOT = Path(__file__).resolve().parent.parent

MAX_CLIENTS = 64
MAX_REQUESTS = 5000

#: The traffic mix: (endpoint label, weight). Answers dominate, as at a help desk.
MIX: list[tuple[str, int]] = [
    ("POST /v1/answer", 7),
    ("POST /v1/answer (follow-up)", 2),
    ("POST /v1/answer/stream", 3),
    ("GET /v1/search", 4),
    ("GET /v1/programs", 2),
    ("GET /v1/programs/{id}", 1),
    ("GET /v1/documents/{doc_id}", 1),
]
FILTERS = [
    {"ministry": "文部科学省"},
    {"applicant_type": "大学等研究機関"},
    {"ministry": "経済産業省", "new_calls": "true"},
    {"min_budget": "1000000"},
    {"theme": "防災"},
    {"q": "共創の場"},
    {},
]


class LoadError(Exception):
    """A response that is not what the endpoint promises (wrong status, body or stream)."""


def is_loopback_url(url: str) -> bool:
    """True for http(s) URLs on 127.0.0.0/8, ::1 or localhost; no name is resolved."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


# -- requests ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    label: str
    method: str
    path: str
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None


def _answer_body(case: EvalCase) -> dict[str, Any]:
    body: dict[str, Any] = {"question": case.question, "history": [t.model_dump() for t in case.history]}
    if case.filters:
        body["filters"] = case.filters.model_dump(exclude_none=True)
    return body


def plan_requests(
    cases: list[EvalCase], program_ids: list[str], count: int, rng: random.Random
) -> list[Request]:
    """``count`` requests of the mix, in a random but seeded order."""
    single = [c for c in cases if not c.history]
    follow_ups = [c for c in cases if c.history]
    evidence = [ev for c in cases for ev in c.evidence]
    labels = [label for label, weight in MIX for _ in range(weight)]
    plan: list[Request] = []
    for _ in range(count):
        label = rng.choice(labels)
        if label == "POST /v1/answer":
            plan.append(Request(label, "POST", "/v1/answer", body=_answer_body(rng.choice(single))))
        elif label == "POST /v1/answer (follow-up)":
            plan.append(Request(label, "POST", "/v1/answer", body=_answer_body(rng.choice(follow_ups))))
        elif label == "POST /v1/answer/stream":
            plan.append(Request(label, "POST", "/v1/answer/stream", body=_answer_body(rng.choice(cases))))
        elif label == "GET /v1/search":
            params = {
                "q": rng.choice(cases).question,
                "k": 8,
                "mode": rng.choice(["hybrid", "dense", "bm25"]),
            }
            plan.append(Request(label, "GET", "/v1/search", params=params))
        elif label == "GET /v1/programs":
            plan.append(Request(label, "GET", "/v1/programs", params=rng.choice(FILTERS)))
        elif label == "GET /v1/programs/{id}":
            plan.append(Request(label, "GET", f"/v1/programs/{rng.choice(program_ids)}"))
        else:
            ev = rng.choice(evidence)
            params = {"line_start": ev.line_start, "line_end": ev.line_end, "context": 3}
            plan.append(Request(label, "GET", f"/v1/documents/{ev.doc_id}", params=params))
    return plan


def _check_stream(text: str) -> None:
    blocks = [b for b in text.split("\n\n") if b.strip()]
    if not blocks or not blocks[-1].startswith("event: final\n"):
        raise LoadError("the stream did not end with a final event")
    final = json.loads(blocks[-1].split("\n", 1)[1].removeprefix("data: "))
    if "answer" not in final:
        raise LoadError("the final event has no answer")


EXPECTED_KEY: dict[str, str] = {
    "/v1/answer": "answer",
    "/v1/search": "hits",
    "/v1/programs": "programs",
}


def send(client: httpx.Client, request: Request) -> None:
    """One request, checked; raises LoadError (or an httpx error) when it is not a success."""
    if request.path == "/v1/answer/stream":
        with client.stream("POST", request.path, json=request.body) as response:
            response.read()
    else:
        response = client.request(request.method, request.path, params=request.params, json=request.body)
    if response.status_code != 200:
        raise LoadError(f"{response.status_code}: {response.text[:200]}")
    if request.path == "/v1/answer/stream":
        _check_stream(response.text)
        return
    key = EXPECTED_KEY.get(request.path, "id" if request.path.startswith("/v1/programs/") else "lines")
    if key not in response.json():
        raise LoadError(f"the response has no {key!r}")


# -- running -------------------------------------------------------------------------------------
@dataclass
class Results:
    """Latencies (ms) and errors per endpoint label, shared by the client threads."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    unsent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, label: str, millis: float, error: str | None) -> None:
        with self.lock:
            self.latencies.setdefault(label, []).append(millis)
            if error is not None:
                self.errors.setdefault(label, []).append(error)


def run_clients(
    url: str,
    plans: list[list[Request]],
    deadline: float,
    timeout: float = 120.0,
    headers: dict[str, str] | None = None,
) -> tuple[Results, float]:
    """Every plan in its own thread with its own connection; returns the results and the wall time."""
    results = Results()
    start = threading.Barrier(len(plans) + 1)

    def client_loop(plan: list[Request]) -> None:
        with httpx.Client(base_url=url, timeout=timeout, headers=headers) as client:
            start.wait()
            for n, request in enumerate(plan):
                if time.monotonic() > deadline:
                    with results.lock:
                        results.unsent += len(plan) - n
                    return
                began = time.perf_counter()
                error = None
                try:
                    send(client, request)
                except (LoadError, httpx.HTTPError, ValueError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                results.record(request.label, (time.perf_counter() - began) * 1000, error)

    threads = [threading.Thread(target=client_loop, args=(plan,), daemon=True) for plan in plans]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - began


def summarize(results: Results, seconds: float, clients: int, per_client: int) -> dict[str, Any]:
    def stats(millis: list[float], errors: int) -> dict[str, Any]:
        return {
            "requests": len(millis),
            "errors": errors,
            "throughput_rps": round(len(millis) / seconds, 2) if seconds else None,
            "p50_ms": round(percentile(millis, 50), 1) if millis else None,
            "p95_ms": round(percentile(millis, 95), 1) if millis else None,
            "max_ms": round(max(millis), 1) if millis else None,
            "mean_ms": round(statistics.fmean(millis), 1) if millis else None,
        }

    everything = [ms for values in results.latencies.values() for ms in values]
    errors = sum(len(e) for e in results.errors.values()) + results.unsent
    return {
        "clients": clients,
        "requests_per_client": per_client,
        "seconds": round(seconds, 2),
        "total": {**stats(everything, errors), "unsent": results.unsent},
        "endpoints": {
            label: stats(results.latencies[label], len(results.errors.get(label, [])))
            for label in sorted(results.latencies)
        },
        "first_errors": [f"{label}: {e}" for label, errs in sorted(results.errors.items()) for e in errs[:3]],
    }


def render(report: dict[str, Any]) -> str:
    def row(name: str, s: dict[str, Any]) -> str:
        return (
            f"{name:<30} {s['requests']:>6} {s['errors']:>6} {s['throughput_rps']:>8.2f} "
            f"{s['p50_ms']:>9.1f} {s['p95_ms']:>9.1f} {s['max_ms']:>9.1f}"
        )

    lines = [
        f"{report['clients']} clients × {report['requests_per_client']} requests in {report['seconds']:.1f} s",
        f"{'endpoint':<30} {'n':>6} {'errors':>6} {'req/s':>8} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}",
    ]
    lines += [row(label, s) for label, s in report["endpoints"].items() if s["requests"]]
    if report["total"]["requests"]:
        lines.append(row("all", report["total"]))
    if report["total"]["unsent"]:
        lines.append(f"not sent before --max-seconds: {report['total']['unsent']}")
    lines += [f"error: {e}" for e in report["first_errors"]]
    return "\n".join(lines)


# -- a server of our own -------------------------------------------------------------------------
def start_server(wait_seconds: float = 300.0) -> tuple[str, subprocess.Popen]:
    """``assistant serve`` in a child process on a free loopback port, once /readyz says ready.

    Its rate limit is off and its answer queue holds every client: the benchmark measures the answer
    path, not the limiter (which would refuse 8 clients' burst from one address after the first 30
    requests) nor the worker pool's 503 (which refuses answers beyond workers + queue at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        env={
            **os.environ,
            "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0",
            "ASSISTANT_ANSWER_QUEUE": str(MAX_CLIENTS),
        },
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return url, process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_server(process)
    raise SystemExit("error: the server did not become ready (is the index built? `assistant ingest`)")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


# -- command line --------------------------------------------------------------------------------
def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=_bounded(1, MAX_CLIENTS), default=8)
    parser.add_argument("--requests", type=_bounded(1, MAX_REQUESTS), default=200, help="per client")
    parser.add_argument("--url", help="a running server on loopback (default: start one)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument("--max-seconds", type=float, default=1200.0, help="stop sending after this long")
    parser.add_argument("--seed", type=int, default=7, help="seed of the request mix")
    parser.add_argument(
        "--api-key",
        help="sent as 'Authorization: Bearer …' (a --url server with API keys; mind its rate limit, "
        "ASSISTANT_RATE_LIMIT_PER_MINUTE, which answers a burst with 429s that count as errors)",
    )
    args = parser.parse_args(argv)
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else None
    if args.url is not None and not is_loopback_url(args.url):
        print(
            f"error: refusing {args.url!r}: only loopback URLs (127.0.0.1, ::1, localhost)", file=sys.stderr
        )
        return 2

    cases = load_cases(ROOT / "evals" / "cases.jsonl")
    process = None
    url = args.url.rstrip("/") if args.url else None
    if url is None:
        url, process = start_server()
    try:
        try:
            listing = httpx.get(f"{url}/v1/programs", timeout=60, headers=headers)
            program_ids = [p["id"] for p in listing.json()["programs"]]
            warm = Request("warm-up", "POST", "/v1/answer", body={"question": cases[0].question})
            with httpx.Client(base_url=url, timeout=120, headers=headers) as client:
                send(client, warm)
        except (httpx.HTTPError, LoadError, ValueError, KeyError) as exc:
            print(f"error: {url} does not serve the answer API: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        plans = [
            plan_requests(cases, program_ids, args.requests, random.Random(f"{args.seed}-{n}"))
            for n in range(args.clients)
        ]
        results, seconds = run_clients(url, plans, time.monotonic() + args.max_seconds, headers=headers)
    finally:
        if process is not None:
            stop_server(process)

    report = summarize(results, seconds, args.clients, args.requests)
    print(render(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if report["total"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
