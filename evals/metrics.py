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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from evals.dataset import KIND_JUDGED, EvalCase, Evidence, yes_no_polarity

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


# -- the answer plan ---------------------------------------------------------------------------------
#: Intent names of the API before the answer plan, read as the plan kinds they became.
LEGACY_INTENTS = {"program_fit": "fit", "figure": "attribute", "fact": "prose"}


def answer_kind(response: dict) -> str | None:
    """The answer's plan kind: ``plan.kind``, else ``intent`` (older responses carry no plan)."""
    plan = response.get("plan")
    kind = plan.get("kind") if isinstance(plan, dict) else None
    kind = kind or response.get("intent")
    return LEGACY_INTENTS.get(kind, kind) if isinstance(kind, str) else None


def leading_program(response: dict) -> str | None:
    """Name of the program the answer leads with (its first card), None when it shows none."""
    cards = response.get("programs") or []
    first = cards[0] if cards and isinstance(cards[0], dict) else {}
    name = first.get("name")
    return name if isinstance(name, str) and name else None


def first_sentence(answer: str) -> str:
    """The answer's first statement, without citation marks or list/emphasis markup: where a verdict goes.

    Headings and lead-ins ending with ： are skipped, as for citation recall (「比較：」 introduces, it does
    not answer).
    """
    for sentence in fact_sentences(answer):
        return re.sub(r"^[\s・\-*#>•]+", "", _CITE.sub("", sentence).replace("**", "")).strip()
    return ""


_YES_NO_START = re.compile(r"^(はい|いいえ|yes|no)(?![A-Za-z])", re.IGNORECASE)


def _opening_polarity(answer: str) -> str | None:
    """``yes``/``no`` when the answer's first statement opens with a yes/no word, else None."""
    opening = _YES_NO_START.match(unicodedata.normalize("NFKC", first_sentence(answer)))
    return yes_no_polarity(opening.group(1)) if opening else None


def verdict_problem(verdict: str, answer: str, plan: dict | None, others: Iterable[str] = ()) -> str | None:
    """Why the answer does not give the gold verdict first, or None when it does.

    A yes/no verdict must open the first sentence (はい and Yes are the same verdict, as are いいえ and No)
    and agree with ``plan.verdict`` when the plan states one; any other verdict (the winner of a comparison
    or a superlative) must stand in the first sentence, where ``others`` (the other programs compared) are
    blanked out first, so a loser whose name contains the winner's does not count as naming the winner.
    """
    sentence = first_sentence(answer)
    polarity = yes_no_polarity(verdict)
    if polarity is None:
        if normalize(verdict) not in _blank_out(normalize(sentence), others, keep=verdict):
            return f"first sentence does not name the verdict {verdict!r}"
        return None
    if _opening_polarity(answer) != polarity:
        return f"first sentence does not open with {verdict!r}"
    stated = plan.get("verdict") if isinstance(plan, dict) else None
    if isinstance(stated, str) and yes_no_polarity(stated) not in (None, polarity):
        return f"plan.verdict {stated!r} contradicts the gold verdict {verdict!r}"
    return None


def _blank_out(text: str, names: Iterable[str], keep: str = "") -> str:
    """``text`` (normalised) with each of ``names`` replaced by a blank, longest first; ``keep`` is spared."""
    for name in sorted({normalize(n) for n in names} - {normalize(keep)}, key=len, reverse=True):
        text = text.replace(name, "\u0000")
    return text


def forbidden_shown(case: EvalCase, answer: str, cards: list[dict]) -> list[str]:
    """Forbidden programs the answer names, in its text or as a program card.

    An expected program whose name contains a forbidden one (「X事業のうちY」 vs 「X事業」) is blanked out
    first, so naming the expected program does not count as naming the forbidden one.
    """
    text = _blank_out(normalize(answer), case.expected_programs)
    card_names = {normalize(c.get("name", "")) for c in cards if isinstance(c, dict)}
    shown = []
    for name in case.forbidden_programs:
        key = normalize(name)
        if key in text or key in card_names:
            shown.append(name)
    return shown


# -- misleading answers -------------------------------------------------------------------------------
#: Plan kinds that do not answer the question itself: a refusal, "the documents do not state this", or a
#: question back. Any of them is an honest reply to a question the documents do not answer.
SILENT_KINDS = frozenset({"abstain", "not_stated", "clarify"})


def documents_silent(case: EvalCase) -> bool:
    """The gold says the documents do not answer the question: a refusal, a name they do not contain
    (both ``abstain``), or a detail they do not state (``not_stated``)."""
    return case.abstain or case.category == "not_stated"


def misleading_reasons(case: EvalCase, response: dict, catalog: Mapping[str, str] | None = None) -> list[str]:
    """Why the answer is confidently wrong — worse than a missing fact, because it reads as understood.

    An answer misleads when it lists a program the gold excludes (``forbidden_programs``), opens with はい
    where the gold says いいえ or the reverse (or its plan states the opposite verdict), names a rival
    instead of the gold winner of a comparison or ranking (in its first statement or as ``plan.winner``),
    or answers a question the documents do not answer instead of abstaining. ``catalog`` (program id →
    name) supplies the rivals a ranking may wrongly name and resolves ``plan.winner``. An answer that
    merely misses a fact, or gives no verdict, is wrong but not misleading.
    """
    answer: str = response.get("answer") or ""
    plan = response.get("plan") if isinstance(response.get("plan"), dict) else {}
    reasons: list[str] = []
    if documents_silent(case) and not response.get("abstained") and answer_kind(response) not in SILENT_KINDS:
        reasons.append("answers a question the documents do not answer")
    shown = forbidden_shown(case, answer, response.get("programs") or [])
    if shown:
        reasons.append("lists what the gold excludes: " + ", ".join(shown))
    if case.verdict is not None:
        polarity = yes_no_polarity(case.verdict)
        if polarity is not None:
            reasons += _opposite_verdict(case.verdict, polarity, answer, plan)
        else:
            reasons += _wrong_winner(case, answer, plan, catalog or {})
    return reasons


def _opposite_verdict(verdict: str, polarity: str, answer: str, plan: dict) -> list[str]:
    """The text opens with, or the plan states, the yes/no opposite to the gold."""
    said = _opening_polarity(answer)
    if said is not None and said != polarity:
        return [f"opens with {said} where the gold says {verdict}"]
    stated = plan.get("verdict")
    stated_polarity = yes_no_polarity(stated) if isinstance(stated, str) else None
    if stated_polarity is not None and stated_polarity != polarity:
        return [f"plan.verdict {stated!r} where the gold says {verdict}"]
    return []


def _wrong_winner(case: EvalCase, answer: str, plan: dict, catalog: Mapping[str, str]) -> list[str]:
    """The first statement names a rival and not the winner, or ``plan.winner`` is a rival.

    Rivals are the case's other expected and forbidden programs plus every catalog program. A rival whose
    name contains the winner's (「X事業のうちY」 vs 「X事業」) is blanked out before the winner is looked for,
    as in ``verdict_problem``; a rival inside the winner's name is not.
    """
    winner = case.verdict or ""
    key = normalize(winner)
    rivals = {
        r
        for r in {*case.expected_programs, *case.forbidden_programs, *catalog.values()}
        if normalize(r) != key
    }
    containing = {r for r in rivals if normalize(r) not in key}  # rivals the winner's name does not contain
    sentence = normalize(first_sentence(answer))
    if key not in _blank_out(sentence, containing, keep=winner):
        named = sorted(r for r in rivals if normalize(r) in sentence)
        if named:
            return [f"first statement names {', '.join(named)} instead of the winner {winner}"]
    winner_id = plan.get("winner")
    named_winner = catalog.get(winner_id) if isinstance(winner_id, str) else None
    if named_winner and winner in catalog.values() and normalize(named_winner) != normalize(winner):
        return [f"plan.winner is {named_winner}, the gold winner is {winner}"]
    return []


@dataclass
class AnswerScore:
    """Everything measured on one answer; None where a metric does not apply to the case."""

    correct: bool
    abstained: bool
    kind: str | None = None
    kind_ok: bool | None = None  # None: the case names no expected kind
    verdict_ok: bool | None = None  # None: the case has no verdict
    forbidden: list[str] = field(default_factory=list)
    #: Why the answer is confidently wrong (misleading_reasons); empty when it is not.
    misleading: list[str] = field(default_factory=list)
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
    catalog: Mapping[str, str] | None = None,
) -> AnswerScore:
    """Score one API-shaped answer (``answer``, ``abstained``, ``citations``, ``plan``/``intent``,
    ``programs``) against its case: accuracy needs every expected program and string (for a not-found
    case: abstaining and offering one of its nearest entities), no forbidden program, the verdict first,
    the expected plan kind and nothing misleading. ``catalog`` (program id → name) lets the misleading
    check recognise a wrong winner."""
    answer: str = response.get("answer", "")
    abstained = bool(response.get("abstained"))
    citations = {int(c["id"]): c for c in response.get("citations", [])}
    plan = response.get("plan") if isinstance(response.get("plan"), dict) else None
    score = AnswerScore(correct=False, abstained=abstained, kind=answer_kind(response))

    if case.abstain:
        score.correct = abstained and _offers_nearest(case, answer, response.get("programs") or [])
        if not abstained:
            score.problems.append("answered a question the corpus does not support")
        elif not score.correct:
            score.problems.append("offers none of the nearest: " + ", ".join(case.nearest))
    else:
        missing = [
            s
            for s in [*case.expected_programs, *case.expected_strings]
            if normalize(s) not in normalize(answer)
        ]
        # A clarifying question or a "not stated" answer may or may not set ``abstained``; its kind decides.
        abstained_wrongly = abstained and case.category not in KIND_JUDGED
        score.correct = not abstained_wrongly and not missing
        if abstained_wrongly:
            score.problems.append("abstained although the corpus answers it")
        elif missing:
            score.problems.append("missing: " + ", ".join(missing))
    _score_plan(case, response, answer, plan, score)
    score.misleading = misleading_reasons(case, response, catalog)
    if score.misleading:
        score.correct = False
        score.problems += [f"misleading: {reason}" for reason in score.misleading]

    _score_citations(case, answer, citations, documents, score)
    _score_contacts(answer, citations, documents, known_emails, known_phones, score)
    return score


def _offers_nearest(case: EvalCase, answer: str, cards: list[dict]) -> bool:
    """A not-found answer offers one of the case's nearest real entities (in its text or as a card);
    true when the case names none."""
    if not case.nearest:
        return True
    offered = normalize(answer + " " + " ".join(c.get("name", "") for c in cards if isinstance(c, dict)))
    return any(normalize(name) in offered for name in case.nearest)


def _score_plan(case: EvalCase, response: dict, answer: str, plan: dict | None, score: AnswerScore) -> None:
    """The checks on what kind of answer was given: kind, verdict, forbidden programs."""
    if case.expected_kind is not None:
        score.kind_ok = score.kind == case.expected_kind
        if not score.kind_ok:
            score.problems.append(f"kind {score.kind!r}, expected {case.expected_kind!r}")
    if case.verdict is not None:
        problem = verdict_problem(case.verdict, answer, plan, case.expected_programs)
        score.verdict_ok = problem is None
        if problem:
            score.problems.append(problem)
    score.forbidden = forbidden_shown(case, answer, response.get("programs") or [])
    if score.forbidden:
        score.problems.append("forbidden: " + ", ".join(score.forbidden))
    score.correct = score.correct and score.kind_ok is not False and score.verdict_ok is not False
    score.correct = score.correct and not score.forbidden


def _score_citations(
    case: EvalCase, answer: str, citations: dict[int, dict], documents: dict[str, str], score: AnswerScore
) -> None:
    expected = [normalize(s) for s in [*case.expected_strings, *case.expected_programs]]
    used: set[int] = set()  # citation ids some sentence cites
    # A clarifying question states nothing, so its sentences do not count for citation recall.
    counts_sentences = not score.abstained and case.expected_kind != "clarify"
    for sentence in fact_sentences(answer):
        ids = cited_ids(sentence)
        if counts_sentences:
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


def _score_contacts(
    answer: str,
    citations: dict[int, dict],
    documents: dict[str, str],
    known_emails: set[str],
    known_phones: set[str],
    score: AnswerScore,
) -> None:
    """Every e-mail and phone number in the answer must be a catalog contact or stand verbatim in a quote
    the answer cites (a contact printed in a prose document, such as a report's own 担当 and TEL/FAX)."""
    quoted_emails, quoted_phones = _quoted_contacts(answer, citations, documents)
    for email in _EMAIL.findall(unicodedata.normalize("NFKC", answer)):
        score.contacts += 1
        if email.lower() in known_emails or email.lower() in quoted_emails:
            score.contacts_known += 1
        else:
            score.problems.append(f"unknown e-mail {email}")
    for phone in _PHONE.findall(unicodedata.normalize("NFKC", answer)):
        score.contacts += 1
        if phone_digits(phone) in known_phones or phone_digits(phone) in quoted_phones:
            score.contacts_known += 1
        else:
            score.problems.append(f"unknown phone {phone}")


def _quoted_contacts(
    answer: str, citations: dict[int, dict], documents: dict[str, str]
) -> tuple[set[str], set[str]]:
    """E-mails and phone numbers inside the quotes the answer cites, counting only quotes that stand
    verbatim in their cited lines (a made-up quote vouches for nothing)."""
    cited = {n for sentence in fact_sentences(answer) for n in cited_ids(sentence)}
    emails: set[str] = set()
    phones: set[str] = set()
    for n in cited & citations.keys():
        citation = citations[n]
        quote = citation.get("quote", "")
        text = documents.get(citation.get("doc_id", ""), "")
        if not quote or not _quote_within_lines(text, quote, citation):
            continue
        quote = unicodedata.normalize("NFKC", quote)
        emails.update(e.lower() for e in _EMAIL.findall(quote))
        phones.update(phone_digits(p) for p in _PHONE.findall(quote))
    return emails, phones


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
