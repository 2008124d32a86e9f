"""The release gate: the eval set through the real pipeline, all three modes, against evals/thresholds.toml.

This is what makes `make test` (and so CI) fail when answer accuracy (expected programs and strings, no
forbidden program, the verdict first, the expected answer kind), citation precision/recall, quote or
contact fidelity, dangling citations or abstention fall below the committed thresholds, when any answer
is misleading (a program the gold excludes, the opposite はい/いいえ, a wrong winner, an answer where the
documents are silent — gated at 0 by the `misleading` maximum), when the hybrid
mode stops beating both single retrieval legs, or when fewer paraphrase groups than required get one plan
kind and one leading program for all their phrasings. The full report is written to the pytest temp
folder and printed on failure.
"""

from __future__ import annotations

import json

import pytest

from evals.dataset import load_cases, validate_cases
from evals.runner import (
    DEFAULT_DATASET,
    DEFAULT_PARAPHRASES,
    InProcessTarget,
    load_paraphrases,
    load_thresholds,
    render_markdown,
    run_eval,
)

pytestmark = pytest.mark.slow


def test_the_eval_set_passes_the_release_thresholds(answer_service, index_settings, tmp_path):
    cases = load_cases(DEFAULT_DATASET)
    assert validate_cases(cases, index_settings.corpus_dir) == []
    groups = load_paraphrases(DEFAULT_PARAPHRASES, index_settings.corpus_dir, index_settings.overrides_path)
    target = InProcessTarget(service=answer_service)  # the session's: model and index load once
    report = run_eval(
        target,
        cases,
        ["dense", "bm25", "hybrid"],
        load_thresholds(),
        DEFAULT_DATASET.name,
        show_progress=False,
        paraphrases=groups,
    )
    (tmp_path / "eval.json").write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1))
    assert report.paraphrase is not None and report.paraphrase.groups == len(groups)
    thresholds = load_thresholds()
    assert "paraphrase_consistency" in thresholds["min"]
    # No confidently wrong answer on the whole set; the failure lists each one and why it misleads.
    gated = report.overall[thresholds["mode"]]
    assert gated.misleading <= thresholds["max"]["misleading"] == 0, report.misleading[thresholds["mode"]]
    assert report.passed, render_markdown(report) + "\n" + "\n".join(report.failures)
