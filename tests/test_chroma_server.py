"""Chroma server mode (ASSISTANT_CHROMA_MODE=http) against a real ``chroma run`` of the installed chromadb:
ingest into it, answer through it (the service and the API over HTTP), idempotent ingest, lost collections,
pruning in the server, and an unreachable server reported in one readable line."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import chromadb
import httpx
import pytest
from chromadb.config import Settings as ChromaSettings

from assistant.config import Settings
from assistant.index.store import (
    ChromaUnavailableError,
    builds_dir,
    check_chroma_server,
    chroma_client,
    collection_names,
    current_build_id,
    new_build_id,
    prune_builds,
)
from assistant.pipeline.service import AnswerService
from ingest.pipeline import run_ingest
from tests.support import (
    SMALL_DOC,
    chroma_server,
    cli_env,
    serve_app,
    small_corpus,
    wait_for_readyz_error,
)

QUESTION = "知的クラスター創生事業はいつ開始されましたか？"


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory) -> Iterator[int]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server") / "db") as server:
        yield server.port


def _http_settings(port: int, tmp_path: Path) -> Settings:
    return Settings(
        corpus_dir=small_corpus(tmp_path),
        data_dir=tmp_path / "data",
        chroma_mode="http",
        chroma_host="127.0.0.1",
        chroma_port=port,
    )


@pytest.fixture()
def http_settings(chroma_port, tmp_path) -> Settings:
    """A fresh data folder whose index will live in the shared Chroma server."""
    return _http_settings(chroma_port, tmp_path)


def _server_collections(port: int) -> set[str]:
    client = chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
    )
    return {c.name for c in client.list_collections()}


def _ingest(settings: Settings, rebuild: bool = False):
    return run_ingest(settings, rebuild=rebuild, show_progress=False, log=lambda _msg: None)


def test_ingest_into_the_server_and_answer_through_it(http_settings, chroma_port):
    report = _ingest(http_settings)
    assert not report.up_to_date and report.chunks > 0
    assert set(collection_names(report.build_id)) <= _server_collections(chroma_port)
    assert not (report.build_dir / "chroma").exists(), "no embedded Chroma folder in server mode"

    service = AnswerService(http_settings)
    assert service.index.chunk_collection.count() == report.chunks
    result = service.answer(QUESTION)
    assert not result.abstained and "平成14年度" in result.answer
    assert result.citations[0].doc_id == SMALL_DOC

    with serve_app(http_settings) as base:
        ready = httpx.get(f"{base}/readyz", timeout=10).json()
        assert ready["build_id"] == report.build_id and ready["chunks"] == report.chunks
        response = httpx.post(f"{base}/v1/answer", json={"question": QUESTION}, timeout=60)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "平成14年度" in body["answer"] and body["citations"][0]["doc_id"] == SMALL_DOC
        hits = httpx.get(f"{base}/v1/search", params={"q": "知的クラスター", "mode": "dense"}, timeout=30)
        assert hits.status_code == 200 and hits.json()["hits"][0]["ranks"]["dense"] == 1


def test_idempotent_ingest_rebuilds_when_the_server_lost_the_collections(http_settings, chroma_port):
    first = _ingest(http_settings)
    again = _ingest(http_settings)
    assert again.up_to_date and again.build_id == first.build_id

    client = chromadb.HttpClient(
        host="127.0.0.1", port=chroma_port, settings=ChromaSettings(anonymized_telemetry=False)
    )
    chunks_name, _ = collection_names(first.build_id)
    client.delete_collection(chunks_name)
    with pytest.raises(ChromaUnavailableError, match=f"{chunks_name} of index {first.build_id} is missing"):
        AnswerService(http_settings)

    rebuilt = _ingest(http_settings)
    assert not rebuilt.up_to_date and rebuilt.build_id != first.build_id
    assert current_build_id(http_settings) == rebuilt.build_id
    assert AnswerService(http_settings).answer(QUESTION).citations


def test_prune_deletes_old_and_unfinished_builds_from_the_server(http_settings, chroma_port):
    settings = http_settings.model_copy(update={"keep_previous_builds": 0})
    old = _ingest(settings)
    # What a killed ingest leaves behind: a build folder without manifest, collections in the server.
    crashed_id = new_build_id()
    (builds_dir(settings) / crashed_id).mkdir()
    client = chromadb.HttpClient(
        host="127.0.0.1", port=chroma_port, settings=ChromaSettings(anonymized_telemetry=False)
    )
    for name in collection_names(crashed_id):
        client.create_collection(name)
    assert set(collection_names(crashed_id)) <= _server_collections(chroma_port)

    new = _ingest(settings, rebuild=True)
    assert sorted(p.name for p in builds_dir(settings).iterdir()) == [new.build_id]
    names = _server_collections(chroma_port)
    assert set(collection_names(new.build_id)) <= names
    assert not (set(collection_names(old.build_id)) | set(collection_names(crashed_id))) & names
    assert prune_builds(settings) == []


def test_an_unknown_database_is_named(http_settings):
    wrong = http_settings.model_copy(update={"chroma_database": "no_such_db"})
    with pytest.raises(ChromaUnavailableError, match=r"no_such_db.*ASSISTANT_CHROMA_TENANT/_DATABASE"):
        chroma_client(wrong, wrong.data_dir)


def test_a_server_that_goes_away_is_a_clear_503_and_one_readable_line(tmp_path):
    """Its own Chroma server, stopped under a running app: answers become 503 JSON; and a start-up against
    the dead server is refused with the reason (service, ingest, /readyz, ``assistant ask``)."""
    with chroma_server(tmp_path / "short-lived") as chroma:
        settings = _http_settings(chroma.port, tmp_path)
        _ingest(settings)
        with serve_app(settings) as base:
            assert httpx.post(f"{base}/v1/answer", json={"question": QUESTION}, timeout=60).status_code == 200
            chroma.stop()
            gone = httpx.post(f"{base}/v1/answer", json={"question": QUESTION}, timeout=60)
            assert gone.status_code == 503, gone.text
            assert gone.json()["error"]["code"] == "index_unavailable"

    with pytest.raises(ChromaUnavailableError, match=f"Cannot reach the Chroma server at {_url(settings)}"):
        AnswerService(settings)
    with pytest.raises(ChromaUnavailableError, match="Cannot reach the Chroma server"):
        _ingest(settings)

    with serve_app(settings, wait_ready=False) as base:
        refused = wait_for_readyz_error(base)
        assert refused["error"]["code"] == "not_ready"
        assert "Cannot reach the Chroma server" in refused["error"]["message"]

    env = cli_env(settings, ASSISTANT_CHROMA_MODE="http", ASSISTANT_CHROMA_PORT=str(chroma.port))
    asked = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", QUESTION],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert asked.returncode == 2, asked.stderr
    lines = asked.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Cannot reach the Chroma server"), asked.stderr


def _url(settings: Settings) -> str:
    return f"http://{settings.chroma_host}:{settings.chroma_port}"


def test_the_token_and_headers_are_sent_and_a_refusal_is_readable(tmp_path):
    """A stand-in that refuses every request like an auth proxy would: it sees our headers, and the
    refusal becomes a readable error, not a Chroma traceback."""
    seen: list[dict[str, str]] = []

    class Refuse(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            self.send_response(401)
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        settings = Settings(
            corpus_dir=tmp_path,
            data_dir=tmp_path / "data",
            chroma_mode="http",
            chroma_port=proxy.server_address[1],
            chroma_token="s3cret",
            chroma_headers={"X-Tenant-Route": "help-desk"},
        )
        with pytest.raises(
            ChromaUnavailableError, match="heartbeat with HTTP 401. Check ASSISTANT_CHROMA_TOKEN"
        ):
            check_chroma_server(settings)
    finally:
        proxy.shutdown()
    assert seen and seen[0]["Authorization"] == "Bearer s3cret" and seen[0]["X-Tenant-Route"] == "help-desk"
