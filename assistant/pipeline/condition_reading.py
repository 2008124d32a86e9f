"""Conditions as people state them: a question's clauses → :class:`Condition` objects with their role.

The reader (:mod:`assistant.pipeline.read`) splits the question into clauses and calls
:func:`read_conditions` once; each extractor here reads one field (ministry, applicant, theme, budget,
new calls, whether a budget is printed) in Japanese and English, and says whether it is asked for or
background about the asker (「うちはすでに文科省の事業を受けています」 must not become a filter).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.pipeline.amounts import read_thresholds
from assistant.pipeline.conditions import Condition, Role
from assistant.vocabulary import APPLICANT_ALIASES, MINISTRY_ALIASES, THEME_KEYWORDS

if TYPE_CHECKING:
    from assistant.pipeline.read import Clause

MASKED_NAME = "[\ue000-\ue0ff]"  # a program name masked by the reader (see read.MASKED_NAME)


def read_conditions(clause_list: Sequence[Clause], language: str, themes: Sequence[str]) -> list[Condition]:
    """Every condition the clauses state, with its role (an asking clause's are asked, others background)."""
    found: list[Condition] = []
    for clause in clause_list:
        text = clause.text.lower() if language == "en" else clause.text
        role: Role = "background" if clause.kind == "background" else "asked"
        found.extend(_ministries(text, clause.kind, role))
        found.extend(_applicants(text, role, language))
        found.extend(_themes(text, themes, "background" if clause.kind != "ask" else role))
        found.extend(_budgets(text, role))
        stated = _stated(text, role)
        found.extend(stated)
        if not any(c.field == "stated" and c.value == ("new_calls",) for c in stated):
            found.extend(_new_calls(text, role))
    # The same condition stated twice (once as background) counts once, as asked.
    unique: dict[tuple, Condition] = {}
    for c in found:
        key = (c.field, c.op, c.value)
        if key not in unique or unique[key].role == "background":
            unique[key] = c
    conditions = list(unique.values())
    if any(_ALSO_INCLUDE.search(c.text) for c in clause_list):
        conditions = _widen_applicants(conditions)
    return conditions


def _themes(text: str, themes: Sequence[str], role: Role) -> list[Condition]:
    """Theme words (「脱炭素」「MaaS」) → the catalog's themes; 「…以外」 excludes one."""
    found: list[str] = []
    negated: list[str] = []
    negated_words: list[str] = []
    words: list[str] = []
    lowered = text.lower()
    for word in sorted(THEME_KEYWORDS, key=len, reverse=True):
        at = lowered.find(word)
        if at < 0:
            continue
        fragment = THEME_KEYWORDS[word].lower()
        tail = lowered[at + len(word) : at + len(word) + 8]
        is_negated = bool(re.match(r"(?:関連|分野|テーマ)?(?:以外|を除)", tail))
        for theme in themes:
            if fragment in theme.lower() and theme not in found and theme not in negated:
                (negated if is_negated else found).append(theme)
                # A theme word followed by 事業 also means programs named so; followed by メニュー/テーマ/分野/表 it
                # means the theme's menu only.
                menu = re.match(r"(?:の)?(?:支援)?(?:メニュー|テーマ|分野|関連事業マップ|の表)", tail)
                if not is_negated and len(word) >= 2 and not menu:
                    words.append(word)
    conditions = []
    if found:
        phrase = "、".join(dict.fromkeys(words)) or "、".join(found)
        conditions.append(Condition("theme", "any", tuple(found), role, tuple(dict.fromkeys(words)), phrase))
    if negated:
        conditions.append(Condition("theme", "not", tuple(negated), role, phrase="、".join(negated_words)))
    return conditions


#: 「…として申請するものも含めてください」: a later sentence adds an alternative to the applicants asked for.
_ALSO_INCLUDE = re.compile(r"も(?:含めて|含める|含めた|加えて|入れて)|\bas well\b|\balso include")


def _widen_applicants(conditions: list[Condition]) -> list[Condition]:
    """Applicant types asked for one by one, when the question says to include the others too, are
    alternatives: the programs any of them may apply to."""
    single = [c for c in conditions if c.field == "applicant" and c.op == "all" and c.role == "asked"]
    if len(single) < 2:
        return conditions
    kinds = tuple(dict.fromkeys(v for c in single for v in c.value))  # type: ignore[union-attr]
    rest = [c for c in conditions if c not in single]
    return [*rest, Condition("applicant", "any", kinds, "asked")]


def as_background(condition: Condition) -> Condition:
    return Condition(condition.field, condition.op, condition.value, "background")


def _ministries(text: str, clause_kind: str, role: Role) -> list[Condition]:
    found: list[tuple[int, int, str]] = []  # (start, end of the words read, ministry)
    excluded: list[tuple[int, int, str]] = []
    background: list[tuple[int, int, str]] = []
    taken = [False] * len(text)
    for alias in sorted(MINISTRY_ALIASES, key=len, reverse=True):
        for match in re.finditer(re.escape(alias), text):
            start, end = match.span()
            if any(taken[start:end]) or (alias.isascii() and not _ascii_word(text, start, end)):
                continue
            taken[start:end] = [True] * (end - start)
            official = MINISTRY_ALIASES[alias]
            tail = text[end : end + 60]
            negation = re.match(
                r"(?:の|が|による|所管の)?\s*(?:事業)?(?:の|で)?\s*(?:以外|ではない|でない|じゃない)", tail
            ) or re.match(r"\s*(?:excluded|except)", tail)
            if negation:
                excluded.append((start, end + negation.end(), official))
            elif (
                re.match(rf"\s*(?:の|が|による|所管の|が所管する)?\s*[「『]?{MASKED_NAME}", tail)
                or re.match(r"(?:に|へ)(?:問い?合わ?せ|連絡|相談|聞|申請書)", tail)
                or re.match(
                    rf"(?:の|が|による|が行った|がまとめた)?(?:[「『][^」』]{{0,40}})?{_DOCUMENT_WORDS}", tail
                )
                or re.match(
                    r"(?:'s)?\s+(?:\w+\s+){0,2}(?:survey|report|study|summary|committee|package)\b", tail
                )
            ):
                # 「文科省の共創の場」 names the program's ministry, 「文科省に問い合わせ」 a desk,
                # 「総務省の実態調査」 a document: none of them is a condition on programs.
                background.append((start, end, official))
            elif clause_kind == "wish" and not re.match(
                r"(?:の|が|による|が所管する)?(?:事業|制度|支援|補助|予算|プログラム|交付金)", tail
            ):
                background.append((start, end, official))
            else:
                only = re.match(r"(?:の事業)?(?:だけ|のみ|しか|限定|に限る|に限って|に限定)", tail)
                found.append((start, end + (only.end() if only else 0), official))
    conditions = []
    for values, op, as_role in (
        (found, "any", role),
        (excluded, "not", role),
        (background, "any", "background"),
    ):
        if values:
            phrase = "、".join(dict.fromkeys(text[start:end] for start, end, _ in sorted(values)))
            ordered = [(start, official) for start, _, official in values]
            conditions.append(Condition("ministry", op, _in_order(ordered), as_role, phrase=phrase))  # type: ignore[arg-type]
    return conditions


#: What a ministry publishes besides programs: 「総務省の実態調査」 names a document, not a filter.
_DOCUMENT_WORDS = r"(?:実態調査|調査|報告書?|資料|委員会|審議会|通知|中間とりまとめ|とりまとめ|ヒアリング|アンケート|パッケージ|白書)"


def _in_order(found: list[tuple[int, str]]) -> tuple[str, ...]:
    """Values in the order the question mentions them (each once)."""
    return tuple(dict.fromkeys(value for _, value in sorted(found)))


def _ascii_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not before.isalnum() and not after.isalnum()


_APPLY = (
    r"(?:等)?(?:個人|単独|自身|自ら|だけ|のみ|自体|の一員|の構成員|のメンバー)?(?:が|も|で|から|として|は|でも|って)?\s*"
    r"(?:[\ue000-\ue0ff](?:に|へ|には|にも|で)?\s*)?(?:直接|単独で|自ら|自分で|一緒に|共同で|連名で|ともに|共に)?\s*"
    r"(?:申請|応募|申し込|手を挙げ|使え|利用でき|対象|主体|参加でき|受けられ|出せ|出す)"
)
_SET_ALL = (
    r"(?:の)?(?:[2-9２-９二三四]者|[2-9２-９二三四]つ|全員|皆)?(?:が|とも)?\s*"
    r"(?:どれもが|どれも|いずれもが|いずれも|すべてが|全てが|全部が|みんな|みな|ともに|どちらも|両方とも|両方が|両方|"
    r"そろって|揃って|全員)"
)
_ONLY_TAIL = r"(?:等)?\s*(?:しか|だけ|のみ)(?:が|で|を|は)?\s*(?:直接)?\s*(?:申請|応募|主体|対象|出せ|使え)"
_NEG_TAIL = (
    r"(?:等)?(?:は|が|も)?\s*(?:申請主体|申請者|対象|応募主体)?(?:に|と|として)?(?:は)?\s*"
    r"(?:入って|含まれて|なって|なれ)?(?:いない|いません|ない|ません)|"
    r"(?:等)?(?:は|が|も)?\s*(?:直接)?(?:申請|応募)(?:でき|し)?(?:ない|ません)|(?:等)?以外|(?:等)?を含まない|(?:等)?(?:は|が)?対象外"
)
_EN_APPLICANT = re.compile(
    r"(?P<neg>not open to|cannot|can't|can not|excluding|except|without)?\s*(?:the |a |an )?"
    r"(?P<who>universit(?:y|ies)|research institutions?|compan(?:y|ies)|business(?:es)?|private sector|"
    r"local governments?|municipalit(?:y|ies)|prefectures?|researchers?|consorti(?:um|a))"
    r"(?P<tail>\s+(?:can(?:not|'t)?|may|are able to|are eligible|is eligible|could)\s*(?:directly\s+)?(?:apply|to apply)?|"
    r"\s+(?:directly\s+)?apply|\s+(?:are|is) (?:not )?(?:eligible|allowed)|\s+as (?:the |an? )?(?:eligible )?applicants?)?"
)


def _applicants(text: str, role: Role, language: str) -> list[Condition]:
    if language == "en":
        return _applicants_en(text, role)
    aliases = sorted(APPLICANT_ALIASES, key=len, reverse=True)
    alias_group = "|".join(re.escape(a) for a in aliases if not a.isascii())
    conditions: list[Condition] = []
    # Sets of applicant types joined by ・、と や: followed by どれも/いずれも/すべて … (all), or joined by か/または (any).
    set_all = re.search(
        rf"((?:{alias_group})(?:\s*(?:・|、|,|と|や|も)\s*(?:{alias_group}))+)\s*(?:も)?{_SET_ALL}", text
    )
    set_any = re.search(
        rf"((?:{alias_group})(?:\s*(?:か|または|もしくは|あるいは|or)\s*(?:{alias_group}))+)(?:\s*(?:か|の))?{_APPLY}",
        text,
    )
    both = re.search(rf"((?:{alias_group})(?:でも|も)(?:\s*(?:{alias_group})(?:でも|も))+)\s*{_APPLY}", text)
    handled = [False] * len(text)
    for match, op in ((set_all, "all"), (both, "all"), (set_any, "any")):
        if match is None:
            continue
        kinds = tuple(dict.fromkeys(APPLICANT_ALIASES[a] for a in re.findall(alias_group, match.group(0))))
        if len(kinds) > 1:
            conditions.append(Condition("applicant", op, kinds, role))
            handled[match.start() : match.end()] = [True] * (match.end() - match.start())
    found: dict[str, list[tuple[str, str]]] = {"only": [], "not": [], "all": []}  # op → (kind, phrase)
    taken = list(handled)
    for alias in aliases:
        if alias.isascii():
            continue
        for match in re.finditer(re.escape(alias), text):
            start, end = match.span()
            if any(taken[start:end]) or (len(alias) == 1 and text[start - 1 : start] in _NOT_A_PLACE):
                continue
            read = _applicant_op(text, start, end)
            if read is None:
                continue
            op, length = read
            found[op].append((APPLICANT_ALIASES[alias], text[start : end + length]))
            taken[start:end] = [True] * (end - start)
    negated = {k for k, _ in found["not"]}
    only = {k for k, _ in found["only"]}
    for kind, phrase in dict(found["all"]).items():
        if kind not in negated and kind not in only:
            conditions.append(Condition("applicant", "all", (kind,), role, phrase=phrase))
    for op in ("not", "only"):
        if found[op]:
            kinds = tuple(dict.fromkeys(k for k, _ in found[op]))
            phrase = "、".join(dict.fromkeys(p for _, p in found[op]))
            conditions.append(Condition("applicant", op, kinds, role, phrase=phrase))  # type: ignore[arg-type]
    return conditions


#: The character before a one-kanji applicant word (市, 県, 町, 村) that makes it part of another word (都市).
_NOT_A_PLACE = frozenset("都")
#: 「申請主体が自治体のみ」「自治体に限る」「自治体限定」「自治体以外は申請できない」: only these may apply.
_ONLY_FORMS = (
    _ONLY_TAIL,
    r"(?:等)?\s*(?:に限(?:る|られ|定され|って)|限定|のみ|だけ)",
    r"(?:等)?\s*以外(?:は|が|の(?:主体|団体|組織)は)?\s*(?:申請|応募)(?:でき|し|が出来)?(?:ない|ません|不可)",
)
_ASKED_FOR_APPLICANT = re.compile(r"(?:申請主体|応募主体|申請者|申請できるの|対象)(?:が|は|に)\s*$")


def _applicant_op(text: str, start: int, end: int) -> tuple[str, int] | None:
    """How an applicant word is used: ("only" | "not" | "all", length of the words after it), or None."""
    tail = text[end:]
    named_as_applicant = bool(_ASKED_FOR_APPLICANT.search(text[max(0, start - 8) : start]))
    for number, form in enumerate(_ONLY_FORMS):
        m = re.match(form, tail)
        # The bare 「のみ／だけ／限定」 form needs 「申請主体が」 before the word: 「企業だけで使う」 is not eligibility.
        if m and (number != 1 or named_as_applicant or re.match(r"(?:等)?\s*(?:に限|限定)", tail)):
            return "only", m.end()
    m = re.match(_NEG_TAIL, tail)
    if m:
        return "not", m.end()
    m = re.match(_APPLY, tail) or re.match(r"(?:等)?(?:向け|が使える|でも使える|が申請)", tail)
    if m:
        return "all", m.end()
    if named_as_applicant:
        return "all", 0
    return None


def _applicants_en(text: str, role: Role) -> list[Condition]:
    conditions = []
    # "applications from universities, companies and local governments alike" / "… can all apply": a set.
    kinds_in_order = [
        kind
        for m in _EN_APPLICANT.finditer(text)
        if (kind := _en_kind(m.group("who"))) is not None and not m.group("neg")
    ]
    if len(set(kinds_in_order)) >= 2 and re.search(
        r"\balike\b|\ball (?:of them|three|apply)|\bboth\b|\beach\b|\bas well as\b|\bapplications from\b|\bopen to\b",
        text,
    ):
        return [Condition("applicant", "all", tuple(dict.fromkeys(kinds_in_order)), role)]
    for match in _EN_APPLICANT.finditer(text):
        who, tail, neg = match.group("who"), match.group("tail") or "", match.group("neg")
        before = text[max(0, match.start() - 24) : match.start()]
        applies = bool(tail) or bool(re.search(r"(?:open to|for|by|eligible)\s*(?:the )?$", before))
        if not applies and not neg:
            continue
        kind = _en_kind(who)
        if kind is None:
            continue
        negative = bool(neg) or bool(re.search(r"\b(?:cannot|can't|not)\b", tail))
        conditions.append(Condition("applicant", "not" if negative else "all", (kind,), role))
    return conditions


def _en_kind(who: str) -> str | None:
    return next(
        (v for k, v in APPLICANT_ALIASES.items() if k.isascii() and who.startswith(k.rstrip("s")[:6])), None
    )


def _budgets(text: str, role: Role) -> list[Condition]:
    """Budget thresholds however the amount is written (see :mod:`assistant.pipeline.amounts`)."""
    conditions = []
    for t in read_thresholds(text):
        field = "min_budget" if t.op in ("gt", "ge") else "max_budget"
        conditions.append(Condition(field, t.op, t.thousand_yen, role, phrase=t.phrase))
    return conditions


_NO_NEW_CALLS = re.compile(
    r"新規(?:の)?(?:課題)?(?:の)?(?:採択|公募|募集)(?:が|は|を|も)?(?:ない|無い|無し|なし|していない|しない|行わない|ありません|されない)|"
    r"\bno new calls?\b|\bnot accepting\b"
)
_NEW_CALLS = re.compile(
    r"新規(?:の)?(?:課題)?(?:の)?(?:採択|公募|募集)(?:が|は|を|も)?(?:ある|有る|有り|あり|している|する|中|可能|受け付け|行う|行って)|"
    r"(?:今|現在)(?:も)?(?:公募|募集)(?:中|して)|\bnew calls\b|\baccepting (?:new )?(?:applications|proposals)\b"
)


def _new_calls(text: str, role: Role) -> list[Condition]:
    for pattern, value in ((_NO_NEW_CALLS, False), (_NEW_CALLS, True)):
        match = pattern.search(text)
        if match:
            return [Condition("new_calls", "eq", value, role, phrase=match.group(0))]
    return []


#: The words of a table column, for questions about whether a row fills it.
_COLUMNS: dict[str, str] = {
    "budget": r"予算額|予算|金額|\bbudgets?\b|\bamounts?\b",
    "new_calls": r"新規(?:の)?(?:課題)?(?:の)?採択(?:の有無)?|採択の有無|新規(?:の)?公募|\bnew calls?\b",
    "department": r"担当部署|担当課|担当部局|担当部門|部署|\bdepartments?\b",
    "contact": r"連絡先|問い?合わ?せ先|\bcontacts?\b",
    "tel": r"電話番号|電話|tel|\bphone(?: numbers?)?\b",
    "email": r"メールアドレス|メール|e-?mail|アドレス",
}
_ENTRY = r"(?:の)?(?:欄|記載|記入|表記|情報|数字|金額|数値|値)?(?:が|は|も)?\s*(?:ちゃんと|きちんと)?(?:表|一覧|欄|マップ)?(?:に|で|には)?\s*"
_WRITTEN = r"(?:書かれて|記載されて|載って|入って|示されて|明記されて|埋まって|書いて)"
_PRESENT = re.compile(
    rf"^(?:の)?(?:欄|記載|記入|表記|情報|数字|金額|数値|値)(?:が|は|も)?\s*(?:ある|あり|有る|有り)|"
    rf"^{_ENTRY}{_WRITTEN}(?:いる|います|る|ある|あります)|"
    r"^\s*(?:is |are )?(?:given|listed|stated|shown|printed)"
)
_BARE_PRESENT = re.compile(rf"^{_ENTRY}(?:ある|あり|有る|有り)")
#: 「…が書かれていない」「…の記載がない」「…が空欄」「…が「ー」」; a bare 「ない」／「ある」 is absence or
#: presence too, except for 新規採択, where 「新規採択がない／もある」 is the column's value 無／有 (see _new_calls).
_ABSENT = re.compile(
    rf"^(?:の)?(?:欄|記載|記入|表記|情報|数字|金額|数値|値)(?:が|は|も)?\s*(?:ない|無い|なし|無し|ありません)|"
    rf"^{_ENTRY}{_WRITTEN}(?:いない|いません|いなく|ない|ません|なく)|"
    r"^(?:の)?(?:欄)?(?:が|は)?\s*(?:空欄|空白|空い|未記載|不明|[「『]?[ー－―-][」』]?)|"
    r"^\s*(?:is |are )?(?:not|never) (?:given|listed|stated|shown|printed)"
)
_BARE_ABSENT = re.compile(rf"^{_ENTRY}(?:ない|無い|なし|無し|ありません)")
_NO_COLUMN_BEFORE = re.compile(r"\b(?:no|without(?: an?)?)\s*$")


def _stated(text: str, role: Role) -> list[Condition]:
    """Whether a table row fills a column: 「予算額の記載がある」 → has_budget, 「新規採択が書かれていない」 →
    stated not new_calls, "programs with no budget given" → has_budget false."""
    found: list[Condition] = []
    for column, words in _COLUMNS.items():
        for match in re.finditer(words, text, re.IGNORECASE):
            tail = text[match.end() : match.end() + 30]
            before = text[max(0, match.start() - 12) : match.start()]
            present = _PRESENT.match(tail) or (column != "new_calls" and _BARE_PRESENT.match(tail))
            absent = _ABSENT.match(tail) or (column != "new_calls" and _BARE_ABSENT.match(tail))
            if _NO_COLUMN_BEFORE.search(before) and not absent:
                absent, present = re.match(r"\s*(?:given|listed|stated|shown|printed)", tail), None
            if not (present or absent):
                continue
            end = match.end() + (absent or present).end()  # type: ignore[union-attr]
            phrase = text[match.start() : end]
            if column == "budget":
                found.append(Condition("has_budget", "eq", not absent, role, phrase=phrase))
            else:
                found.append(Condition("stated", "not" if absent else "eq", (column,), role, phrase=phrase))
            break
    return found


# -- phrases shaped like conditions ---------------------------------------------------------------------
#: Whatever field they are about: a number with a counter and a comparison (「10件以上」「3年以内」), a
#: restriction (「…のみ」「…限定」), an exclusion (「…以外」「…を除く」), a region (「東北の大学向け」), a start
#: (「令和4年度から」). The check stage compares them with the phrases conditions were read from, and an
#: answer names those it could not apply.
_COUNTER = r"(?:億円|万円|千円|円|億|万|件|年間|年|か月|ヶ月|カ月|人|名|社|%|％|割|倍|か所|カ所|箇所|拠点|大学|校|機関|団体)"
_COMPARE = (
    r"(?:以上|以下|未満|超え?|を超え(?:る|た)?|を上回る|を下回る|より多い|より少ない|に満たない|以内|まで)"
)
_NOUN = r"[一-龥々ァ-ヶーA-Za-z0-9・]{1,16}"
_REGIONS = (
    r"北海道|東北|関東|首都圏|北陸|甲信越|中部|東海|近畿|関西|中国地方|四国|九州|沖縄|山陰|山陽|"
    r"[一-龥]{1,3}[都道府県]"
)
_SHAPES = (
    re.compile(rf"(?:[0-9０-９][0-9０-９.,]*|[一二三四五六七八九十百千]+)\s*{_COUNTER}\s*{_COMPARE}"),
    re.compile(rf"{_NOUN}(?:等)?\s*(?:のみ|だけ|しか|限定|に限る|に限って|に限定)"),
    re.compile(rf"{_NOUN}(?:等)?\s*(?:以外|を除く|を除いて|は除く|は除いて|ではない)"),
    re.compile(rf"(?:{_REGIONS})[一-龥ァ-ヶーのにある]{{0,12}}?(?:向け|限定|のみ|だけ|を対象|に限)"),
    re.compile(
        r"(?:令和|平成)\s*[0-9元]+\s*年度?\s*(?:から|以降|以前|まで)|20[0-9]{2}\s*年度?\s*(?:から|以降|以前|まで)"
    ),
)


def condition_shapes(text: str) -> list[str]:
    """Phrases of the (asking) text shaped like conditions on programs, in order."""
    found: list[tuple[int, str]] = []
    for shape in _SHAPES:
        found.extend((m.start(), m.group(0).strip()) for m in shape.finditer(text))
    return [phrase for _, phrase in sorted(found)]
