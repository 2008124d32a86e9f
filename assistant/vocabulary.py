"""The one vocabulary of the domain, shared by ingest and the assistant.

Ministries (official names, the short forms the documents print, the words people type), applicant
types, policy-theme words, the markers of the documents' tables, contact patterns (phone, e-mail) and
money (units, the one conversion between 億円 / 百万円 / 千円, and how amounts are printed). Anything that
reads or writes one of these goes through here, so a new spelling is added once.
"""

from __future__ import annotations

import re
import unicodedata

# -- ministries -----------------------------------------------------------------------------------------
#: Official ministry names, longest first so that 国土交通省 wins over a shorter prefix.
MINISTRIES: tuple[str, ...] = (
    "文部科学省",
    "経済産業省",
    "農林水産省",
    "国土交通省",
    "厚生労働省",
    "環境省",
    "総務省",
    "内閣府",
    "消防庁",
)

#: Short forms printed in 【…】 / <…> markers → official name (checked as substrings, in this order).
MINISTRY_SHORT_FORMS: tuple[tuple[str, str], ...] = (
    ("文部科学", "文部科学省"),
    ("文科", "文部科学省"),
    ("経済産業", "経済産業省"),
    ("経産", "経済産業省"),
    ("農林水産", "農林水産省"),
    ("農水", "農林水産省"),
    ("国土交通", "国土交通省"),
    ("国交", "国土交通省"),
    ("厚生労働", "厚生労働省"),
    ("厚労", "厚生労働省"),
    ("消防庁", "消防庁"),
    ("環境", "環境省"),
    ("総務", "総務省"),
    ("内閣府", "内閣府"),
)

#: One-character ministry markers of the ◆ / ◎ lists (<文>, 【農】 …).
MINISTRY_LETTERS: dict[str, str] = {
    "文": "文部科学省",
    "経": "経済産業省",
    "農": "農林水産省",
    "国": "国土交通省",
    "厚": "厚生労働省",
    "環": "環境省",
    "総": "総務省",
    "内": "内閣府",
}

#: What people type for a ministry (colloquial Japanese, English names and acronyms, lower-cased
#: where ASCII) → the official name the catalog uses.
MINISTRY_ALIASES: dict[str, str] = {
    **{name: name for name in MINISTRIES},
    "文科省": "文部科学省",
    "文科": "文部科学省",
    "経産省": "経済産業省",
    "経産": "経済産業省",
    "農水省": "農林水産省",
    "農水": "農林水産省",
    "国交省": "国土交通省",
    "国交": "国土交通省",
    "厚労省": "厚生労働省",
    "厚労": "厚生労働省",
    "環境庁": "環境省",
    "もんかしょう": "文部科学省",
    "もんぶかがくしょう": "文部科学省",
    "けいさんしょう": "経済産業省",
    "けいざいさんぎょうしょう": "経済産業省",
    "のうすいしょう": "農林水産省",
    "こっこうしょう": "国土交通省",
    "かんきょうしょう": "環境省",
    "そうむしょう": "総務省",
    "ないかくふ": "内閣府",
    "mext": "文部科学省",
    "ministry of education": "文部科学省",
    "meti": "経済産業省",
    "ministry of economy": "経済産業省",
    "maff": "農林水産省",
    "ministry of agriculture": "農林水産省",
    "mlit": "国土交通省",
    "ministry of land": "国土交通省",
    "moe": "環境省",
    "ministry of the environment": "環境省",
    "ministry of environment": "環境省",
    "mic": "総務省",
    "ministry of internal affairs": "総務省",
    "cabinet office": "内閣府",
    "mhlw": "厚生労働省",
    "ministry of health": "厚生労働省",
    "fdma": "消防庁",
    "fire and disaster management agency": "消防庁",
}

#: Short names for answers that compare ministries (「文科省のほう」), official name → short.
MINISTRY_SHORT: dict[str, str] = {
    "文部科学省": "文科省",
    "経済産業省": "経産省",
    "農林水産省": "農水省",
    "国土交通省": "国交省",
    "厚生労働省": "厚労省",
}


def official_ministry(text: str) -> str | None:
    """The official ministry name in a department cell or a 【…】 marker (文科省 → 文部科学省)."""
    for official in MINISTRIES:
        if text.startswith(official):
            return official
    for short, official in MINISTRY_SHORT_FORMS:
        if short in text:
            return official
    return None


# -- applicants -----------------------------------------------------------------------------------------
#: Canonical applicant labels; the tables print them as ①大学等研究機関 ②民間事業者等 ③自治体 ④研究者.
APPLICANT_LABELS: tuple[str, ...] = ("大学等研究機関", "民間事業者等", "自治体", "研究者")
CONSORTIUM = "官民コンソーシアム"
UNIVERSITY = "大学等研究機関"

#: Words for who applies (Japanese, kana, English) → the catalog's applicant types.
APPLICANT_ALIASES: dict[str, str] = {
    "大学等研究機関": UNIVERSITY,
    "大学": UNIVERSITY,
    "国立大学": UNIVERSITY,
    "私立大学": UNIVERSITY,
    "公立大学": UNIVERSITY,
    "研究機関": UNIVERSITY,
    "高専": UNIVERSITY,
    "だいがく": UNIVERSITY,
    "university": UNIVERSITY,
    "universities": UNIVERSITY,
    "research institution": UNIVERSITY,
    "民間事業者等": "民間事業者等",
    "民間事業者": "民間事業者等",
    "民間企業": "民間事業者等",
    "企業": "民間事業者等",
    "民間": "民間事業者等",
    "事業者": "民間事業者等",
    "会社": "民間事業者等",
    "company": "民間事業者等",
    "companies": "民間事業者等",
    "business": "民間事業者等",
    "businesses": "民間事業者等",
    "private sector": "民間事業者等",
    "自治体": "自治体",
    "地方自治体": "自治体",
    "地方公共団体": "自治体",
    "都道府県": "自治体",
    "市町村": "自治体",
    "local government": "自治体",
    "local governments": "自治体",
    "municipality": "自治体",
    "municipalities": "自治体",
    "prefecture": "自治体",
    "prefectures": "自治体",
    "研究者": "研究者",
    "研究者個人": "研究者",
    "researcher": "研究者",
    "researchers": "研究者",
    "官民コンソーシアム": CONSORTIUM,
    "コンソーシアム": CONSORTIUM,
    "consortium": CONSORTIUM,
    "consortia": CONSORTIUM,
}

#: Policy-theme words people use → a fragment of the catalog's theme names (matched against the themes
#: the catalog has, so a new theme in the corpus needs no entry here unless people call it otherwise).
THEME_KEYWORDS: dict[str, str] = {
    "maas": "MaaS",
    "自動運転": "自動運転",
    "モビリティ": "MaaS",
    "mobility": "MaaS",
    "autonomous driving": "自動運転",
    "スマート農業": "スマート農業",
    "農業": "スマート農業",
    "agriculture": "スマート農業",
    "資源循環": "資源循環",
    "リサイクル": "資源循環",
    "プラスチック": "資源循環",
    "recycling": "資源循環",
    "circular economy": "資源循環",
    "脱炭素": "脱炭素",
    "カーボンニュートラル": "脱炭素",
    "decarbonization": "脱炭素",
    "decarbonisation": "脱炭素",
    "carbon neutral": "脱炭素",
    "防災": "防災",
    "減災": "防災",
    "災害": "防災",
    "disaster": "防災",
    "スマートシティ": "スマートシティ",
    "スーパーシティ": "スマートシティ",
    "まちづくり": "スマートシティ",
    "smart city": "スマートシティ",
    "スタートアップ": "スタートアップ",
    "ベンチャー": "スタートアップ",
    "起業": "スタートアップ",
    "startup": "スタートアップ",
    "start-up": "スタートアップ",
    "バイオ": "バイオ",
    "bio": "バイオ",
}

# -- table markers ----------------------------------------------------------------------------------------
#: Sector labels of the network table's 構成員 cells (【学】広島大学 【官】広島県 【産】…), label → meaning.
SECTOR_LABELS: dict[str, str] = {
    "学": "大学・研究機関",
    "官": "行政",
    "産": "産業界",
    "金": "金融機関",
    "金融": "金融機関",
    "民": "住民・民間",
    "公": "公的機関",
}
#: Words for the partners of a collaboration, by the sector the package's 産学官(金) vocabulary puts them in.
SECTOR_WORDS: dict[str, tuple[str, ...]] = {
    "産": ("企業", "産業界", "民間", "会社", "メーカー", "事業者", "経済界", "商工会", "地場産業", "industry", "companies", "company", "business"),
    "学": ("大学", "高専", "研究機関", "学内", "university", "universities"),
    "官": ("自治体", "県", "市役所", "市町村", "町", "村", "行政", "役所", "県庁", "官庁", "省庁", "local government", "municipal", "prefecture", "city"),
    "金": ("金融機関", "銀行", "信金", "信用金庫", "地銀", "bank"),
}
#: A phrase that says the asker works together with partners (「自治体や企業と一緒に」).
TOGETHER = re.compile(r"(?:と|と一緒に|とともに|と共に|と組んで|と連携して|と協力して|と共同で|と協働して|with)(?=[、,\s]|\w)")


def collaboration_label(text: str) -> str:
    """「産学官」 when a text names partners from industry and government (a university asks, so 学 is
    there too); 「産学官金」 with a financial institution; 「産学」 / 「学官」 for two sectors; "" for one."""
    lowered = text.lower()
    found = [s for s in ("産", "官", "金") if any(w in lowered for w in SECTOR_WORDS[s])]
    if not found:
        return ""
    order = {"産": 0, "学": 1, "官": 2, "金": 3}
    sectors = sorted({"学", *found}, key=order.__getitem__)
    return "".join(sectors) if len(sectors) >= 2 else ""


#: Bullet marks that open a line (the slides' private-use Wingdings glyphs included).
BULLET_MARKS = "・•◆➢✓-－○●■□◇▶►◎"
PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")

# -- contacts ---------------------------------------------------------------------------------------------
#: E-mail addresses and Japanese phone numbers as the documents print them (after NFKC).
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<!\d)0\d{1,4}[-‐－―ー−]\d{1,4}[-‐－―ー−]\d{3,4}(?!\d)")
_CONTACT = re.compile(EMAIL.pattern + "|" + PHONE.pattern)


def contacts_in(text: str) -> set[str]:
    """E-mails (lower case) and phone numbers (digits only) in a text."""
    found = _CONTACT.findall(unicodedata.normalize("NFKC", text))
    return {c.lower() if "@" in c else re.sub(r"\D", "", c) for c in found}


def format_contacts(tels: list[str], emails: list[str]) -> str:
    """「TEL：03-…（内線…）／mail：…」 as answers and lists print a program's contacts."""
    return "／".join([f"TEL：{tel}" for tel in tels] + [f"mail：{mail}" for mail in emails])


def tel_href(tel: str) -> str:
    """A ``tel:`` link that keeps the extension (RFC 3966 ``;ext=``): 03-5253-4111（内線3034）."""
    text = unicodedata.normalize("NFKC", tel)
    number = re.split(r"[(（]", text, maxsplit=1)[0]
    extension = re.search(r"内線\s*(\d+)", text)
    return "tel:" + re.sub(r"[^\d+]", "", number) + (f";ext={extension.group(1)}" if extension else "")


# -- money ------------------------------------------------------------------------------------------------
#: Units of yen amounts → how many thousand yen one unit is.
UNIT_TO_THOUSAND_YEN: dict[str, float] = {
    "兆円": 1_000_000_000,
    "億円": 100_000,
    "千万円": 10_000,
    "百万円": 1_000,
    "万円": 10,
    "千円": 1,
    "円": 0.001,
}
#: An amount with its unit; at most 15 integer digits (a longer run is not an amount, and read as one
#: it would overflow the float conversion).
AMOUNT = re.compile(
    r"(?<![0-9.])(?P<num>[0-9]{1,15}(?:\.[0-9]+)?)\s*(?P<unit>兆円|億円|千万円|百万円|万円|千円|円)"
)


def to_thousand_yen(number: str, unit: str) -> int:
    """The one conversion between units: (「14.5」, 「億円」) → 1,450,000 (thousand yen)."""
    return round(float(number.replace(",", "")) * UNIT_TO_THOUSAND_YEN[unit])


def amounts_in(text: str) -> list[int]:
    """Every yen amount in a text, in thousand yen (「14.5億円」「1,450百万円」「1,450,000千円」 → 1450000)."""
    plain = unicodedata.normalize("NFKC", text).replace(",", "")
    return [to_thousand_yen(m.group("num"), m.group("unit")) for m in AMOUNT.finditer(plain)]


def format_thousand_yen(value: int) -> str:
    """How answers print a table's budget: 1,450,000千円."""
    return f"{value:,}千円"


def format_oku(value: int) -> str:
    """The same amount in 億円 for a reader (1,450,000千円 → 約14.5億円); exact when it divides evenly."""
    oku = value / 100_000
    text = f"{oku:,.1f}".rstrip("0").rstrip(".")
    return f"{text}億円" if value % 10_000 == 0 else f"約{text}億円"


# -- names in generated text ------------------------------------------------------------------------------
#: Words that end a program's name (「…事業」「…プログラム」「…交付金」): a run of kanji/katakana before one of
#: these in generated text is taken for a program name and must stand in the evidence it cites.
PROGRAM_SUFFIXES: tuple[str, ...] = tuple(
    ["事業", "プログラム", "プロジェクト", "交付金", "補助金", "助成金", "特区", "パッケージ"]
)
#: Words before such a suffix that make a category, not a name (「関連事業」「支援事業」「対象事業」).
GENERIC_PROGRAM_HEADS: frozenset[str] = frozenset(
    [
        "関連",
        "対象",
        "支援",
        "補助",
        "該当",
        "当該",
        "上記",
        "下記",
        "前記",
        "各種",
        "同様",
        "公募",
        "採択",
        "新規",
        "既存",
        "個別",
        "主要",
        "本",
        "同",
        "各",
        "両",
        "他",
        "当",
    ]
)
#: Words that end the name of an organisation or one of its units (局, 課, 室 …, a university, a prefecture).
ORGANISATION_SUFFIXES: tuple[str, ...] = tuple(
    ["事務局", "本部", "機構", "センター", "局", "課", "室", "庁", "大学", "県"]
)
#: Category words built like organisation names that name no particular one.
GENERIC_ORGANISATIONS: frozenset[str] = frozenset(
    [
        "都道府県",
        "地方大学",
        "国立大学",
        "公立大学",
        "私立大学",
        "研究大学",
        "地域大学",
        "各大学",
        "事務局",
        "研究室",
        "担当課",
        "担当室",
        "担当部局",
        "会議室",
        "同大学",
        "本大学",
        "貴大学",
    ]
)
