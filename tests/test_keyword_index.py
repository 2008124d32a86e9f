"""The keyword leg must work for Japanese: real tokens, real BM25 hits on the real corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.index.keyword import KeywordIndex
from assistant.jp_text import normalize, tokenize
from ingest.chunker import chunk_document
from ingest.documents import load_corpus

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.mark.parametrize(
    ("text", "must_have"),
    [
        ("地域活性化人材育成事業", {"地域", "活性化", "人材", "育成", "事業"}),
        ("共創の場形成支援プログラム（COI-NEXT）", {"共創", "形成", "支援", "プログラム", "coi", "next"}),
        ("ローカル10,000プロジェクト", {"ローカル", "10000", "プロジェクト"}),
        ("ローカル１００００プロジェクト", {"ローカル", "10000", "プロジェクト"}),
        ("地方大学・地域産業創生交付金", {"地方", "大学", "産業", "創生", "交付金"}),
        ("大学発新産業創出プログラム（START）", {"大学", "産業", "創出", "start"}),
        ("世界トップレベル研究拠点プログラム(WPI)", {"世界", "トップ", "レベル", "研究", "拠点", "wpi"}),
        ("スタートアップ・エコシステム拠点都市", {"スタートアップ", "エコシステム", "拠点", "都市"}),
        ("官民研究開発投資拡大プログラム（ＰＲＩＳＭ）", {"官民", "研究", "開発", "投資", "拡大", "prism"}),
        ("地域バイオコミュニティ形成", {"地域", "バイオ", "コミュニティ", "形成"}),
        (
            "文部科学省 高等教育局 大学振興課 大学改革推進室",
            {"高等", "教育", "局", "振興課", "改革", "推進", "室"},
        ),
        ("経済産業省 産業技術環境局 大学連携推進室", {"産業", "技術", "環境", "局", "連携", "推進", "室"}),
        (
            "農林水産省 農林水産技術会議事務局 研究推進課",
            {"農林", "水産", "技術", "会議", "事務局", "研究", "推進課"},
        ),
        ("内閣府 地方創生推進事務局", {"内閣府", "地方", "創生", "推進", "事務局"}),
    ],
)
def test_program_and_department_names_tokenize_into_content_words(text, must_have):
    tokens = tokenize(text)
    assert must_have <= set(tokens), tokens
    assert not {"の", "・", "（", "(", " "} & set(tokens)


def test_dictionary_form_keeps_acronyms_and_lemmatises_verbs():
    tokens = tokenize("COI-NEXTで人材を育てたい")
    assert "coi" in tokens and "next" in tokens  # normalized_form() would have turned it into コイ/ネクスト
    assert "育てる" in tokens
    assert "たい" not in tokens and "を" not in tokens


def test_normalize_folds_width_and_strips_invisible_characters():
    assert normalize("ＭａａＳ\u200b１００億円") == "MaaS100億円"
    assert normalize("a\u3000\u3000b") == "a b"


def test_lone_surrogates_are_stripped_before_the_tokenizers_see_them():
    # Found by tests/test_fuzz.py: JSON "\ud800" reached the model's tokenizer, which raised (a 500).
    assert normalize("共創の場\ud800\udfff") == "共創の場"
    assert tokenize("共創の場\udc00形成") == tokenize("共創の場形成")
    assert normalize("😀") == "😀"  # a real pair (one code point) is kept


def test_tokenize_copes_with_long_and_empty_input():
    assert tokenize("") == []
    assert tokenize("。。。！？") == []
    assert len(tokenize("地域の大学。" * 20000)) >= 20000  # far above Sudachi's single-input limit


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory):
    chunks = [c for doc in load_corpus(CORPUS) for c in chunk_document(doc, 200, 500, 60)]
    index = KeywordIndex.build([c.chunk_id for c in chunks], [c.text for c in chunks])
    folder = tmp_path_factory.mktemp("bm25")
    index.save(folder)
    return {c.chunk_id: c for c in chunks}, KeywordIndex.load(folder)


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("三浦真珠プロジェクトはどんな取組？", "三浦真珠"),
        ("ABCってActors Based Communityのこと？", "ABC（Actors"),
        ("地域活性化人材育成事業の担当部署", "地域活性化人材育成事業"),
        ("KCみやぎ推進ネットワークについて", "KCみやぎ"),
    ],
)
def test_bm25_finds_exact_phrases_in_the_real_corpus(corpus_index, question, phrase):
    chunks, index = corpus_index
    hits = index.search(question, k=5)
    assert hits, question
    assert any(phrase in chunks[cid].text.replace("\n", "") for cid, _ in hits), [
        chunks[c].text[:60] for c, _ in hits
    ]
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_bm25_returns_nothing_for_unknown_words(corpus_index):
    _, index = corpus_index
    assert index.search("ｘｙｚｚｙ量子テレポーテーション宇宙エレベーター", k=5) == [] or all(
        s > 0 for _, s in index.search("ｘｙｚｚｙ", k=5)
    )
    assert index.search("", k=5) == []


def test_an_empty_index_saves_loads_and_finds_nothing(tmp_path):
    KeywordIndex.build([], []).save(tmp_path / "empty")
    index = KeywordIndex.load(tmp_path / "empty")
    assert len(index) == 0 and index.search("地域", k=3) == []
