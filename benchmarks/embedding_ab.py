"""A/B of the embedding runtimes on this machine, in one run: PyTorch (before issue 23) against ONNX Runtime.

    .venv/bin/python benchmarks/embedding_ab.py [--rounds 2] [--clients 8] [--requests 40] [--single 120]
                                               [--arms pytorch,onnx,onnx-nocache] [--json reports/ab.json]

Arms (each is the same code with other settings, so only the runtime differs):

* ``pytorch``       ``ASSISTANT_EMBEDDING_BACKEND=sentence-transformers``, query cache off (as before);
* ``onnx``          the defaults: ONNX Runtime, int8, the query LRU on;
* ``onnx-nocache``  ONNX Runtime with the LRU off, to show what the runtime alone gives.

Every round measures each arm in turn (the order alternates between rounds, so a busy neighbour on the
shared cores does not always hit the same arm):

* model load: a fresh process from ``get_embedder`` to its first question vector (imports included);
* ``assistant ingest --rebuild`` wall time, into the arm's own data directory;
* ``/v1/answer`` p50/p95, one client, each question asked once (questions the warm-up did not ask, so the
  LRU cannot answer them: this is the runtime's own latency). All arms' servers run at once and blocks of
  10 questions go to every arm in turn, so a burst of a neighbour's load hits all arms alike (the first
  question of a block is not timed);
* ``benchmarks/load.py`` with 8 clients (the help-desk mix, repeated questions included): req/s, p95,
  errors; one arm at a time, the other servers idle.

Servers listen on loopback ports from 8200 and are stopped at the end of each round. The ratios printed last are
``arm / pytorch`` of the medians over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.load import stop_server as stop
from evals.dataset import load_cases
from evals.metrics import percentile

ROOT = Path(__file__).resolve().parent.parent
PORT_BASE = 8200

ARMS: dict[str, dict[str, str]] = {
    "pytorch": {
        "ASSISTANT_EMBEDDING_BACKEND": "sentence-transformers",
        "ASSISTANT_EMBEDDING_QUERY_CACHE": "0",
    },
    "onnx": {"ASSISTANT_EMBEDDING_BACKEND": "onnx"},
    "onnx-nocache": {"ASSISTANT_EMBEDDING_BACKEND": "onnx", "ASSISTANT_EMBEDDING_QUERY_CACHE": "0"},
}

_LOAD_PROBE = """
import json, time
started = time.perf_counter()
from assistant.index.embeddings import get_embedder
embedder = get_embedder()
embedder.embed_query("地方大学・地域産業創生交付金の予算は？")
print(json.dumps({"seconds": time.perf_counter() - started, "runtime": embedder.runtime}))
"""


def _env(arm: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        **ARMS[arm],
        "ASSISTANT_DATA_DIR": str(data_dir),
        "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0",
        "ASSISTANT_ANSWER_QUEUE": "64",
        "PYTHONPATH": str(ROOT),
    }


def model_load_seconds(env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_PROBE], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def ingest_seconds(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", "--rebuild", "--quiet"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop(process)
    raise SystemExit(f"error: the server on port {port} did not become ready")


#: Questions asked of one arm in a row by the single-client measurement; the first of each block is not
#: timed (its process was idle while the other arms ran, so its caches are cold).
SINGLE_BLOCK = 10


def single_client(urls: dict[str, str], warm: list[str], measured: list[str]) -> dict[str, dict[str, float]]:
    """One client per arm: a warm-up on ``warm``, then each of ``measured`` (disjoint from ``warm``) once,
    in blocks of :data:`SINGLE_BLOCK` questions that go to every arm in turn (the order rotates per block).

    Blocks spread every arm over the same minutes, so a neighbour's burst on the shared cores slows all arms
    rather than one arm's whole run (measured one arm after the other, two runs of the same code gave p50
    ratios of 0.56 and 0.65). Alternating every single question was tried too; it leaves each process's
    caches cold and raised PyTorch's p50 from ~39 to ~59 ms, a bias for the smaller int8 model."""
    clients = {arm: httpx.Client(base_url=url, timeout=60) for arm, url in urls.items()}
    millis: dict[str, list[float]] = {arm: [] for arm in urls}
    arms = list(urls)
    try:
        for question in warm:
            for client in clients.values():
                client.post("/v1/answer", json={"question": question}).raise_for_status()
        blocks = [measured[i : i + SINGLE_BLOCK] for i in range(0, len(measured), SINGLE_BLOCK)]
        for number, block in enumerate(blocks):
            for arm in arms[number % len(arms) :] + arms[: number % len(arms)]:
                for position, question in enumerate(block):
                    started = time.perf_counter()
                    clients[arm].post("/v1/answer", json={"question": question}).raise_for_status()
                    if position:
                        millis[arm].append((time.perf_counter() - started) * 1000)
    finally:
        for client in clients.values():
            client.close()
    return {arm: {"p50_ms": percentile(m, 50), "p95_ms": percentile(m, 95)} for arm, m in millis.items()}


def load_test(url: str, clients: int, requests: int, report: Path) -> dict[str, float]:
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--url", url, "--clients", str(clients)]
        + ["--requests", str(requests), "--json", str(report)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        check=False,  # errors are counted in the report
    )
    total = json.loads(report.read_text(encoding="utf-8"))["total"]
    return {"rps": total["throughput_rps"], "p95_ms": total["p95_ms"], "errors": total["errors"]}


def run_round(
    order: list[str], ports: dict[str, int], tmp: Path, args: argparse.Namespace, questions: tuple
) -> dict[str, dict[str, Any]]:
    """One round: each arm's model load and ingest in ``order``; then every arm's server at once for the
    interleaved single-client latency; then each arm's load test in ``order``, the others idle."""
    envs = {arm: _env(arm, tmp / arm) for arm in order}
    results: dict[str, dict[str, Any]] = {}
    for arm in order:
        results[arm] = {"load_s": model_load_seconds(envs[arm]), "ingest_s": ingest_seconds(envs[arm])}
    processes: dict[str, subprocess.Popen] = {}
    try:
        for arm in order:
            processes[arm] = start_server(envs[arm], ports[arm])
        urls = {arm: f"http://127.0.0.1:{ports[arm]}" for arm in order}
        for arm, single in single_client(urls, *questions).items():
            results[arm].update({f"single_{k}": v for k, v in single.items()})
        for arm in order:
            load = load_test(urls[arm], args.clients, args.requests, tmp / arm / "load.json")
            results[arm].update({f"load_{k}": v for k, v in load.items()})
    finally:
        for process in processes.values():
            stop(process)
    for arm in order:
        print(
            f"  {arm:<13} "
            + "  ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in results[arm].items()
            )
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=40, help="per client, in each load test")
    parser.add_argument("--single", type=int, default=120, help="questions timed one at a time")
    parser.add_argument("--arms", default="pytorch,onnx,onnx-nocache")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    if "pytorch" not in arms or any(a not in ARMS for a in arms):
        raise SystemExit(f"--arms: a comma-separated subset of {', '.join(ARMS)} that includes pytorch")

    cases = [c for c in load_cases(ROOT / "evals" / "cases.jsonl") if not c.history and not c.filters]
    distinct = list(dict.fromkeys(c.question for c in cases))
    warm, measured = distinct[:20], distinct[20 : 20 + args.single]

    results: dict[str, list[dict[str, Any]]] = {arm: [] for arm in arms}
    with tempfile.TemporaryDirectory(prefix="embedding-ab-") as tmp:
        for round_no in range(args.rounds):
            order = arms if round_no % 2 == 0 else list(reversed(arms))
            print(f"round {round_no + 1}: {', '.join(order)}")
            ports = {arm: PORT_BASE + arms.index(arm) for arm in arms}
            for arm, result in run_round(order, ports, Path(tmp), args, (warm, measured)).items():
                results[arm].append(result)

    medians = {
        arm: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for arm, runs in results.items()
    }
    print(f"\nmedians over {args.rounds} round(s); ratio = arm / pytorch")
    keys = list(medians["pytorch"])
    print(f"{'':<16}" + "".join(f"{k:>16}" for k in keys))
    for arm in arms:
        print(f"{arm:<16}" + "".join(f"{medians[arm][k]:>16.3f}" for k in keys))
    for arm in arms:
        if arm == "pytorch":
            continue
        ratios = {
            k: medians[arm][k] / medians["pytorch"][k] if medians["pytorch"][k] else float("nan")
            for k in keys
        }
        print(f"{arm + ' ratio':<16}" + "".join(f"{ratios[k]:>16.3f}" for k in keys))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"runs": results, "medians": medians}, indent=2) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
