"""The on-disk index: one folder per build, a pointer to the current one, Chroma collections inside.

Layout under ``<data_dir>/index``::

    CURRENT                  the build id in use (replaced atomically with os.replace)
    builds/<build_id>/
        manifest.json        which model and corpus built it, counts, collection names
        chroma/              Chroma PersistentClient folder (collections chunks + programs)
        keyword/             the BM25 index of the same chunks
        chunks.jsonl         every chunk (the keyword leg and citations read these)
        catalog.json         the program catalog (programs, use cases, budget lines)
        networks.json        the regional 産学官 networks (ingest/networks.py); absent in older builds

Ingest writes a new build beside the old one and only then moves CURRENT, so a crash mid-way
leaves the previous index in use. Collection names carry the build id, so the same scheme works
when the collections live in a shared Chroma server instead of the build folder
(``ASSISTANT_CHROMA_MODE=http``: no ``chroma/`` folder, the rest of the build stays here).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import chromadb
import httpx
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function
from pydantic import BaseModel

from assistant.config import Settings
from assistant.index.leases import claim_for_deletion
from assistant.records import Catalog, Chunk, NetworkCatalog

if TYPE_CHECKING:
    from assistant.index.embeddings import Embedder

INDEX_FORMAT = 2
CURRENT_POINTER = "CURRENT"
NETWORKS_FILE = "networks.json"

log = logging.getLogger("assistant.index.store")


class IndexStateError(RuntimeError):
    """Base for index problems whose message tells the user what to do.

    The message may name paths and addresses (for the CLI and the server log); ``public_message`` is what
    an open endpoint such as ``/readyz`` may say instead: no paths, no exception text.
    """

    public_message = "The index cannot be used; the server log says why and what to do."

    def __init__(self, message: str, public: str | None = None) -> None:
        super().__init__(message)
        if public is not None:
            self.public_message = public


class IndexMissingError(IndexStateError):
    public_message = "No index has been built yet: run `assistant ingest`."


class IndexModelMismatchError(IndexStateError):
    public_message = (
        "The index was built with another embedding model than the configured one; rebuild it with "
        "`assistant ingest --rebuild` (the server log names both models)."
    )


class IndexCorruptError(IndexStateError):
    """A file of a build (or the CURRENT pointer) is missing or damaged; the message names it."""

    public_message = "The index is damaged; run `assistant ingest --rebuild` (the server log names the file)."


class IndexReadError(IndexCorruptError):
    """Reading a build that was serving failed (its vector store was overwritten or lost while in use)."""

    public_message = (
        "The index could not be read; the server switches to an intact build. Retry shortly (the server "
        "log names the build)."
    )

    def __init__(self, build_id: str, cause: BaseException) -> None:
        super().__init__(
            f"reading index build {build_id} failed while serving ({type(cause).__name__}); it is marked "
            "failed. Rebuild the index with `assistant ingest --rebuild`, or repair the build in place."
        )
        self.build_id = build_id


class ChromaUnavailableError(IndexStateError):
    """The configured Chroma server cannot be reached, or lacks a build's collections."""

    public_message = "Cannot reach the Chroma server of the index; retry shortly (details in the server log)."


class IndexManifest(BaseModel):
    build_id: str
    index_format: int = INDEX_FORMAT
    created_at: str
    embedding_model: str  # E5Embeddings.model_id of the model that embedded the chunks
    embedding_dimension: int
    corpus_fingerprint: str
    settings_fingerprint: str
    documents: int
    chunks: int
    programs: int
    use_cases: int
    budget_lines: int
    networks: int = 0  # regional networks extracted (0 in builds made before they were)
    seconds: float
    chunk_collection: str
    program_collection: str


@register_embedding_function
class ChromaE5Function(EmbeddingFunction[Documents]):
    """Our e5 model as a Chroma embedding function, so Chroma never falls back to its default model
    (which would try to download weights). Documents get the passage prompt, queries the query prompt."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        _embedders_in_use[embedder.model_id] = embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed_documents_array(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed_queries_array(list(input)))

    @staticmethod
    def name() -> str:
        return "seisaku-e5"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"model_id": self._embedder.model_id}

    def is_legacy(self) -> bool:
        """Never: Chroma's own check calls :meth:`build_from_config`, which would load a second model
        (seconds of an ingest) only to learn that this class implements the config interface."""
        return False

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaE5Function:
        """Chroma rebuilds the function from a collection's stored config (each create/get does): the
        embedder this process already uses for that model, not a second load of it."""
        in_use = _embedders_in_use.get(str(config.get("model_id", "")))
        if in_use is not None:
            return ChromaE5Function(in_use)
        from assistant.index.embeddings import get_embedder

        return ChromaE5Function(get_embedder())


#: Model id → the embedder the latest ChromaE5Function was made with. Chroma only asks the function for its
#: config (vectors are always passed in), so any embedder of the same model serves; this keeps it from loading one.
_embedders_in_use: dict[str, Embedder] = {}


def new_build_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def builds_dir(settings: Settings) -> Path:
    return settings.index_dir / "builds"


def current_build_id(settings: Settings) -> str | None:
    """The finished build CURRENT names, or None (no pointer, or one that names no usable build)."""
    from assistant.index.integrity import read_current

    try:
        return read_current(settings)
    except IndexCorruptError:
        return None


def set_current_build(settings: Settings, build_id: str) -> None:
    """Point CURRENT at a finished build, atomically (write a temp file, fsync, rename)."""
    pointer = settings.index_dir / CURRENT_POINTER
    tmp = pointer.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(build_id)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, pointer)


def prune_builds(settings: Settings) -> list[str]:
    """Delete old, unfinished and damaged builds, keeping the current one and the ``keep_previous_builds``
    newest intact builds before it (the fallback of a server whose current build is damaged). A build
    that a running server still serves is never deleted (``leases.py``); a later prune takes it.

    In server mode their collections are deleted from the Chroma server first; a build whose collections
    cannot be deleted (server unreachable) keeps its folder, so the next prune tries again.
    """
    current = current_build_id(settings)
    root = builds_dir(settings)
    if not root.exists():
        return []
    finished = sorted(p.name for p in root.iterdir() if (p / "manifest.json").exists() and p.name != current)
    intact = [
        build_id for build_id in finished if _intact(settings, build_id)
    ]  # damaged ones are no fallback
    keep = set(intact[-settings.keep_previous_builds :] if settings.keep_previous_builds else [])
    if current:
        keep.add(current)
    doomed = sorted(path for path in root.iterdir() if path.name not in keep)
    held = {path.name: lease for path in doomed if (lease := claim_for_deletion(settings, path.name))}
    for path in doomed:
        if path.name not in held:
            log.info("kept index build %s: a running server still serves it", path.name)
    doomed = [path for path in doomed if path.name in held]
    try:
        return _delete_builds(settings, doomed)
    finally:
        for lease in held.values():
            lease.release(delete=True)


def _intact(settings: Settings, build_id: str) -> bool:
    from assistant.index.integrity import check_build

    try:
        check_build(settings, build_id)
    except IndexCorruptError:
        return False
    return True


def _delete_builds(settings: Settings, doomed: list[Path]) -> list[str]:
    if doomed and settings.chroma_mode == "http":
        try:
            client = chroma_client(settings, builds_dir(settings))
            for path in doomed:
                delete_collections(client, path.name)
        except (ChromaUnavailableError, httpx.HTTPError) as exc:
            log.warning("kept unfinished/old builds until the Chroma server is reachable: %s", exc)
            return []
    removed = []
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return removed


def collection_names(build_id: str) -> tuple[str, str]:
    """The chunk and program collection names of a build (also known for a build that never finished)."""
    return f"chunks_{build_id}", f"programs_{build_id}"


def delete_collections(client: chromadb.ClientAPI, build_id: str) -> None:
    """Delete a build's collections from a Chroma server; absent ones are skipped."""
    from chromadb.errors import NotFoundError

    for name in collection_names(build_id):
        with contextlib.suppress(NotFoundError):
            client.delete_collection(name)


def chroma_location(settings: Settings, build_dir: Path) -> str:
    """Where a build's collections live, for messages."""
    if settings.chroma_mode == "embedded":
        return str(build_dir / "chroma")
    return (
        f"the Chroma server at {_chroma_url(settings)} "
        f"(tenant {settings.chroma_tenant!r}, database {settings.chroma_database!r})"
    )


def _chroma_url(settings: Settings) -> str:
    return f"{'https' if settings.chroma_ssl else 'http'}://{settings.chroma_host}:{settings.chroma_port}"


def _chroma_headers(settings: Settings) -> dict[str, str]:
    headers = dict(settings.chroma_headers)
    if settings.chroma_token is not None:
        headers["Authorization"] = f"Bearer {settings.chroma_token.get_secret_value()}"
    return headers


def check_chroma_server(settings: Settings) -> None:
    """In server mode, fail fast with a readable message when the Chroma server does not answer its
    heartbeat (Chroma's own client would wait without a timeout, then raise a bare ValueError)."""
    if settings.chroma_mode != "http":
        return
    url = f"{_chroma_url(settings)}/api/v2/heartbeat"
    hint = (
        "Start it, or fix ASSISTANT_CHROMA_HOST/_PORT/_SSL (ASSISTANT_CHROMA_MODE=embedded needs no server)."
    )
    try:
        response = httpx.get(url, headers=_chroma_headers(settings), timeout=settings.chroma_connect_timeout)
    except httpx.HTTPError as exc:
        raise ChromaUnavailableError(
            f"Cannot reach the Chroma server at {_chroma_url(settings)} ({type(exc).__name__}: {exc}). {hint}"
        ) from exc
    if response.status_code != 200:
        raise ChromaUnavailableError(
            f"The Chroma server at {_chroma_url(settings)} answered its heartbeat with HTTP "
            f"{response.status_code}. Check ASSISTANT_CHROMA_TOKEN/_HEADERS and the server's logs.",
            public="The Chroma server of the index refused the connection; check ASSISTANT_CHROMA_TOKEN "
            "and _HEADERS (details in the server log).",
        )


def chroma_client(settings: Settings, build_dir: Path) -> chromadb.ClientAPI:
    """The Chroma client for a build: an embedded PersistentClient in the build folder, or (server mode)
    an HttpClient to the configured Chroma server, checked to be reachable."""
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_mode == "embedded":
        return chromadb.PersistentClient(path=str(build_dir / "chroma"), settings=chroma_settings)
    check_chroma_server(settings)
    try:
        return chromadb.HttpClient(
            host=settings.chroma_host,
            port=settings.chroma_port,
            ssl=settings.chroma_ssl,
            headers=_chroma_headers(settings) or None,
            settings=chroma_settings,
            tenant=settings.chroma_tenant,
            database=settings.chroma_database,
        )
    except Exception as exc:  # chromadb reports a wrong tenant/database or auth failure as ValueError etc.
        raise ChromaUnavailableError(
            f"Cannot use {chroma_location(settings, build_dir)}: {exc}. "
            "Check ASSISTANT_CHROMA_TENANT/_DATABASE/_TOKEN/_HEADERS.",
            public="Cannot use the Chroma server of the index; check ASSISTANT_CHROMA_TENANT/_DATABASE/"
            "_TOKEN/_HEADERS (details in the server log).",
        ) from exc


def collections_complete(
    settings: Settings, build_dir: Path, manifest: IndexManifest, embedder: Embedder
) -> bool:
    """True when the build's collections exist and hold every chunk and program of its manifest
    (a shared server may have lost them, or the build may come from the other Chroma mode)."""
    from chromadb.errors import NotFoundError

    client = chroma_client(settings, build_dir)
    function = ChromaE5Function(embedder)
    try:
        return (
            client.get_collection(manifest.chunk_collection, embedding_function=function).count()
            == manifest.chunks
            and client.get_collection(manifest.program_collection, embedding_function=function).count()
            == manifest.programs
        )
    except NotFoundError:
        return False


def write_jsonl(path: Path, records: list[BaseModel]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(record.model_dump_json() + "\n")


def read_chunks(build_dir: Path) -> list[Chunk]:
    with open(build_dir / "chunks.jsonl", encoding="utf-8") as fh:
        return [Chunk.model_validate_json(line) for line in fh if line.strip()]


def read_catalog(build_dir: Path) -> Catalog:
    return Catalog.model_validate_json((build_dir / "catalog.json").read_text(encoding="utf-8"))


def read_networks(build_dir: Path) -> NetworkCatalog:
    """The build's network catalog; a build made before networks were extracted has none (empty)."""
    path = build_dir / NETWORKS_FILE
    if not path.exists():
        return NetworkCatalog()
    return NetworkCatalog.model_validate_json(path.read_text(encoding="utf-8"))


def read_manifest(build_dir: Path) -> IndexManifest:
    return IndexManifest.model_validate(json.loads((build_dir / "manifest.json").read_text(encoding="utf-8")))


def current_build_dir(settings: Settings) -> Path:
    """The folder of the index to serve — the pinned ``index_build``, else the one CURRENT names — or a
    clear error: no index (run ingest), or a damaged pointer (naming the file and the fix)."""
    from assistant.index.integrity import read_current

    build_id = settings.index_build or read_current(settings)
    if build_id is None:
        raise IndexMissingError(
            f"No index in {settings.index_dir}. Build it with `assistant ingest` (or `make run`)."
        )
    return builds_dir(settings) / build_id


def check_model(manifest: IndexManifest, model_id: str) -> None:
    """Refuse an index whose vectors came from another embedding model than the configured one."""
    if manifest.embedding_model != model_id:
        raise IndexModelMismatchError(
            f"The index {manifest.build_id} was built with embedding model {manifest.embedding_model!r}, "
            f"but the configured model is {model_id!r}. Rebuild it with `assistant ingest --rebuild` "
            "or set ASSISTANT_EMBEDDING_MODEL back to the model that built it."
        )


class LoadedIndex(BaseModel):
    """The current build, opened: its manifest, records and Chroma collections."""

    model_config = {"arbitrary_types_allowed": True}

    build_dir: Path
    manifest: IndexManifest
    chunks: list[Chunk]
    catalog: Catalog
    chunk_collection: Any
    program_collection: Any
    networks: NetworkCatalog = NetworkCatalog()
    client: Any = None  # the Chroma client, closed when a server retires this build


def load_index(settings: Settings, embedder: Embedder) -> LoadedIndex:
    """Open the current (or pinned) build for queries after checking that its files are whole; refuses
    a build made with another embedding model."""
    from assistant.index.integrity import check_build

    build_dir = current_build_dir(settings)
    manifest = check_build(settings, build_dir.name)
    check_model(manifest, embedder.model_id)
    client = chroma_client(settings, build_dir)
    function = ChromaE5Function(embedder)
    return LoadedIndex(
        build_dir=build_dir,
        manifest=manifest,
        chunks=read_chunks(build_dir),
        catalog=read_catalog(build_dir),
        networks=read_networks(build_dir),
        chunk_collection=_open_collection(settings, client, build_dir, manifest.chunk_collection, function),
        program_collection=_open_collection(
            settings, client, build_dir, manifest.program_collection, function
        ),
        client=client,
    )


def _open_collection(
    settings: Settings, client: chromadb.ClientAPI, build_dir: Path, name: str, function: ChromaE5Function
) -> Any:
    from chromadb.errors import NotFoundError

    try:
        return client.get_collection(name, embedding_function=function)
    except NotFoundError as exc:
        raise ChromaUnavailableError(
            f"The collection {name} of index {build_dir.name} is missing from "
            f"{chroma_location(settings, build_dir)}. Run `assistant ingest` to build it again there.",
            public="The index's collections are missing from its Chroma store; run `assistant ingest`.",
        ) from exc
