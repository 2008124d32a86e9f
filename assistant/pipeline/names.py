"""Names in a question that the documents do not contain — a program, a network, a round, a person.

A look-alike name (「地域共創イノベーション基盤強化事業」, 「スマート水産業実証事業」, 「J-PEAKS」, 「第二弾」) is
the most dangerous question there is: retrieval always finds *something* near it, and an answer built on
that neighbour is confidently wrong. The reader therefore looks, in what the question asks about, for
words shaped like a proper name — a run of kanji, katakana and Latin letters ending in a word that heads
names of programs, networks or documents (事業, プログラム, 交付金, ネットワーク, 協議会, 調査 …), an acronym,
an ordinal round (第2弾, 二次公募), a person with a title (田中教授) — and checks each against everything
the documents print (:class:`NameIndex`). What matches nothing is recorded on the :class:`Question` as
``unknown``; the check stage (:mod:`assistant.pipeline.check`) turns it into a not-found answer that
offers the nearest real names, labelled as such.

A name is *used* as a name when the question asks something about it (「Xの予算は」「Xについて教えて」);
a run that describes what the asker looks for (「…な農業支援事業はありますか」「どんな支援プログラムが」) is a
description, not a name, and is left to the other stages.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rapidfuzz import fuzz

from assistant.jp_text import tokenize
from assistant.records import Catalog
from assistant.vocabulary import GENERIC_PROGRAM_HEADS

if TYPE_CHECKING:
    from assistant.pipeline.networks import NetworkGraph

NameKind = Literal["program", "network", "document", "acronym", "round", "person", "region"]

#: Words that end the name of a program, a network or a document, longest first.
_HEADS: tuple[tuple[str, NameKind], ...] = (
    ("プログラム", "program"),
    ("プロジェクト", "program"),
    ("イニシアティブ", "program"),
    ("交付金", "program"),
    ("補助金", "program"),
    ("助成金", "program"),
    ("推進費", "program"),
    ("事業", "program"),
    ("制度", "program"),
    ("基金", "program"),
    ("ネットワーク", "network"),
    ("プラットフォーム", "network"),
    ("コンソーシアム", "network"),
    ("コミュニティ", "network"),
    ("協議会", "network"),
    ("推進会議", "network"),
    ("委員会", "network"),
    ("拠点", "network"),
    ("報告書", "document"),
    ("白書", "document"),
    ("ガイドライン", "document"),
    ("実態調査", "document"),
)
_HEAD = "|".join(re.escape(h) for h, _ in _HEADS)
#: A run of name characters (kanji, katakana, Latin, digits, ・ and the like) ending in a head word.
_NAME_RUN = re.compile(rf"[一-龥々〆ァ-ヶーｦ-ﾟA-Za-z0-9・･&＆\-－]*?(?:{_HEAD})(?![一-龥々ァ-ヶー])")
#: Hiragana that opens a name (「とくしま」「みどりの」 is not, as の is a particle): three or more kana at the
#: start of the text or after a mark, ending in none of the particles.
_KANA_PREFIX = re.compile(r"(?:^|(?<=[\s、。「『（(・]))[ぁ-ゖ]{3,8}(?<![のはがをにでとも])$")
#: An English program name: two or more capitalised words ending in what names a program or a body.
_ENGLISH_NAME = re.compile(
    r"\b(?:[A-Z][A-Za-z\-]+\s+){1,6}(?:Grant|Program|Programme|Project|Initiative|Fund|Scheme|Subsidy|"
    r"Consortium|Council|Network|Community)\b"
)
_ACRONYM = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-－][A-Za-z0-9]+)*(?![A-Za-z0-9])")
_ROUND = re.compile(
    r"第\s*(?P<n>[0-9０-９]+|[一二三四五六七八九十]+)\s*(?P<unit>弾|回|期|次|号)|"
    r"(?P<n2>[2-9２-９二三四五六七八九])\s*次\s*(?P<unit2>公募|募集|採択|締切|認定)"
)
_PERSON_TITLE = (
    r"(?:さん|先生|氏|教授|准教授|様|学長|会長|社長|理事長|委員長|座長|知事|市長|局長|課長|室長|部長)"
)
#: After a name: what the question asks about it (so the run is used as a name).
_ASKED_ABOUT = re.compile(
    r"^\s*(?:[」』）)])?\s*(?:の|は|って|とは|について|に(?:ついて|関して|申請|応募|参加)|が(?:所管|担当|申請|対象)|を(?:所管|担当|教え|申請)|"
    r"という|と(?:いう|いった)|で(?:は|の)|も)"
)
#: After a name: it is asked for, not about (「…支援事業はありますか」「…プログラムがあれば」).
_DESCRIBED = re.compile(
    r"^\s*(?:は|が|って|も)?\s*(?:あり|ある|あれ|無い|ない|なかっ|存在|見つか)|^\s*(?:を|が)?\s*(?:探し|探す|知りたい)"
)
#: Before a name: a description (「どんな…事業」「…のような制度」「…系の拠点」).
_DESCRIBING = re.compile(
    r"(?:どんな|どの|どういう|どのような|何か|なにか|ような|ように|みたいな|的な|系の|向けの|型の|に使える|できる|する|した|ための|らしい)\s*$"
)
#: Prefixes that make a run a category (「関連事業」「各事業」「地域事業」), not a name.
_GENERIC_HEADS = GENERIC_PROGRAM_HEADS | frozenset(
    [
        "国",
        "府省",
        "省庁",
        "大学",
        "地域",
        "全国",
        "地方",
        "政府",
        "研究",
        "共同研究",
        "産学",
        "産学官",
        "連携",
        "産学連携",
    ]
)
#: Latin words that are ordinary vocabulary in a Japanese question, not names.
_COMMON_LATIN = frozenset(
    [
        "ai",
        "iot",
        "dx",
        "gx",
        "it",
        "ict",
        "ok",
        "pdf",
        "url",
        "web",
        "faq",
        "q",
        "a",
        "ceo",
        "cto",
        "pm",
        "po",
        "pd",
        "vc",
        "sbir",
        "ip",
        "tel",
        "fax",
        "mail",
        "email",
        "e",
    ]
)


#: How close a real name must be to be offered as the nearest (shared rare words, then characters).
_NEAREST_MIN = 0.3


@dataclass(frozen=True)
class UnknownName:
    """A name the question asks about that the documents do not print, and the nearest ones they do."""

    text: str
    kind: NameKind
    nearest: tuple[str, ...] = ()


def squash(text: str) -> str:
    """For looking a name up in the documents: NFKC, lower case, no spaces or separators (・、)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s・･、,，「」『』（）()\-－―ー]", "", text)


class NameIndex:
    """Everything the documents print, squashed, plus the names of the things they describe (programs,
    measures, networks, members) for the nearest-name suggestion. Built once per process."""

    def __init__(self, texts: Iterable[str], names: Iterable[str]) -> None:
        texts = list(texts)
        self.text = "\n".join(squash(t) for t in texts)
        # The names a not-found answer may offer: the things the catalog and the networks describe, and every
        # name-shaped run the documents print (東海バイオコミュニティ, 北海道データサイエンスネットワーク).
        printed = {
            _trim(m.group(0)) for t in texts for m in _NAME_RUN.finditer(unicodedata.normalize("NFKC", t))
        }
        printed = {n for n in printed if len(_core(n)) >= 3 and _core(n) not in _GENERIC_HEADS}
        self.names = sorted({n.strip() for n in [*names, *printed] if len(n.strip()) >= 2})
        self._keys = [squash(n) for n in self.names]
        self._words = [frozenset(tokenize(n)) for n in self.names]
        counts: dict[str, int] = {}
        for words in self._words:
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        total = max(1, len(self._words))
        self._idf = {w: math.log(1 + total / c) for w, c in counts.items()}

    def contains(self, term: str) -> bool:
        key = squash(term)
        return bool(key) and key in self.text

    def nearest(self, term: str, limit: int = 3, context: str = "") -> tuple[str, ...]:
        """The document's names closest to a term, best first: the words they share (weighted by how rare they
        are among names: 「バイオコミュニティ」 more than 「事業」), then their characters, and a little the words
        of the question around it (「消防庁の…」 leans to 消防防災…)."""
        words = set(tokenize(term))
        if not self.names or not words:
            return ()
        around = set(tokenize(context)) - words
        unseen = max(self._idf.values(), default=1.0)
        mass = sum(self._idf.get(w, unseen) for w in words)
        around_mass = sum(self._idf.get(w, unseen) for w in around) or 1.0
        key = squash(term)
        scored = []
        for name, name_key, name_words in zip(self.names, self._keys, self._words, strict=True):
            shared = sum(self._idf[w] for w in words & name_words) / mass
            if shared <= 0 or name_key == key:
                continue
            nearby = sum(self._idf[w] for w in around & name_words) / around_mass
            scored.append((0.6 * shared + 0.25 * fuzz.ratio(key, name_key) / 100 + 0.15 * nearby, name))
        scored.sort(key=lambda item: -item[0])
        return tuple(name for score, name in scored[:limit] if score >= _NEAREST_MIN)

    def unknown_names(self, asking_text: str, japanese: bool = True) -> tuple[UnknownName, ...]:
        """Names the question asks about (in its asking clauses, program names already masked) that the
        documents do not print."""
        return self.look_up(asking_text, japanese)[0]

    def look_up(
        self, asking_text: str, japanese: bool = True
    ) -> tuple[tuple[UnknownName, ...], tuple[str, ...]]:
        """The names the question asks about, split into those the documents do not print and those they do."""
        found: list[UnknownName] = []
        printed_names: list[str] = []
        for text, kind in self._candidates(asking_text, japanese):
            printed = self.round_printed(text) if kind == "round" else self.contains(text)
            if printed or (kind not in ("round", "person", "acronym") and self._core_printed(text, kind)):
                printed_names.append(text)
                continue
            found.append(UnknownName(text, kind, self.nearest(text, context=asking_text)))
        unique: dict[str, UnknownName] = {}
        for name in found:
            if not any(name.text in other for other in unique):
                unique[name.text] = name
        return tuple(unique.values()), tuple(dict.fromkeys(printed_names))

    def _candidates(self, text: str, japanese: bool) -> list[tuple[str, NameKind]]:
        text = unicodedata.normalize("NFKC", text)
        found: list[tuple[str, NameKind]] = []
        for quoted in re.finditer(r"[「『]([^」』「『。？?]{3,40})[」』]", text):
            inner = quoted.group(1).strip()
            head = _head_of(inner)
            if head is not None and _used_as_name(text, quoted.start(), quoted.end()):
                found.append((inner, head))
        for run in _NAME_RUN.finditer(text):
            name = _trim(run.group(0))
            start = run.start() + run.group(0).find(name)
            prefix = _KANA_PREFIX.search(text[: run.start()])
            if prefix and name == run.group(0):
                name = prefix.group(0) + name  # 「とくしま産学官…協議会」: a name that opens in hiragana
                start = prefix.start()
            head = _head_of(name)
            if head is None or len(name) < 8 or len(_core(name)) < 5:
                continue
            if _core(name) in _GENERIC_HEADS or not _used_as_name(text, start, start + len(name)):
                continue
            found.append((name, head))
        if not japanese:
            # "METI's Regional Startup Campus Grant": a capitalised name ending in a kind of program
            for run in _ENGLISH_NAME.finditer(text):
                found.append((run.group(0), "program"))
        if japanese:
            for acronym in _ACRONYM.finditer(text):
                word = acronym.group(0)
                if len(word) < 3 or word.lower() in _COMMON_LATIN or not re.search(r"[A-Z]", word):
                    continue
                if _used_as_name(text, acronym.start(), acronym.end()):
                    found.append((word, "acronym"))
            for person in re.finditer(rf"([一-龥]{{1,4}}|[ァ-ヶー]{{2,8}})\s*{_PERSON_TITLE}", text):
                subject = re.match(r"\s*(?:が|も)", text[person.end() :])  # 「佐藤教授が代表の拠点」
                used = subject or _used_as_name(text, person.start(), person.end())
                if used and not re.match(
                    r"(?:担当|責任|代表|事務|委員|学|会|社|理事|局|課|室|部|市|知|県|区|町|村)",
                    person.group(1),
                ):
                    found.append((person.group(1), "person"))
        for round_ in _ROUND.finditer(text):
            number = _number(round_.group("n") or round_.group("n2"))
            if number is not None and number >= 2:
                found.append((round_.group(0), "round"))
        return found

    def _core_printed(self, name: str, kind: NameKind) -> bool:
        """「共創の場形成支援事業」 names 共創の場形成支援プログラム: its core is printed as a name of the same kind
        (followed by such a head word, or standing alone); 「地域イノベーション戦略推進事業」 is not 「…推進会議」."""
        core = _core(name)
        if core == name:
            return False
        key = squash(core)
        heads = tuple(squash(h) for h, k in _HEADS if k == kind)
        for m in re.finditer(re.escape(key), self.text):
            after = self.text[m.end() : m.end() + 12]
            if after.startswith(heads) or not re.match(r"[一-龥々ァ-ヶーa-z0-9]", after):
                return True
        return False

    def round_printed(self, term: str) -> bool:
        """「第2弾」 printed as 第二弾 or 第２弾 counts as printed."""
        m = _ROUND.search(unicodedata.normalize("NFKC", term))
        if m is None:
            return self.contains(term)
        number = _number(m.group("n") or m.group("n2"))
        unit = m.group("unit") or m.group("unit2")
        if number is None:
            return False
        spellings = {
            f"第{number}{unit}",
            f"第{_kanji(number)}{unit}",
            f"{number}次{unit}",
            f"{_kanji(number)}次{unit}",
        }
        return any(self.contains(s) for s in spellings)


def _head_of(name: str) -> NameKind | None:
    return next((kind for head, kind in _HEADS if name.endswith(head)), None)


def _core(name: str) -> str:
    """The name without its head word (「地域共創イノベーション基盤強化事業」 → 「地域共創イノベーション基盤強化」)."""
    for head, _ in _HEADS:
        if name.endswith(head) and len(name) > len(head):
            return name[: -len(head)]
    return name


def _trim(run: str) -> str:
    """A run without leading separators and the generic words that begin a sentence (「国の」 is no part)."""
    return run.lstrip("・･-－&＆0123456789")


def _used_as_name(text: str, start: int, end: int) -> bool:
    after, before = text[end : end + 16], text[max(0, start - 12) : start]
    if _DESCRIBED.match(after) or _DESCRIBING.search(before):
        return False
    if re.search(r"[（(]\s*$", before) and re.match(r"\s*[）)]", after):
        return True  # 「…事業（J-PEAKS）の」: an acronym in parentheses is part of the name before it
    return bool(_ASKED_ABOUT.match(after)) or not after.strip(" ？?。")


_KANJI_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _number(raw: str | None) -> int | None:
    if not raw:
        return None
    raw = unicodedata.normalize("NFKC", raw)
    if raw.isdigit():
        return int(raw)
    if raw in _KANJI_NUMBERS:
        return _KANJI_NUMBERS[raw]
    if raw.startswith("十") and len(raw) == 2 and raw[1] in _KANJI_NUMBERS:
        return 10 + _KANJI_NUMBERS[raw[1]]
    return None


def _kanji(number: int) -> str:
    inverse = {v: k for k, v in _KANJI_NUMBERS.items()}
    return inverse.get(number, str(number))


def entity_names(catalog: Catalog, networks: NetworkGraph | None = None) -> list[str]:
    """The names of the things the documents describe: programs (and aliases), measures named on goal lines
    and budget lines, networks and their members — what a not-found answer offers as nearest."""
    found = [n for p in catalog.programs for n in (p.name, *p.aliases)]
    found += [u.program_name for u in catalog.use_cases] + [b.program_name for b in catalog.budget_lines]
    if networks is not None:
        found += [n.name.text for n in networks.catalog.networks]
        found += [m.name for m in networks.catalog.members]
    return found
