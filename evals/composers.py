"""`assistant eval --composer openai|local`: the eval set through a generative composer, side by side with
the deterministic one, on the same loaded index and the same retrieval (hybrid).

Besides the usual answer metrics (accuracy, citation precision/recall, quote and contact fidelity — both
must stay 1.0, whatever the model writes) it reports what the verifier did: the share of generated
sentences it dropped, how often the deterministic answer had to be given instead (fallbacks, by reason),
how often generation was not tried because the plan abstains or is a long list, and p50/p95 latency.
Kept apart from :mod:`evals.runner` so the runner's own schema and metrics can grow independently.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.dataset import EvalCase, load_cases, validate_cases
from evals.runner import InProcessTarget, Summary, fmt, load_thresholds, run_eval

MODE = "hybrid"


@dataclass
class ComposerStats:
    """What the verifier did over a run: sentences kept and dropped, fallbacks and delegations by reason."""

    answers: int = 0
    generated: int = 0  # answers written by the generative composer
    sentences: int = 0
    dropped: int = 0
    fallbacks: int = 0
    delegated: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    drop_reasons: Counter[str] = field(default_factory=Counter)
    generated_cases: list[str] = field(default_factory=list)
    by_category: dict[str, float | None] = field(default_factory=dict)  # accuracy per category

    def add(self, response: dict[str, Any], case_id: str = "") -> None:
        self.answers += 1
        verification = response.get("verification")
        if not verification:
            return
        checks = verification.get("sentences") or []
        self.sentences += len(checks)
        self.dropped += sum(1 for c in checks if not c.get("kept"))
        self.drop_reasons.update(c["reason"] for c in checks if c.get("reason"))
        if verification.get("fallback"):
            self.fallbacks += 1
        elif verification.get("answered_by") == "deterministic":
            self.delegated += 1
        else:
            self.generated += 1
            self.generated_cases.append(case_id)
        if verification.get("reason"):
            self.reasons[verification["reason"]] += 1

    @property
    def dropped_share(self) -> float | None:
        return self.dropped / self.sentences if self.sentences else None


class RecordingTarget(InProcessTarget):
    """The in-process target with a chosen composer; keeps each response's verification for the stats."""

    modes = (MODE,)

    def __init__(self, service: Any, composer: Any) -> None:
        super().__init__(service=service)
        self.composer = composer
        self.stats = ComposerStats()

    def run(self, case: EvalCase, mode: str):
        self.service.composer = self.composer
        response, ranked, seconds = super().run(case, mode)
        self.stats.add(response, case.id)
        return response, ranked, seconds


def compare(
    service: Any, names: list[str], cases: list[EvalCase], show_progress: bool = True
) -> dict[str, tuple[Summary, ComposerStats]]:
    """Each composer over the same cases (one loaded service; its composer is swapped per run)."""
    from assistant.pipeline.compose import COMPOSERS

    original = service.composer
    results: dict[str, tuple[Summary, ComposerStats]] = {}
    try:
        for name in names:
            target = RecordingTarget(service, COMPOSERS.create(name, service))
            report = run_eval(target, cases, [MODE], load_thresholds(), name, show_progress)
            results[name] = (report.overall[MODE], target.stats)
            target.stats.by_category = {c: v.answer_accuracy for c, v in report.by_category[MODE].items()}
    finally:
        service.composer = original
    return results


_ROWS = [
    ("answer_accuracy", "accuracy"),
    ("citation_precision", "cit. precision"),
    ("citation_recall", "cit. recall"),
    ("quote_fidelity", "quote fidelity"),
    ("contact_fidelity", "contact fidelity"),
    ("dangling_citations", "dangling [n]"),
]


def render(results: dict[str, tuple[Summary, ComposerStats]], cases: int) -> str:
    names = list(results)
    lines = [
        f"# Composers side by side ({cases} cases, {MODE} retrieval)",
        "",
        "| metric | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    for key, label in _ROWS:
        row(label, [fmt(getattr(results[n][0], key)) for n in names])
    row("answers written by the model", [str(results[n][1].generated) for n in names])
    row("generated sentences", [str(results[n][1].sentences) for n in names])
    row("share of sentences dropped", [fmt(results[n][1].dropped_share) for n in names])
    row("fallbacks to deterministic", [str(results[n][1].fallbacks) for n in names])
    row("not generated (abstain, long list)", [str(results[n][1].delegated) for n in names])
    row("latency p50 ms", [fmt(results[n][0].latency_p50_ms) for n in names])
    row("latency p95 ms", [fmt(results[n][0].latency_p95_ms) for n in names])
    for category in results[names[0]][1].by_category:
        row(f"accuracy: {category}", [fmt(results[n][1].by_category.get(category)) for n in names])
    for name in names:
        stats = results[name][1]
        if stats.generated_cases:
            lines.append("")
            lines.append(f"{name}: answers written by the model — " + ", ".join(stats.generated_cases))
        if stats.reasons:
            lines.append("")
            lines.append(
                f"{name}: why deterministic — "
                + ", ".join(f"{k} {v}" for k, v in stats.reasons.most_common())
            )
        if stats.drop_reasons:
            lines.append(
                f"{name}: why sentences were dropped — "
                + ", ".join(f"{k} {v}" for k, v in stats.drop_reasons.most_common())
            )
    return "\n".join(lines) + "\n"


def main(
    dataset: Path,
    composer: str,
    report_path: Path | None,
    settings: Any,
    limit: int | None = None,
    show_progress: bool = True,
) -> int:
    """The CLI body: validate, run deterministic and ``composer`` side by side, print and write the table.
    Exits 1 when a generative answer breaks quote or contact fidelity (the verifier's promise)."""
    from assistant.pipeline.compose import COMPOSERS
    from assistant.pipeline.service import AnswerService

    if composer not in COMPOSERS.names():
        raise ValueError(f"unknown composer {composer!r}; choose from {', '.join(COMPOSERS.names())}")
    cases = load_cases(dataset)
    problems = validate_cases(cases, settings.corpus_dir)
    if problems:
        raise ValueError("the eval set has problems:\n" + "\n".join(problems))
    if limit:
        cases = _spread(cases, limit)
    service = AnswerService(settings, composer="deterministic")
    names = ["deterministic"] if composer == "deterministic" else ["deterministic", composer]
    results = compare(service, names, cases, show_progress)
    markdown = render(results, len(cases))
    print(markdown)
    if report_path:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            name: {"summary": vars(summary), "stats": {**vars(stats), "dropped_share": stats.dropped_share}}
            for name, (summary, stats) in results.items()
        }
        report_path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=dict), encoding="utf-8")
        report_path.with_suffix(".md").write_text(markdown, encoding="utf-8")
    summary = results[composer][0]
    faithful = all(v in (None, 1.0) for v in (summary.quote_fidelity, summary.contact_fidelity))
    return 0 if faithful and summary.dangling_citations == 0 else 1


def _spread(cases: list[EvalCase], limit: int) -> list[EvalCase]:
    """At most ``limit`` cases, taken round-robin over the categories (a sample that keeps every kind)."""
    by_category: dict[str, list[EvalCase]] = {}
    for case in cases:
        by_category.setdefault(case.category, []).append(case)
    chosen: list[EvalCase] = []
    while len(chosen) < limit and any(by_category.values()):
        for group in by_category.values():
            if group and len(chosen) < limit:
                chosen.append(group.pop(0))
    return chosen
