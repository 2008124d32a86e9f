"""What kind of answer a question wants, and which programs a follow-up refers back to.

Intent is decided by rules on the normalised question (deterministic and explainable); the answer
engine then composes the matching kind of answer. Follow-ups (「その事業の問い合わせ先は？」,
「それの予算は？」) are resolved by looking for program names in the conversation, newest turn first.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from assistant.jp_text import normalize, tokenize
from assistant.pipeline.query_parser import THEME_KEYWORDS, ProgramMatcher, QueryConditions

Intent = Literal["program_fit", "contact", "list", "figure", "fact"]

_CONTACT = re.compile(
    r"問い?合わ?せ|連絡先|電話|TEL|tel|メール|mail|アドレス|担当(?:部署|課|室|窓口|者)|窓口|どこに(?:聞|相談|連絡)"
)
_FIGURE = re.compile(r"予算|金額|いくら|何円|億円|百万円|千円|規模|額は|費用")
_LIST = re.compile(
    r"一覧|リスト|すべて|全て|全部|どんな事業|どの事業|どういう事業|何がある|ありますか|挙げて|教えて.*事業|事業.*(?:は|を)(?:教えて|知りたい)|いくつ|何件"
)
#: A list asked for in so many words (vs. 「どの事業が使えますか」, which a goal question also says).
_ASKS_QUANTITY = re.compile(r"どのくらい|どれくらい|割合|何割|何%|何％|いつ|何年")
_LIST_STRONG = re.compile(r"一覧|リスト|すべて|全て|全部|挙げて|いくつ|何件|列挙")
_LIST_WORDS = re.compile(r"一覧|リスト|すべて|全て|全部|挙げて|列挙")
_COUNT = re.compile(r"いくつ|何件")
#: A wish: the question states a goal (「…したい」), so a theme word in it is context, not a filter.
_GOAL = re.compile(
    r"(?:し|り|き|ち|み|び|い|け|せ|て|べ|め|れ|え|げ|ね|ぜ|で|へ)たい(?:[。、．，!！?？]|$|が|と|の|ので|んです|です|けど|けれど)"
)
_FIT = re.compile(
    r"したい|たいの|たい。|たい$|たいが|たいと|使える|活用できる|利用できる|合う|適した|向いて|おすすめ|お勧め|勧め|"
    r"支援策|支援を受け|補助|助成|応募でき|申請でき|何を使え|どの(?:事業|制度|支援)|"
    r"(?:でき|使え|受けられ|くれ|もらえ)る(?:国の)?(?:事業|制度|枠組み|仕組み|支援|プログラム|手段)(?:は|が)?"
    r"(?:あり|ある|ない|どれ|何|教え)"
)
_PROGRAM_WORD = re.compile(r"事業|プログラム|制度|支援策|支援メニュー|交付金|補助金|助成|公募|枠組み")
_ORDINAL = re.compile(r"前者|後者|最後|[12１２一二]つ目|[12１２一二]番目")
_ANAPHORA = re.compile(
    r"(?:そこ|その|この|それ|あの|同|上記|前述|先ほど|さっき|前の|今の|そちら|こちら)(?:の)?(?:事業|プログラム|交付金|制度|支援|もの)?|それ"
)


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


def detect_intent(question: str, conditions: QueryConditions) -> Intent:
    """The answer kind: a named program's contact or figure; lists need conditions; goals → program_fit."""
    text = normalize(question)
    wants_fit = bool(_FIT.search(text))
    if _CONTACT.search(text) and conditions.program_ids:
        return "contact"
    if _FIGURE.search(text) and (conditions.program_ids or not wants_fit) and not conditions.has_filters:
        return "figure"
    # A condition alone is not a list request: 「総務省の実態調査はいつ公表？」 names a ministry but asks
    # about prose. A list asks for one, or asks about programs without naming one.
    asks_list = bool(_LIST.search(text)) or (not conditions.program_ids and bool(_PROGRAM_WORD.search(text)))
    asks_quantity = bool(_ASKS_QUANTITY.search(text))  # 「どのくらいの割合が…」 is about prose
    # Not lists: a named program's attributes (「その事業は新規の課題採択がありますか」), and a theme word in a
    # question that is not about programs (「地域バイオコミュニティはいくつの地域が認定された？」).
    # 「総務省の実態調査ではいくつの事例を調べた？」 counts cases, not programs.
    # 「浜松市がベンチャー企業への投資を呼び込むためにやっている事業は？」 names a theme word but asks about
    # one city's measure: with several words besides the theme it is a question about the prose.
    if theme_only(conditions) and not _LIST_WORDS.search(text):
        about_programs = bool(_PROGRAM_WORD.search(text)) and len(_off_theme_words(text)) < 3
    else:
        about_programs = bool(_PROGRAM_WORD.search(text) or _LIST_WORDS.search(text)) or not _COUNT.search(
            text
        )
    if (
        conditions.has_filters
        and about_programs
        and (_LIST_STRONG.search(text) or not conditions.program_ids)
        and (_LIST_STRONG.search(text) or (asks_list and not _GOAL.search(text) and not asks_quantity))
    ):
        return "list"
    if wants_fit and not conditions.program_ids:
        return "program_fit"  # the recommended programs' cards carry their contacts
    # A desk asked about without a program (「KCみやぎの相談窓口は？」) is a question about the prose.
    return "fact"


#: Attributes of a program; asked without naming one, right after a program was discussed.
_ATTRIBUTE = re.compile(
    r"申請(?:でき|主体|者)|応募でき|対象|誰が|所管|どこの(?:省|府省|官庁)|何省|どの省|担当|締切|新規|(?:課題|新たな)?採択(?:は|が|の有無)"
)


#: Words any question about programs uses; what remains besides them and the theme words is the topic.
_GENERIC_PROGRAM_WORDS = frozenset(
    tokenize(
        "事業 プログラム 制度 支援 支援策 メニュー 交付金 補助金 助成 公募 枠組み 使える 大学 関連 対象 利用 活用 申請 応募 国 分野 テーマ"
    )
)


def _off_theme_words(text: str) -> set[str]:
    words = set(tokenize(text)) - _GENERIC_PROGRAM_WORDS
    for keyword in THEME_KEYWORDS:
        if keyword in text:
            words -= set(tokenize(keyword))
    return words


_SUPERLATIVE = re.compile(r"一番|いちばん|最も|もっとも|最大|上位\d*(?:件|つ|位)|多い順|大きい順|高い順")


def asks_budget_ranking(question: str) -> bool:
    """「一番予算が大きい事業は？」「予算の多い順に」: the catalog sorted by budget answers it."""
    text = normalize(question)
    return bool(_SUPERLATIVE.search(text) and _FIGURE.search(text) and _PROGRAM_WORD.search(text))


_RANK_SIZE = re.compile(r"上位\s*(\d{1,2})|(\d{1,2})\s*(?:件|つ|個)")


def ranking_size(question: str, default: int = 3, most: int = 10) -> int:
    """How many programs a ranking question asks for (「上位5件」), else ``default``; at most ``most``."""
    match = _RANK_SIZE.search(normalize(question))
    asked = int(match.group(1) or match.group(2)) if match else default
    return max(1, min(asked, most))


#: The wish of a goal question, up to its 「…たい」: what a program's purpose statement is compared with.
_WISH = re.compile(r"^(.*?たい)(?:[。、,，．!！?？]|ので|のですが|んですが|んです|が|けど|と考え|と思)")


def goal_of(question: str) -> str:
    """「地域のリーダーを育てる教育をしたい。問い合わせ先は？」 → 「地域のリーダーを育てる教育をしたい」:
    the asking part (問い合わせ先, 使える事業は) only blurs the comparison with what programs are for."""
    match = _WISH.match(question.strip())
    return match.group(1) if match and len(match.group(1)) >= 8 else question


def asks_contacts(question: str) -> bool:
    return bool(_CONTACT.search(normalize(question)))


def asks_list_explicitly(question: str) -> bool:
    """「一覧」「すべて」「いくつ」: a list in so many words, not a question that merely names a theme."""
    return bool(_LIST_STRONG.search(normalize(question)))


def theme_only(conditions: QueryConditions) -> bool:
    """The only condition is a theme read from the question (「脱炭素」), which a goal also mentions."""
    return (
        not conditions.explicit
        and conditions.theme is not None
        and conditions.model_copy(update={"theme": None}).has_filters is False
    )


def asks_program_attribute(question: str) -> bool:
    """「どこの省の事業？」「自治体も申請できる？」「予算は？」: answered by the program's table row."""
    text = normalize(question)
    return bool(_ATTRIBUTE.search(text) or _CONTACT.search(text) or _FIGURE.search(text))


def is_follow_up(question: str, conditions: QueryConditions) -> bool:
    """A question that names no program but refers back to one: anaphora (その事業, 後者), a bare
    attribute (「問い合わせ用のメールアドレスは？」, 「申請できるのは誰？」) or too short to stand alone."""
    if conditions.program_ids:
        return False
    text = normalize(question)
    if _ANAPHORA.search(text) or _ORDINAL.search(text):
        return True
    # 「国土交通省の事業の連絡先を全部」「一番予算が大きい事業は？」 say what they are about.
    names_its_subject = any(
        value is not None
        for value in (conditions.ministry, conditions.theme, conditions.min_budget, conditions.max_budget)
    )
    if _LIST_WORDS.search(text) or asks_budget_ranking(text) or names_its_subject:
        return False
    if len(text) <= 12:
        return True
    asks_attribute = bool(_CONTACT.search(text) or _FIGURE.search(text) or _ATTRIBUTE.search(text))
    return asks_attribute and not _FIT.search(text) and len(text) <= 30


def pick_referred(question: str, programs: list[str]) -> list[str]:
    """Which of the programs named before the question means: 前者 → the first, 後者 → the last."""
    if not programs:
        return []
    text = normalize(question)
    if re.search(r"後者|最後|2つ目|二つ目|2番目|二番目", text):
        return [programs[-1]] if "後者" in text or "最後" in text else programs[1:2] or [programs[-1]]
    return [programs[0]]


def programs_from_history(history: list[Turn], matcher: ProgramMatcher) -> list[str]:
    """Programs named in the most recent turn that names any (the assistant's answer first)."""
    for turn in reversed(history):
        found = matcher.find(turn.content)
        if found:
            return found
    return []
