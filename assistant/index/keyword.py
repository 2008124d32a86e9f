"""BM25 keyword index over Sudachi tokens (bm25s), built by ingest and loaded read-only at start-up.

The ids of the indexed items are stored next to the bm25s files, so a hit maps back to a chunk or a
program without keeping the texts in memory twice.
"""

from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np

from assistant.jp_text import tokenize

IDS_FILE = "ids.json"


class KeywordIndex:
    """Okapi BM25 over :func:`assistant.jp_text.tokenize` tokens; the same tokenizer at index and query time."""

    def __init__(self, retriever: bm25s.BM25 | None, ids: list[str]) -> None:
        self._retriever = retriever  # None for an empty index (bm25s cannot index zero documents)
        self._ids = ids
        self._vocab: dict[str, int] = (retriever.vocab_dict or {}) if retriever else {}

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> KeywordIndex:
        if len(ids) != len(texts):
            raise ValueError("ids and texts differ in length")
        if not ids:
            return cls(None, [])
        retriever = bm25s.BM25()
        # An empty document would get no tokens; bm25s copes via its empty-token placeholder.
        retriever.index([tokenize(text) for text in texts], show_progress=False)
        return cls(retriever, list(ids))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            self._retriever.save(str(folder), show_progress=False)
        (folder / IDS_FILE).write_text(json.dumps(self._ids, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        ids = json.loads((folder / IDS_FILE).read_text(encoding="utf-8"))
        retriever = bm25s.BM25.load(str(folder), show_progress=False) if ids else None
        return cls(retriever, ids)

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, text: str, k: int = 10) -> list[tuple[str, float]]:
        """Best ``k`` (id, BM25 score) pairs with a positive score, best first."""
        return self.search_tokens(tokenize(text), k)

    def search_tokens(self, tokens: list[str], k: int = 10) -> list[tuple[str, float]]:
        """:meth:`search` for a question already tokenized (the chunk and the program index share one
        tokenization per question); tokens the index has never seen cannot score and are dropped."""
        tokens = [t for t in tokens if t in self._vocab]
        if not tokens or self._retriever is None:
            return []
        scores = np.asarray(self._retriever.get_scores(tokens), dtype=np.float64)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._ids[i], float(scores[i])) for i in top if scores[i] > 0]
