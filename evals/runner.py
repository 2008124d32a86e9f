"""`assistant eval`: run the eval set through the real pipeline and report retrieval, answers, citations.

Two targets: in process (an AnswerService on the local index; all three retrieval modes) or a deployed
API (``--url``; the hybrid answers it serves, retrieval through ``/v1/search``). The hybrid mode is
gated by ``evals/thresholds.toml``; a failing threshold makes the command exit non-zero. The paraphrase
groups (``evals/paraphrases.jsonl``) are asked in the gated mode and their consistency is gated too.
"""

from __future__ import annotations

import json
import time
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from evals.dataset import KIND_JUDGED, EvalCase, Filters, Turn, load_cases, validate_cases
from evals.metrics import (
    AnswerScore,
    Span,
    first_relevant_rank,
    known_contacts,
    percentile,
    ratio,
    score_answer,
)
from evals.paraphrases import ParaphraseGroup, ParaphraseSummary, load_groups, score_group, validate_groups

EVALS_DIR = Path(__file__).resolve().parent
DEFAULT_DATASET = EVALS_DIR / "cases.jsonl"
DEFAULT_PARAPHRASES = EVALS_DIR / "paraphrases.jsonl"
THRESHOLDS_FILE = EVALS_DIR / "thresholds.toml"
RETRIEVAL_DEPTH = 10  # MRR@10; Recall@5


class EvalTarget(Protocol):
    """Something that answers a case and says what it retrieved, as spans in rank order."""

    modes: tuple[str, ...]

    def run(self, case: EvalCase, mode: str) -> tuple[dict[str, Any], list[list[Span]], float]: ...

    def ask(
        self, question: str, history: list[Turn], filters: Filters | None, mode: str
    ) -> dict[str, Any]: ...

    def programs(self) -> list[dict[str, Any]]: ...

    def documents(self) -> dict[str, str]: ...


class InProcessTarget:
    """The real AnswerService on the local index (model and index loaded once)."""

    modes = ("dense", "bm25", "hybrid")

    def __init__(self, settings: Any = None, service: Any = None) -> None:
        """Either settings (a service is loaded) or an already loaded AnswerService (tests share theirs)."""
        from assistant.pipeline.service import AnswerService

        self.service = service if service is not None else AnswerService(settings)

    def run(self, case: EvalCase, mode: str) -> tuple[dict[str, Any], list[list[Span]], float]:
        from assistant.pipeline.read import Turn

        history = [Turn(role=t.role, content=t.content) for t in case.history]
        filters = case.filters.model_dump() if case.filters else None
        started = time.perf_counter()
        response, retrieval = self.service.answer_with_retrieval(case.question, history, filters, mode=mode)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        ranked = [self._spans(hit) for hit in retrieval.hits[:RETRIEVAL_DEPTH]]
        return response.model_dump(), ranked, seconds

    def ask(self, question: str, history: list[Turn], filters: Filters | None, mode: str) -> dict[str, Any]:
        """Only the answer (the paraphrase eval needs no retrieval ranks)."""
        from assistant.pipeline.read import Turn as ApiTurn

        turns = [ApiTurn(role=t.role, content=t.content) for t in history]
        response, _ = self.service.answer_with_retrieval(
            question, turns, filters.model_dump() if filters else None, mode=mode
        )
        return response.model_dump()

    def _spans(self, hit: Any) -> list[Span]:
        """A hit stands where it is, plus where its identical copies and (for a program) its mentions are."""
        spans = [Span(hit.doc_id, hit.line_start, hit.line_end)]
        chunks = self.service.searcher.chunks
        for merged in hit.merged_ids:
            if merged in chunks:
                c = chunks[merged]
                spans.append(Span(c.doc_id, c.line_start, c.line_end))
        if hit.kind == "program" and hit.id in self.service.programs:
            for mention in self.service.programs[hit.id].mentions:
                spans.append(Span(mention.doc_id, mention.line_start, mention.line_end))
        return spans

    def programs(self) -> list[dict[str, Any]]:
        return [p.model_dump() for p in self.service.programs.values()]

    def documents(self) -> dict[str, str]:
        return {doc_id: doc.text for doc_id, doc in self.service.store.documents.items()}


class HttpTarget:
    """A deployed answer API: answers from /v1/answer, retrieval from /v1/search (history is not searched)."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)
        self.modes = ("dense", "bm25", "hybrid")
        self._programs: list[dict[str, Any]] | None = None

    def _request(self, method: str, path: str, **kwargs: Any) -> tuple[Any, float]:
        """The response and the seconds its (last) attempt took; a 429 from the server's rate limit is
        retried after ``Retry-After`` a few times, and the wait is not counted as latency."""
        for _ in range(5):
            started = time.perf_counter()
            response = self.client.request(method, path, **kwargs)
            seconds = time.perf_counter() - started
            if response.status_code != 429:
                break
            wait = response.headers.get("retry-after", "")
            time.sleep(min(60, int(wait)) if wait.isdigit() else 1)
        response.raise_for_status()
        return response, seconds

    def _get(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params=params)[0].json()

    def run(self, case: EvalCase, mode: str) -> tuple[dict[str, Any], list[list[Span]], float]:
        response, seconds = self._answer(case.question, case.history, case.filters)
        hits = self._get("/v1/search", q=case.question, k=RETRIEVAL_DEPTH, mode=mode)["hits"]
        ranked = [[Span(h["doc_id"], h["line_start"], h["line_end"])] for h in hits]
        return response, ranked, seconds

    def ask(self, question: str, history: list[Turn], filters: Filters | None, mode: str) -> dict[str, Any]:
        """The served answer (a deployed API answers in its own mode; ``mode`` is for the interface)."""
        return self._answer(question, history, filters)[0]

    def _answer(
        self, question: str, history: list[Turn], filters: Filters | None
    ) -> tuple[dict[str, Any], float]:
        body: dict[str, Any] = {"question": question, "history": [t.model_dump() for t in history]}
        if filters:
            body["filters"] = filters.model_dump(exclude_none=True)
        response, seconds = self._request("POST", "/v1/answer", json=body)
        return response.json(), seconds

    def programs(self) -> list[dict[str, Any]]:
        if self._programs is None:
            self._programs = self._get("/v1/programs")["programs"]
        return self._programs

    def documents(self) -> dict[str, str]:
        texts = {}
        for doc in self._get("/v1/documents")["documents"]:
            passage = self._get(
                f"/v1/documents/{doc['doc_id']}", line_start=1, line_end=doc["lines"], context=0
            )
            texts[doc["doc_id"]] = "\n".join(line["text"] for line in passage["lines"])
        return texts


# -- aggregation -------------------------------------------------------------------------------------
@dataclass
class CaseResult:
    case: EvalCase
    mode: str
    score: AnswerScore
    rank: int | None
    seconds: float


@dataclass
class Summary:
    cases: int = 0
    recall_at_5: float | None = None
    mrr: float | None = None
    answer_accuracy: float | None = None
    kind_accuracy: float | None = None
    verdict_accuracy: float | None = None
    forbidden_shown: int = 0
    #: Answers that are confidently wrong (evals.metrics.misleading_reasons): gated at 0.
    misleading: int = 0
    citation_recall: float | None = None
    citation_precision: float | None = None
    quote_fidelity: float | None = None
    dangling_citations: int = 0
    contact_fidelity: float | None = None
    abstention_precision: float | None = None
    abstention_recall: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None

    @classmethod
    def of(cls, results: list[CaseResult]) -> Summary:
        scored = [r for r in results if not r.case.abstain and r.case.evidence]
        # Clarifications and "not stated" answers are judged by their kind, not by the abstained flag.
        flagged = [r for r in results if r.case.category not in KIND_JUDGED]
        abstained = [r for r in flagged if r.score.abstained]
        should = [r for r in flagged if r.case.abstain]
        latencies = [r.seconds * 1000 for r in results]
        s = [r.score for r in results]
        kinds = [x.kind_ok for x in s if x.kind_ok is not None]
        verdicts = [x.verdict_ok for x in s if x.verdict_ok is not None]
        return cls(
            cases=len(results),
            recall_at_5=ratio(sum(1 for r in scored if r.rank is not None and r.rank <= 5), len(scored)),
            mrr=ratio(sum(1 / r.rank for r in scored if r.rank is not None), len(scored)),
            answer_accuracy=ratio(sum(x.correct for x in s), len(s)),
            kind_accuracy=ratio(sum(kinds), len(kinds)),
            verdict_accuracy=ratio(sum(verdicts), len(verdicts)),
            forbidden_shown=sum(bool(x.forbidden) for x in s),
            misleading=sum(bool(x.misleading) for x in s),
            citation_recall=ratio(sum(x.cited_sentences for x in s), sum(x.fact_sentences for x in s)),
            citation_precision=ratio(sum(x.citations_supported for x in s), sum(x.citations_used for x in s)),
            quote_fidelity=ratio(sum(x.quotes_verbatim for x in s), sum(x.quotes for x in s)),
            dangling_citations=sum(x.dangling for x in s),
            contact_fidelity=ratio(sum(x.contacts_known for x in s), sum(x.contacts for x in s)),
            abstention_precision=ratio(sum(r.case.abstain for r in abstained), len(abstained)),
            abstention_recall=ratio(sum(r.score.abstained for r in should), len(should)),
            latency_p50_ms=percentile(latencies, 50),
            latency_p95_ms=percentile(latencies, 95),
        )


@dataclass
class EvalReport:
    dataset: str
    modes: list[str]
    overall: dict[str, Summary]
    by_category: dict[str, dict[str, Summary]]
    by_tag: dict[str, dict[str, Summary]] = field(default_factory=dict)
    paraphrase: ParaphraseSummary | None = None  # None: the paraphrase eval was skipped
    failures: list[str] = field(default_factory=list)
    problems: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Per mode, every misleading answer: the case id, its tags and why it misleads.
    misleading: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "modes": self.modes,
            "passed": self.passed,
            "failures": self.failures,
            "overall": {m: vars(s) for m, s in self.overall.items()},
            "by_category": {m: {c: vars(s) for c, s in cats.items()} for m, cats in self.by_category.items()},
            "by_tag": {m: {t: vars(s) for t, s in tags.items()} for m, tags in self.by_tag.items()},
            "paraphrase": self.paraphrase.to_json() if self.paraphrase else None,
            "problems": self.problems,
            "misleading": self.misleading,
        }


# -- thresholds --------------------------------------------------------------------------------------
def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


#: Gated metrics measured on the paraphrase groups rather than on the cases.
PARAPHRASE_METRICS = {"paraphrase_consistency": "consistency"}


def check_thresholds(
    overall: dict[str, Summary], thresholds: dict[str, Any], paraphrase: ParaphraseSummary | None = None
) -> list[str]:
    """Which gates fail: minimums and maximums on the gated mode, hybrid beating each single leg, and the
    paraphrase consistency when the paraphrase eval ran."""
    failures: list[str] = []
    gated = thresholds.get("mode", "hybrid")
    summary = overall.get(gated)
    if summary is None:
        return failures
    for metric, minimum in thresholds.get("min", {}).items():
        if metric in PARAPHRASE_METRICS:
            if paraphrase is not None:
                value = getattr(paraphrase, PARAPHRASE_METRICS[metric])
                if value is None or value < minimum:
                    failures.append(f"{gated} {metric} = {fmt(value)} < {minimum}")
            continue
        value = getattr(summary, metric)
        if value is None or value < minimum:
            failures.append(f"{gated} {metric} = {fmt(value)} < {minimum}")
    for metric, maximum in thresholds.get("max", {}).items():
        value = getattr(summary, metric)
        if value is not None and value > maximum:
            failures.append(f"{gated} {metric} = {fmt(value)} > {maximum}")
    if thresholds.get("hybrid_beats_single_legs") and gated == "hybrid":
        for leg in ("dense", "bm25"):
            other = overall.get(leg)
            if other is None:
                continue
            for metric in ("recall_at_5", "mrr"):
                mine, theirs = getattr(summary, metric) or 0.0, getattr(other, metric) or 0.0
                if mine <= theirs:
                    failures.append(f"hybrid {metric} {mine:.3f} does not beat {leg} {theirs:.3f}")
    return failures


# -- running -----------------------------------------------------------------------------------------
def run_eval(
    target: EvalTarget,
    cases: list[EvalCase],
    modes: list[str],
    thresholds: dict[str, Any],
    dataset_name: str = "",
    show_progress: bool = True,
    paraphrases: list[ParaphraseGroup] | None = None,
) -> EvalReport:
    """Every case in every mode, then (unless ``paraphrases`` is None) the paraphrase groups in the gated
    mode; the report holds the summaries per mode, category and tag, and the failed gates."""
    documents = target.documents()
    programs = target.programs()
    emails, phones = known_contacts(programs)
    catalog = {p["id"]: p["name"] for p in programs if p.get("id") and p.get("name")}  # for winners
    results: dict[str, list[CaseResult]] = defaultdict(list)
    with tqdm(
        total=len(cases) * len(modes), desc="evaluating", unit="case", disable=not show_progress
    ) as bar:
        for mode in modes:
            for case in cases:
                response, ranked, seconds = target.run(case, mode)
                score = score_answer(case, response, documents, emails, phones, catalog)
                rank = first_relevant_rank(ranked, case.evidence) if case.evidence else None
                results[mode].append(CaseResult(case, mode, score, rank, seconds))
                bar.update()
    overall = {mode: Summary.of(rs) for mode, rs in results.items()}
    by_category = {mode: _grouped(rs, lambda r: [r.case.category]) for mode, rs in results.items()}
    by_tag = {mode: _grouped(rs, lambda r: r.case.tags) for mode, rs in results.items()}
    paraphrase = None
    if paraphrases is not None:
        paraphrase = run_paraphrases(target, paraphrases, thresholds.get("mode", "hybrid"), show_progress)
    problems = {
        mode: [
            {"id": r.case.id, "question": r.case.question, "rank": r.rank, "problems": r.score.problems}
            for r in rs
            if r.score.problems or (r.case.evidence and not r.case.abstain and (r.rank is None or r.rank > 5))
        ]
        for mode, rs in results.items()
    }
    misleading = {
        mode: [
            {"id": r.case.id, "tags": r.case.tags, "reasons": r.score.misleading}
            for r in rs
            if r.score.misleading
        ]
        for mode, rs in results.items()
    }
    return EvalReport(
        dataset=dataset_name,
        modes=modes,
        overall=overall,
        by_category=by_category,
        by_tag=by_tag,
        paraphrase=paraphrase,
        failures=check_thresholds(overall, thresholds, paraphrase),
        problems=problems,
        misleading=misleading,
    )


def _grouped(results: list[CaseResult], keys: Any) -> dict[str, Summary]:
    """A summary per key (a case counts under each of its keys: its category, or each of its tags)."""
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        for key in keys(r):
            groups[key].append(r)
    return {key: Summary.of(group) for key, group in sorted(groups.items())}


def run_paraphrases(
    target: EvalTarget, groups: list[ParaphraseGroup], mode: str, show_progress: bool = True
) -> ParaphraseSummary:
    """Ask every phrasing of every group (with the group's history and filters) and compare the plans."""
    results = []
    total = sum(len(g.questions) for g in groups)
    with tqdm(total=total, desc="paraphrases", unit="question", disable=not show_progress) as bar:
        for group in groups:
            responses = []
            for question in group.questions:
                responses.append(target.ask(question, group.history, group.filters, mode))
                bar.update()
            results.append(score_group(group, responses))
    return ParaphraseSummary.of(results)


# -- rendering ---------------------------------------------------------------------------------------
_COLUMNS = [
    ("cases", "n"),
    ("recall_at_5", "R@5"),
    ("mrr", "MRR"),
    ("answer_accuracy", "acc"),
    ("kind_accuracy", "kind"),
    ("verdict_accuracy", "verdict"),
    ("forbidden_shown", "forbidden"),
    ("misleading", "misleading"),
    ("citation_recall", "cit.rec"),
    ("citation_precision", "cit.prec"),
    ("quote_fidelity", "quote"),
    ("dangling_citations", "dangling"),
    ("contact_fidelity", "contact"),
    ("abstention_precision", "abst.P"),
    ("abstention_recall", "abst.R"),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
]


def fmt(value: Any) -> str:
    """A report cell: – for none, whole numbers for latencies, three decimals for rates."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.0f}" if value > 10 else f"{value:.3f}"
    return str(value)


def render_markdown(report: EvalReport) -> str:
    """The human report: one row per mode × (all, each category, each tag), then the paraphrase table."""
    header = "| mode | category / tag | " + " | ".join(label for _, label in _COLUMNS) + " |"
    lines = [f"# Evaluation: {report.dataset}", "", header, "|" + "---|" * (len(_COLUMNS) + 2)]
    for mode in report.modes:
        rows = [
            ("**all**", report.overall[mode]),
            *report.by_category[mode].items(),
            *((f"tag: {tag}", s) for tag, s in report.by_tag.get(mode, {}).items()),
        ]
        for label, summary in rows:
            cells = " | ".join(fmt(getattr(summary, key)) for key, _ in _COLUMNS)
            lines.append(f"| {mode} | {label} | {cells} |")
    lines.append("")
    lines += _misleading_markdown(report)
    lines += _paraphrase_markdown(report.paraphrase)
    lines.append("")
    lines.append("**PASS**" if report.passed else "**FAIL**: " + "; ".join(report.failures))
    return "\n".join(lines) + "\n"


def _misleading_markdown(report: EvalReport) -> list[str]:
    """One line per misleading answer of each mode: the case and why it misleads."""
    lines: list[str] = []
    for mode in report.modes:
        for item in report.misleading.get(mode, []):
            lines.append(f"- misleading ({mode}) {item['id']}: {'; '.join(item['reasons'])}")
    return [*lines, ""] if lines else []


def _paraphrase_markdown(summary: ParaphraseSummary | None) -> list[str]:
    if summary is None:
        return ["Paraphrase consistency: skipped."]
    lines = [
        "| paraphrase groups | consistent (kind + leading program) | same kind | same leading program | "
        "as expected |",
        "|---|---|---|---|---|",
        f"| {summary.groups} | {fmt(summary.consistency)} | {fmt(summary.kind_consistency)} | "
        f"{fmt(summary.lead_consistency)} | {fmt(summary.gold_agreement)} |",
    ]
    inconsistent = [r.group.id for r in summary.results if not r.consistent]
    if inconsistent:
        lines += ["", "Inconsistent groups: " + ", ".join(inconsistent)]
    return lines


def load_paraphrases(
    path: Path, corpus_dir: Path, overrides_path: Path | None = None
) -> list[ParaphraseGroup]:
    """The paraphrase groups, validated against the program catalog extracted from the corpus."""
    from ingest.catalog import extract_catalog

    groups = load_groups(path)
    catalog = extract_catalog(corpus_dir, overrides_path)
    problems = validate_groups(groups, [p.name for p in catalog.programs])
    if problems:
        raise ValueError("the paraphrase groups have problems:\n" + "\n".join(problems))
    return groups


def main(
    dataset: Path,
    modes: list[str],
    report_path: Path | None,
    url: str | None,
    api_key: str | None,
    settings: Any,
    show_progress: bool = True,
    paraphrases: Path | None = DEFAULT_PARAPHRASES,
) -> int:
    """The CLI body: validate the set, run it, print Markdown, write JSON (+ .md); 1 when a gate fails.
    ``paraphrases`` None skips the paraphrase eval (its gate is then not checked)."""
    cases = load_cases(dataset)
    problems = validate_cases(cases, settings.corpus_dir)
    if problems:
        raise ValueError("the eval set has problems:\n" + "\n".join(problems))
    groups = None
    if paraphrases is not None:
        groups = load_paraphrases(paraphrases, settings.corpus_dir, settings.overrides_path)
    unknown = [m for m in modes if m not in InProcessTarget.modes]
    if unknown:  # checked before the model loads
        raise ValueError(
            f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(InProcessTarget.modes)}"
        )
    target: EvalTarget = HttpTarget(url, api_key) if url else InProcessTarget(settings)
    report = run_eval(target, cases, modes, load_thresholds(), dataset.name, show_progress, groups)
    markdown = render_markdown(report)
    print(markdown)
    if report_path:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        report_path.with_suffix(".md").write_text(markdown, encoding="utf-8")
    return 0 if report.passed else 1
