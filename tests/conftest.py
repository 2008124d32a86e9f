"""Shared fixtures: the corpus catalog and program matcher (no model), one real index of the project corpus
per test session, and a live API server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT, Settings
from assistant.pipeline.matching import ProgramMatcher, load_extra_aliases
from assistant.records import Catalog
from ingest.catalog import extract_catalog
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
