"""Throughput and latency through nginx with two replicas against one, measured in one run, alternating.

    .venv/bin/python benchmarks/replicas.py [--clients 8] [--requests 60] [--rounds 3] [--json reports/replicas.json]

Sets up what docs/replicas.md describes, on loopback ports in temporary folders: a throwaway PostgreSQL
cluster, a redis-server, a Chroma server holding an index of the whole corpus (ingested at the start,
timed apart), two ``assistant serve`` replicas, and two nginx instances running the shipped
``deploy/nginx/replicas.conf`` — one in front of both replicas, one in front of the first only. Then
``--rounds`` rounds, each sending the mixed help-desk traffic of ``benchmarks/load.py`` (``--clients``
threads × ``--requests``) first to one nginx and then to the other (the order alternates from round to
round), so that both configurations see the same machine load. It reports requests/s and p50/p95 per
configuration, the ratio, and the load average before and after (the machine is shared: read the ratio,
not the absolute numbers). The rate limit is off and the answer queue holds every client, as in
``load.py``: the benchmark measures serving, not the limiter. Every request is checked; errors make the
exit code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.services: the same throwaway servers the tests use

import httpx  # noqa: E402
from load import Results, plan_requests, run_clients, summarize  # noqa: E402

from assistant.config import Settings  # noqa: E402
from evals.dataset import load_cases  # noqa: E402
from ingest.pipeline import run_ingest  # noqa: E402
from tests.services import Replica, free_port, nginx_server, postgres_cluster, redis_server  # noqa: E402
from tests.support import chroma_server  # noqa: E402


def _replica_env(
    data: Path, chroma_port: int, database_url: str, redis_url: str, clients: int
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return env | {
        "PYTHONUNBUFFERED": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "ASSISTANT_DATA_DIR": str(data),
        "ASSISTANT_CHROMA_MODE": "http",
        "ASSISTANT_CHROMA_HOST": "127.0.0.1",
        "ASSISTANT_CHROMA_PORT": str(chroma_port),
        "ASSISTANT_DATABASE_URL": database_url,
        "ASSISTANT_REDIS_URL": redis_url,
        "ASSISTANT_TRUSTED_PROXIES": "127.0.0.1",
        "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0",
        "ASSISTANT_ANSWER_QUEUE": str(max(16, clients * 2)),
    }


def _merge(into: Results, results: Results) -> None:
    for label, values in results.latencies.items():
        into.latencies.setdefault(label, []).extend(values)
    for label, errors in results.errors.items():
        into.errors.setdefault(label, []).extend(errors)
    into.unsent += results.unsent


def measure(args: argparse.Namespace) -> dict[str, Any]:
    cases = load_cases(ROOT / "evals" / "cases.jsonl")
    report: dict[str, Any] = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pa-replicas-bench-")))
        postgres = stack.enter_context(postgres_cluster())
        redis = stack.enter_context(redis_server())
        chroma = stack.enter_context(chroma_server(folder / "chroma", required=True))
        data = folder / "data"
        started = time.monotonic()
        settings = Settings(
            data_dir=data, chroma_mode="http", chroma_host="127.0.0.1", chroma_port=chroma.port
        )
        ingest = run_ingest(settings, show_progress=False, log=lambda _msg: None)
        report["ingest_s"] = round(time.monotonic() - started, 1)
        report["index"] = {"chunks": ingest.chunks, "programs": ingest.programs}
        env = _replica_env(data, chroma.port, postgres.create_database("bench"), redis.url, args.clients)
        replicas = [Replica(free_port(), env, folder / f"replica{n}.log") for n in (1, 2)]
        for replica in replicas:
            stack.callback(replica.stop)
            replica.launch()
        for replica in replicas:
            replica.wait_ready()
        both = stack.enter_context(nginx_server([r.port for r in replicas]))
        one = stack.enter_context(nginx_server([replicas[0].port]))
        targets = {"2 replicas": both.url, "1 replica": one.url}
        program_ids = [p["id"] for p in httpx.get(f"{both.url}/v1/programs", timeout=60).json()["programs"]]
        for url in (both.url, one.url):  # warm both replicas (and both paths) before measuring
            for _ in range(4):
                httpx.post(f"{url}/v1/answer", json={"question": cases[0].question}, timeout=120)
        merged = {name: Results() for name in targets}
        seconds = dict.fromkeys(targets, 0.0)
        for round_ in range(args.rounds):
            order = list(targets) if round_ % 2 == 0 else list(reversed(targets))
            for name in order:
                plans = [
                    plan_requests(
                        cases, program_ids, args.requests, random.Random(f"{args.seed}-{round_}-{n}")
                    )
                    for n in range(args.clients)
                ]
                results, wall = run_clients(targets[name], plans, time.monotonic() + args.max_seconds)
                _merge(merged[name], results)
                seconds[name] += wall
                print(
                    f"round {round_ + 1} {name}: {sum(map(len, results.latencies.values()))} requests "
                    f"in {wall:.1f} s",
                    flush=True,
                )
        report["configs"] = {
            name: summarize(merged[name], seconds[name], args.clients, args.requests * args.rounds)["total"]
            for name in targets
        }
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    two, one_ = report["configs"]["2 replicas"], report["configs"]["1 replica"]
    report["ratio_rps_2_over_1"] = round(two["throughput_rps"] / one_["throughput_rps"], 2)
    report["ratio_p95_2_over_1"] = round(two["p95_ms"] / one_["p95_ms"], 2)
    report["clients"], report["requests_per_client_per_round"], report["rounds"] = (
        args.clients,
        args.requests,
        args.rounds,
    )
    return report


def render(report: dict[str, Any]) -> str:
    lines = [
        f"{report['clients']} clients × {report['requests_per_client_per_round']} requests × "
        f"{report['rounds']} rounds per configuration, through nginx (ingest of the index: "
        f"{report['ingest_s']} s, {report['index']['chunks']} chunks)",
        f"{'configuration':<12} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}",
    ]
    for name, s in report["configs"].items():
        lines.append(
            f"{name:<12} {s['requests']:>8} {s['errors']:>6} {s['throughput_rps']:>7.2f} "
            f"{s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f} {s['max_ms']:>8.1f}"
        )
    lines.append(
        f"2 / 1: req/s × {report['ratio_rps_2_over_1']}, p95 × {report['ratio_p95_2_over_1']}; load average "
        f"before {report['load_average_before']}, after {report['load_average_after']} ({os.cpu_count()} cores)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8, choices=range(1, 33), metavar="1..32")
    parser.add_argument("--requests", type=int, default=60, choices=range(1, 1001), metavar="1..1000")
    parser.add_argument("--rounds", type=int, default=3, choices=range(1, 11), metavar="1..10")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="per round and configuration")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    report = measure(args)
    print(render(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    errors = sum(s["errors"] for s in report["configs"].values())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
