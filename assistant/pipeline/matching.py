"""Finding the programs a text names: by name or alias, by reading (kana input), or with a small typo.

People do not type program names as the tables print them: widths and separators differ
(ローカル10000 = ローカル10,000), they use aliases (共創の場, SPARC), type the name in hiragana
(a whole name in hiragana, matched by Sudachi's reading), or slip a character (one wrong kana). Each way is tried in
that order; a later way only fills places of the text that an earlier one did not explain, and a reading
or typo match that fits two programs equally well is not taken (a guess would name the wrong program).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from assistant.jp_text import loose_reading, normalize, reading_spans, tokenize
from assistant.records import Program
from assistant.tuning import MATCHING

MatchKind = Literal["name", "reading", "typo", "words"]


_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u30fc]")


@dataclass(frozen=True)
class Mention:
    """A program named in a text: where (offset in the normalised key, for order) and how."""

    program_id: str
    start: int
    how: MatchKind
    text: str = ""  # what was typed (normalised key form), e.g. a name with a typo


def load_extra_aliases(path: Path) -> dict[str, list[str]]:
    """Names people use that the documents do not print (共創の場, English names), program name → names."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: list(entry["aliases"]) for name, entry in data.items()}


def match_key(text: str) -> str:
    """Normalised form for name matching: NFKC, lower case, no separators, quotes or spaces."""
    text = normalize(text).lower()
    return re.sub(r"[\s「」『』\"'“”・,，、()（）]", "", text)


def _name_variants(name: str) -> set[str]:
    key = match_key(name)
    variants = {key}
    for suffix in ("プロジェクト", "プログラム", "事業"):
        if key.endswith(suffix) and len(key) - len(suffix) >= 6:
            variants.add(key[: -len(suffix)])
    return variants


def _is_whole_word(key: str, start: int, end: int, variant: str) -> bool:
    """ASCII aliases (SIP, START, WPI) must not match inside another word (e.g. 'start' in 'startup');
    a short Japanese alias must not be the tail of a longer compound (共創の場 inside 地域共創の場)."""
    before = key[start - 1] if start > 0 else ""
    if not variant.isascii():
        return len(variant) > 6 or not re.match(r"[\u4e00-\u9fff\u30a0-\u30ff]", before)
    after = key[end] if end < len(key) else ""
    if re.match(r"(?:project|programme|program|initiative|scheme|grant)", key[end:]):
        after = ""  # "RoAD to the L4 project": the English word for the name's プロジェクト
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


@dataclass
class ProgramMatcher:
    """Built once per process from the catalog; ``mentions`` is thread-safe."""

    variants: list[tuple[str, str]] = field(default_factory=list)  # (key, program id), longest first
    readings: list[tuple[str, str]] = field(default_factory=list)  # (katakana reading, program id)
    typo_names: list[str] = field(default_factory=list)  # keys long enough for typo matching
    typo_ids: list[str] = field(default_factory=list)
    #: Latin names (RoAD to the L4, COI-NEXT) as patterns with word boundaries and free spacing: the key
    #: drops spaces, so "…the RoAD to the L4 project" would otherwise fail its word-boundary check.
    latin: list[tuple[re.Pattern[str], str, int]] = field(default_factory=list)

    @classmethod
    def from_programs(
        cls, programs: list[Program], extra_aliases: dict[str, list[str]] | None = None
    ) -> ProgramMatcher:
        found: dict[str, str] = {}
        ambiguous: set[str] = set()
        names_of: dict[str, list[str]] = {}
        for program in programs:
            names = [program.name, *program.aliases, *(extra_aliases or {}).get(program.name, [])]
            names_of[program.id] = names
            for name in names:
                for variant in _name_variants(name):
                    if found.get(variant, program.id) != program.id:
                        ambiguous.add(variant)
                    found[variant] = program.id
        for program in programs:
            ambiguous.discard(match_key(program.name))  # a full name always wins
        variants = [(v, pid) for v, pid in found.items() if v not in ambiguous and len(v) >= 2]
        variants.sort(key=lambda item: -len(item[0]))

        readings: dict[str, set[str]] = {}
        typo: dict[str, set[str]] = {}
        for pid, names in names_of.items():
            for name in names:
                key = match_key(name)
                if not re.search(r"[0-9a-z]", key):  # digits and Latin letters have no kana reading
                    kana = loose_reading("".join(part for _, part in reading_spans(normalize(name))))
                    if len(kana) >= MATCHING.min_reading_chars:
                        readings.setdefault(kana, set()).add(pid)
                if len(key) >= MATCHING.min_typo_chars and not key.isascii():
                    typo.setdefault(key, set()).add(pid)
        unique_readings = [(kana, next(iter(ids))) for kana, ids in readings.items() if len(ids) == 1]
        unique_readings.sort(key=lambda item: -len(item[0]))
        typo_pairs = sorted((key, next(iter(ids))) for key, ids in typo.items() if len(ids) == 1)
        latin = [
            (
                re.compile(
                    r"(?<![a-z0-9])"
                    + r"[\s\-]*".join(re.escape(ch) for ch in variant)
                    + r"(?:\s*(?:project|programme|program|initiative|scheme|grant)s?)?(?![a-z0-9])"
                ),
                pid,
                len(variant),
            )
            for variant, pid in variants
            if variant.isascii() and len(variant) >= 4 and re.search(r"[a-z]", variant)
        ]
        return cls(
            variants,
            unique_readings,
            [key for key, _ in typo_pairs],
            [pid for _, pid in typo_pairs],
            latin,
        )

    def find(self, text: str) -> list[str]:
        """Program ids named in ``text``, in order of appearance (each once)."""
        ordered: list[str] = []
        for mention in self.mentions(text):
            if mention.program_id not in ordered:
                ordered.append(mention.program_id)
        return ordered

    def mentions(self, text: str) -> list[Mention]:
        """Every program mention, in order of appearance: exact names first, then readings, then typos."""
        key = match_key(text)
        taken = [False] * len(key)
        hits: list[Mention] = []
        for variant, pid in self.variants:
            start = key.find(variant)
            while start >= 0:
                end = start + len(variant)
                if not any(taken[start:end]) and _is_whole_word(key, start, end, variant):
                    taken[start:end] = [True] * (end - start)
                    hits.append(Mention(pid, start, "name", variant))
                start = key.find(variant, start + 1)
        if self.latin and re.search(r"[A-Za-z]", text):
            lowered = normalize(text).lower()
            for pattern, pid, size in self.latin:
                for m in pattern.finditer(lowered):
                    at = len(match_key(lowered[: m.start()]))
                    if not any(taken[at : at + size]) and pid not in {h.program_id for h in hits}:
                        taken[at : at + size] = [True] * min(size, len(taken) - at)
                        hits.append(Mention(pid, at, "name", match_key(m.group(0))))
        if not all(taken):
            hits.extend(self._by_reading(key, taken))
            hits.extend(self._by_typo(key, taken))
        return sorted(hits, key=lambda m: m.start)

    def _by_reading(self, key: str, taken: list[bool]) -> list[Mention]:
        """Names typed in kana: the question's reading holds a program name's reading."""
        if not re.search(r"[\u3041-\u30fa]", key):
            return []
        spans = reading_spans(key)
        if not spans:
            return []
        offsets, text = [], ""
        for start, kana in spans:
            kana = loose_reading(kana)
            offsets.extend([start] * len(kana))
            text += kana
        hits = []
        used = [False] * len(text)
        for kana, pid in self.readings:
            at = text.find(kana)
            while at >= 0:
                end = at + len(kana)
                surface_start, surface_end = offsets[at], offsets[end - 1] + 1
                typed = key[surface_start:surface_end]
                # The name must be typed (mostly) in kana: a homophone in kanji (地域共創の場) is another word.
                kana_share = len(_KANA.findall(typed)) / max(1, len(typed))
                if kana_share >= 0.5 and not any(used[at:end]) and not any(taken[surface_start:surface_end]):
                    used[at:end] = [True] * (end - at)
                    taken[surface_start:surface_end] = [True] * (surface_end - surface_start)
                    hits.append(Mention(pid, surface_start, "reading", typed))
                at = text.find(kana, at + 1)
        return hits

    def _by_typo(self, key: str, taken: list[bool]) -> list[Mention]:
        """A name with a small typo: within one edit per ``chars_per_typo`` characters of a window of the text
        that no exact name explains; the best program must beat the runner-up."""
        free = "".join(ch if not t else "\0" for ch, t in zip(key, taken, strict=True))
        if len(free.replace("\0", "")) < MATCHING.min_typo_chars:
            return []
        candidates = process.extract(
            free, self.typo_names, scorer=fuzz.partial_ratio, score_cutoff=MATCHING.typo_prefilter, limit=8
        )
        best: dict[str, tuple[int, int, int]] = {}  # pid → (distance, start, end)
        for name, _score, index in candidates:
            allowed = max(1, len(name) // MATCHING.chars_per_typo)
            window = _best_window(free, name, allowed)
            if window is None:
                continue
            pid = self.typo_ids[index]
            if pid not in best or window[0] < best[pid][0]:
                best[pid] = window
        hits = []
        for pid, (distance, start, end) in sorted(best.items(), key=lambda item: item[1][0]):
            rivals = [d for other, (d, s, e) in best.items() if other != pid and s < end and start < e]
            if any(d <= distance for d in rivals) or any(taken[start:end]):
                continue
            taken[start:end] = [True] * (end - start)
            hits.append(Mention(pid, start, "typo", key[start:end]))
        return hits


def _best_window(text: str, name: str, allowed: int) -> tuple[int, int, int] | None:
    """The window of ``text`` (length ±1 of the name's) closest to ``name`` in edit distance, if within
    ``allowed`` and not identical (an identical window is an exact match, found before)."""
    best: tuple[int, int, int] | None = None
    n = len(name)
    for size in (n, n - 1, n + 1):
        for start in range(0, max(0, len(text) - size) + 1):
            window = text[start : start + size]
            if "\0" in window:
                continue
            distance = Levenshtein.distance(name, window, score_cutoff=allowed)
            if distance <= allowed and (best is None or distance < best[0]):
                best = (distance, start, start + size)
    return best if best is not None and best[0] > 0 else None


#: Words every program name or question about programs uses: they tell no program apart.
_GENERIC_NAME_WORDS = frozenset(
    tokenize(
        "事業 プログラム プロジェクト 制度 支援 推進 交付金 補助金 助成 予算 予算額 担当 部署 課 室 局 連絡先 問い合わせ "
        "電話 番号 メール アドレス 申請 主体 誰 どこ 教える 知る 省 府 庁 文科 経産 環境 総務 国交 農水 内閣 厚労 文部 科学 "
        "経済 産業 国土 交通 農林 水産 厚生 労働 国 新規 採択 所管 いくら 額 窓口 等 事 もの 方 ほう 今 年度"
    )
)


@dataclass(frozen=True)
class NameWords:
    """Programs by the words of their names: 「自動運転レベル4のプロジェクト（L4）の担当は？」 names RoAD to the L4
    by words its names hold (自動運転, レベル4, L4) without any of them written whole. Built once per process."""

    tokens: dict[str, frozenset[str]]  # program id → the words of its name and aliases
    idf: dict[str, float]

    @classmethod
    def from_programs(
        cls, programs: list[Program], extra_aliases: dict[str, list[str]] | None = None
    ) -> NameWords:
        import math

        tokens = {
            p.id: frozenset(tokenize(" ".join([p.name, *p.aliases, *(extra_aliases or {}).get(p.name, [])])))
            - _GENERIC_NAME_WORDS
            for p in programs
        }
        counts: dict[str, int] = {}
        for words in tokens.values():
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        total = max(1, len(tokens))
        return cls(tokens, {w: math.log(1 + total / c) for w, c in counts.items()})

    def best(self, words: set[str]) -> str | None:
        """The one program whose name words cover the question's specific words (IDF-weighted), or None."""
        specific = {w for w in words if w not in _GENERIC_NAME_WORDS and len(w) >= 1}
        if not specific:
            return None
        unknown = max(self.idf.values(), default=1.0)
        mass = sum(self.idf.get(w, unknown) for w in specific)
        scores = sorted(
            ((sum(self.idf[w] for w in specific & name) / mass, pid) for pid, name in self.tokens.items()),
            reverse=True,
        )
        if not scores:
            return None
        top, pid = scores[0]
        second = scores[1][0] if len(scores) > 1 else 0.0
        matched = specific & self.tokens[pid]
        if (
            top >= MATCHING.min_name_words_share
            and top - second >= MATCHING.name_words_margin
            and len(matched) >= 2
        ):
            return pid
        return None
