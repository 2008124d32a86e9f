"""Shared fixtures: the corpus catalog and program matcher (no model), one real index of the project corpus
per test session, a live API server, one deployed as a help desk's tools reach it (keys, widget), and
the runtime database on both engines (a throwaway PostgreSQL cluster per session, a fresh database per
test) and a redis-server."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from assistant.config import PROJECT_ROOT, Settings
from assistant.pipeline.matching import ProgramMatcher, load_extra_aliases
from assistant.records import Catalog
from ingest.catalog import extract_catalog
from tests.services import Postgres, Redis, postgres_cluster, redis_server
from tests.support import free_port, serve_app


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
def corpus_store():
    """The corpus documents as the answer stages read them (no index)."""
    from assistant.index.documents import DocumentStore, StoredDocument
    from ingest.documents import load_manifest, read_document

    corpus = PROJECT_ROOT / "corpus"
    documents = {}
    for info in load_manifest(corpus):
        source = read_document(corpus, info)
        documents[info.doc_id] = StoredDocument.from_text(info, "\n".join(source.lines))
    return DocumentStore(documents)


@pytest.fixture(scope="session")
def corpus_networks():
    from assistant.pipeline.networks import NetworkGraph
    from ingest.networks import extract_networks

    return NetworkGraph(extract_networks(PROJECT_ROOT / "corpus"))


@pytest.fixture(scope="session")
def corpus_stages(corpus_catalog, corpus_matcher, corpus_store, corpus_networks):
    """Read, plan and check without the embedding model or an index: the reader with the documents' names
    (unknown-name look-up), measures and networks, the planner without a recommender, the checker."""
    from assistant.pipeline.check import AnswerChecker
    from assistant.pipeline.names import NameIndex, entity_names
    from assistant.pipeline.plan import Planner
    from assistant.pipeline.quotes import QuotePicker
    from assistant.pipeline.read import QuestionReader, mentioned_years
    from assistant.pipeline.recommend import target_name
    from assistant.pipeline.scoring import SentenceScorer

    catalog, store = corpus_catalog, corpus_store
    names = NameIndex((d.text for d in store.documents.values()), entity_names(catalog, corpus_networks))
    measures = [b.program_name for b in catalog.budget_lines if b.program_id is None]
    measures += [target_name(u) for u in catalog.use_cases if u.program_id is None]
    reader = QuestionReader(catalog.programs, corpus_matcher, corpus_networks, names, measures)
    scorer = SentenceScorer({})
    years = {y for doc in store.documents.values() for y in mentioned_years(doc.text)}
    planner = Planner(
        catalog, store, QuotePicker(store, catalog, scorer), scorer, None, years, corpus_networks
    )
    return reader, planner, AnswerChecker()


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


#: The API key of :func:`integrations_server` (tests of the OpenAI-compatible endpoint, MCP, the widget).
INTEGRATION_KEY = "integrations-test-key-0123456789abcdef"


@pytest.fixture(scope="session")
def widget_host_port() -> int:
    """The port of the help desk's own page that embeds the widget (another origin than the app)."""
    return free_port()


@pytest.fixture(scope="session")
def integrations_settings(index_settings, widget_host_port, tmp_path_factory) -> Settings:
    """The app deployed for help desks' tools: API keys set (OpenAI SDK, LangChain and MCP clients must send
    one), the chat UI public (the widget holds no key) and the widget allowed on one page origin. Its own copy
    of the index, so the feedback the widget stores stays out of the shared folder."""
    data = Path(tmp_path_factory.mktemp("integrations")) / "data"
    shutil.copytree(index_settings.index_dir, data / "index", ignore=shutil.ignore_patterns("*.lock"))
    return index_settings.model_copy(
        update={
            "data_dir": data,
            "api_keys": SecretStr(INTEGRATION_KEY),
            "ui_public": True,
            "widget_origins": [f"http://127.0.0.1:{widget_host_port}"],
        }
    )


@pytest.fixture(scope="session")
def integrations_server(integrations_settings) -> Iterator[str]:
    """:func:`integrations_settings` served over HTTP (once per session: the OpenAI, MCP and widget tests)."""
    with serve_app(integrations_settings) as base:
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
