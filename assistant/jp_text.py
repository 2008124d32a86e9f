"""Japanese text normalisation and tokenization, shared by the keyword index, the parser and the composer.

Whitespace tokenizers do nothing useful for Japanese (no spaces between words), so the keyword leg
tokenizes with Sudachi. We keep ``dictionary_form()`` (食べた → 食べる) rather than
``normalized_form()``, which rewrites Latin acronyms (COI-NEXT → コイ/ネクスト) and so breaks exact
look-ups. The same :func:`tokenize` runs at index and at query time.
"""

from __future__ import annotations

import re
import threading
import unicodedata

from sudachipy import Dictionary, SplitMode

#: Parts of speech that carry no topic: particles, auxiliaries, punctuation, whitespace.
_DROPPED_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}

#: Content words too common in this corpus (and in questions about it) to tell passages apart.
STOPWORDS = frozenset(
    [
        "する",
        "ある",
        "いる",
        "なる",
        "れる",
        "られる",
        "できる",
        "こと",
        "もの",
        "ため",
        "よう",
        "これ",
        "それ",
        "あれ",
        "この",
        "その",
        "あの",
        "ここ",
        "そこ",
        "など",
        "等",
        "及び",
        "および",
        "又は",
        "または",
        "並びに",
        "ならびに",
        "ほか",
        "他",
        "的",
        "について",
        "おる",
        "いう",
        "思う",
        "教える",
        "知る",
        "うち",
        "何",
        "どう",
        "どの",
        "どれ",
        "どこ",
        "いつ",
        "なぜ",
        "ください",
        "下さい",
        "お願い",
        "いただく",
        "頂く",
        "欲しい",
        "ほしい",
        # ways of asking, not what is asked about (「何の略」, 「どういう場」, 「出てくる」)
        "どういう",
        "どんな",
        "どのような",
        "どう",
        "略",
        "意味",
        "出る",
        "くる",
        "いう",
    ]
)

_CONTROL = re.compile(
    r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
    r"\ud800-\udfff]"
)
_SPACES = re.compile(r"[ \t\u3000]+")

#: 10,000 and 10000 are the same number to a reader (ローカル10,000プロジェクト).
_DIGIT_GROUPS = re.compile(r"\d{1,3}(?:,\d{3})+")

_local = threading.local()


def strip_controls(text: str) -> str:
    """Control (not tab/line break), zero-width and bidi-override characters removed: never meaningful.

    Lone surrogates too (JSON can carry ``"\\ud800"``): they are not text, and the model's tokenizer and
    any UTF-8 encoder fail on them."""
    return _CONTROL.sub("", text)


def normalize(text: str) -> str:
    """NFKC (full-width digits/Latin → ASCII, half-width kana → full), control and zero-width chars dropped,
    runs of spaces collapsed. Line breaks are kept: callers that need them gone remove them."""
    text = unicodedata.normalize("NFKC", text)
    text = strip_controls(text)
    return _SPACES.sub(" ", text)


def _tokenizer():
    """One Sudachi tokenizer per thread: the tokenizer object is not safe to share between threads."""
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        tok = Dictionary(dict="core").tokenizer(mode=SplitMode.B)
        _local.tokenizer = tok
    return tok


def _keep(surface: str, pos: tuple[str, ...]) -> bool:
    if pos[0] in _DROPPED_POS:
        return False
    if pos[0] == "名詞" and pos[1] == "数詞":
        return True
    # single kana or symbols left after NFKC are noise; single kanji (e.g. 省, 県) are kept
    return not (len(surface) == 1 and not re.match(r"[\u4e00-\u9fff0-9a-z]", surface))


def tokenize(text: str) -> list[str]:
    """Content-word tokens: Sudachi mode B, dictionary form, lower-case ASCII, stop-words dropped.

    Long inputs are split on line breaks and sentence ends first, because Sudachi refuses inputs above
    ~49 KB and smaller pieces keep memory flat.
    """
    text = normalize(text).lower()
    tokens: list[str] = []
    tokenizer = _tokenizer()
    for piece in re.split(r"[\n。！？!?]+", text):
        piece = piece.strip()
        if not piece:
            continue
        for start in range(0, len(piece), 4000):
            for morpheme in tokenizer.tokenize(piece[start : start + 4000]):
                form = _DIGIT_GROUPS.sub(
                    lambda m: m.group(0).replace(",", ""), morpheme.dictionary_form().lower()
                )
                if not form.strip() or form in STOPWORDS:
                    continue
                if _keep(form, morpheme.part_of_speech()):
                    tokens.append(form)
    return tokens


_KATAKANA_ONLY = re.compile(r"[^\u30a1-\u30fa\u30fc]")
_HIRAGANA = re.compile(r"[\u3041-\u3096]")
#: Characters that make a text Japanese (kana and kanji); a question without any is read as English.
_JAPANESE_CHAR = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u4e00-\u9fff]")


def to_katakana(text: str) -> str:
    """Hiragana → katakana (the form Sudachi gives readings in)."""
    return _HIRAGANA.sub(lambda m: chr(ord(m.group(0)) + 0x60), text)


_SOFT_KANA = str.maketrans("", "", "ァィゥェォャュョッヮー")


def loose_reading(kana: str) -> str:
    """A reading without long-vowel marks and small kana: typed kana (ろーかる, ぷろじぇくと) is read by
    Sudachi as ロカル / プロジクト, so readings are compared in this looser form."""
    return kana.translate(_SOFT_KANA)


def reading(text: str) -> str:
    """The katakana reading of a text, kana only (「共創の場」 → キョウソウノバ; punctuation, spaces and
    Latin words dropped), so a name typed in hiragana or katakana can be matched with the printed one."""
    return "".join(part for _, part in reading_spans(text))


def reading_spans(text: str) -> list[tuple[int, str]]:
    """(offset in ``text``, katakana reading) of each morpheme that has a kana reading, in order."""
    spans: list[tuple[int, str]] = []
    for start in range(0, len(text), 4000):
        for morpheme in _tokenizer().tokenize(text[start : start + 4000]):
            if morpheme.part_of_speech()[0] in ("空白", "補助記号"):
                continue
            surface = morpheme.surface()
            if surface.isascii():
                continue  # Sudachi spells Latin words in katakana (university → ユニバーシティー)
            kana = _KATAKANA_ONLY.sub("", to_katakana(morpheme.reading_form()))
            if kana:
                spans.append((start + morpheme.begin(), kana))
    return spans


def is_japanese(text: str) -> bool:
    """True when the text holds any kana or kanji (a question in English has none)."""
    return bool(_JAPANESE_CHAR.search(text))
