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

from assistant.pipeline.conditions import Condition, Role
from assistant.vocabulary import APPLICANT_ALIASES, MINISTRY_ALIASES, THEME_KEYWORDS, to_thousand_yen

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
        found.extend(_new_calls(text, role))
        found.extend(_has_budget(text, role))
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
        conditions.append(Condition("theme", "any", tuple(found), role, tuple(dict.fromkeys(words))))
    if negated:
        conditions.append(Condition("theme", "not", tuple(negated), role))
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
    found: list[tuple[int, str]] = []
    excluded: list[tuple[int, str]] = []
    background: list[tuple[int, str]] = []
    taken = [False] * len(text)
    for alias in sorted(MINISTRY_ALIASES, key=len, reverse=True):
        for match in re.finditer(re.escape(alias), text):
            start, end = match.span()
            if any(taken[start:end]) or (alias.isascii() and not _ascii_word(text, start, end)):
                continue
            taken[start:end] = [True] * (end - start)
            official = MINISTRY_ALIASES[alias]
            tail = text[end : end + 60]
            if re.match(
                r"(?:の|が|による|所管の)?\s*(?:事業)?(?:の|で)?\s*(?:以外|ではない|でない|じゃない)", tail
            ) or re.match(r"\s*(?:excluded|except)", tail):
                excluded.append((start, official))
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
                background.append((start, official))
            elif clause_kind == "wish" and not re.match(
                r"(?:の|が|による|が所管する)?(?:事業|制度|支援|補助|予算|プログラム|交付金)", tail
            ):
                background.append((start, official))
            else:
                found.append((start, official))
    conditions = []
    if found:
        conditions.append(Condition("ministry", "any", _in_order(found), role))
    if excluded:
        conditions.append(Condition("ministry", "not", _in_order(excluded), role))
    if background:
        conditions.append(Condition("ministry", "any", _in_order(background), "background"))
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
    r"(?:[\ue000-\ue0ff](?:に|へ|には|にも|で)?\s*)?(?:直接|単独で|自ら|自分で)?\s*"
    r"(?:申請|応募|申し込|手を挙げ|使え|利用でき|対象|主体|参加でき|受けられ|出せ|出す)"
)
_SET_ALL = r"(?:の)?(?:どれもが|どれも|いずれもが|いずれも|すべてが|全てが|全部が|みんな|みな|ともに|どちらも|両方とも|両方が|両方)"
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
    negated: list[str] = []
    positive: list[str] = []
    only: list[str] = []
    taken = list(handled)
    for alias in aliases:
        if alias.isascii():
            continue
        for match in re.finditer(re.escape(alias), text):
            start, end = match.span()
            if any(taken[start:end]):
                continue
            kind = APPLICANT_ALIASES[alias]
            tail = text[end:]
            if re.match(_ONLY_TAIL, tail):
                only.append(kind)  # an applicant type followed by しか／だけ／のみ
            elif re.match(_NEG_TAIL, tail):
                negated.append(kind)
            elif (
                re.match(_APPLY, tail)
                or re.match(r"(?:等)?(?:向け|が使える|でも使える|が申請)", tail)
                or re.search(
                    r"(?:申請主体|応募主体|申請者|対象)(?:が|は|に)\s*$", text[max(0, start - 8) : start]
                )
            ):
                positive.append(kind)
            else:
                continue
            taken[start:end] = [True] * (end - start)
    negated = list(dict.fromkeys(negated))
    positive = [k for k in dict.fromkeys(positive) if k not in negated and k not in only]
    if positive:
        conditions.extend(Condition("applicant", "all", (k,), role) for k in positive)
    if negated:
        conditions.append(Condition("applicant", "not", tuple(negated), role))
    if only:
        conditions.append(Condition("applicant", "only", tuple(dict.fromkeys(only)), role))
    return conditions


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


_BUDGET_OP = re.compile(
    r"(?<![0-9.])(?P<num>[0-9]{1,15}(?:\.[0-9]+)?)\s*(?P<unit>兆円|億円|千万円|百万円|万円|千円|円)\s*"
    r"(?P<op>以上|超え|超|を超える|を超えて|超えて|を上回|上回|より多い|より大きい|以下|未満|を下回る|を下回って|下回|"
    r"に満たない|より少ない|より小さい)"
)
_BUDGET_OP_EN = re.compile(
    r"(?P<op>over|more than|above|at least|under|less than|below|at most)\s*(?:¥|jpy\s*)?"
    r"(?<![0-9.])(?P<num>[0-9]{1,15}(?:\.[0-9]+)?)\s*(?P<unit>billion|million|thousand)?\s*(?:yen|jpy)?"
)
_EN_UNITS = {"billion": ("1", "億円", 10), "million": ("1", "百万円", 1), "thousand": ("1", "千円", 1)}
_GE = {"以上": "ge", "at least": "ge"}
_LOWER = {
    "以上",
    "超え",
    "超",
    "を超える",
    "を超えて",
    "超えて",
    "を上回",
    "上回",
    "より多い",
    "より大きい",
    "over",
    "more than",
    "above",
    "at least",
}


def _budgets(text: str, role: Role) -> list[Condition]:
    plain = text.replace(",", "")
    conditions = []
    for match in _BUDGET_OP.finditer(plain):
        amount = to_thousand_yen(match.group("num"), match.group("unit"))
        op = match.group("op")
        if op in _LOWER:
            conditions.append(Condition("min_budget", _GE.get(op, "gt"), amount, role))  # type: ignore[arg-type]
        else:
            conditions.append(Condition("max_budget", "le" if op == "以下" else "lt", amount, role))
    for match in _BUDGET_OP_EN.finditer(plain):
        unit = match.group("unit")
        if unit is None:
            continue
        _, jp_unit, factor = _EN_UNITS[unit]
        amount = to_thousand_yen(str(float(match.group("num")) * factor), jp_unit)
        op = match.group("op")
        if op in _LOWER:
            conditions.append(Condition("min_budget", _GE.get(op, "gt"), amount, role))  # type: ignore[arg-type]
        else:
            conditions.append(Condition("max_budget", "le" if op == "at most" else "lt", amount, role))
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
    if _NO_NEW_CALLS.search(text):
        return [Condition("new_calls", "eq", False, role)]
    if _NEW_CALLS.search(text):
        return [Condition("new_calls", "eq", True, role)]
    return []


_HAS_BUDGET = re.compile(
    r"予算(?:額)?(?:が|の)?(?:額|金額|数字)?(?:が|は)?(?:表に)?(?:書かれて|記載されて|載って|示されて|入って)(?:いる|います)"
)
_NO_BUDGET = re.compile(
    r"予算(?:額)?(?:が|の)?(?:記載|記入|数字|金額)?(?:が|は)?(?:書かれて|記載されて|載って|示されて|入って)?(?:いない|ない|無い|なし)|"
    r"予算(?:額)?(?:が|は)?[「『]?[ー－―-][」』]?"
)


def _has_budget(text: str, role: Role) -> list[Condition]:
    if _NO_BUDGET.search(text):
        return [Condition("has_budget", "eq", False, role)]
    return [Condition("has_budget", "eq", True, role)] if _HAS_BUDGET.search(text) else []
