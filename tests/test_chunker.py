"""Chunking of the real corpus: spans point at the right lines, rows stay whole, artifacts are joined."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT
from assistant.records import DocumentInfo
from ingest.chunker import build_units, chunk_document, clean_line, heading_level, page_markers
from ingest.documents import SourceText, load_corpus

CORPUS = PROJECT_ROOT / "corpus"


def _chunks(min_chars: int = 200, max_chars: int = 500, overlap: int = 60):
    return {
        src.info.doc_id: (src, chunk_document(src, min_chars, max_chars, overlap))
        for src in load_corpus(CORPUS)
    }


@pytest.fixture(scope="module")
def corpus_chunks():
    return _chunks()


def _source(lines: list[str]) -> SourceText:
    info = DocumentInfo(doc_id="t", title="テスト", publisher="p", date="2022", kind="slides", path="t.txt")
    return SourceText(info=info, lines=lines)


def _is_subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(ch in it for ch in needle)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_every_chunk_text_comes_from_its_line_span(corpus_chunks):
    for doc_id, (src, chunks) in corpus_chunks.items():
        assert chunks, doc_id
        for chunk in chunks:
            span = "".join(clean_line(line) for line in src.lines[chunk.line_start - 1 : chunk.line_end])
            assert _is_subsequence(_squash(chunk.text), _squash(span)), (
                doc_id,
                chunk.line_start,
                chunk.line_end,
            )
            first_line = clean_line(src.lines[chunk.line_start - 1])
            last_line = clean_line(src.lines[chunk.line_end - 1])
            assert first_line and last_line, "a span starts and ends on a line with text"
            body = _squash(chunk.text)
            assert body[0] in _squash(first_line) and body[-1] in _squash(last_line)


def test_chunk_sizes_stay_in_range(corpus_chunks):
    sizes = [len(c.text) for _, chunks in corpus_chunks.values() for c in chunks]
    assert max(sizes) <= 600, "only an unsplittable table row may exceed the 500-character target a little"
    in_range = sum(100 <= s <= 520 for s in sizes) / len(sizes)
    assert in_range >= 0.8, in_range


def test_table_rows_are_never_cut_apart(corpus_chunks):
    _, chunks = corpus_chunks["001_9b2f57644b0d39be"]
    rows = [c for c in chunks if "daikaika@mext.go.jp" in c.text]
    assert len(rows) >= 8, "地域活性化人材育成事業 stands in every theme table"
    for chunk in rows:
        assert "地域活性化人材育成事業 ①大学等研究機関 1,450,000 有 文部科学省" in chunk.text
        assert "TEL：03-5253-4111（内線3034）" in chunk.text
    broken = [c for c in chunks if "s-sangi-daigakurenkeisuishin@meti.go.jp" in c.text]
    assert broken, "an e-mail address broken over two lines is joined"
    for chunk in broken:
        assert "TEL：03-3501-0075" in chunk.text


def test_table_cells_broken_over_lines_are_joined(corpus_chunks):
    _, chunks = corpus_chunks["001_9b2f57644b0d39be"]
    text = "\n".join(c.text for c in chunks)
    assert "地方大学・地域産業創生交付金 ③自治体 7,200,000" in text
    assert "スマート農業技術の開発・実証・実装プロジェクト ②民間事業者等" in text


def test_vertical_slide_text_is_joined_into_words(corpus_chunks):
    _, chunks = corpus_chunks["001_9b2f57644b0d39be"]
    text = "".join(c.text for c in chunks)
    assert "人文・社会科学も含めたあらゆる知識を総合的に活用（総合知）" in text


def test_prose_paragraphs_broken_by_blank_lines_are_joined(corpus_chunks):
    _, chunks = corpus_chunks["002_1934195e547acf2e"]
    text = "".join(c.text for c in chunks)
    assert "地方の経済・社会に深刻なダメージを与えている現状は" in text


def test_prose_chunks_end_on_sentence_boundaries(corpus_chunks):
    _, chunks = corpus_chunks["002_1934195e547acf2e"]
    ends = [c.text.rstrip()[-1] for c in chunks]
    assert sum(e in "。）」" for e in ends) / len(ends) >= 0.7


def test_heading_paths_follow_the_documents_numbering(corpus_chunks):
    _, chunks = corpus_chunks["002_1934195e547acf2e"]
    hit = next(c for c in chunks if "本交付金により重点的に支援する" in c.text)
    assert hit.heading_path[-1].startswith("２-１政府方針による地方創生")
    _, chunks = corpus_chunks["004_19e9f67b15260a83"]
    hit = next(c for c in chunks if "ABC の概念に基づき" in c.text)
    assert hit.heading_path[0].startswith("4. 課題解決に向けて")
    assert hit.heading_path[-1] == "<広域連携>"


def test_heading_patterns():
    assert heading_level("２－１．大学自身の取組の強化") == 2
    assert heading_level("４-２-１地域のニーズ実情・実態を把握している地方自治体の役割") == 3
    assert heading_level("②-a") == 2
    assert heading_level("【人材育成】") == 5
    assert heading_level("【学】広島大学、県立広島") is None
    assert heading_level("【実施時期】平成31年4月～令和2年9月") is None
    assert heading_level("(1) これまでの主な政策の変遷") == 2
    assert heading_level("- ✓ 大学内部においては") is None
    assert heading_level("5.0億円（内数）") is None


def test_printed_slide_numbers_become_pages(corpus_chunks):
    src, chunks = corpus_chunks["001_9b2f57644b0d39be"]
    markers = page_markers(src.lines)
    assert markers[next(n for n, line in enumerate(src.lines, 1) if line.startswith("31※なお"))] == 31
    maas = next(c for c in chunks if "itshann@meti.go.jp" in c.text)
    assert maas.page == 31
    assert all("31※" not in c.text for c in chunks), "the slide number is not glued to the footnote text"


def test_overlap_carries_a_short_sentence_between_chunks():
    lines = [("地域の大学と自治体が連携する。" * 3) + "短い文です。" for _ in range(12)]
    chunks = chunk_document(_source(lines), 100, 200, 60)
    assert len(chunks) > 3

    def last_sentence(text: str) -> str:
        return text.replace("\n", "").split("。")[-2] + "。"

    overlapping = [
        b for a, b in zip(chunks, chunks[1:], strict=False) if b.text.startswith(last_sentence(a.text))
    ]
    assert overlapping, "the next chunk repeats the previous chunk's short last sentence"
    assert all(
        b.line_start <= a.line_end for a, b in zip(chunks, chunks[1:], strict=False) if b in overlapping
    )


def test_units_keep_exact_lines_for_a_small_document():
    lines = [
        "【人材育成】",
        "地域社会と連携して既存の教育プログラムを再構築し、地域を",
        "牽引する人材を育成したい ⇒ 地域活性化人材育成事業",
        "",
        "縦",
        "書",
        "き",
        "",
        "文",
        "字",
    ]
    units = build_units(_source(lines))
    texts = [u.text for u in units]
    assert (
        "地域社会と連携して既存の教育プログラムを再構築し、地域を牽引する人材を育成したい ⇒ 地域活性化人材育成事業"
        in texts
    )
    assert "縦書き文字" in texts
    first = units[0]
    assert (first.line_start, first.line_end, first.heading_path) == (2, 3, ("【人材育成】",))


def test_empty_document_gives_no_chunks():
    assert chunk_document(_source(["", "  ", ""]), 200, 500, 60) == []


def test_corpus_path_is_the_projects(corpus_chunks):
    assert Path(CORPUS, "manifest.json").exists()
    assert set(corpus_chunks) == {p.stem for p in CORPUS.glob("*.txt")}
