"""Schema, loader and validator of the evaluation set (``evals/cases.jsonl``).

Releases are gated on this set, so its gold must be checkable against the corpus: every expected
string and program name has to stand in the documents, next to the evidence lines the case cites.
Text is compared after NFKC and with all white space removed, because the PDF extraction broke table
cells, program names and e-mail addresses over several lines (``s-sangi-`` / ``daigakurenkeisuishin@…``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

Category = Literal[
    "program_fit",
    "contact",
    "list",
    "figure",
    "fact",
    "refusal",
    "follow_up",
    # The answer kinds of issue 11: yes/no, comparisons, superlatives, clarifying questions, look-alikes
    # the documents do not answer, the regional network table, and contacts printed in prose documents.
    "yes_no",
    "compare",
    "ranking",
    "clarify",
    "not_stated",
    "network",
    "contact_prose",
    # Issue 19: a name the documents do not contain (a program, region, network, person or round). The
    # answer must say so (abstain) and may offer the nearest real entity, labelled as such.
    "not_found",
]
CATEGORIES: tuple[str, ...] = get_args(Category)

#: The answer plan's kinds (``plan.kind`` of a response; ``intent`` names the same kinds).
#: Written out, not imported: the eval set is a contract of the API (it also runs against a deployed server
#: with ``--url``); tests/test_eval_dataset.py checks it equals ``assistant.pipeline.plan.PLAN_KINDS``.
PlanKind = Literal[
    "abstain",
    "clarify",
    "fit",
    "list",
    "ranking",
    "compare",
    "yes_no",
    "attribute",
    "contact",
    "prose",
    "network",
    "not_stated",
    "not_found",
]
PLAN_KINDS: tuple[str, ...] = get_args(PlanKind)

#: Phrasing classes a case exercises; the report has a row per tag.
Tag = Literal[
    "narrative",  # a long story about the asker's university that hides the goal
    "background",  # words about the asker (a ministry, 再エネ, a faculty) that must not become filters
    "colloquial",
    "keigo",
    "english",
    "kana",  # a program name written in hiragana or katakana
    "typo",  # a small typo in a program name
    "multi_turn",  # the question refers back into its history (それ, 後者, 「経産省のほう」)
    "negation",  # 「…は入っていない」
    "multi_condition",  # two or more conditions a list must all honour
    "applicant_set",  # a set of applicant types (「大学・企業・自治体のどれもが」)
    "quoted",  # the question quotes someone else's question (「『…は？』と聞かれました」)
    "negative",  # the right behaviour must not over-trigger here: a real name, a reference that resolves,
    # a condition that really can be met — the case keeps a fix from answering too cautiously
    # The failure classes of issue 19 (answer what was asked); a case carries the class it tests.
    "c1_wrong_verdict",  # a verdict (はい/いいえ, a winner) on an attribute other than the one asked
    "c2_false_clarify",  # a reference that points inside the question or at a non-program the history named
    "c3_dropped_condition",  # thresholds, exclusivity, field presence, quoted conditions, empty results
    "c4_unknown_name",  # a name that matches nothing in the documents (or a real one that must not be missed)
    "c5_followup",  # references into the history: ordinals, 「…のほう」, networks, a new self-contained turn
    "c6_budget",  # a figure with its basis and year, 当初 vs 補正, the package's totals
    "c7_goal_by_description",  # a goal that matches a program's description or ⇒ box, not its name
    "c8_prose_list",  # prose that lists several items: all of them, or the others besides one
]
TAGS: tuple[str, ...] = get_args(Tag)

#: Verdicts of a yes/no question; an answer may give either language's word (Yes = はい, No = いいえ).
YES_NO_VERDICTS: dict[str, str] = {"はい": "yes", "yes": "yes", "いいえ": "no", "no": "no"}

#: The plan kind a category of case tests; such a case must name it in ``expected_kind``.
CATEGORY_KINDS: dict[str, frozenset[str]] = {
    "yes_no": frozenset({"yes_no"}),
    "compare": frozenset({"compare"}),
    "ranking": frozenset({"ranking"}),
    "clarify": frozenset({"clarify"}),
    "not_stated": frozenset({"not_stated"}),
    "network": frozenset({"network"}),
}

#: Categories judged by their answer kind, not by the ``abstained`` flag: whether a clarifying question or
#: a "the documents do not state this" answer also sets ``abstained`` is left to the API, so these cases
#: count neither for nor against abstention precision and recall.
KIND_JUDGED: frozenset[str] = frozenset({"clarify", "not_stated"})


def yes_no_polarity(verdict: str) -> str | None:
    """``yes``/``no`` for a yes/no verdict word (either language, any case), None for anything else."""
    return YES_NO_VERDICTS.get(verdict.strip().lower())


#: How many lines around an evidence span an expected string may stand (a cell broken over lines).
EVIDENCE_SLACK = 3

NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Turn(_Strict):
    """One earlier turn of a multi-turn conversation."""

    role: Literal["user", "assistant"]
    content: NonEmpty


class Evidence(_Strict):
    """Where the answer stands: a document and a 1-based inclusive line span (``str.splitlines()``)."""

    doc_id: NonEmpty
    line_start: int
    line_end: int


class Filters(_Strict):
    """Explicit filters sent with the question, as the API accepts them."""

    ministry: str | None = None
    applicant_type: str | None = None
    theme: str | None = None


class EvalCase(_Strict):
    """One question with its gold: what a correct answer names, contains and cites, or that it abstains."""

    id: NonEmpty
    category: Category
    question: NonEmpty
    history: list[Turn] = Field(default_factory=list)
    filters: Filters | None = None
    expected_programs: list[NonEmpty] = Field(default_factory=list)
    expected_strings: list[NonEmpty] = Field(default_factory=list)
    #: Programs that must not be named (in the text or as a card): e.g. those failing a list's condition.
    forbidden_programs: list[NonEmpty] = Field(default_factory=list)
    #: What the answer's first sentence must say: はい/いいえ (Yes/No), or the winner of a comparison.
    verdict: NonEmpty | None = None
    #: The plan kind the answer must have (``plan.kind``, else ``intent``).
    expected_kind: PlanKind | None = None
    tags: list[Tag] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    abstain: bool = False
    #: For a name the documents do not contain (``not_found``): real entities (programs, networks, regions,
    #: strings of the corpus) of which the answer must offer at least one, labelled as the nearest.
    nearest: list[NonEmpty] = Field(default_factory=list)
    note: str = ""


class CaseFileError(ValueError):
    """A line of the case file that is not valid JSON or does not fit the schema."""


# -- loading ------------------------------------------------------------------------------------------
def load_cases(path: Path | str) -> list[EvalCase]:
    """Parse a JSONL case file; blank lines are skipped, a bad line raises naming its line number."""
    path = Path(path)
    cases: list[EvalCase] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            cases.append(_parse_line(path, lineno, line))
    return cases


def _parse_line(path: Path, lineno: int, line: str) -> EvalCase:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CaseFileError(f"{path}:{lineno}: invalid JSON: {exc.msg} (column {exc.colno})") from exc
    try:
        return EvalCase.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<case>'}: {err['msg']}" for err in exc.errors()
        )
        raise CaseFileError(f"{path}:{lineno}: schema error: {details}") from exc


# -- corpus -------------------------------------------------------------------------------------------
def normalize(text: str) -> str:
    """NFKC without any white space: the form in which gold and corpus are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def load_corpus(corpus_dir: Path | str) -> dict[str, list[str]]:
    """doc_id (file stem) → lines, numbered as citations number them (``str.splitlines()``)."""
    return {
        path.stem: path.read_text(encoding="utf-8").splitlines()
        for path in sorted(Path(corpus_dir).glob("*.txt"))
    }


def _window(lines: list[str], ev: Evidence, slack: int = EVIDENCE_SLACK) -> str:
    """The normalised text of a span widened by ``slack`` lines (a table cell may start before the span)."""
    start = max(ev.line_start - 1 - slack, 0)
    return normalize("\n".join(lines[start : ev.line_end + slack]))


# -- validation ---------------------------------------------------------------------------------------
def validate_cases(cases: list[EvalCase], corpus_dir: Path | str) -> list[str]:
    """Every problem of the set, one human-readable line each; an empty list means the gold is usable."""
    corpus = load_corpus(corpus_dir)
    full_texts = {doc_id: normalize("\n".join(lines)) for doc_id, lines in corpus.items()}
    problems = _duplicates(cases)
    for case in cases:
        problems += [f"{case.id}: {msg}" for msg in _case_problems(case, corpus, full_texts)]
    return problems


def _question_key(case: EvalCase) -> str:
    """What makes two questions the same: the text, plus the history and filters it is asked with."""
    filters = case.filters.model_dump_json(exclude_none=True) if case.filters else ""
    return normalize("\n".join([t.content for t in case.history] + [case.question, filters]))


def _duplicates(cases: list[EvalCase]) -> list[str]:
    """Duplicate ids, and the same question asked twice (a follow-up counts together with its history)."""
    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_questions: dict[str, str] = {}
    for case in cases:
        if case.id in seen_ids:
            problems.append(f"{case.id}: duplicate id")
        seen_ids.add(case.id)
        key = _question_key(case)
        if key in seen_questions:
            problems.append(f"{case.id}: duplicate question (same as {seen_questions[key]})")
        seen_questions.setdefault(key, case.id)
    return problems


def _case_problems(case: EvalCase, corpus: dict[str, list[str]], full_texts: dict[str, str]) -> list[str]:
    """All checks of one case; gold is checked against the spans that exist, so one bad span is one problem."""
    problems = _gold_shape_problems(case)
    problems += _evidence_problems(case.evidence, corpus)
    valid_evidence = [ev for ev in case.evidence if not _evidence_problems([ev], corpus)]
    for kind, values in (
        ("expected string", case.expected_strings),
        ("expected program", case.expected_programs),
    ):
        problems += _text_problems(kind, values, full_texts, corpus, valid_evidence, case.abstain)
    # A forbidden program must be a real name (a typo would make the check pass vacuously); it need not
    # stand near the evidence, which is where the answer's programs stand. The same holds for the nearest
    # entities a not-found answer may offer.
    problems += _text_problems("forbidden program", case.forbidden_programs, full_texts, corpus, [], True)
    problems += _text_problems("nearest entity", case.nearest, full_texts, corpus, [], True)
    return problems


def _gold_shape_problems(case: EvalCase) -> list[str]:
    """Refusals carry no gold; answers carry evidence; follow-ups carry the conversation they follow."""
    problems = _kind_and_tag_problems(case)
    if case.nearest and case.category != "not_found":
        problems.append("only a not_found case names nearest entities")
    if case.category == "not_found":
        return problems + _not_found_problems(case)
    if case.category == "refusal":
        if not case.abstain:
            problems.append("refusal case must have abstain: true")
        if case.expected_programs or case.expected_strings or case.evidence:
            problems.append("refusal case has gold (expected programs/strings or evidence must be empty)")
        if case.verdict or case.forbidden_programs:
            problems.append("refusal case has a verdict or forbidden programs")
        return problems
    if case.abstain:
        problems.append(f"{case.category} case has abstain: true (only refusal and not_found cases abstain)")
    if case.category == "clarify":
        # A clarifying question states no fact, so it needs no evidence; candidates it should offer may be
        # given as expected programs.
        return problems
    if not case.evidence:
        problems.append("non-refusal case without evidence")
    if not (case.expected_programs or case.expected_strings):
        problems.append("non-refusal case without expected programs or strings")
    if case.category == "follow_up" and {t.role for t in case.history} != {"user", "assistant"}:
        problems.append("follow_up case needs a history with a user and an assistant turn")
    problems += _verdict_problems(case)
    overlap = set(map(normalize, case.forbidden_programs)) & set(map(normalize, case.expected_programs))
    if overlap:
        problems.append(f"programs both expected and forbidden: {', '.join(sorted(overlap))}")
    return problems


def _not_found_problems(case: EvalCase) -> list[str]:
    """A not-found case abstains; what it may offer instead is ``nearest``, not a verdict or expected text."""
    problems: list[str] = []
    if not case.abstain:
        problems.append("not_found case must have abstain: true")
    if case.expected_programs or case.expected_strings or case.verdict or case.forbidden_programs:
        problems.append("not_found case has answer gold (use nearest for what it may offer)")
    return problems


def _kind_and_tag_problems(case: EvalCase) -> list[str]:
    """A category that tests an answer kind names it; tags are not repeated; multi_turn has a history."""
    problems: list[str] = []
    allowed = CATEGORY_KINDS.get(case.category)
    if allowed and case.expected_kind not in allowed:
        problems.append(f"{case.category} case needs expected_kind {' or '.join(sorted(allowed))}")
    if case.category == "refusal" and case.expected_kind not in (None, "abstain"):
        problems.append("refusal case with an expected_kind other than abstain")
    if len(set(case.tags)) != len(case.tags):
        problems.append("repeated tag")
    if "multi_turn" in case.tags and not case.history:
        problems.append("multi_turn case without a history")
    return problems


def _verdict_problems(case: EvalCase) -> list[str]:
    """Yes/no cases carry はい/いいえ; comparisons and rankings name their winner among the expected programs.

    A verdict that is not a yes/no word must be one of the case's own expected programs or strings, so it
    is checked against the corpus and the evidence like they are.
    """
    if case.category in ("yes_no", "compare", "ranking") and not case.verdict:
        return [f"{case.category} case without a verdict"]
    if not case.verdict:
        return []
    polarity = yes_no_polarity(case.verdict)
    if case.category == "yes_no" and polarity is None:
        return [f"yes_no verdict {case.verdict!r} is not one of はい, いいえ, Yes, No"]
    if case.category == "ranking" and case.verdict not in case.expected_programs:
        return [f"ranking verdict {case.verdict!r} is not among the expected programs"]
    if polarity is None and case.verdict not in [*case.expected_programs, *case.expected_strings]:
        return [f"verdict {case.verdict!r} is neither はい/いいえ/Yes/No nor an expected program or string"]
    return []


def _evidence_problems(evidence: Iterable[Evidence], corpus: dict[str, list[str]]) -> list[str]:
    """A citation must point at lines that exist, or a reader cannot check the answer."""
    problems: list[str] = []
    for ev in evidence:
        where = f"{ev.doc_id}:{ev.line_start}-{ev.line_end}"
        if ev.doc_id not in corpus:
            problems.append(f"evidence {where}: unknown doc_id")
        elif ev.line_start > ev.line_end:
            problems.append(f"evidence {where}: line_start > line_end")
        elif ev.line_start < 1 or ev.line_end > len(corpus[ev.doc_id]):
            problems.append(f"evidence {where}: span outside the document (1-{len(corpus[ev.doc_id])})")
    return problems


def _text_problems(
    kind: str,
    values: list[str],
    full_texts: dict[str, str],
    corpus: dict[str, list[str]],
    evidence: list[Evidence],
    abstain: bool,
) -> list[str]:
    """A gold value must be verbatim corpus text and, for an answer, stand at (±3 lines) its evidence."""
    problems: list[str] = []
    for value in values:
        needle = normalize(value)
        if not needle:
            problems.append(f"{kind} {value!r} is blank")
        elif not any(needle in text for text in full_texts.values()):
            problems.append(f"{kind} {value!r} not found in the corpus")
        elif (
            not abstain and evidence and not any(needle in _window(corpus[ev.doc_id], ev) for ev in evidence)
        ):
            problems.append(f"{kind} {value!r} not found within ±{EVIDENCE_SLACK} lines of its evidence")
    return problems
