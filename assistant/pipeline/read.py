"""Stage 1, read: the question is read once into a frozen :class:`Question`.

Everything later stages need from the wording is taken here — the normalised text and its Sudachi
tokens (with readings), the programs it names (by name, alias, reading or with a small typo), the
conditions it states with their role (asked for, or background about the asker), the attributes it asks
about, its cues (list, ranking, comparison, yes/no, count, when, a goal), and what its references to the
conversation (それ, その事業, 後者, 2番目, 「経産省のほう」, その中で) point at. Retrieval, planning and
composing read this object; nothing downstream re-reads the raw string.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from assistant.jp_text import _tokenizer, is_japanese, normalize, strip_controls, tokenize
from assistant.pipeline import cues
from assistant.pipeline.condition_reading import as_background, condition_shapes, read_conditions
from assistant.pipeline.conditions import Condition, ProgramFilter, explicit_filters
from assistant.pipeline.matching import Mention, NameWords, ProgramMatcher, match_key
from assistant.pipeline.names import NameIndex, UnknownName
from assistant.pipeline.networks import (
    NetworkGraph,
    NetworkQuery,
    asks_network_relation,
    read_network_question,
)
from assistant.pipeline.references import Reference, ReferenceResolver
from assistant.records import Program
from assistant.vocabulary import (
    TOGETHER,
    collaboration_label,
    english_gloss,
)


class Turn(BaseModel):
    """One earlier turn of the conversation, as the API and the UI send it."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class Token:
    surface: str
    base: str  # dictionary form
    reading: str  # katakana
    pos: str


@dataclass(frozen=True)
class Clause:
    """A piece of the question between sentence ends and subordinate conjunctions (「…ですが、」)."""

    text: str
    kind: Literal["ask", "wish", "background"]


@dataclass(frozen=True)
class Question:
    text: str  # as asked (control characters removed)
    normalized: str
    masked: str  # normalised, each named program replaced by one private-use character (see MASKED_NAME)
    language: Literal["ja", "en"]
    tokens: tuple[Token, ...]
    content_words: tuple[str, ...]  # tokenize(): what scoring compares
    mentions: tuple[Mention, ...]  # programs named in the question
    named_ids: tuple[str, ...]
    reference: Reference | None
    conditions: tuple[Condition, ...]
    asked: frozenset[str]
    cues: frozenset[str]
    clauses: tuple[Clause, ...]
    goal: str | None  # the wish of a goal question, without the asking part
    matching_goal: str | None  # the goal as compared with programs' purposes (partners named as 産学官)
    ranking_size: int | None
    counted: str | None  # the noun a how-many question counts (「何大学」 → 大学)
    ranking_ascending: bool
    years: frozenset[int]
    history_ids: tuple[str, ...]  # programs of the most recent turn that names any
    history_texts: tuple[str, ...] = field(default=(), repr=False)
    #: Programs named only as background (「すでに共創の場に採択されています」).
    background_ids: tuple[str, ...] = ()
    network: NetworkQuery | None = None  # what it asks about the regional networks, if it does
    gloss: str = ""  # Japanese words of an English question's domain terms
    network_from_history: bool = False  # 「その委員会は…」: the network was named by an earlier turn
    #: The attribute a 「同じ？／違う？」 question compares (department, ministry, applicants, contact, themes,
    #: budget, new_calls), or None when the question does not say which.
    same_attribute: str | None = None
    #: Names the question asks about that the documents do not print (:mod:`assistant.pipeline.names`).
    unknown: tuple[UnknownName, ...] = ()
    #: Names it asks about that the documents do print (「北海道データサイエンスネットワーク」).
    printed_names: tuple[str, ...] = ()
    #: Phrases in the asking clauses shaped like conditions on programs (「10件以上」「東北限定」); the check
    #: stage names those that no condition was read from.
    condition_phrases: tuple[str, ...] = ()
    #: What an earlier turn was about, when the question points back at something that is not a program
    #: (「そのうち東海地方のコミュニティには…」 after a turn about 地域バイオコミュニティ): searched with it.
    topic: str = ""
    #: Measures the question names that have no program row (マテリアル先端リサーチインフラ): printed only on
    #: goal ⇒ program lines and budget lists.
    measures: tuple[str, ...] = ()
    #: Which budget figures are asked for: "initial" (補正 left out), "supplementary", "split", or None.
    budget_basis: str | None = None
    #: Short terms the question quotes (「ABC」, 『地域共創の場』): what a pronoun in it may point at.
    quoted_terms: tuple[str, ...] = ()

    # -- derived views ------------------------------------------------------------------------------
    @property
    def program_ids(self) -> tuple[str, ...]:
        """Programs the question is about: named ones, else the ones its reference resolves to."""
        if self.named_ids:
            return self.named_ids
        if self.reference is not None and self.reference.status == "resolved":
            return self.reference.program_ids
        return ()

    @property
    def filter(self) -> ProgramFilter:
        """What listed programs must meet: every asked and caller condition."""
        return ProgramFilter.of(self.conditions)

    @property
    def hard_filter(self) -> ProgramFilter:
        """Conditions exact enough to narrow a recommendation: the caller's, and asked ones but themes
        (a theme word in a goal is context)."""
        return ProgramFilter.of(
            [c for c in self.conditions if c.role == "filter" or (c.role == "asked" and c.field != "theme")]
        )

    @property
    def matching_text(self) -> str:
        """The question as it is matched with the Japanese text: an English question gets the Japanese
        words of its domain terms (survey → 調査) appended."""
        return f"{self.text} {self.gloss}" if self.gloss else self.text

    def has(self, cue: str) -> bool:
        return cue in self.cues

    def asks(self, *attributes: str) -> bool:
        return any(a in self.asked for a in attributes)


_ERA_YEAR = re.compile(r"(令和|平成)\s*(元|\d{1,2})\s*年")
_WESTERN_YEAR = re.compile(r"(?<![\d,.\-])((?:19|20)\d{2})\s*年")
_ENGLISH_YEAR = re.compile(r"\b(?:in|for|of|during|fy|fiscal(?: year)?)\s*((?:19|20)\d{2})\b", re.IGNORECASE)
_ERA_START = {"令和": 2018, "平成": 1988}


def mentioned_years(text: str) -> set[int]:
    """Western years of the 令和/平成 and 19xx/20xx mentions in a text (令和2年 = 2020)."""
    text = normalize(text)
    years = {int(m.group(1)) for m in _WESTERN_YEAR.finditer(text)}
    years |= {int(m.group(1)) for m in _ENGLISH_YEAR.finditer(text)}
    for era, number in _ERA_YEAR.findall(text):
        years.add(_ERA_START[era] + (1 if number == "元" else int(number)))
    return years


#: Words that presuppose a known pair (「両方」 "both"), unlike 「複数の」 "several", which asks of all.
_PAIR = re.compile(r"両方|どちらにも|どっちにも|いずれにも|二つとも|2つとも|\bboth\b")
_CLAUSE_END = re.compile(r"(?<=[。！？!?\n])|(?<=[.?!]\s)")
_SUBORDINATE = re.compile(
    r"(?:のですが|んですが|ですが|ますが|のですけど|んですけど|ですけど|けれども|けれど|けど|ので|から|ため|が)[、,]"
)
_ASK_END = re.compile(
    r"[?？]|か[。.]?$|(?:教えて|おしえて|知りたい|しりたい|ください|下さい|願います|お願い|いただけ|頂け|"
    r"ほしい|欲しい|挙げて|示して|見たい|一覧にして|どこ|どれ|なに|何|誰|だれ|いつ|いくら|いくつ(?!か))[^、]{0,12}$|"
    r"(?:は|って|を|の|で)$|\b(?:please|tell me|list|show me|give me)\b"
)
#: Discourse connectives that open a goal (「今度は」「次に」) and say nothing about it.
_CONNECTIVE = re.compile(
    r"^(?:今度は|今回は|次は|次に|また|さらに|更に|今後は|これからは|将来的には|そこで|ついては|そのため|このため|加えて)[、,]?\s*"
)
#: A clause that ends as a statement (「…です。」「…参加してきました。」「…担当しております。」).
_DECLARATIVE_END = re.compile(r"(?:です|ます|ました|でした|である|おります|いる|いた|った)[。.]\s*$|\.\s*$")
#: 「このような取組に使える事業は？」: the ask points back at the narrative before it, which is the goal.
_NARRATIVE_BACK = re.compile(
    r"このような|こういう|こうした|そのような|そういう|こういった|そういった|\bsuch\b|\bthis kind of\b"
)
#: A wish that is a request to the assistant (「教えてほしい」「絞ってほしい」「知りたい」): an ask, not a goal.
_REQUEST_WISH = re.compile(
    r"(?:教えて|示して|挙げて|絞って|まとめて|一覧に(?:して)?|出して|調べて|並べて|比べて|説明して)(?:ほしい|欲しい|いただきたい|もらいたい)|"
    r"(?:^|[、。\s])(?:知りたい|伺いたい|お聞きしたい|聞きたい|確かめたい)"
)
#: A request that ends like a question (「教えていただけますか」「挙げてもらえますか」): it asks for something.
_REQUEST_FORM = re.compile(
    r"(?:教えて|示して|挙げて|送って|調べて|出して|まとめて|並べて|見せて|お知らせ|ご教示|説明して)"
    r"(?:いただけ|いただけ|頂け|もらえ|くれ|下さ|ください)"
)
#: A wish to reach someone (「問い合わせたい」「FAXで送りたい」「電話したい」): it asks for a contact, not a program.
_CONTACT_WISH = re.compile(
    r"(?:問い?合わ?せ|連絡|相談|質問|聞き|きき|知り|しり|教えてもらい|確認|送り|送付|提出|電話|メール|ファックス|"
    r"ファクス|FAX|fax|郵送|届け)(?:を)?(?:し|させ|さし|いたし)?たい"
)
#: A statement of hearsay or report (「…だそうです」「…とのことです」): it tells, it does not ask.
_HEARSAY = re.compile(r"(?:そう|とのこと|ようです|らしい)(?:です|でした)?[。.]?\s*$")
_GOAL_TAIL = re.compile(
    r"^(.*(?:たい|ほしい|欲しい|考えて(?:い|お)ます|検討して(?:い|お)ます|目指して(?:い|お)ます|予定です|つもりです))"
)
#: Program names in ``Question.masked`` become one private-use character each (U+E000 + their index among
#: the named programs), so cue words inside names do not count and a clause still shows which it names.
_MASK_BASE = 0xE000
#: Japanese quoted inside an English question (“the 「地域共創の場」 report”) does not make it Japanese.
_QUOTED_JA = re.compile(r"「[^」]*」|『[^』]*』")
MASKED_NAME = "[\ue000-\ue0ff]"


class QuestionReader:
    """Built once per process from the catalog; ``read`` is thread-safe (no per-call state)."""

    def __init__(
        self,
        programs: list[Program],
        matcher: ProgramMatcher,
        networks: NetworkGraph | None = None,
        names: NameIndex | None = None,
        measures: Sequence[str] = (),
    ) -> None:
        self.programs = {p.id: p for p in programs}
        self.names = names
        self.name_words = NameWords.from_programs(programs)
        # Measures without a row, longest first, as name keys (a shorter name inside a longer one is not it).
        spellings = {(form, m) for m in measures for form in (m, re.sub(r"[（(][^）)]*[）)]", "", m))}
        self._measures = sorted(
            {(match_key(form), m) for form, m in spellings if len(match_key(form)) >= 6},
            key=lambda m: -len(m[0]),
        )
        self.matcher = matcher
        self.networks = networks
        self.references = ReferenceResolver(programs, matcher)
        self.themes = sorted({t for p in programs for t in p.themes})
        # Each program's printed names as flexible patterns (separators may differ), for masking.
        self._name_patterns: dict[str, re.Pattern[str]] = {}
        for program in programs:
            names = {program.name, *program.aliases}
            names |= {v for v, pid in matcher.variants if pid == program.id}
            alternatives = sorted(
                (_flexible(normalize(n).lower()) for n in names if len(match_key(n)) >= 2),
                key=len,
                reverse=True,
            )
            self._name_patterns[program.id] = re.compile("|".join(alternatives), re.IGNORECASE)

    # -- the one entry point -------------------------------------------------------------------------
    def read(
        self, text: str, history: Sequence[Turn] = (), filters: dict[str, str | None] | None = None
    ) -> Question:
        text = strip_controls(text).strip()
        normalized = normalize(text)
        mentions = tuple(self.matcher.mentions(text))
        named = tuple(dict.fromkeys(m.program_id for m in mentions))
        masked = self._mask(normalized, named)
        if re.search(r"[\u3041-\u3096]{4,}", masked):  # typed in kana: its words of asking as kanji
            masked = cues.KANA_WORD.sub(lambda m: cues.KANA_WORDS[m.group(0)], masked)
        named, excluded = _excluded_programs(named, masked)
        # An English question that names a program in Japanese is still English: names are masked first.
        language = _language_of(masked)
        network, network_from_history = self._network(text, masked, language, history)
        gloss = english_gloss(_QUOTED_JA.sub("", masked)) if language == "en" else ""
        clause_list = tuple(_clauses(masked, language))
        named, background_ids = _subject_programs(named, clause_list)
        asked = _asked(clause_list, masked, language)
        conditions = read_conditions(clause_list, language, self.themes)
        if excluded:
            conditions.append(Condition("program", "not", excluded))
        conditions.extend(explicit_filters(filters or {}, list(self.programs.values())))
        cue_set = self._cues(masked, clause_list, language, asked) | cues.text_cues(masked)
        goal = _goal(clause_list, text, language)
        if goal is not None:
            cue_set = cue_set | {"goal"}
        history_ids, history_texts = self.references.history(history)
        if not named and language == "ja" and asked & cues.CATALOG_ATTRIBUTES and not cue_set & _OPEN_CUES:
            linked = self.name_words.best(set(tokenize(masked)))
            if linked is not None:
                # 「経産省の自動運転レベル4のプロジェクト（L4）の担当は？」: a program named by the words of its name.
                named = (linked,)
                mentions = (*mentions, Mention(linked, 0, "words", ""))
                ministry = self.programs[linked].ministry
                conditions = [
                    as_background(c) if c.field == "ministry" and c.value == (ministry,) else c
                    for c in conditions
                ]
        reference = None
        if not named:
            reference = self.references.resolve(
                masked, language, cue_set, asked, conditions, history, history_ids
            )
            if reference is not None and reference.picked_by in ("ministry", "applicant"):
                # 「経産省のほう」「自治体が申請するほう」 pick a program: the words are neither a condition on
                # a list nor what is asked about it.
                field_name = "ministry" if reference.picked_by == "ministry" else "applicant"
                conditions = [c if c.field != field_name else as_background(c) for c in conditions]
                asked = asked - {"ministry" if field_name == "ministry" else "applicants"}
        if reference is None and not named and cues.SET_REFERENCE.search(_lower(masked, language)):
            conditions = _set_defined_here(conditions, clause_list, masked)
        unknown, printed_names = self._names(clause_list, language, mentions)
        topic = ""
        if history and reference is None and not named and not history_ids and _points_back(masked, language):
            topic = _pointed_topic(
                masked, next((t.content for t in reversed(history) if t.role == "user"), "")
            )
        size_match = cues.RANK_SIZE.search(_lower(masked, language))
        ranking_size = None
        if size_match:
            ranking_size = max(1, min(int(next(g for g in size_match.groups() if g)), 10))
        return Question(
            text=text,
            normalized=normalized,
            masked=masked,
            language=language,
            tokens=tuple(_tokens(normalized)),
            content_words=tuple(tokenize(f"{text} {gloss}")),
            mentions=mentions,
            named_ids=named,
            reference=reference,
            conditions=tuple(conditions),
            asked=asked,
            cues=frozenset(cue_set),
            clauses=clause_list,
            goal=goal,
            matching_goal=_matching_goal(goal) if goal else None,
            ranking_size=ranking_size,
            counted=cues.counted_noun(masked),
            ranking_ascending=bool(cues.ASCENDING.search(_lower(masked, language))),
            years=frozenset(mentioned_years(text)),
            history_ids=history_ids,
            history_texts=history_texts,
            background_ids=background_ids,
            network=network,
            network_from_history=network_from_history,
            gloss=gloss,
            same_attribute=_same_attribute(clause_list, language)
            if "same" in cue_set or "compare" in cue_set
            else None,
            unknown=unknown,
            printed_names=printed_names,
            condition_phrases=tuple(
                condition_shapes(" ".join(c.text for c in clause_list if c.kind == "ask"))
            ),
            topic=topic,
            measures=self._measures_in(masked) if not named else (),
            budget_basis=_budget_basis(_lower(masked, language)),
            quoted_terms=tuple(m.group(1) for m in _QUOTED_TERM.finditer(normalized)),
        )

    def _measures_in(self, masked: str) -> tuple[str, ...]:
        key = match_key(masked)
        found: list[str] = []
        for measure_key, name in self._measures:
            at = key.find(measure_key)
            if at >= 0 and not any(measure_key in match_key(f) for f in found):
                found.append(name)
                key = key[:at] + "\ue0ff" * len(measure_key) + key[at + len(measure_key) :]
        return tuple(found)

    def _names(
        self, clause_list: tuple[Clause, ...], language: str, mentions: tuple[Mention, ...]
    ) -> tuple[tuple[UnknownName, ...], tuple[str, ...]]:
        """The names the asking clauses use: those the documents do not print, and those they do."""
        if self.names is None:
            return (), ()
        asking = "。".join(c.text for c in clause_list if c.kind == "ask")
        if _POINTS_TO_NAME.search(asking):
            # 「…で『X事業』が候補に挙がった。この事業の対象は？」: the name the ask points back to is asked.
            asking = "。".join(c.text for c in clause_list)
        found, printed = self.names.look_up(asking, japanese=language == "ja")
        # A name typed with a slip or in kana was matched to its program: it is that program, not unknown.
        typed = [m.text for m in mentions if m.text]
        unknown = tuple(
            u
            for u in found
            if not any(t in match_key(u.text) or match_key(u.text) in t for t in typed)
            # an English name beside a program the question names is that program's translation
            and not (typed and re.match(r"[A-Za-z]", u.text))
        )
        return unknown, printed

    # -- names ---------------------------------------------------------------------------------------
    def _mask(self, normalized: str, named: tuple[str, ...]) -> str:
        masked = normalized
        for index, pid in enumerate(named):
            masked = self._name_patterns[pid].sub(chr(_MASK_BASE + index), masked)
        return masked

    # -- cues ----------------------------------------------------------------------------------------
    def _cues(
        self, masked: str, clause_list: tuple[Clause, ...], language: str, asked: frozenset[str]
    ) -> set[str]:
        text = _lower(masked, language)
        found: set[str] = set()
        if cues.EXPLICIT_LIST.search(text):
            found |= {"list", "explicit_list"}
        if cues.WHICH_PROGRAMS.search(text):
            found.add("list")
        if cues.RANKING.search(text) and cues.RANKING_MEASURE.search(text):
            found.add("ranking")
        if cues.COMPARE.search(text):
            found.add("compare")
        if cues.SAME.search(text):
            found.add("same")
        if cues.COUNT.search(text):
            found.add("count")
        if cues.WHEN.search(text):
            found.add("when")
        if cues.NEGATED.search(text):
            found.add("negated")
        asks = [c.text for c in clause_list if c.kind == "ask"] or [text]
        if len(asks) > 1 and _REMARK.search(asks[-1]):
            asks = asks[
                :-1
            ]  # 「これって内閣府の事業？地域新MaaS創出推進事業のこと。」: the remark says which
        last = _lower(asks[-1], language).strip()
        if language == "en":
            if cues.YES_NO_EN.search(last) and not re.match(r"^(?:which|what|who|where|when|how)\b", last):
                found.add("yes_no")
        elif (
            not cues.INTERROGATIVE.search(last)
            and not _REQUEST_FORM.search(last)
            and (
                cues.YES_NO_END.search(last.rstrip("。.!！?？ "))
                or re.search(r"[るうくすつぬむぶぐいた][?？]$", last)
                or re.search(r"[^はがをのもっ\s][?？]$", last)  # 「これって内閣府の事業？」, not 「予算は？」
            )
        ):
            found.add("yes_no")  # 「…申請できますか」, and a plain verb asked (「研究者でも出せる？」)
        return found

    def _network(
        self, text: str, masked: str, language: str, history: Sequence[Turn]
    ) -> tuple[NetworkQuery | None, bool]:
        """The question about the regional networks; 「その拠点の構成員は？」 borrows the network or region the
        conversation named last."""
        if self.networks is None:
            return None, False
        found = read_network_question(text, self.networks)
        if found is None and re.search(r"欄|列|可視化の例|表の|の表", masked):
            found = read_network_question(f"ネットワーク {text}", self.networks)  # the table's own words
        lowered = _lower(masked, language)
        site_anaphor = bool(
            re.search(
                r"その(?:拠点|ネットワーク|協議会|会議|委員会|推進会議|プラットフォーム|組織|団体|地域|県)",
                masked,
            )
        )
        # 「両方」「どちらにも」 "both" presuppose the pair of networks the conversation is about.
        pair = found is not None and found.relation == "shared" and bool(_PAIR.search(lowered))
        points_back = bool(
            cues.ANAPHORA.search(lowered)
            or cues.PLURAL_REFERENCE.search(lowered)
            or site_anaphor
            or pair
            or "そこ" in masked
        )
        if found is None and history:
            carried = self._elliptical_region(masked, history)
            if carried is not None:
                return carried, True
        scoped = found is not None and bool(found.regions or found.network_ids or found.member_ids)
        if scoped or not history or not points_back:
            return found, False
        for turn in reversed(history):
            earlier = read_network_question(turn.content, self.networks)
            if earlier is None or not (earlier.network_ids or earlier.regions):
                continue
            if found is None:  # 「その拠点の構成員は？」: the question's relation, the earlier turn's network
                if not (asks_network_relation(text) or site_anaphor):
                    return None, False
                found = read_network_question(f"ネットワーク {text}", self.networks)
                if found is None:
                    return None, False
            # 「両方」 is the region just discussed; 「その拠点」 the network just named.
            if found.relation == "shared" or not earlier.network_ids:
                return found.model_copy(update={"regions": earlier.regions}), True
            return found.model_copy(
                update={"network_ids": earlier.network_ids, "regions": earlier.regions}
            ), True
        return found, False

    def _elliptical_region(self, masked: str, history: Sequence[Turn]) -> NetworkQuery | None:
        """「愛媛県だと？」 after 「香川県の産学官の協議会は？」: the earlier question asked again with the
        new region in place of its own (None when the question is not such an ellipsis)."""
        ellipsis = _ELLIPSIS.match(masked)
        last = next((t.content for t in reversed(history) if t.role == "user"), "")
        if ellipsis is None or not last or self.networks is None:
            return None
        earlier = read_network_question(last, self.networks)
        if earlier is None or not earlier.regions:
            return None
        asked = last
        for region in earlier.regions:
            stem = region.removesuffix("県").removesuffix("府").removesuffix("都")
            asked = (
                asked.replace(region, ellipsis.group("x"))
                if region in asked
                else asked.replace(stem, ellipsis.group("x"))
            )
        if asked == last:
            return None
        found = read_network_question(asked, self.networks)
        return found if found is not None and found.regions and found.regions != earlier.regions else None

    # -- the conversation ----------------------------------------------------------------------------


# -- helpers -------------------------------------------------------------------------------------------
def _language_of(masked: str) -> Literal["ja", "en"]:
    """English only when the question has Latin words and no Japanese outside quotes (a bare number is ja)."""
    if not re.search(r"[A-Za-z]{2,}", masked):
        return "ja"
    return "ja" if is_japanese(_QUOTED_JA.sub("", masked)) else "en"


def _lower(text: str, language: str) -> str:
    return text.lower() if language == "en" else text


def _flexible(name: str) -> str:
    """A name as a pattern that tolerates separators and spaces between its characters."""
    return r"[\s・,，、]*".join(re.escape(ch) for ch in name if not ch.isspace())


def _tokens(text: str) -> list[Token]:
    found = []
    for start in range(0, len(text), 4000):
        for m in _tokenizer().tokenize(text[start : start + 4000]):
            found.append(Token(m.surface(), m.dictionary_form(), m.reading_form(), m.part_of_speech()[0]))
    return found


#: A question quoted from someone else (「『環境省の事業で、市が申請できるものは？』と聞かれました」): the quote is
#: what is asked, the reporting words around it are background.
_QUOTED_QUESTION = re.compile(
    r"[「『“\"](?P<q>[^」』”\"]{4,300})[」』”\"]\s*(?:と|って|との|という)\s*"
    r"(?:(?:い|言)われ|聞かれ|訊かれ|尋ねられ|お?質問|お?問い?合わ?せ|ご?相談|ご?依頼|頼まれ|聞いて|ご?連絡|お?尋ね|照会|"
    r"ご?要望|お?電話|お?メール|メッセージ|書かれ|言って|話が)"
)
#: The same without quotation marks (「…で自治体が出せるものを調べてほしいと言われました」): the request
#: reported is what is asked.
_REPORTED_REQUEST = re.compile(
    r"(?P<q>[^。？?「『]{4,200}?(?:教えて|知りたい|調べて|挙げて|探して)(?:ほしい|欲しい|ください|下さい|くれ)?)\s*"
    r"(?:と|って)\s*(?:頼まれ|(?:い|言)われ|聞かれ|相談され|依頼され|尋ねられ)"
)
_QUESTION_SHAPE = re.compile(
    r"[?？]$|か$|(?:どれ|何|なに|どこ|誰|だれ|いくら|いつ)(?:か|です|でしょう)?$|(?:ある|あります|ない)(?:か|の)?$|"
    r"教えて|知りたい|ください$|(?:は|って)$|"
    r"(?:挙げて|示して|出して|調べて|まとめて|並べて|リストアップして|絞って)(?:ほしい|ください|くれ|もらえる|いただけ\w*)?$"
)


def _clauses(masked: str, language: str) -> list[Clause]:
    segments: list[tuple[str, str | None]] = []  # (text, forced kind of its last piece)
    at = 0
    quoted = list(_QUOTED_QUESTION.finditer(masked))
    reported = [
        m
        for m in _REPORTED_REQUEST.finditer(masked)
        if not any(q.start() <= m.end() and m.start() <= q.end() for q in quoted)
    ]
    for m in sorted(quoted + reported, key=lambda found: found.start()):
        quote = m.group("q").strip()
        if not _QUESTION_SHAPE.search(quote.rstrip("。. ")):
            continue
        segments.append((masked[at : m.start()], None))
        segments.append((quote, "ask"))
        at = m.start("q") + len(m.group("q")) + 1  # the reporting words: background
        segments.append(("", "reported"))
    segments.append((masked[at:], None))
    segments = [
        (text, "lead" if forced is None and index + 1 < len(segments) else forced)
        for index, (text, forced) in enumerate(segments)
    ]
    clauses: list[Clause] = []
    reported_from = len(masked)
    for text, forced in segments:
        if forced == "reported":
            reported_from = len(clauses)
            continue
        found = _clause_list(text, language, ends_question=forced != "lead")
        if forced == "ask" and found:
            found = [Clause(c.text, "ask" if c.kind == "background" else c.kind) for c in found]
        elif reported_from < len(masked) and found:
            # 「…と聞かれました。」 reports the quote: background, unless it is the only asking clause left.
            first = found[0]
            if first.kind == "ask" and len(found) == 1 and any(c.kind == "ask" for c in clauses):
                found = [Clause(first.text, "background")]
            reported_from = len(masked)
        clauses.extend(found)
    if len(clauses) > 1 and clauses[-1].kind == "ask" and any(c.kind == "ask" for c in clauses[:-1]):
        last = clauses[-1]
        stated = _DECLARATIVE_END.search(_lower(last.text, language)) or _HEARSAY.search(last.text)
        if stated and not re.search(r"知り|教え|ください|下さい|お願い|ほしい|欲しい|たい|[?？]", last.text):
            clauses[-1] = Clause(last.text, "background")  # 「…聞かれました。先生は以前…だったそうです。」
    return clauses


def _clause_list(masked: str, language: str, ends_question: bool = True) -> list[Clause]:
    pieces: list[str] = []
    for sentence in _CLAUSE_END.split(masked):
        cuts = [m.end() for m in _SUBORDINATE.finditer(sentence)]
        pieces.extend(sentence[a:b] for a, b in zip([0, *cuts], [*cuts, len(sentence)], strict=True))
    pieces = [p.strip() for p in pieces if p.strip()]
    if not pieces:
        return []
    kinds: list[str] = []
    for index, piece in enumerate(pieces):
        text = _lower(piece, language)
        is_last = ends_question and index == len(pieces) - 1
        if cues.WISH.search(text) and not _CONTACT_WISH.search(text) and not _REQUEST_WISH.search(text):
            kinds.append("wish")
        elif _DECLARATIVE_END.search(text) and not is_last:
            kinds.append("background")  # 「…参加してきました。」 states, it does not ask
        elif _ASK_END.search(text) or is_last:
            kinds.append("ask")
        elif cues.ASKER.search(piece) or cues.ASKER_STATE.search(text):
            kinds.append("background")
        else:
            kinds.append("background")
    if "ask" not in kinds and ends_question:  # 「…したい。」 alone: the wish is what is asked about
        kinds[-1] = "ask" if kinds[-1] != "wish" else "wish"
    return [Clause(p, k) for p, k in zip(pieces, kinds, strict=True)]  # type: ignore[arg-type]


#: Cues of a question about programs in general (a goal, a list, a ranking, a comparison): no one program
#: is named by its words there.
_OPEN_CUES = frozenset({"goal", "list", "explicit_list", "ranking", "compare"})


def _budget_basis(text: str) -> str | None:
    if cues.BUDGET_SPLIT.search(text):
        return "split"
    if cues.BUDGET_INITIAL_ONLY.search(text):
        return "initial"
    if cues.BUDGET_SUPPLEMENTARY.search(text):
        return "supplementary"
    return None


_QUOTED_TERM = re.compile(r"[「『“\"]([^」』”\"。？?、]{1,24})[」』”\"]")
#: A demonstrative pointing back at a named thing inside the question (「この事業」「同制度」 "this grant").
_POINTS_TO_NAME = re.compile(
    r"(?:この|その|当該|同)(?:事業|制度|プログラム|交付金|補助金|助成|拠点|協議会|ネットワーク|取組|プロジェクト)|"
    r"\b(?:this|that) (?:program(?:me)?|grant|scheme|project|initiative|network)\b",
    re.I,
)
#: A trailing remark that names what an earlier asking clause meant (「…のこと。」「…の件です」).
_REMARK = re.compile(r"(?:のこと|の件|の話)(?:です)?[。.]?\s*$")


def _set_defined_here(
    conditions: list[Condition], clause_list: tuple[Clause, ...], masked: str
) -> list[Condition]:
    """「スマートシティの支援メニューを見ています。その中で…」: the set 「その中で」 narrows is defined before it in
    the same question, so what defines it there (a theme, a ministry) is asked, not background."""
    pointer = cues.SET_REFERENCE.search(masked)
    before = masked[: pointer.start()] if pointer else ""
    defining = [c.text for c in clause_list if c.text in before and not cues.ASKER.search(c.text)]
    return [
        Condition(c.field, c.op, c.value, "asked", c.words, c.phrase)
        if c.role == "background"
        and c.field in ("theme", "ministry", "applicant")
        and any(c.phrase and c.phrase.split("、")[0] in d for d in defining)
        else c
        for c in conditions
    ]


#: An elliptical follow-up naming only a new subject (「高知県のほうは？」「北海道だと？」).
_ELLIPSIS = re.compile(
    r"^\s*(?:じゃあ|では|なら|それなら|で、)?\s*(?P<x>[^。？?、\s]{2,12}?)(?:のほう|の方)?(?:は|って|なら|だと|では)"
    r"(?:どう(?:ですか|でしょう(?:か)?|なって(?:い)?ますか)?)?\s*[?？]?\s*$"
)
#: A demonstrative before a noun of any kind (「その調査」「この大賞」): it points at what an earlier turn named.
_DEMONSTRATIVE_NOUN = re.compile(
    r"(?:その|この|あの|当該|先ほどの|先程の|さっきの)(?P<noun>[一-龥ァ-ヶー]{2,})"
)


def _pointed_topic(masked: str, turn: str) -> str:
    """What 「その調査」 points at in the earlier turn: the phrase there ending in 調査 (「文科省のベンチャー実態調査」),
    not that turn's own question; the whole turn when the noun is not in it (「それ」)."""
    pointer = _DEMONSTRATIVE_NOUN.search(masked)
    if pointer is not None:
        noun = pointer.group("noun")
        for size in range(len(noun), 1, -1):  # 「その調査結果」 → 調査結果, else 調査
            phrase = re.search(rf"[^、。？?\s]{{0,30}}{re.escape(noun[:size])}", turn)
            if phrase is not None:
                return phrase.group(0)
    return turn


def _points_back(masked: str, language: str) -> bool:
    text = _lower(masked, language)
    return bool(
        cues.ANAPHORA.search(text)
        or cues.SET_REFERENCE.search(text)
        or "そこ" in text
        or _DEMONSTRATIVE_NOUN.search(text)
    )


def _same_attribute(clause_list: tuple[Clause, ...], language: str) -> str | None:
    """The attribute word nearest to 「同じ／違う」 in the asking clause that has one."""
    for clause in clause_list:
        text = _lower(clause.text, language)
        anchors = [m.start() for m in cues.SAME_OR_DIFFERENT.finditer(text)]
        if clause.kind != "ask" or not anchors:
            continue
        best: tuple[int, int, str] | None = None  # (distance, order, attribute)
        for order, (name, pattern) in enumerate(cues.SAME_ATTRIBUTES):
            for m in pattern.finditer(text):
                if re.fullmatch(MASKED_NAME, m.group(0)[:1]):
                    continue
                distance = min(abs(m.start() - a) for a in anchors)
                if best is None or (distance, order) < best[:2]:
                    best = (distance, order, name)
        return best[2] if best is not None else None
    return None


def _excluded_programs(named: tuple[str, ...], masked: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """「医療系ベンチャートータルサポート事業以外で」: a program named to be left out is not the subject."""
    keep, excluded = [], []
    for index, pid in enumerate(named):
        mark = chr(_MASK_BASE + index)
        at = masked.find(mark)
        tail = masked[at + 1 : at + 12] if at >= 0 else ""
        if re.match(r"\s*(?:を除く|を除いて|は除いて|以外|を除いた|\s*other than|\s*except)", tail):
            excluded.append(pid)
        else:
            keep.append(pid)
    return tuple(keep), tuple(excluded)


def _asked(clause_list: tuple[Clause, ...], masked: str, language: str) -> frozenset[str]:
    """The attributes the asking clauses ask about (a background clause's 「参加しています」 asks nothing)."""
    asking = " ".join(c.text for c in clause_list if c.kind == "ask") or masked
    text = _lower(asking, language)
    found = {name for name, pattern in cues.ASKS.items() if pattern.search(text)}
    # 「FAXで送りたいのですが、番号を教えて」: the number of the channel named before.
    if re.search(r"番号|宛先|あて先|送り先|送付先", text) and cues.ASKS["contact"].search(
        _lower(masked, language)
    ):
        found.add("contact")
    if "budget" in found and _BUDGET_YEAR.search(text):
        found.discard(
            "when"
        )  # 「予算と、それが何年度の予算か」: the budget's basis, which its figure carries
    return frozenset(found)


_BUDGET_YEAR = re.compile(r"何年度|どの年度|いつの(?:予算|年度|時点)|年度は|\bwhich (?:fiscal )?year\b")


def _subject_programs(
    named: tuple[str, ...], clause_list: tuple[Clause, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Programs named only in background clauses of a question that states a goal or asks for programs are
    what the asker already has, not what the question is about."""
    asks_for_programs = any(c.kind == "ask" and cues.WHICH_PROGRAMS.search(c.text) for c in clause_list)
    if not named or not (asks_for_programs or any(c.kind == "wish" for c in clause_list)):
        return named, ()
    subject, background = [], []
    for index, pid in enumerate(named):
        mark = chr(_MASK_BASE + index)
        kinds = {c.kind for c in clause_list if mark in c.text}
        (background if kinds and kinds <= {"background"} else subject).append(pid)
    return tuple(subject), tuple(background)


def _goal(clause_list: tuple[Clause, ...], text: str, language: str) -> str | None:
    """The wish of a goal question, background and asking parts left out (they blur the comparison with
    what programs are for)."""
    wishes = [c.text for c in clause_list if c.kind == "wish"]
    asks = [c.text for c in clause_list if c.kind == "ask"]
    if not wishes and any(cues.NAME_OF.search(_lower(a, language)) for a in asks):
        # 「これは何という制度ですか？知事が主導して…交付金です」: what it is called, by what it does.
        wishes = [
            c.text
            for c in clause_list
            if not cues.NAME_OF.search(_lower(c.text, language))
            and not (cues.ASKER.search(c.text) and _DECLARATIVE_END.search(c.text) and len(c.text) < 40)
        ]
    if not wishes and any(_NARRATIVE_BACK.search(_lower(a, language)) and cues.NEED.search(a) for a in asks):
        # 「…を立ち上げることになりました。このような取組に活用できる事業は？」: the narrative is the goal,
        # without the asker introducing themself.
        wishes = [
            c.text
            for c in clause_list
            if c.kind == "background"
            and not (cues.ASKER.search(c.text) and _DECLARATIVE_END.search(c.text) and len(c.text) < 40)
        ]
    if not wishes and language == "en":
        # "Is there a program where a medical start-up can get advice …?": what the program should do.
        for ask in asks:
            need = _EN_NEED_GOAL.search(ask)
            if need is not None:
                return need.group(1).strip()
    if not wishes:
        for ask in asks:  # 「医療系ベンチャーが知財について相談できる支援はありますか」
            need = cues.NEED_GOAL.search(ask) if language == "ja" else None
            # 「大学が申請できる事業」 states who may apply (a condition), not what the program is for.
            if need is not None and not re.search(
                r"(?:申請|応募|利用|参加|手を挙げ)(?:でき|す)る$|(?:使え|出せ)る$", need.group(1)
            ):
                # 「…構想を自治体と進めています。継続的に支援してくれる事業は？」: the narrative says what for.
                story = [
                    c.text
                    for c in clause_list
                    if c.kind == "background" and not (cues.ASKER.search(c.text) and len(c.text) < 40)
                ]
                wishes = [*story, need.group(1)]
                break
    if not wishes:
        return None
    if language == "ja":
        # 「…構想を描きたい。専門家チームを派遣してもらって事業化までつなげられる事業は？」: what the program
        # must do, said in the asking clause, is part of the goal too.
        for ask in asks:
            need = _ASK_NEED.search(ask)
            if need is not None and _ELIGIBILITY_ONLY.search(need.group(1)):
                need = None  # 「地方の私立大学でも申請できる事業」 says who may apply, not what for
            if need is not None and need.group(1) not in wishes:
                wishes = [*wishes, _MINISTRY_WORDS.sub("", need.group(1))]
    parts = []
    for wish in wishes:
        match = _GOAL_TAIL.match(wish) if language == "ja" else None
        part = (match.group(1) if match else wish).strip()
        parts.append(_CONNECTIVE.sub("", part))
    goal = "。".join(p for p in parts if p)
    return goal if len(goal) >= 6 else None


#: What an asked-for program must do, said before the program word (「…事業化までつなげられる環境省の事業は」).
_ASK_NEED = re.compile(
    r"(.{10,}?(?:られる|れる|える|ける|せる|てる|くれる|もらえる|できる|できて|受けられる|のための|に役立つ|向けの|を支援する))"
    r"(?:[^、。]{0,6}の)?\s*(?:支援|事業|制度|枠組み|プログラム|仕組み|支援策|補助金?|助成|サポート|メニュー|もの)"
)
_ELIGIBILITY_ONLY = re.compile(r"(?:申請|応募|利用|参加|手を挙げ)(?:でき|す)る$|(?:使え|出せ)る$")
_MINISTRY_WORDS = re.compile(
    r"(?:国|文科省|文部科学省|経産省|経済産業省|環境省|農水省|農林水産省|国交省|国土交通省|総務省|内閣府|厚労省|厚生労働省)の"
)


_EN_NEED_GOAL = re.compile(
    r"\b(?:is there|are there|do you have)\s+(?:an?\s+|any\s+)?(?:government\s+|national\s+)?"
    r"(?:programs?|schemes?|frameworks?|support|grants?|funding|institutions?|ways?)\s+(?:where|that|which|for|to|with)\s+(.{12,})",
    re.I,
)


def _matching_goal(goal: str) -> str:
    """The goal in the package's words for collaboration: partners from several sectors (「自治体や企業と
    一緒に」) are what its purpose statements call 産学官 (産学官金 with a bank), and the embedding of a
    program's purpose only meets the goal when the goal says so too."""
    label = collaboration_label(goal)
    if not label:
        return goal
    match = TOGETHER.search(goal)
    if match is None:
        return f"{label}で、{goal}"
    return f"{goal[: match.end()]}（{label}で）{goal[match.end() :]}"
