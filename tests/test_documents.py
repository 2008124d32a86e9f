"""The corpus manifest and the document readers (txt, md, pdf)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT
from ingest.chunker import chunk_document
from ingest.documents import CorpusError, corpus_fingerprint, load_corpus, load_manifest, read_document
from tests.pdf_fixture import write_japanese_pdf

CORPUS = PROJECT_ROOT / "corpus"


def _corpus_copy(tmp_path: Path, doc_ids: list[str]) -> Path:
    target = tmp_path / "corpus"
    target.mkdir()
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"] = [d for d in manifest["documents"] if d["doc_id"] in doc_ids]
    for doc_id in doc_ids:
        shutil.copy(CORPUS / f"{doc_id}.txt", target)
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return target


def _add_entry(corpus: Path, doc_id: str, title: str) -> None:
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"].append(
        {"doc_id": doc_id, "title": title, "publisher": "テスト省", "date": "2024", "kind": "report"}
    )
    (corpus / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def test_the_project_corpus_has_five_documents_with_titles():
    docs = load_manifest(CORPUS)
    assert [d.doc_id for d in docs] == [
        "000_bc52401283c58933",
        "001_9b2f57644b0d39be",
        "002_1934195e547acf2e",
        "003_158fb85f1dc44ded",
        "004_19e9f67b15260a83",
    ]
    assert all(d.title and d.publisher and d.date and d.kind for d in docs)
    assert all(d.path == f"{d.doc_id}.txt" for d in docs)


def test_corpus_files_match_the_shared_originals():
    shared = PROJECT_ROOT.parent / "shared" / "corpus"
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout")
    for path in shared.glob("*.txt"):
        assert (CORPUS / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_file_without_manifest_entry_is_a_clear_error(tmp_path):
    corpus = _corpus_copy(tmp_path, ["004_19e9f67b15260a83"])
    (corpus / "999_new.txt").write_text("新しい文書", encoding="utf-8")
    with pytest.raises(CorpusError, match="999_new"):
        load_manifest(corpus)


def test_a_manifest_entry_without_file_is_a_clear_error(tmp_path):
    corpus = _corpus_copy(tmp_path, ["004_19e9f67b15260a83"])
    _add_entry(corpus, "998_missing", "ない文書")
    with pytest.raises(CorpusError, match="998_missing"):
        load_manifest(corpus)


def test_a_broken_manifest_is_a_clear_error(tmp_path):
    corpus = _corpus_copy(tmp_path, ["004_19e9f67b15260a83"])
    (corpus / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CorpusError, match="not a valid manifest"):
        load_manifest(corpus)


def test_markdown_and_pdf_documents_are_read_and_chunked(tmp_path):
    corpus = _corpus_copy(tmp_path, ["004_19e9f67b15260a83"])
    (corpus / "100_memo.md").write_text(
        "# 海洋産業の振興\n\n静岡県立大学と静岡県が連携協定を締結し、海洋環境の保全に取り組む。\n",
        encoding="utf-8",
    )
    write_japanese_pdf(
        corpus / "101_scan.pdf",
        [
            ["地域連携プラットフォームについて", "大学と自治体が恒常的に議論する場を構築する。"],
            ["二頁目：人材育成の取組を進める。"],
        ],
    )
    _add_entry(corpus, "100_memo", "メモ")
    _add_entry(corpus, "101_scan", "スキャン")
    sources = {s.info.doc_id: s for s in load_corpus(corpus)}
    md = chunk_document(sources["100_memo"], 200, 500, 60)
    assert md[0].heading_path == ["海洋産業の振興"] and md[0].line_start == 3
    pdf = sources["101_scan"]
    assert pdf.lines[:2] == [
        "地域連携プラットフォームについて",
        "大学と自治体が恒常的に議論する場を構築する。",
    ]
    chunks = chunk_document(pdf, 200, 500, 60)
    assert chunks and chunks[-1].page == 2, "a PDF's pages come from the PDF itself"


def test_fingerprint_changes_with_content(tmp_path):
    corpus = _corpus_copy(tmp_path, ["004_19e9f67b15260a83"])
    before = corpus_fingerprint(load_corpus(corpus))
    assert before == corpus_fingerprint(load_corpus(corpus))
    path = corpus / "004_19e9f67b15260a83.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n追記。\n", encoding="utf-8")
    assert corpus_fingerprint(load_corpus(corpus)) != before


def test_non_utf8_text_is_a_clear_error(tmp_path):
    corpus = _corpus_copy(tmp_path, ["004_19e9f67b15260a83"])
    (corpus / "102_sjis.txt").write_bytes("産学官連携".encode("shift_jis"))
    _add_entry(corpus, "102_sjis", "SJIS")
    info = next(d for d in load_manifest(corpus) if d.doc_id == "102_sjis")
    with pytest.raises(CorpusError, match="not UTF-8"):
        read_document(corpus, info)
