"""The e5 model run by ONNX Runtime: tokenizers + one ONNX session, no PyTorch at run time.

Why: on this 2-core machine a question embedding through PyTorch is ~20–27 ms and most of an answer's CPU;
the exported graph (:mod:`assistant.index.onnx_export`) runs in a fraction of that, loads faster (no torch
or transformers import) and, unlike a torch module, can be called from several threads at once.

Texts are tokenised by the converted model's own ``tokenizer.json`` (the same tokens as PyTorch), sorted
by length and padded per batch, so a batch pads only to its longest text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.index.query_cache import QueryCache, tokenizer_normaliser


class OnnxModel:
    """One ONNX Runtime session and its tokenizer; ``encode`` is thread-safe."""

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        max_length: int,
        pad_id: int,
        threads: int,
        spinning: bool = True,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = max(0, int(threads))
        options.inter_op_num_threads = 1
        # Spinning threads answer one request faster but burn the cores other requests are waiting for.
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.no_padding()
        self.pad_id = pad_id
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def tokenize(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``input_ids`` and ``attention_mask`` of ``texts``, padded to the longest (int64)."""
        return self._pad([self.tokenizer.encode(t) for t in texts])

    def _pad(self, encodings: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        return ids, mask

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """L2-normalised float32 vectors of ``texts`` (already prefixed), in their order."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        if len(texts) == 1:
            encodings = [self.tokenizer.encode(texts[0])]
        else:
            encodings = self.tokenizer.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        step = max(1, int(batch_size))
        for start in range(0, len(texts), step):
            rows = order[start : start + step]
            ids, mask = self._pad([encodings[i] for i in rows])
            (vectors,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            out[rows] = vectors
        return out


class OnnxEmbeddings(Embeddings):
    """The :class:`~assistant.index.embeddings.Embedder` of the ``onnx`` backend (LangChain interface too)."""

    def __init__(
        self,
        model: OnnxModel,
        model_id: str,
        batch_size: int,
        query_prompt: str,
        passage_prompt: str,
        cache_size: int,
    ) -> None:
        self.model = model
        self.model_id = model_id
        self.dimension = model.dimension
        self.batch_size = max(1, int(batch_size))
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.query_cache = QueryCache(cache_size, tokenizer_normaliser(model.tokenizer))
        self.runtime = "onnx"

    def _compute(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, self.batch_size)

    def embed_documents_array(self, texts: list[str]) -> np.ndarray:
        return self._compute([self.passage_prompt + t for t in texts])

    def embed_queries_array(self, texts: list[str]) -> np.ndarray:
        return self.query_cache.embed([self.query_prompt + t for t in texts], self._compute, self.dimension)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries_array([text])[0].tolist()


def session_from_export(
    export_dir: Path, precision: str, threads: int, spinning: bool
) -> tuple[OnnxModel, Any]:
    """The session of ``export_dir``'s ``precision`` file and the export's marker."""
    from assistant.index.onnx_export import FP32_FILE, INT8_FILE, TOKENIZER_FILE, read_marker

    marker = read_marker(export_dir) or {}
    model = OnnxModel(
        export_dir / (INT8_FILE if precision == "int8" else FP32_FILE),
        export_dir / TOKENIZER_FILE,
        max_length=int(marker.get("max_length", 512)),
        pad_id=int(marker.get("pad_id", 1)),
        threads=threads,
        spinning=spinning,
    )
    return model, marker
