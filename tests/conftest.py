"""Shared fixtures: one real index of the project corpus per test session, and a live API server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from assistant.config import PROJECT_ROOT, Settings


@pytest.fixture(scope="session")
def index_settings(tmp_path_factory) -> Settings:
    """Settings whose data directory holds a freshly built index of corpus/ (real model, real Chroma)."""
    from ingest.pipeline import run_ingest

    settings = Settings(
        corpus_dir=PROJECT_ROOT / "corpus",
        data_dir=Path(tmp_path_factory.mktemp("index")) / "data",
        rate_limit_per_minute=0,  # the shared server takes many quick requests; test_security.py limits
    )
    run_ingest(settings, show_progress=False, log=lambda _msg: None)
    return settings


@pytest.fixture(scope="session")
def answer_service(index_settings):
    from assistant.answering import AnswerService

    return AnswerService(index_settings)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(index_settings) -> Iterator[str]:
    """The real FastAPI app served by uvicorn on a loopback port; yields its base URL once ready."""
    from assistant.api import create_app

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(index_settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    else:
        raise RuntimeError("the API did not become ready")
    yield base
    server.should_exit = True
    thread.join(timeout=10)
