"""How much of a question a text covers: IDF-weighted overlap of Sudachi content words.

Shared by the composer (which sentence answers), the answer service (is the question answerable at all)
and the recommender (a lexical tie-break between programs whose purposes embed almost alike).
"""

from __future__ import annotations

import math
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache

from assistant.jp_text import tokenize

#: Words of a question that ask or point at the document rather than name what is asked about
#: (「中間とりまとめはどんな型を挙げていますか」): no passage is expected to contain them.
QUESTION_SCAFFOLD = frozenset(
    ["挙げる", "述べる", "示す", "書く", "記載", "載る", "説明", "とりまとめ", "中間", "報告書", "資料"]
)


#: Texts whose content words are kept: the corpus's sentences (and headings with them) are scored against
#: every question, and tokenizing them again each time was a quarter of an answer's CPU outside the model.
TEXT_TOKENS_CACHE = 32_768


@lru_cache(maxsize=TEXT_TOKENS_CACHE)
def text_tokens(text: str) -> frozenset[str]:
    """The content words of ``text`` as a set, tokenized once per process (bounded LRU)."""
    return frozenset(tokenize(text))


@dataclass
class SentenceScorer:
    """IDF-weighted overlap of content words: which sentence of a passage answers the question."""

    idf: dict[str, float]
    unseen_idf: float = 1.0  # weight of a word the corpus never uses: rarer than any word it does

    @classmethod
    def from_texts(cls, texts: list[str]) -> SentenceScorer:
        df: dict[str, int] = {}
        for text in texts:
            for token in set(tokenize(text)):
                df[token] = df.get(token, 0) + 1
        n = max(1, len(texts))
        # A question word absent from the corpus is the strongest sign the corpus cannot answer it,
        # so it weighs like a word seen in half a passage (more than any word that occurs).
        return cls({t: math.log(1 + n / d) for t, d in df.items()}, unseen_idf=math.log(1 + n / 0.5))

    def weight(self, token: str) -> float:
        return self.idf.get(token, self.unseen_idf)

    def coverage(self, question_tokens: set[str], text: str) -> float:
        """Share of the question's content (by IDF weight) that ``text`` contains."""
        return self.token_coverage(question_tokens, text_tokens(text))

    def token_coverage(self, question_tokens: set[str], tokens: AbstractSet[str]) -> float:
        """:meth:`coverage` for a text tokenized once beforehand (texts compared with every question)."""
        question_tokens = question_tokens - QUESTION_SCAFFOLD
        if not question_tokens:
            return 0.0
        total = sum(self.weight(t) for t in question_tokens)
        return sum(self.weight(t) for t in question_tokens & tokens) / total
