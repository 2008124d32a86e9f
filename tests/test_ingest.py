"""Ingest end to end with the real embedding model and a real Chroma in a temp directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT, Settings
from assistant.index.embeddings import get_embedder
from assistant.index.store import (
    IndexMissingError,
    IndexModelMismatchError,
    builds_dir,
    check_model,
    current_build_id,
    load_index,
    read_manifest,
)
from ingest import pipeline
from ingest.pipeline import run_ingest
from tests.support import small_corpus

CORPUS = PROJECT_ROOT / "corpus"


def _settings(tmp: Path, corpus: Path = CORPUS) -> Settings:
    return Settings(corpus_dir=corpus, data_dir=tmp / "data")


@pytest.fixture(scope="module")
def full_index(tmp_path_factory):
    settings = _settings(tmp_path_factory.mktemp("full"))
    report = run_ingest(settings, show_progress=False, log=lambda _msg: None)
    return settings, report


def test_full_corpus_counts(full_index):
    settings, report = full_index
    assert not report.up_to_date
    assert report.documents == 5
    assert 150 <= report.chunks <= 400
    assert (
        report.programs >= 38
    )  # 39 printed names, one printed twice under two names (see catalog_overrides.json)
    assert report.use_cases >= 8
    index = load_index(settings, get_embedder(settings))
    assert index.chunk_collection.count() == report.chunks == len(index.chunks)
    assert index.program_collection.count() == report.programs == len(index.catalog.programs)
    assert (index.build_dir / "keyword").is_dir()


def test_chunk_metadata_is_filterable(full_index):
    settings, _ = full_index
    index = load_index(settings, get_embedder(settings))
    got = index.chunk_collection.get(
        where={"doc_id": "003_158fb85f1dc44ded"}, include=["metadatas", "documents"]
    )
    assert got["ids"] and all(m["doc_id"] == "003_158fb85f1dc44ded" for m in got["metadatas"])
    meta = got["metadatas"][0]
    assert {"title", "section", "line_start", "line_end"} <= set(meta)
    programs = index.program_collection.get(where={"ministry": "文部科学省"}, include=["metadatas"])
    names = {m["name"] for m in programs["metadatas"]}
    assert "地域活性化人材育成事業" in names and "共創の場形成支援プログラム" in names
    big = index.program_collection.get(
        where={"budget_thousand_yen": {"$gte": 10_000_000}}, include=["metadatas"]
    )
    assert "共創の場形成支援プログラム" in {m["name"] for m in big["metadatas"]}


def test_collections_use_our_embedding_function(full_index):
    settings, _ = full_index
    index = load_index(settings, get_embedder(settings))
    assert index.chunk_collection._embedding_function.name() == "seisaku-e5"


def test_paraphrased_goal_finds_the_program_description(full_index):
    """A goal in other words than the description box's finds it: in the dense leg's top 10 and in the hybrid
    ranking's top 3. (With PyTorch's vectors the dense leg alone had it in its top 3; the int8 exports put it
    4th to 8th among passages within 0.016 of cosine — docs/embeddings.md — and the fusion keeps it 3rd.)"""
    from assistant.index.keyword import KeywordIndex
    from assistant.pipeline.retrieve import HybridSearcher

    settings, _ = full_index
    embedder = get_embedder(settings)
    index = load_index(settings, embedder)
    query = embedder.embed_query("教育課程を作り直して地域のリーダーを育てたい")
    result = index.chunk_collection.query(query_embeddings=[query], n_results=10)
    top = result["documents"][0]
    assert any("地域活性化人材育成事業" in text and "教育プログラムを再構築" in text for text in top), top
    build = index.build_dir
    searcher = HybridSearcher(index, embedder, KeywordIndex.load(build / "keyword"), None)
    hits = searcher.search("教育課程を作り直して地域のリーダーを育てたい", k=3, mode="hybrid").chunk_hits[:3]
    assert any("地域活性化人材育成事業" in h.text and "教育プログラムを再構築" in h.text for h in hits), hits


def test_second_ingest_is_idempotent(full_index):
    settings, report = full_index
    again = run_ingest(settings, show_progress=False, log=lambda _msg: None)
    assert again.up_to_date and again.build_id == report.build_id
    assert (again.documents, again.chunks, again.programs) == (
        report.documents,
        report.chunks,
        report.programs,
    )


def test_rebuild_gives_same_counts_and_keeps_one_previous_build(full_index):
    settings, report = full_index
    rebuilt = run_ingest(settings, rebuild=True, show_progress=False, log=lambda _msg: None)
    assert rebuilt.build_id != report.build_id and not rebuilt.up_to_date
    assert (rebuilt.documents, rebuilt.chunks, rebuilt.programs) == (
        report.documents,
        report.chunks,
        report.programs,
    )
    assert current_build_id(settings) == rebuilt.build_id
    kept = sorted(p.name for p in builds_dir(settings).iterdir())
    assert kept == sorted([report.build_id, rebuilt.build_id])


def test_model_mismatch_is_a_clear_error(full_index):
    settings, _ = full_index
    manifest = read_manifest(builds_dir(settings) / current_build_id(settings))
    with pytest.raises(IndexModelMismatchError, match="ingest --rebuild"):
        check_model(manifest, "some-other-model@deadbeef")


def test_missing_index_is_a_clear_error(tmp_path):
    settings = _settings(tmp_path)
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        load_index(settings, get_embedder(settings))


def test_adding_a_document_is_a_file_plus_a_manifest_entry(tmp_path):
    corpus = small_corpus(tmp_path)
    settings = _settings(tmp_path, corpus)
    before = run_ingest(settings, show_progress=False, log=lambda _msg: None)

    (corpus / "900_kaiyou.md").write_text(
        "# 海洋産業クラスターの形成\n\n"
        "静岡県と県立大学は、駿河湾の海洋資源を活用した新産業の創出に向けて連携協定を締結した。"
        "海洋微生物の研究成果を地元企業の製品開発につなげ、海洋環境の保全と産業振興を両立させる。\n",
        encoding="utf-8",
    )
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"].append(
        {
            "doc_id": "900_kaiyou",
            "title": "海洋産業クラスター",
            "publisher": "静岡県",
            "date": "2024",
            "kind": "memo",
        }
    )
    (corpus / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")

    after = run_ingest(settings, show_progress=False, log=lambda _msg: None)
    assert after.documents == before.documents + 1 and after.chunks > before.chunks
    embedder = get_embedder(settings)
    index = load_index(settings, embedder)
    hit = index.chunk_collection.query(
        query_embeddings=[embedder.embed_query("海の微生物を使った地場企業との商品開発")], n_results=1
    )
    assert hit["metadatas"][0][0]["doc_id"] == "900_kaiyou"
    assert hit["metadatas"][0][0]["section"] == "海洋産業クラスターの形成"


def test_a_crash_mid_build_leaves_the_previous_index_in_use(tmp_path, monkeypatch):
    corpus = small_corpus(tmp_path)
    settings = _settings(tmp_path, corpus)
    good = run_ingest(settings, show_progress=False, log=lambda _msg: None)

    def crash(*_args, **_kwargs):
        raise RuntimeError("simulated crash while writing collections")

    monkeypatch.setattr(pipeline, "_write_collections", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_ingest(settings, rebuild=True, show_progress=False, log=lambda _msg: None)
    monkeypatch.undo()

    assert current_build_id(settings) == good.build_id
    index = load_index(settings, get_embedder(settings))
    assert index.chunk_collection.count() == good.chunks

    recovered = run_ingest(settings, rebuild=True, show_progress=False, log=lambda _msg: None)
    assert recovered.chunks == good.chunks
    leftovers = [p.name for p in builds_dir(settings).iterdir()]
    assert sorted(leftovers) == sorted([good.build_id, recovered.build_id]), "the unfinished build is pruned"


def test_cli_ingest_prints_what_it_built(tmp_path):
    corpus = small_corpus(tmp_path)
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    cmd = [sys.executable, "-m", "assistant.cli", "ingest", "--quiet"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "1 documents" in first.stdout and "chunks" in first.stdout and "built" in first.stdout
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert "already up to date" in second.stdout

    (corpus / "manifest.json").write_text("{broken", encoding="utf-8")
    broken = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert broken.returncode == 2
    assert broken.stderr.startswith("error:") and "Traceback" not in broken.stderr
