"""The verifier of generated answers: every sentence is checked against the evidence it cites.

A generated sentence ends with the ids of the evidence it rests on (``…です。[E2][E5]``). It is kept only
when

* it cites at least one evidence id, and every id exists in the plan;
* every yen amount in it equals an amount of its cited evidence (14.5億円 = 1,450,000千円 only through
  :func:`assistant.vocabulary.to_thousand_yen`; a table row's bare figures are in 千円), every other number
  (a date, a count, an extension) stands in its cited evidence, and every phone number and e-mail address;
* every program, ministry, department and organisation it names stands in its cited evidence (a catalog
  program: evidence about that program), and an amount or a contact is one of the evidence about the
  program the sentence attributes it to (the program named nearest before it);
* text in 「…」 or 『…』 is verbatim in its cited evidence (white space and character width aside);
* it does not contradict the plan: the yes/no verdict, a comparison's winner and direction, "the same" or
  "different".

Then :meth:`Verifier.answers` decides whether the kept sentences still answer the question (the verdict,
the winner, the leading program, every program of a list, the contact asked for …); if not, the
deterministic answer is given instead. Nothing here knows any particular question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from assistant.pipeline.evidence import Evidence
from assistant.pipeline.matching import ProgramMatcher, match_key
from assistant.pipeline.plan import AnswerPlan
from assistant.records import Program
from assistant.vocabulary import (
    AMOUNT,
    APPLICANT_ALIASES,
    EMAIL,
    GENERIC_ORGANISATIONS,
    GENERIC_PROGRAM_HEADS,
    MINISTRIES,
    MINISTRY_ALIASES,
    MINISTRY_LETTERS,
    MINISTRY_SHORT_FORMS,
    ORGANISATION_NAME_ENDINGS,
    PHONE,
    PROGRAM_SUFFIXES,
    amounts_in,
    contacts_in,
    to_thousand_yen,
)

DropReason = Literal[
    "no_citation",
    "unknown_evidence",
    "quote_not_verbatim",
    "contact_not_in_evidence",
    "amount_not_in_evidence",
    "number_not_in_evidence",
    "program_not_in_evidence",
    "organisation_not_in_evidence",
    "fact_of_other_program",
    "contradicts_verdict",
    "contradicts_winner",
    "prompt_echo",
]


class SentenceCheck(BaseModel):
    """One generated sentence and what the verifier decided (the text is shown only when kept)."""

    text: str | None = Field(None, description="The sentence as shown (kept sentences only).")
    cites: list[int] = Field(description="Evidence ids the sentence cited.")
    kept: bool = Field(description="Whether the sentence passed every check.")
    reason: DropReason | None = Field(None, description="Why it was dropped.")


class Verification(BaseModel):
    """How a generative answer was checked (absent for the deterministic composer)."""

    composer: str = Field(description="The generative composer that was asked: openai or local.")
    answered_by: str = Field(
        description="Who wrote the answer text: the generative composer or deterministic."
    )
    kept: int = Field(description="Generated sentences that passed the checks (shown unless fallback).")
    dropped: int = Field(description="Generated sentences dropped by the checks.")
    fallback: bool = Field(
        description="Generation was tried and failed, so the deterministic answer was given instead."
    )
    reason: str | None = Field(
        None,
        description="Why the deterministic answer was given: unavailable, timeout, malformed, refusal, error, "
        "nothing_verified, incomplete (fallbacks); plan_abstains, no_evidence, too_much_evidence (by design).",
    )
    note: str = Field("", description="What the reader is told about it (shown with a fallback).")
    sentences: list[SentenceCheck] = Field(
        default_factory=list, description="Each generated sentence in order, kept or dropped with the reason."
    )


# -- sentences of generated text ---------------------------------------------------------------------------
#: An evidence mark: [E3], ［E3］, 【E3】, [E3, E5], [E3][E5] (marks in a row are read one by one).
MARK = re.compile(r"[\[［【]\s*[Ee]\s*(\d+(?:\s*[,、，]\s*[Ee]?\s*\d+)*)\s*[\]］】]")
_MARK_PREFIX = re.compile(r"^\s*(?:[\[［【](?:\s*[Ee]?\s*(?:\d+(?:\s*[,、，]\s*[Ee]?\s*\d*)*)?)?)?$")
_TERMINATORS = "。！？!?"
_ENUMERATION = re.compile(r"^\s*(?:\d{1,2}[\.．)）]\s*|[（(]\d{1,2}[)）]\s*|【\d{1,2}】\s*|[-*・•]\s+)")


@dataclass
class Sentence:
    """A generated sentence: its text without the marks, and the evidence ids it cites (in order)."""

    text: str
    cites: list[int]


def parse_sentence(raw: str) -> Sentence | None:
    """Marks out, Markdown emphasis out, the final 。 or . out; ``None`` for an empty piece."""
    cites: list[int] = []
    for match in MARK.finditer(raw):
        for number in re.findall(r"\d+", match.group(1)):
            if int(number) not in cites:
                cites.append(int(number))
    text = MARK.sub("", raw).replace("**", "").strip()
    text = re.sub(r"^#+\s*", "", text)
    text = text.rstrip("。.．").strip()
    if not text or not re.search(r"\w", text):
        return None
    return Sentence(text=text, cites=cites)


class SentenceSplitter:
    """Cuts streamed text into sentences: after 。！？ (or '.' before a space), at a line break, never inside
    「…」; evidence marks right after the end (「…です。[E2]」) belong to the sentence they follow."""

    def __init__(self) -> None:
        self.buffer = ""

    def feed(self, piece: str) -> list[str]:
        self.buffer += piece
        return self._cut(final=False)

    def flush(self) -> list[str]:
        done = self._cut(final=True)
        rest, self.buffer = self.buffer, ""
        return [*done, rest] if rest.strip() else done

    def _cut(self, final: bool) -> list[str]:
        out: list[str] = []
        while True:
            end = self._sentence_end(final)
            if end is None:
                return out
            out.append(self.buffer[:end])
            self.buffer = self.buffer[end:]

    def _sentence_end(self, final: bool) -> int | None:
        depth = 0
        text = self.buffer
        for i, ch in enumerate(text):
            if ch in "「『":
                depth += 1
            elif ch in "」』" and depth:
                depth -= 1
            if ch == "\n":
                return i + 1
            if depth:
                continue
            is_end = ch in _TERMINATORS
            if ch in ".．":
                nxt = text[i + 1 : i + 2]
                if not nxt and not final:
                    return None  # 14. or 14.5: wait for the next character
                is_end = not nxt or nxt.isspace() or nxt in "[［【"
            if not is_end:
                continue
            j = i + 1
            while True:
                match = re.match(r"[ \t　]*" + MARK.pattern, text[j:])
                if not match:
                    break
                j += match.end()
            rest = text[j:]
            if not final and _MARK_PREFIX.match(rest) and not rest.endswith("\n"):
                return None  # a mark may still be coming
            return j
        return None


# -- normalisation ----------------------------------------------------------------------------------------
_DIGIT_COMMA = re.compile(r"(?<=\d)[,，](?=\d)")
_DASHES = re.compile(r"(?<=\d)[‐‑‒–—―−－ー](?=\d)")


def norm(text: str) -> str:
    """Width (NFKC), no white space, no thousands separators, one hyphen between digits."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", "", text)
    text = _DIGIT_COMMA.sub("", text)
    return _DASHES.sub("-", text)


def _digit_runs(text: str) -> set[str]:
    return set(re.findall(r"\d+", norm(text)))


def _quote_body(quoted: str) -> str:
    """A quote as a sentence may print it: no leading bullet or list mark, no closing 。."""
    return quoted.strip().lstrip("・•◆➢✓-－○●■□◇▶► ").rstrip("。．.")


# -- the verifier -------------------------------------------------------------------------------------------
@dataclass
class _Fact:
    kind: Literal["amount", "contact"]
    value: int | str
    at: int  # character offset in the checked text (for the program it is attributed to)


@dataclass
class Verifier:
    """Built once per process from the catalog; ``check`` and ``answers`` keep no state between calls."""

    programs: dict[str, Program]
    matcher: ProgramMatcher
    _ministry_words: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        words = [(alias, official) for alias, official in MINISTRY_ALIASES.items() if len(alias) >= 2]
        self._ministry_words = sorted(words, key=lambda item: -len(item[0]))

    # -- one sentence -------------------------------------------------------------------------------
    def check(self, sentence: Sentence, plan: AnswerPlan) -> DropReason | None:
        """Why the sentence must not be shown, or ``None`` when it passes every check."""
        if not sentence.cites:
            return "no_citation"
        if any(not 1 <= eid <= len(plan.evidence) for eid in sentence.cites):
            return "unknown_evidence"
        cited = [plan.evidence[eid - 1] for eid in sentence.cites]
        source = norm("\n".join(item.quote for item in cited))
        text = unicodedata.normalize("NFKC", _ENUMERATION.sub("", sentence.text))
        if _PROMPT_MARKUP.search(text):
            return "prompt_echo"  # the evidence list copied with its labels is not an answer

        # Quotes: verbatim; what they contain is then the evidence's own (masked for the checks below).
        for quoted in re.findall(r"「([^「」]*)」|『([^『』]*)』", text):
            body = _quote_body(quoted[0] or quoted[1])
            if body and norm(body) not in source:
                return "quote_not_verbatim"
        text = re.sub(r"「[^「」]*」|『[^『』]*』", "〔〕", text)

        facts: list[_Fact] = []
        known_contacts = contacts_in(source)
        for match in list(EMAIL.finditer(text)) + list(PHONE.finditer(text)):
            value = next(iter(contacts_in(match.group(0))), "")
            if value not in known_contacts:
                return "contact_not_in_evidence"
            facts.append(_Fact("contact", value, match.start()))
        text = _mask(text, [EMAIL, PHONE])

        plain, where = _without_digit_commas(text)
        allowed = set(amounts_in(source)) | _table_figures(cited)
        for match in AMOUNT.finditer(plain):
            value = to_thousand_yen(match.group("num"), match.group("unit"))
            if value not in allowed:
                return "amount_not_in_evidence"
            facts.append(_Fact("amount", value, where[match.start()]))
        numbers_left = AMOUNT.sub("〔〕", plain)
        runs = _digit_runs(source)
        for run in re.findall(r"\d+", numbers_left):
            if run not in runs:
                return "number_not_in_evidence"

        mentions = self._mentions(text)
        for pid, _at in mentions:
            if not any(self._about(item, pid) for item in cited):
                return "program_not_in_evidence"
        if self._unknown_program_name(text, [pid for pid, _ in mentions], source):
            return "program_not_in_evidence"
        if self._unknown_organisation(text, source):
            return "organisation_not_in_evidence"
        for fact in facts:
            owner = _owner(mentions, fact.at)
            if owner is not None and not any(
                self._about(item, owner) and _states(item, fact) for item in cited
            ):
                return "fact_of_other_program"
        return self._contradiction(text, mentions, plan)

    def _mentions(self, text: str) -> list[tuple[str, int]]:
        """Catalog programs the text names, with the character offset where each is named."""
        key = match_key(text)
        found = []
        for mention in self.matcher.mentions(text):
            if mention.how != "name":
                continue  # a reading or a typo match is a guess; generated text names programs as printed
            found.append((mention.program_id, _char_offset(text, key, mention.start)))
        return found

    def _about(self, item: Evidence, pid: str) -> bool:
        """Evidence about a catalog program: its row or description, a line labelled with it, or naming it."""
        program = self.programs.get(pid)
        if program is None:
            return False
        if item.program_id == pid or item.label == program.name:
            return True
        return pid in self.matcher.find(item.quote)

    def _unknown_program_name(self, text: str, mentioned: list[str], source: str) -> bool:
        """A program-like name (kanji/katakana before 事業, プログラム …) that neither the cited evidence nor
        the name of a catalog program the sentence names (checked above) contains."""
        suffixes = "|".join(sorted(PROGRAM_SUFFIXES, key=len, reverse=True))
        names = [norm(n) for pid in mentioned for n in (self.programs[pid].name, *self.programs[pid].aliases)]
        pattern = re.compile(rf"([{_NAME_CHARS}A-Za-z0-9]+?)({suffixes})")
        for match in pattern.finditer(text):
            head = match.group(1).lstrip("・")
            if len(head) < 2 or head in GENERIC_PROGRAM_HEADS or _head_is_generic(head):
                continue
            candidate = norm(head + match.group(2))
            if candidate not in source and not any(candidate in name for name in names):
                return True
        return False

    def _unknown_organisation(self, text: str, source: str) -> bool:
        """A ministry, department, unit, university or prefecture the cited evidence does not print."""
        lowered = text.lower()
        for alias, official in self._ministry_words:
            if not _contains_word(lowered, alias.lower()):
                continue
            if not _ministry_in(source, official):
                return True
        suffixes = "|".join(sorted(ORGANISATION_NAME_ENDINGS, key=len, reverse=True))
        for match in re.finditer(rf"[{_NAME_CHARS}]+?(?:{suffixes})(?![\u4e00-\u9fff])", text):
            name = match.group(0).lstrip("・")
            for unit in _units(name, suffixes):
                for ministry in MINISTRIES:
                    unit = unit.removeprefix(ministry)
                if len(unit) < 3 or unit in GENERIC_ORGANISATIONS:
                    continue
                if _is_ministry_word(unit):
                    continue
                if norm(unit) not in source:
                    return True
        return False

    # -- the plan -----------------------------------------------------------------------------------
    def _contradiction(
        self, text: str, mentions: list[tuple[str, int]], plan: AnswerPlan
    ) -> DropReason | None:
        if plan.verdict is not None:
            stated = self.verdict_of(text, plan)
            if stated is not None and stated != plan.verdict:
                return "contradicts_verdict"
        if plan.winner is not None and self.claims_winner(text, mentions, plan) is False:
            return "contradicts_winner"
        return None

    def verdict_of(self, text: str, plan: AnswerPlan) -> Literal["yes", "no"] | None:
        """The yes/no a sentence states: a leading はい/いいえ/yes/no; for a "same?" comparison 同じ/異なる; for a
        yes/no about a value (申請主体 大学), the sentence's polarity when it names that value."""
        head = text.lstrip("「『（( ").lower()
        if re.match(r"はい(?![り])|yes\b", head):
            return "yes"
        if re.match(r"いいえ|no\b", head):
            return "no"
        if plan.kind == "compare":
            if re.search(r"異な|違い|違う|different|differ", head):
                return "no"
            if re.search(r"同じ|同一|共通|same", head) and not _NEGATED.search(head):
                return "yes"
            return None
        values = _asked_words(plan)
        if values and any(v in head for v in values):
            if _NEGATED.search(head):
                return "no"
            if _AFFIRMED.search(head):
                return "yes"
        return None

    def claims_winner(self, text: str, mentions: list[tuple[str, int]], plan: AnswerPlan) -> bool | None:
        """For a comparison or ranking with a winner: does the sentence name the winner as such (True), name
        another program as such or the winner the wrong way round (False), or claim nothing (None)?"""
        lowered = text.lower()
        direction = _direction(lowered)
        if direction is None:
            return None
        expected = "small" if plan.question.ranking_ascending else "large"
        compared = {f.program.id for f in plan.programs}
        claims: list[bool] = []
        for marker in _WINNER_MARKERS.finditer(lowered):
            before = [pid for pid, at in mentions if at <= marker.start() and pid in compared]
            after = [pid for pid, at in mentions if at >= marker.end() and pid in compared]
            if marker.group(0) in ("より", "than"):
                loser = before[-1] if before else None
                if loser is None:
                    continue
                says_winner_is_not = loser == plan.winner
                claims.append(not (says_winner_is_not and direction == expected))
                continue
            named = before[-1] if before else (after[0] if after else None)
            if named is None:
                continue
            claims.append((named == plan.winner) == (direction == expected))
        if not claims:
            return None
        return all(claims)

    # -- does it still answer? -------------------------------------------------------------------------
    def answers(self, kept: list[Sentence], plan: AnswerPlan) -> bool:
        """Whether the kept sentences still answer: something cited, and what the plan's kind needs."""
        if not kept:
            return False
        joined = "\n".join(s.text for s in kept)
        named = {pid for s in kept for pid, _ in self._mentions(unicodedata.normalize("NFKC", s.text))}
        if plan.verdict is not None and not any(
            self.verdict_of(_plain(s.text), plan) == plan.verdict for s in kept
        ):
            return False
        if plan.winner is not None and plan.kind in ("compare", "ranking"):
            winner_stated = any(
                self.claims_winner(_plain(s.text), self._mentions(_plain(s.text)), plan) for s in kept
            )
            if not winner_stated and not (plan.kind == "ranking" and plan.winner in named):
                return False
        cited = {eid for s in kept for eid in s.cites}
        # Every program the deterministic answer would show is named: a list, the candidates of a goal, the
        # programs compared. Otherwise the leading one, which the question itself named: its row cited will do.
        if plan.kind in ("list", "fit", "compare"):
            if any(facts.program.id not in named for facts in plan.programs):
                return False
        elif plan.programs:
            leading_facts = plan.programs[0]
            if leading_facts.program.id not in named and leading_facts.row not in cited:
                return False
        if plan.kind == "fit" and any(norm(t.name) not in norm(joined) for t in plan.targets):
            return False
        leading = plan.programs[0].program if plan.programs else None
        asks = plan.kind in ("contact", "attribute", "yes_no") and leading is not None
        if asks and not _covers_asked(leading, plan.kind, plan.asked, joined):
            return False
        # A prose answer gives every passage the plan quotes (a section's several items, not one of them).
        return not (plan.kind == "prose" and not set(plan.quotes) <= cited)


def _covers_asked(program: Program, kind: str, asked: tuple[str, ...], text: str) -> bool:
    """The kept text states what was asked about the program, as far as its row states it."""
    wanted = contacts_in(" ".join([*program.tel, *program.email]))
    budget = program.budget_thousand_yen
    missing = [
        (kind == "contact" or "contact" in asked) and wanted and not wanted & contacts_in(text),
        "budget" in asked
        and budget is not None
        and budget not in set(amounts_in(norm(text))) | _bare_figures(text),
        "applicants" in asked
        and program.applicant_types
        and not any(a in text for a in program.applicant_types),
        "ministry" in asked and program.ministry and program.ministry not in text,
    ]
    return not any(missing)


# -- helpers ---------------------------------------------------------------------------------------------
#: The prompt's own markup around evidence: (row, …) / (表の行, …) labels, 原文「, the row's field list.
_PROMPT_MARKUP = re.compile(
    r"[(（]\s*(?:row|description|use_case|budget_line|quote|cell|表の行)\s*[,，、)）]|原文「|事業名[:：].*／所管[:：]"
)
#: Characters of a name: kanji, katakana, ・, and the placeholder circles a model may copy from an example.
_NAME_CHARS = "\u4e00-\u9fff\u30a0-\u30ff\u3007○◯●"
_NEGATED = re.compile(
    r"できません|できない|でき(?:ず|ぬ)|ではありません|ではない|ではなく|じゃない|ありません|含まれません|含まれない|入っていません|"
    r"入っていない|該当しません|該当しない|対象外|対象ではない|不可|ません|\bnot\b|\bcannot\b|can't|isn't|doesn't|\bno\b"
)
_AFFIRMED = re.compile(
    r"できます|できる|可能|含まれます|含まれる|入っています|該当します|対象です|です|\bcan\b|\bis\b|eligible"
)
_LARGE = re.compile(
    r"大きい|大き|多い|多く|上回|最大|最も高|高い|larger|largest|bigger|biggest|more|higher|highest"
)
_SMALL = re.compile(r"小さい|小さ|少ない|少な|下回|最小|低い|smaller|smallest|less|lower|lowest|fewer")
_WINNER_MARKERS = re.compile(
    r"の方が|のほうが|が最も|は最も|が一番|は一番|が最大|が最小|より|than|has the|is the"
)


def _direction(text: str) -> Literal["large", "small"] | None:
    large, small = _LARGE.search(text), _SMALL.search(text)
    if large and not small:
        return "large"
    if small and not large:
        return "small"
    return None


def _asked_words(plan: AnswerPlan) -> list[str]:
    """The words a yes/no question's value is written with (大学等研究機関: 大学, 研究機関 …)."""
    words: list[str] = []
    for condition in plan.conditions:
        if condition.role == "background" or condition.field != plan.verdict_attribute:
            continue
        values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
        for value in values:
            if not isinstance(value, str):
                continue
            words.append(value)
            table = APPLICANT_ALIASES if condition.field == "applicant" else MINISTRY_ALIASES
            words.extend(
                alias for alias, canonical in table.items() if canonical == value and len(alias) >= 2
            )
    if plan.verdict_attribute == "new_calls":
        words.extend(["新規", "採択", "new call"])
    return [w.lower() for w in words]


def _mask(text: str, patterns: Iterable[re.Pattern[str]]) -> str:
    """Matches replaced by the same number of placeholder characters (offsets stay valid)."""
    for pattern in patterns:
        text = pattern.sub(lambda m: "〓" * len(m.group(0)), text)
    return text


def _without_digit_commas(text: str) -> tuple[str, list[int]]:
    """``text`` without the commas between digits (1,450,000 → 1450000), and for each character of the
    result its offset in ``text``."""
    kept = [i for i in range(len(text)) if not _DIGIT_COMMA.match(text, i)]
    return "".join(text[i] for i in kept), kept


def _char_offset(text: str, key: str, key_offset: int) -> int:
    """The character offset in ``text`` whose match key prefix has ``key_offset`` characters."""
    for i in range(len(text) + 1):
        if len(match_key(text[:i])) >= key_offset:
            return i
    return len(text)


def _owner(mentions: list[tuple[str, int]], at: int) -> str | None:
    """The program a fact is attributed to: the one named nearest before it, else the first after it."""
    before = [pid for pid, start in mentions if start <= at]
    if before:
        return before[-1]
    after = [pid for pid, start in mentions if start > at]
    return after[0] if after else None


def _states(item: Evidence, fact: _Fact) -> bool:
    if fact.kind == "contact":
        return fact.value in contacts_in(item.quote) | contacts_in(norm(item.quote))
    return fact.value in set(amounts_in(norm(item.quote))) | _table_figures([item])


def _table_figures(cited: list[Evidence]) -> set[int]:
    """Bare figures of a program's table row: the 予算額 column is printed in 千円 without its unit."""
    figures: set[int] = set()
    for item in cited:
        if item.kind == "row":
            figures |= _bare_figures(item.quote)
    return figures


def _bare_figures(text: str) -> set[int]:
    plain = _DIGIT_COMMA.sub("", unicodedata.normalize("NFKC", text))
    return {int(n) for n in re.findall(r"(?<![\d.])\d{4,}(?![\d.])", plain)}


def _contains_word(text: str, word: str) -> bool:
    if not word.isascii():
        return word in text
    return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text) is not None


def _ministry_in(source: str, official: str) -> bool:
    """The evidence names the ministry: in full, by a short form (【文科省】) or a one-letter marker (<文>)."""
    if official in source:
        return True
    if any(o == official and short in source for short, o in MINISTRY_SHORT_FORMS):
        return True
    letters = [letter for letter, o in MINISTRY_LETTERS.items() if o == official]
    return any(re.search(rf"[<＜【(（]{letter}[>＞】)）]", source) for letter in letters)


def _is_ministry_word(unit: str) -> bool:
    return unit in MINISTRY_ALIASES or any(unit.startswith(short) for short, _ in MINISTRY_SHORT_FORMS)


def _units(name: str, suffixes: str) -> list[str]:
    """「高等教育局大学振興課」 → 「高等教育局」「大学振興課」: one name per organisational suffix."""
    return [u for u in re.findall(rf".+?(?:{suffixes})(?=(?:.+?(?:{suffixes}))|$)", name) if u] or [name]


def _head_is_generic(head: str) -> bool:
    return any(head.endswith(g) and len(head) - len(g) <= 1 for g in GENERIC_PROGRAM_HEADS if len(g) >= 2)


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text)
