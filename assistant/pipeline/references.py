"""References to the conversation: what 「それ」「その事業」「後者」「2番目」「経産省のほう」「その中で」 point at.

:class:`ReferenceResolver` is built once from the catalog and the program matcher; the reader calls it for a
question that names no program, with the programs the conversation named most recently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from assistant.jp_text import normalize, tokenize
from assistant.pipeline import cues
from assistant.pipeline.conditions import Condition
from assistant.pipeline.matching import ProgramMatcher, match_key
from assistant.records import Program

if TYPE_CHECKING:
    from assistant.pipeline.read import Turn


@dataclass(frozen=True)
class Reference:
    """What the question's pointing words refer to in the conversation."""

    expression: str  # the words that point back (その事業, 後者, 経産省のほう, or "" for an implied subject)
    status: Literal["resolved", "ambiguous", "missing"]
    program_ids: tuple[str, ...] = ()  # resolved
    candidates: tuple[str, ...] = ()  # the programs it could mean (ambiguous), or the set (その中で)
    scope: Literal["one", "all", "set"] = "one"
    picked_by: str = ""  # ordinal / ministry / applicant / budget / anaphora / implied


class ReferenceResolver:
    """Built once per process; thread-safe (no per-call state)."""

    def __init__(self, programs: Sequence[Program], matcher: ProgramMatcher) -> None:
        self.programs = {p.id: p for p in programs}
        self.matcher = matcher

    def history(self, history: Sequence[Turn]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Programs of the most recent turn that names any (the assistant's answer before the user's)."""
        for turn in reversed(history):
            found = self.matcher.find(turn.content) if turn.role == "user" else self._printed(turn.content)
            if found:
                return tuple(found), tuple(t.content for t in history)
        return (), tuple(t.content for t in history)

    def named_in(self, history: Sequence[Turn]) -> tuple[str, ...]:
        """Every program the conversation named, the most recent turn's first."""
        found: list[str] = []
        for turn in reversed(history):
            ids = self.matcher.find(turn.content) if turn.role == "user" else self._printed(turn.content)
            found.extend(pid for pid in ids if pid not in found)
        return tuple(found)

    def _printed(self, text: str) -> list[str]:
        """Programs an assistant turn names: it prints catalog names exactly, so exact matching suffices."""
        key = match_key(text)
        hits: list[tuple[int, str]] = []
        taken = [False] * len(key)
        for variant, pid in self.matcher.variants:
            start = key.find(variant)
            while start >= 0:
                end = start + len(variant)
                if not any(taken[start:end]):
                    taken[start:end] = [True] * (end - start)
                    hits.append((start, pid))
                start = key.find(variant, start + 1)
        return list(dict.fromkeys(pid for _, pid in sorted(hits)))

    def resolve(
        self,
        masked: str,
        language: str,
        cue_set: set[str],
        asked: frozenset[str],
        conditions: list[Condition],
        history: Sequence[Turn],
        recent: tuple[str, ...],
    ) -> Reference | None:
        text = masked.lower() if language == "en" else masked
        ordinal = cues.ORDINAL.search(text)
        set_ref = cues.SET_REFERENCE.search(text)
        plural = cues.PLURAL_REFERENCE.search(text)
        anaphora = cues.ANAPHORA.search(text)
        pick = cues.PICK.search(text)
        points_back = bool(ordinal or set_ref or plural or anaphora or pick)
        if not points_back and not self._implied_subject(text, cue_set, asked, conditions, history):
            return None
        pointer = next((m for m in (ordinal, set_ref, plural, anaphora, pick) if m), None)
        inside = language == "ja" and pointer is not None and _antecedent_inside(text, pointer)
        if (anaphora or set_ref) and not ordinal and inside:
            # 「AIの技術を持つ研究室があります。それを農業に…」「文科省の事業を挙げて。そのうち…」「これは何という
            # 制度ですか？知事が…交付金です」: the words point inside the question, not at the conversation.
            return None
        if not recent:
            if not (ordinal or anaphora or set_ref):
                return None  # 「どちらも」「…のほう」 with nothing before them are not references
            if history:
                return None  # the conversation named no program: it points at what was discussed (its topic)
            expression = (
                next(m.group(0) for m in (ordinal, set_ref, plural, anaphora, pick, None) if m)
                if points_back
                else ""
            )
            return Reference(
                expression.strip(), "missing", picked_by="anaphora" if points_back else "implied"
            )
        programs = [self.programs[pid] for pid in recent if pid in self.programs]
        if ordinal:
            index = _ordinal_index(ordinal, len(recent))
            if index is None:
                return Reference(ordinal.group(0), "ambiguous", candidates=recent, picked_by="ordinal")
            return Reference(ordinal.group(0), "resolved", (recent[index],), picked_by="ordinal")
        if pick and cues.RANKING.search(text) and len(recent) > 1 and not set_ref:
            # 「予算が小さいほう」: the programs just discussed, ranked by budget.
            return Reference(pick.group(0), "resolved", recent, recent, "set", "budget")
        if pick or set_ref:
            picked = _pick(programs, conditions)
            if picked is None and pick:
                # 「国交省のほう」 after a turn that named only 総務省's program: the one named earlier.
                earlier = [self.programs[pid] for pid in self.named_in(history) if pid in self.programs]
                picked = _pick(earlier, conditions)
            if picked is not None:
                by, chosen = picked
                several = bool(set_ref or plural or cues.COMPARE.search(text) or cues.RANKING.search(text))
                status = "resolved" if len(chosen) == 1 or several else "ambiguous"
                ids = tuple(p.id for p in chosen)
                return Reference(
                    (pick or set_ref).group(0), status, ids if status == "resolved" else (), ids, "one", by
                )
        if set_ref:
            return Reference(set_ref.group(0), "resolved", recent, recent, "set", "set")
        if plural or len(recent) == 1:
            expression = (plural or anaphora or pick).group(0) if points_back else ""
            return Reference(
                expression, "resolved", recent[:5], recent, "all" if plural else "one", "anaphora"
            )
        if not points_back:  # an implied subject after several programs: each of them
            return Reference("", "resolved", recent[:3], recent, "all", "implied")
        return Reference(
            (anaphora or pick).group(0), "ambiguous", candidates=recent[:5], picked_by="anaphora"
        )

    def _implied_subject(
        self,
        text: str,
        cue_set: set[str],
        asked: frozenset[str],
        conditions: list[Condition],
        history: Sequence[Turn],
    ) -> bool:
        """A question that names nothing but asks a program's attribute (「電話番号は？」「申請できるのは誰？」)
        refers to the program just discussed; one that states its own subject (a list, conditions) does not."""
        if not history or "list" in cue_set and "explicit_list" in cue_set or "goal" in cue_set:
            return False
        if any(
            c.role == "asked" and c.field in ("ministry", "theme", "min_budget", "max_budget")
            for c in conditions
        ):
            return False
        if "ranking" in cue_set and "list" in cue_set:
            return False
        if cues.WHICH_PROGRAMS.search(text) or any(c.role == "filter" for c in conditions):
            return False  # 「大学が申請できる事業は？」 asks for programs (and a sidebar filter sets its own subject)
        program_attribute = bool(asked & (cues.CATALOG_ATTRIBUTES | cues.UNSTATED_ATTRIBUTES | {"overview"}))
        return len(text) <= 12 or (program_attribute and len(text) <= 40)


def _ordinal_index(match: re.Match[str], count: int) -> int | None:
    word = match.group(0)
    if "前者" in word or "最初" in word:
        return 0
    if "後者" in word or "最後" in word:
        return count - 1
    raw = match.group("n") or match.group("en")
    if raw in ("latter", "last"):
        return count - 1
    number = _ordinal_number(raw)
    return number - 1 if number is not None and 1 <= number <= count else None


def _ordinal_number(raw: str | None) -> int | None:
    if raw is None:
        return None
    raw = normalize(raw)
    if raw.isdigit():
        return int(raw)
    return cues.ORDINAL_WORDS.get(raw)


def _pick(programs: list[Program], conditions: list[Condition]) -> tuple[str, list[Program]] | None:
    """The programs of the conversation that a 「…のほう」 picks: by ministry or by applicant."""
    ministries = {v for c in conditions if c.field == "ministry" and c.op == "any" for v in c.value}  # type: ignore[union-attr]
    if ministries:
        chosen = [p for p in programs if p.ministry in ministries]
        if chosen:
            return "ministry", chosen
    applicants = {v for c in conditions if c.field == "applicant" and c.op in ("all", "any") for v in c.value}  # type: ignore[union-attr]
    if applicants:
        chosen = [p for p in programs if any(a in t for a in applicants for t in p.applicant_types)]
        if chosen:
            return "applicant", chosen
    return None


#: Words that ask and point without saying what about (they are no antecedent).
_POINTING_FRAME = frozenset(
    tokenize("事業 制度 プログラム 支援 もの 何 なに どれ 教える 知る 使える できる ある 出す 出せる")
)


def _antecedent_inside(text: str, pointer: re.Match[str]) -> bool:
    """Whether the pointing words have their antecedent in the question itself: content before them
    (「…研究室があります。それを…」), or — for 「これは何…？」 first — a sentence after that describes it."""
    before = set(tokenize(text[: pointer.start()])) - _POINTING_FRAME
    if len(before) >= 2:
        return True
    if not pointer.group(0).lstrip("、。 ").startswith(("これ", "この", "こちら", "こういう", "こうした")):
        return False  # そ- words point back; only こ- words point ahead (「これは何…？…です」)
    sentences = re.split(r"(?<=[。？！?!])", text[pointer.end() :])
    later = " ".join(sentences[1:])
    return len(set(tokenize(later)) - _POINTING_FRAME) >= 4
