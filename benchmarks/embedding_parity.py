"""Cosine between the PyTorch and the ONNX Runtime vectors of the same texts: every corpus passage and
program record of the current index (embedded as the ingest embeds them), and every eval question (with
the query prompt, one at a time as a request embeds it).

    .venv/bin/python benchmarks/embedding_parity.py [--json reports/parity.json]

Why: the ``onnx`` backend serves an index built by PyTorch (and the reverse) only when their vectors agree
above ``SAME_VECTORS_MIN_COSINE`` (assistant/index/embeddings.py); this script measures the agreement that
tolerance rests on, for the fp32 and the int8 export (docs/embeddings.md quotes its output).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from assistant.config import get_settings
from assistant.index.embeddings import Embedder, get_embedder
from assistant.index.store import current_build_dir, read_catalog, read_chunks
from evals.dataset import load_cases

ROOT = Path(__file__).resolve().parent.parent


def _stats(cosines: np.ndarray) -> dict[str, float]:
    return {
        "n": int(cosines.size),
        "min": round(float(cosines.min()), 6),
        "p1": round(float(np.percentile(cosines, 1)), 6),
        "mean": round(float(cosines.mean()), 6),
    }


def _one_by_one(embedder: Embedder, questions: list[str]) -> np.ndarray:
    """Each question alone, as a request embeds it (dynamic int8 scales a batch as a whole, so a vector
    computed in a batch differs slightly from the one a request gets)."""
    return np.vstack([embedder.embed_queries_array([q]) for q in questions])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()

    from ingest.pipeline import embed_passages, program_text

    settings = get_settings()
    build = current_build_dir(settings)
    passages = [c.text for c in read_chunks(build)] + [program_text(p) for p in read_catalog(build).programs]
    questions = sorted({c.question for c in load_cases(ROOT / "evals" / "cases.jsonl")})

    torch = get_embedder(settings.model_copy(update={"embedding_backend": "sentence-transformers"}))
    reference = {
        "passages": embed_passages(torch, passages, "passages", False),
        "questions": _one_by_one(torch, questions),
    }
    report: dict[str, dict[str, dict[str, float]]] = {}
    for precision in ("fp32", "int8"):
        onnx = get_embedder(
            settings.model_copy(update={"embedding_backend": "onnx", "embedding_onnx_precision": precision})
        )
        if onnx.runtime != "onnx":
            raise SystemExit("the ONNX export is missing: run `assistant prepare-model` first")
        ours = {
            "passages": embed_passages(onnx, passages, "passages", False),
            "questions": _one_by_one(onnx, questions),
        }
        report[precision] = {kind: _stats(np.sum(ours[kind] * reference[kind], axis=1)) for kind in ours}
        for kind, stats in report[precision].items():
            print(
                f"{precision:<5} {kind:<10} n={stats['n']:<5} min={stats['min']:.6f}  "
                f"p1={stats['p1']:.6f}  mean={stats['mean']:.6f}"
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
