"""Concurrency: one AnswerService (one model, one index) shared by many threads gives the same answers.

FastAPI runs the sync endpoints in a thread pool, so the model, Chroma, the BM25 index and Sudachi are
used by several threads at once. These tests compute answers sequentially first, then again from 8
threads at once (in process and over HTTP), and require identical results: a race (a shared tokenizer,
a model used without its lock, state kept between requests) shows up as a different answer or an
exception. Timings are never asserted.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from assistant.config import PROJECT_ROOT
from evals.dataset import EvalCase, load_cases

THREADS = 8
LOAD_SCRIPT = PROJECT_ROOT / "benchmarks" / "load.py"


@pytest.fixture(scope="module")
def all_cases() -> list[EvalCase]:
    return load_cases(PROJECT_ROOT / "evals" / "cases.jsonl")


@pytest.fixture(scope="module")
def cases(all_cases) -> list[EvalCase]:
    """A fixed mix of the eval set: every category, follow-ups with history, a filtered question."""
    everything = all_cases
    by_category: dict[str, list[EvalCase]] = {}
    for case in everything:
        by_category.setdefault(case.category, []).append(case)
    chosen = [case for group in by_category.values() for case in group[:2]]
    chosen += [case for case in everything if case.filters][:1]
    return chosen


def _ask(service, case: EvalCase, mode: str = "hybrid") -> dict[str, Any]:
    from assistant.pipeline.read import Turn

    history = [Turn(role=t.role, content=t.content) for t in case.history]
    filters = case.filters.model_dump() if case.filters else None
    return _comparable(service.answer(case.question, history, filters, mode=mode).model_dump(mode="json"))


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "timings_ms"}


def _search(service, case: EvalCase) -> list[dict[str, Any]]:
    return [hit.model_dump(mode="json") for hit in service.search(case.question, k=8).hits]


@pytest.fixture(scope="module")
def sequential(answer_service, cases, all_cases) -> dict[str, Any]:
    """The reference: every answer and search computed one after the other.

    BM25-mode answers (of every eval case: ~8 ms each) skip the model and its lock, so their retrieval
    and composing overlap fully between threads: a composer or retriever that kept per-request state
    would mix answers up (a builder of citations shared between requests is caught here)."""
    return {
        "answer": [_ask(answer_service, case) for case in cases],
        "search": [_search(answer_service, case) for case in cases],
        "answer_bm25": [_ask(answer_service, case, "bm25") for case in all_cases],
    }


def test_concurrent_answers_equal_the_sequential_ones(answer_service, cases, all_cases, sequential):
    jobs = [(i, kind) for i in range(len(cases)) for kind in ("answer", "search")] * 2
    jobs += [(i, "answer_bm25") for i in range(len(all_cases))] * 2
    random.Random(3).shuffle(jobs)

    def run(job: tuple[int, str]) -> tuple[int, str, Any]:
        i, kind = job
        if kind == "search":
            return i, kind, _search(answer_service, cases[i])
        if kind == "answer_bm25":
            return i, kind, _ask(answer_service, all_cases[i], "bm25")
        return i, kind, _ask(answer_service, cases[i])

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads every few bytecodes, so interleavings actually happen
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(run, jobs))
    finally:
        sys.setswitchinterval(interval)
    assert len(results) == len(jobs)
    for i, kind, result in results:
        case = all_cases[i] if kind == "answer_bm25" else cases[i]
        assert result == sequential[kind][i], f"{kind} of {case.id} differs under concurrency"


def test_concurrent_http_answers_equal_the_sequential_ones(live_server, cases, sequential):
    """The real server's thread pool: 8 clients at once get the answers computed sequentially."""

    def run(i: int) -> tuple[int, dict[str, Any]]:
        case = cases[i]
        body: dict[str, Any] = {"question": case.question, "history": [t.model_dump() for t in case.history]}
        if case.filters:
            body["filters"] = case.filters.model_dump(exclude_none=True)
        with httpx.Client(base_url=live_server, timeout=120) as client:
            response = client.post("/v1/answer", json=body)
        assert response.status_code == 200, response.text
        return i, _comparable(response.json())

    order = list(range(len(cases))) * 2
    random.Random(5).shuffle(order)
    with ThreadPoolExecutor(THREADS) as pool:
        for i, answer in pool.map(run, order):
            assert answer == sequential["answer"][i], f"{cases[i].id} differs over HTTP under concurrency"


def test_the_model_is_loaded_once_and_shared(answer_service, index_settings):
    from assistant.index.embeddings import get_embedder

    assert get_embedder(index_settings) is answer_service.embedder
    with ThreadPoolExecutor(THREADS) as pool:
        embedders = set(map(id, pool.map(lambda _: get_embedder(index_settings), range(THREADS * 2))))
    assert embedders == {id(answer_service.embedder)}


# -- the load script -------------------------------------------------------------------------------
@functools.cache
def _load_module():
    """benchmarks/load.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("benchmarks_load", LOAD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_load_script_runs_8_clients_against_the_live_server(live_server, tmp_path):
    report_path = tmp_path / "load.json"
    result = subprocess.run(
        [sys.executable, str(LOAD_SCRIPT), "--url", live_server, "--clients", "8", "--requests", "10"]
        + ["--json", str(report_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["total"]["requests"] == 80 and report["total"]["errors"] == 0
    assert set(report["endpoints"]) == {
        "POST /v1/answer",
        "POST /v1/answer (follow-up)",
        "POST /v1/answer/stream",
        "GET /v1/search",
        "GET /v1/programs",
        "GET /v1/programs/{id}",
        "GET /v1/documents/{doc_id}",
    }
    assert "req/s" in result.stdout and "p95" in result.stdout


def test_load_script_counts_failed_and_unsent_requests_as_errors(live_server):
    load = _load_module()
    bad = load.Request("GET /v1/programs/{id}", "GET", "/v1/programs/no-such-program")
    good = load.Request("GET /v1/programs", "GET", "/v1/programs")
    results, _ = load.run_clients(live_server, [[good, bad], [good]], time.monotonic() + 60)
    report = load.summarize(results, 1.0, 2, 2)
    assert report["total"]["requests"] == 3 and report["total"]["errors"] == 1
    assert "404" in report["first_errors"][0]
    late, _ = load.run_clients(live_server, [[good, good]], time.monotonic() - 1)
    assert load.summarize(late, 1.0, 1, 2)["total"]["errors"] == 2  # not sent before the deadline


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://127.1.2.3:80/", True),
        ("http://[::1]:8000", True),
        ("http://localhost:8000", True),
        ("http://example.com:8000", False),
        ("http://10.0.0.5:8000", False),
        ("http://0.0.0.0:8000", False),
        ("ftp://127.0.0.1/", False),
        ("127.0.0.1:8000", False),
    ],
)
def test_load_script_only_targets_loopback(url, allowed):
    assert _load_module().is_loopback_url(url) is allowed


def test_load_script_refuses_a_remote_url_before_sending_anything():
    result = subprocess.run(
        [sys.executable, str(LOAD_SCRIPT), "--url", "http://example.com:8000", "--requests", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 2 and "only loopback" in result.stderr
