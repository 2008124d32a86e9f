"""Test helpers with real parts: a one-document corpus copy, the real app over HTTP, a real Chroma server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from assistant.config import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"
SMALL_DOC = "004_19e9f67b15260a83"  # 150 lines, 23 chunks: an ingest takes seconds, not a minute


def small_corpus(tmp_path: Path) -> Path:
    """A corpus folder holding one document of the project corpus and its manifest entry."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / f"{SMALL_DOC}.txt", corpus)
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"] = [d for d in manifest["documents"] if d["doc_id"] == SMALL_DOC]
    (corpus / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return corpus


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for an ``assistant`` subprocess using the same corpus and data folders."""
    return {
        **os.environ,
        "ASSISTANT_CORPUS_DIR": str(settings.corpus_dir),
        "ASSISTANT_DATA_DIR": str(settings.data_dir),
        **extra,
    }


@contextmanager
def serve(app, ready_path: str = "/readyz", wait_ready: bool = True, timeout: float = 180) -> Iterator[str]:
    """An ASGI app on a loopback port (uvicorn in a thread); yields the base URL once it is listening,
    and (``wait_ready``) once ``ready_path`` answers 200. The server is stopped on exit."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = httpx.get(f"{base}{ready_path}", timeout=2).status_code
                if status == 200 or not wait_ready:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                state = "ready" if wait_ready else "reachable"
                raise RuntimeError(f"the API at {base} did not become {state}")
            time.sleep(0.2)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_app(settings: Settings, wait_ready: bool = True, timeout: float = 180) -> Iterator[str]:
    """The real FastAPI app for ``settings`` over HTTP (see :func:`serve`)."""
    from assistant.web.app import create_app

    with serve(create_app(settings), wait_ready=wait_ready, timeout=timeout) as base:
        yield base


def wait_for_readyz_error(base: str, timeout: float = 120) -> dict:
    """Poll /readyz until loading has finished with an error; returns the 503 body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{base}/readyz", timeout=5)
        body = response.json()
        if response.status_code == 503 and "loading" not in body["error"]["message"]:
            return body
        assert response.status_code == 503, f"expected a refusal, got {response.status_code}: {body}"
        time.sleep(0.2)
    raise AssertionError(f"/readyz at {base} still loading after {timeout} s")


class ChromaServer:
    """A running ``chroma run`` process; ``stop()`` ends it (also called when its context ends)."""

    def __init__(self, process: subprocess.Popen, port: int) -> None:
        self.process, self.port = process, port

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextmanager
def chroma_server(path: Path, timeout: float = 60, required: bool = False) -> Iterator[ChromaServer]:
    """A real Chroma server (``chroma run`` of the installed chromadb) on a free loopback port, persisting
    in ``path``, once its heartbeat answers; stopped afterwards.

    Skips only when the server cannot start here at all (the process exits before answering) — unless
    ``required`` (an acceptance test), which fails instead."""
    port = free_port()
    log_path = path.parent / f"{path.name}.log"
    launcher = "import sys; from chromadb.cli.cli import app; sys.argv[0] = 'chroma'; app()"
    command = [sys.executable, "-c", launcher, "run", "--path", str(path), "--host", "127.0.0.1"]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1"}
    with open(log_path, "wb") as log:
        server = ChromaServer(
            subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env),
            port,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-800:]
                reason = f"the Chroma server cannot start here (exit {server.process.returncode}): {tail}"
                if required:
                    raise RuntimeError(reason)
                pytest.skip(reason)
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-800:]
                raise RuntimeError(f"the Chroma server gave no heartbeat within {timeout} s: {tail}")
            time.sleep(0.2)
        yield server
    finally:
        server.stop()
