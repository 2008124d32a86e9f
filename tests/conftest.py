"""Shared fixtures: the corpus catalog and program matcher (no model), one real index of the project corpus
per test session, a live API server, and the runtime database on both engines (a throwaway PostgreSQL
cluster per session, a fresh database per test) and a redis-server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT, Settings
from assistant.pipeline.matching import ProgramMatcher, load_extra_aliases
from assistant.records import Catalog
from ingest.catalog import extract_catalog
from tests.services import Postgres, Redis, postgres_cluster, redis_server
from tests.support import serve_app


@pytest.fixture(scope="session")
def corpus_catalog() -> Catalog:
    """The program catalog as ingest extracts it from corpus/ (read-only: tests must not change it)."""
    corpus = PROJECT_ROOT / "corpus"
    return extract_catalog(corpus, corpus / "catalog_overrides.json")


@pytest.fixture(scope="session")
def corpus_matcher(corpus_catalog) -> ProgramMatcher:
    aliases = load_extra_aliases(PROJECT_ROOT / "corpus" / "program_aliases.json")
    return ProgramMatcher.from_programs(corpus_catalog.programs, aliases)


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
    from assistant.pipeline.service import AnswerService

    return AnswerService(index_settings)


@pytest.fixture(scope="session")
def live_server(index_settings) -> Iterator[str]:
    """The real FastAPI app served by uvicorn on a loopback port; yields its base URL once ready."""
    with serve_app(index_settings) as base:
        yield base


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl in a temporary folder) for the whole session."""
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def redis() -> Iterator[Redis]:
    """A redis-server without persistence on a loopback port, for the whole session."""
    with redis_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """The runtime database's URL on each engine: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite3'}"
    cluster = request.getfixturevalue("postgres")
    return cluster.create_database(f"t_{uuid.uuid4().hex[:16]}")


@pytest.fixture
def database(database_url):
    from assistant.storage import Database

    db = Database(database_url)
    yield db
    db.dispose()
