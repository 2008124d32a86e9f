"""A damaged index, for real (one-document corpus, real model and Chroma): every corruption is one CLI line
naming the file and the fix (exit 2); a server falls back to the previous intact build and says nothing
about paths on the open ``/readyz``; servers follow CURRENT to new builds by themselves; a build a server
still serves is not pruned; and ``ingest --rebuild`` repairs a damaged CURRENT (issue 15).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from assistant.cli import main as cli_main
from assistant.config import Settings, get_settings
from assistant.index.integrity import check_build, read_current
from assistant.index.leases import serve_lease
from assistant.index.store import IndexCorruptError, IndexReadError, builds_dir, set_current_build
from assistant.web.holder import ServiceHolder
from ingest.pipeline import run_ingest
from tests.support import serve_app, small_corpus, wait_for_readyz_error

QUESTION = "知的クラスター創生事業はいつ開始されましたか？"


def _quiet(_message: str) -> None:
    pass


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory) -> tuple[Settings, str, str]:
    """A small index with two intact builds: (settings, previous build, current build)."""
    tmp = tmp_path_factory.mktemp("faults")
    settings = Settings(corpus_dir=small_corpus(tmp), data_dir=tmp / "data")
    first = run_ingest(settings, show_progress=False, log=_quiet)
    second = run_ingest(settings, rebuild=True, show_progress=False, log=_quiet)
    return settings, first.build_id, second.build_id


@pytest.fixture
def index_copy(two_builds, tmp_path) -> tuple[Settings, str, str]:
    settings, previous, current = two_builds
    shutil.copytree(settings.index_dir, tmp_path / "data" / "index", ignore=shutil.ignore_patterns("*.lock"))
    return settings.model_copy(update={"data_dir": tmp_path / "data"}), previous, current


def _corrupt_current_pointer(settings: Settings, build: Path) -> None:
    (settings.index_dir / "CURRENT").write_bytes(b"\xff\xfe\x00\x9cgarbage")


def _garbage_sqlite(settings: Settings, build: Path) -> None:
    (build / "chroma" / "chroma.sqlite3").write_bytes(b"this is not sqlite" * 400)


def _broken_manifest(settings: Settings, build: Path) -> None:
    (build / "manifest.json").write_text('{"build_id": "x", "chunks": ', encoding="utf-8")


def _no_chunks(settings: Settings, build: Path) -> None:
    (build / "chunks.jsonl").unlink()


def _no_keyword(settings: Settings, build: Path) -> None:
    shutil.rmtree(build / "keyword")


def _no_catalog(settings: Settings, build: Path) -> None:
    (build / "catalog.json").unlink()


def _broken_catalog(settings: Settings, build: Path) -> None:
    (build / "catalog.json").write_text("[{", encoding="utf-8")


def _no_documents(settings: Settings, build: Path) -> None:
    shutil.rmtree(build / "documents")


CORRUPTIONS: dict[str, tuple[Callable[[Settings, Path], None], str]] = {
    "non-UTF-8 CURRENT": (_corrupt_current_pointer, "index/CURRENT is damaged"),
    "garbage chroma.sqlite3": (_garbage_sqlite, "chroma/chroma.sqlite3 is damaged"),
    "broken manifest.json": (_broken_manifest, "manifest.json is damaged"),
    "missing chunks.jsonl": (_no_chunks, "chunks.jsonl is missing"),
    "missing keyword/": (_no_keyword, "/keyword is missing"),
    "missing catalog.json": (_no_catalog, "catalog.json is missing"),
    "broken catalog.json": (_broken_catalog, "catalog.json is damaged"),
    "missing documents/": (_no_documents, "/documents is missing"),
}


def _damage(settings: Settings, current: str, kind: str) -> str:
    corrupt, needle = CORRUPTIONS[kind]
    corrupt(settings, builds_dir(settings) / current)
    return needle


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_each_corruption_is_one_cli_line_naming_the_file_and_the_fix(index_copy, kind, monkeypatch, capsys):
    settings, _, current = index_copy
    needle = _damage(settings, current, kind)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(settings.corpus_dir))
    get_settings.cache_clear()
    try:
        assert cli_main(["ask", QUESTION]) == 2
    finally:
        get_settings.cache_clear()
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1, err
    assert lines[0].startswith("error: ") and needle in lines[0], lines[0]
    assert "assistant ingest --rebuild" in lines[0] and "Traceback" not in err


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_a_server_falls_back_to_the_previous_intact_build(index_copy, kind, caplog):
    settings, previous, current = index_copy
    needle = _damage(settings, current, kind)
    holder = ServiceHolder(settings)
    with caplog.at_level(logging.ERROR, logger="assistant.web.app"):
        holder.load()
    try:
        assert holder.service is not None, holder.error
        # the newest intact build: the previous one, or (when CURRENT itself is unreadable) the one it named
        expected = current if kind == "non-UTF-8 CURRENT" else previous
        assert holder.service.index.manifest.build_id == expected
        assert holder.note and "/" not in holder.note  # /readyz says so, without paths
        assert holder.service.answer(QUESTION).citations
        assert any(needle in r.getMessage() for r in caplog.records)  # the log names the file
    finally:
        holder.stop()


def test_readyz_says_ready_on_the_fallback_and_503_without_paths_when_nothing_is_intact(index_copy):
    settings, previous, current = index_copy
    _garbage_sqlite(settings, builds_dir(settings) / current)
    with serve_app(settings.model_copy(update={"ui_enabled": False})) as base:
        ready = httpx.get(f"{base}/readyz", timeout=10).json()
        assert ready["status"] == "ready" and ready["build_id"] == previous and "note" in ready
        answer = httpx.post(f"{base}/v1/answer", json={"question": QUESTION}, timeout=60)
        assert answer.status_code == 200 and answer.json()["citations"]

    _no_chunks(settings, builds_dir(settings) / previous)
    with serve_app(settings.model_copy(update={"ui_enabled": False}), wait_ready=False) as base:
        refused = wait_for_readyz_error(base)
        message = refused["error"]["message"]
        assert refused["error"]["code"] == "not_ready" and "ingest --rebuild" in message
        assert str(settings.data_dir) not in message and "/" not in message.replace("--rebuild", "")
        assert "Error" not in message and "sqlite" not in message
        answer = httpx.post(f"{base}/v1/answer", json={"question": QUESTION}, timeout=60)
        assert answer.status_code == 503 and answer.json()["error"]["message"] == message


def _wait_for_build(base: str, build_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        ready = httpx.get(f"{base}/readyz", timeout=10).json()
        if ready.get("build_id") == build_id:
            return
        assert time.monotonic() < deadline, f"still serving {ready.get('build_id')}, not {build_id}"
        time.sleep(0.2)


def test_servers_follow_current_and_a_served_build_is_not_pruned(index_copy, monkeypatch, caplog):
    import assistant.web.holder as holder_module

    settings, previous, current = index_copy
    monkeypatch.setattr(holder_module, "RETIRE_AFTER_SECONDS", 0.0)
    settings = settings.model_copy(update={"ui_enabled": False, "index_reload_seconds": 0.2})
    replica = serve_lease(settings, current)  # another replica still serving the current build
    with serve_app(settings) as base:
        _wait_for_build(base, current)
        newer = run_ingest(settings, rebuild=True, show_progress=False, log=_quiet).build_id
        _wait_for_build(base, newer)  # switched by itself, no restart
        assert httpx.post(f"{base}/v1/answer", json={"question": QUESTION}, timeout=60).json()["citations"]

        newest = run_ingest(settings, rebuild=True, show_progress=False, log=_quiet).build_id
        _wait_for_build(base, newest)
        builds = {p.name for p in builds_dir(settings).iterdir()}
        assert current in builds, "pruned a build another server still serves"
        assert previous not in builds  # nobody serves it: pruned as usual
        replica.release()
        run_ingest(settings, show_progress=False, log=_quiet)  # up to date: only prunes
        assert {p.name for p in builds_dir(settings).iterdir()} == {newer, newest}

        # A new build that is damaged is not switched to; the server keeps the one it has.
        damaged = "29991231T000000000000Z"
        shutil.copytree(builds_dir(settings) / newest, builds_dir(settings) / damaged)
        manifest = (builds_dir(settings) / damaged / "manifest.json").read_text(encoding="utf-8")
        (builds_dir(settings) / damaged / "manifest.json").write_text(
            manifest.replace(newest, damaged), encoding="utf-8"
        )
        (builds_dir(settings) / damaged / "chunks.jsonl").write_text("", encoding="utf-8")
        with caplog.at_level(logging.ERROR, logger="assistant.web.app"):
            set_current_build(settings, damaged)
            time.sleep(1.5)  # several reload checks
        assert httpx.get(f"{base}/readyz", timeout=10).json()["build_id"] == newest
        reports = [r for r in caplog.records if "chunks.jsonl is damaged" in r.getMessage()]
        assert len(reports) == 1, "the damaged build is reported once, not at every check"


def test_ingest_rebuild_repairs_a_damaged_current(index_copy, monkeypatch, capsys):
    settings, _, _ = index_copy
    _corrupt_current_pointer(settings, Path())
    with pytest.raises(IndexCorruptError, match="CURRENT is damaged"):
        read_current(settings)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(settings.corpus_dir))
    get_settings.cache_clear()
    try:
        assert cli_main(["ingest", "--rebuild", "--quiet"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "CURRENT is damaged" in out and "Building a new index now." in out and " built: " in out
    repaired = read_current(settings)
    assert repaired is not None and check_build(settings, repaired).build_id == repaired


def _readyz(base: str) -> dict:
    return httpx.get(f"{base}/readyz", timeout=10).json()


def _until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_damage_while_serving_falls_back_and_a_repair_in_place_is_picked_up(index_copy, capfd):
    """Issue 20: overwriting the served build's chroma.sqlite3 gave a 500 with a traceback per request
    while /readyz said ready, and a build repaired in place was never served again."""
    settings, previous, current = index_copy
    settings = settings.model_copy(update={"ui_enabled": False, "index_reload_seconds": 0.2})
    database = builds_dir(settings) / current / "chroma" / "chroma.sqlite3"
    intact = database.read_bytes()
    with serve_app(settings) as base:
        assert _readyz(base)["build_id"] == current
        database.write_bytes(b"this is not sqlite" * 400)  # damaged in place, while serving
        statuses = set()
        for _ in range(5):
            response = httpx.post(f"{base}/v1/answer", json={"question": QUESTION}, timeout=60)
            statuses.add(response.status_code)
            assert response.status_code in (200, 503), response.text
            if response.status_code == 503:
                assert response.json()["error"]["code"] in ("index_unavailable", "not_ready")
        _until(lambda: _readyz(base).get("build_id") == previous, "did not fall back to the previous build")
        ready = _readyz(base)
        assert ready["status"] == "ready" and current in ready["note"] and "/" not in ready["note"]
        answer = httpx.post(f"{base}/v1/answer", json={"question": QUESTION}, timeout=60)
        assert answer.status_code == 200 and answer.json()["citations"]

        database.write_bytes(intact)  # repaired in place: the same build id, its files whole again
        _until(lambda: _readyz(base).get("build_id") == current, "the repaired build was not picked up")
        assert "note" not in _readyz(base)

        (settings.index_dir / "CURRENT").write_bytes(b"\xff\xfe garbage")  # CURRENT damaged …
        time.sleep(1.0)
        assert _readyz(base)["build_id"] == current  # … the served build stays
        set_current_build(settings, current)  # … and repaired: nothing stale remains
        _until(lambda: "note" not in _readyz(base), "a stale note stayed on /readyz")
    assert "Traceback" not in "".join(capfd.readouterr())


def test_a_read_error_marks_the_served_build_failed_and_the_holder_falls_back(index_copy, caplog):
    settings, previous, current = index_copy
    holder = ServiceHolder(settings.model_copy(update={"index_reload_seconds": 0}))
    holder.load()
    try:
        service = holder.service
        assert service is not None and service.index.manifest.build_id == current
        (builds_dir(settings) / current / "chroma" / "chroma.sqlite3").write_bytes(b"not sqlite" * 400)
        with pytest.raises(IndexReadError) as caught:
            service.answer(QUESTION)
        with caplog.at_level(logging.ERROR, logger="assistant.web.app"):
            holder.failed_while_serving(caught.value)
            holder.failed_while_serving(caught.value)  # a second report of the same build: ignored
            _until(lambda: holder.service is not None, "no fallback was loaded")
        assert holder.service.index.manifest.build_id == previous and current in (holder.note or "")
        assert len([r for r in caplog.records if "failed while serving" in r.getMessage()]) == 1
    finally:
        holder.stop()
