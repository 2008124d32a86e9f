"""A bounded, thread-safe LRU of query vectors, keyed by the text the model actually reads.

Why: a help desk asks the same questions again (and one request may embed the same text twice: retrieval,
then program matching), and a question embedding is most of a request's CPU. The key is the tokenizer's
own normalisation of ``prompt + text`` (code-point table, runs of spaces collapsed), so two keys that are
equal always give the same token ids and hence the same vector: a hit can never return a vector the model
would not have computed for that text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np


class QueryCache:
    """Least-recently-used map ``normalised text → vector`` holding at most ``max_entries`` vectors.

    ``max_entries`` 0 turns caching off. Stored vectors are read-only, so a caller cannot change a cached
    entry through the array it was given.
    """

    def __init__(self, max_entries: int, normalise: Callable[[str], str]) -> None:
        self.max_entries = max(0, int(max_entries))
        self._normalise = normalise
        self._entries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def key(self, text: str) -> str:
        return self._normalise(text)

    def get(self, key: str) -> np.ndarray | None:
        if not self.max_entries:
            return None
        with self._lock:
            vector = self._entries.get(key)
            if vector is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return vector

    def put(self, key: str, vector: np.ndarray) -> None:
        if not self.max_entries:
            return
        stored = np.array(vector, dtype=np.float32, copy=True)
        stored.flags.writeable = False
        with self._lock:
            self._entries[key] = stored
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def embed(
        self, texts: list[str], compute: Callable[[list[str]], np.ndarray], dimension: int
    ) -> np.ndarray:
        """Vectors for ``texts`` (already prefixed with the query prompt): cached ones looked up, the rest
        computed in one call of ``compute`` and remembered."""
        keys = [self.key(t) for t in texts]
        out = np.empty((len(texts), dimension), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            vector = self.get(key)
            if vector is None:
                missing.setdefault(key, []).append(i)
            else:
                out[i] = vector
        if missing:
            first = [positions[0] for positions in missing.values()]
            computed = compute([texts[i] for i in first])
            for (key, positions), vector in zip(missing.items(), computed, strict=True):
                out[positions] = vector
                self.put(key, vector)
        return out


def tokenizer_normaliser(tokenizer: Any) -> Callable[[str], str]:
    """The cache key of a ``tokenizers.Tokenizer``: its normaliser's output.

    Special tokens (``<s>``, ``</s>``, …) are matched in the raw text before normalisation, so a text whose
    normalised form spells one (「＜s＞」 → ``<s>``) is keyed by its raw text instead: equal keys then always
    mean equal token ids.
    """
    normalizer = getattr(tokenizer, "normalizer", None)
    specials = [t.content for t in tokenizer.get_added_tokens_decoder().values()]

    def normalise(text: str) -> str:
        key = normalizer.normalize_str(text) if normalizer is not None else text
        if any(s in key for s in specials):
            return "\0raw\0" + text
        return key

    return normalise
