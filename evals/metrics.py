"""Deterministic metrics for one answer against its gold: retrieval, accuracy, citations, contacts.

Pure functions over plain data (the API's JSON shape), so they score an in-process answer and a
deployed API's answer the same way, and a test can feed them a deliberately broken answer.
Citation metrics follow ALCE (Gao et al., 2023), adapted to Japanese: sentences end at 。！？ or a line
break, and "supports" is decided by span overlap or by the expected string, not by an NLI model.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from evals.dataset import EvalCase, Evidence

#: A cited passage within this many lines of the gold evidence counts as the same place.
SPAN_SLACK = 3

_CITE = re.compile(r"\[(\d+)\]")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<!\d)0\d{1,4}[-‐－―ー−]\d{1,4}[-‐－―ー−]\d{3,4}(?!\d)")
_HYPHENS = re.compile(r"[‐‑‒–—―−－ｰ]")
_DIGIT_COMMA = re.compile(r"(?<=\d)[,，](?=\d)")


def normalize(text: str) -> str:
    """NFKC, no white space, unified hyphens, no thousands separators: 1,450,000 = １４５００００."""
    text = unicodedata.normalize("NFKC", text)
    text = _HYPHENS.sub("-", text)
    text = re.sub(r"\s+", "", text)
    return _DIGIT_COMMA.sub("", text)


def phone_digits(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text))


# -- spans -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    doc_id: str
    line_start: int
    line_end: int

    def overlaps(self, other: Span | Evidence, slack: int = 0) -> bool:
        return (
            self.doc_id == other.doc_id
            and self.line_start <= other.line_end + slack
            and other.line_start <= self.line_end + slack
        )


def first_relevant_rank(ranked: list[list[Span]], evidence: list[Evidence]) -> int | None:
    """1-based rank of the first hit whose spans (a hit may stand in several places) touch the gold."""
    for rank, spans in enumerate(ranked, start=1):
        if any(span.overlaps(ev) for span in spans for ev in evidence):
            return rank
    return None


# -- answer text -----------------------------------------------------------------------------------
def _split_sentences(text: str) -> list[str]:
    """Split after 。！？ and at line breaks, but not inside 「…」: a quoted passage is one statement."""
    pieces, current, depth = [], "", 0
    for ch in text:
        if ch == "\n" and depth == 0:
            pieces.append(current)
            current = ""
            continue
        current += ch
        depth += ch == "「"
        depth -= ch == "」" and depth > 0
        if ch in "。！？!?" and depth == 0:
            pieces.append(current)
            current = ""
    pieces.append(current)
    return pieces


def fact_sentences(answer: str) -> list[str]:
    """Sentences that state something: not empty, not a heading or lead-in ending with ：."""
    sentences = []
    for piece in _split_sentences(answer):
        text = piece.strip()
        bare = _CITE.sub("", text).strip()
        if not bare or bare.endswith(("：", ":")) or not re.search(r"\w", bare):
            continue
        sentences.append(text)
    return sentences


def cited_ids(sentence: str) -> list[int]:
    return [int(n) for n in _CITE.findall(sentence)]


@dataclass
class AnswerScore:
    """Everything measured on one answer; None where a metric does not apply to the case."""

    correct: bool
    abstained: bool
    fact_sentences: int = 0
    cited_sentences: int = 0
    citations_used: int = 0
    citations_supported: int = 0
    quotes: int = 0
    quotes_verbatim: int = 0
    dangling: int = 0
    contacts: int = 0
    contacts_known: int = 0
    problems: list[str] = field(default_factory=list)


def score_answer(
    case: EvalCase,
    response: dict,
    documents: dict[str, str],
    known_emails: set[str],
    known_phones: set[str],
) -> AnswerScore:
    """Score one API-shaped answer (``answer``, ``abstained``, ``citations``) against its case."""
    answer: str = response.get("answer", "")
    abstained = bool(response.get("abstained"))
    citations = {int(c["id"]): c for c in response.get("citations", [])}
    score = AnswerScore(correct=False, abstained=abstained)

    if case.abstain:
        score.correct = abstained
        if not abstained:
            score.problems.append("answered a question the corpus does not support")
    else:
        missing = [
            s
            for s in [*case.expected_programs, *case.expected_strings]
            if normalize(s) not in normalize(answer)
        ]
        score.correct = not abstained and not missing
        if abstained:
            score.problems.append("abstained although the corpus answers it")
        elif missing:
            score.problems.append("missing: " + ", ".join(missing))

    _score_citations(case, answer, citations, documents, score)
    _score_contacts(answer, known_emails, known_phones, score)
    return score


def _score_citations(
    case: EvalCase, answer: str, citations: dict[int, dict], documents: dict[str, str], score: AnswerScore
) -> None:
    expected = [normalize(s) for s in [*case.expected_strings, *case.expected_programs]]
    used: set[int] = set()  # citation ids some sentence cites
    for sentence in fact_sentences(answer):
        ids = cited_ids(sentence)
        if not score.abstained:
            score.fact_sentences += 1
            score.cited_sentences += bool(ids)
        for n in ids:
            if n not in citations:
                score.dangling += 1
                score.problems.append(f"dangling [{n}]")
            else:
                used.add(n)

    for n, citation in citations.items():
        score.quotes += 1
        text = documents.get(citation.get("doc_id", ""), "")
        quote = citation.get("quote", "")
        if quote and quote in text and _quote_within_lines(text, quote, citation):
            score.quotes_verbatim += 1
        else:
            score.problems.append(f"quote [{n}] is not verbatim in {citation.get('doc_id')}")
        if n not in used or case.abstain:
            continue
        score.citations_used += 1
        span = Span(citation["doc_id"], int(citation["line_start"]), int(citation["line_end"]))
        # Supported: the passage is (near) the gold evidence, or it holds one of the gold facts
        # (a program's table row backing its budget line, the row holding the e-mail asked for).
        if any(span.overlaps(ev, SPAN_SLACK) for ev in case.evidence) or any(
            e in normalize(quote) for e in expected
        ):
            score.citations_supported += 1
        else:
            score.problems.append(
                f"citation [{n}] ({span.doc_id}:{span.line_start}) is off the gold evidence"
            )


def _quote_within_lines(text: str, quote: str, citation: dict) -> bool:
    """The quote must stand inside the cited line span, not merely somewhere in the document."""
    lines = text.split("\n")
    start, end = int(citation.get("line_start", 0)), int(citation.get("line_end", 0))
    if not (1 <= start <= end <= len(lines)):
        return False
    return quote in "\n".join(lines[start - 1 : end])


def _score_contacts(answer: str, known_emails: set[str], known_phones: set[str], score: AnswerScore) -> None:
    for email in _EMAIL.findall(unicodedata.normalize("NFKC", answer)):
        score.contacts += 1
        if email.lower() in known_emails:
            score.contacts_known += 1
        else:
            score.problems.append(f"unknown e-mail {email}")
    for phone in _PHONE.findall(unicodedata.normalize("NFKC", answer)):
        score.contacts += 1
        if phone_digits(phone) in known_phones:
            score.contacts_known += 1
        else:
            score.problems.append(f"unknown phone {phone}")


def known_contacts(programs: Iterable[dict]) -> tuple[set[str], set[str]]:
    """E-mails (lower case) and phone numbers (digits; extension dropped) of the catalog."""
    emails: set[str] = set()
    phones: set[str] = set()
    for program in programs:
        emails.update(e.lower() for e in program.get("email", []))
        for tel in program.get("tel", []):
            for phone in _PHONE.findall(unicodedata.normalize("NFKC", tel)):
                phones.add(phone_digits(phone))
    return emails, phones


def ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]
