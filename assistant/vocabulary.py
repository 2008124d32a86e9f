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
#: 「環境相」「文科相」: the minister's title (or a slip of 省 for 相) names the ministry too.
MINISTRY_ALIASES.update(
    {
        alias[:-1] + "相": official
        for alias, official in list(MINISTRY_ALIASES.items())
        if alias.endswith("省")
    }
)

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
    "市区町村": "自治体",
    "市役所": "自治体",
    "区役所": "自治体",
    "県庁": "自治体",
    "役場": "自治体",
    "行政": "自治体",
    # One kanji (「市が申請できる」「県も応募できる」): read only before words of applying (see condition_reading).
    "県": "自治体",
    "市": "自治体",
    "町": "自治体",
    "村": "自治体",
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
#: A phrase that says the asker works together with partners (「自治体や企業と一緒に」).
TOGETHER = re.compile(
    r"(?:と|と一緒に|とともに|と共に|と組んで|と連携して|と協力して|と共同で|と協働して|with)(?=[、,\s]|\w)"
)


def collaboration_label(text: str) -> str:
    """「産学官」 when a text names partners from industry and government (a university asks, so 学 is
    there too); 「産学官金」 with a financial institution; 「産学」 / 「学官」 for two sectors; "" for one."""
    lowered = text.lower()
    found = {SECTOR_WORDS[w].replace("金融", "金") for w in SECTOR_WORDS if w in lowered} - {"学"}
    if not found:
        return ""
    order = {"産": 0, "学": 1, "官": 2, "金": 3}
    sectors = sorted({"学", *found} & set(order), key=order.__getitem__)
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


# -- regions and the regional 産学官 networks -------------------------------------------------------------
#: The 47 prefectures: official name → (romanised name, name in hiragana). Rows of the network table are
#: prefectures; questions name them with or without 県/府/都, in kana or in English.
PREFECTURES: dict[str, tuple[str, str]] = {
    "北海道": ("hokkaido", "ほっかいどう"),
    "青森県": ("aomori", "あおもり"),
    "岩手県": ("iwate", "いわて"),
    "宮城県": ("miyagi", "みやぎ"),
    "秋田県": ("akita", "あきた"),
    "山形県": ("yamagata", "やまがた"),
    "福島県": ("fukushima", "ふくしま"),
    "茨城県": ("ibaraki", "いばらき"),
    "栃木県": ("tochigi", "とちぎ"),
    "群馬県": ("gunma", "ぐんま"),
    "埼玉県": ("saitama", "さいたま"),
    "千葉県": ("chiba", "ちば"),
    "東京都": ("tokyo", "とうきょう"),
    "神奈川県": ("kanagawa", "かながわ"),
    "新潟県": ("niigata", "にいがた"),
    "富山県": ("toyama", "とやま"),
    "石川県": ("ishikawa", "いしかわ"),
    "福井県": ("fukui", "ふくい"),
    "山梨県": ("yamanashi", "やまなし"),
    "長野県": ("nagano", "ながの"),
    "岐阜県": ("gifu", "ぎふ"),
    "静岡県": ("shizuoka", "しずおか"),
    "愛知県": ("aichi", "あいち"),
    "三重県": ("mie", "みえ"),
    "滋賀県": ("shiga", "しが"),
    "京都府": ("kyoto", "きょうと"),
    "大阪府": ("osaka", "おおさか"),
    "兵庫県": ("hyogo", "ひょうご"),
    "奈良県": ("nara", "なら"),
    "和歌山県": ("wakayama", "わかやま"),
    "鳥取県": ("tottori", "とっとり"),
    "島根県": ("shimane", "しまね"),
    "岡山県": ("okayama", "おかやま"),
    "広島県": ("hiroshima", "ひろしま"),
    "山口県": ("yamaguchi", "やまぐち"),
    "徳島県": ("tokushima", "とくしま"),
    "香川県": ("kagawa", "かがわ"),
    "愛媛県": ("ehime", "えひめ"),
    "高知県": ("kochi", "こうち"),
    "福岡県": ("fukuoka", "ふくおか"),
    "佐賀県": ("saga", "さが"),
    "長崎県": ("nagasaki", "ながさき"),
    "熊本県": ("kumamoto", "くまもと"),
    "大分県": ("oita", "おおいた"),
    "宮崎県": ("miyazaki", "みやざき"),
    "鹿児島県": ("kagoshima", "かごしま"),
    "沖縄県": ("okinawa", "おきなわ"),
}
_PREFECTURE_SUFFIX = re.compile(r"[都府県]$")


def prefecture_stem(name: str) -> str:
    """広島県 → 広島 (北海道 stays): how people and slide titles name a prefecture without its suffix."""
    return name if name == "北海道" else _PREFECTURE_SUFFIX.sub("", name)


def prefecture_in(text: str) -> str | None:
    """The first prefecture named in a text by its official name (「神奈川県三浦市」 → 神奈川県)."""
    found = [(text.find(name), name) for name in PREFECTURES if name in text]
    return min(found)[1] if found else None


#: The schemes whose networks the package's table lists (its column groups) and the 総務省 survey whose
#: cases name partners: id → official name, ministry, the words that identify its column group in a
#: table header, and the words people use for it (matched after NFKC, ASCII lower-cased).
NETWORK_PROGRAMS: dict[str, dict[str, object]] = {
    "kofukin": {
        "name": "地方大学・地域産業創生交付金",
        "ministry": "内閣府",
        "markers": ("地域産業創生交付金",),
        "aliases": (
            "地方大学・地域産業創生交付金",
            "地域産業創生交付金",
            "地方大学交付金",
            "創生交付金",
            "交付金",
            "内閣府",
            "regional university grant",
            "grant",
        ),
    },
    "kyoso": {
        "name": "共創の場形成支援プログラム",
        "ministry": "文部科学省",
        "markers": ("共創の場形成支援",),
        "aliases": (
            "共創の場形成支援プログラム",
            "共創の場",
            "きょうそうのば",
            "共創拠点",
            "coi-next",
            "coinext",
            "文部科学省",
            "文科省",
            "co-creation",
            "cocreation",
        ),
    },
    "survey": {
        "name": "都道府県・指定都市における「産学官連携」の推進体制等に係る調査",
        "ministry": "総務省",
        "markers": ("推進体制等に係る調査",),
        "aliases": (
            "推進体制等に係る調査",
            "推進体制",
            "総務省の調査",
            "総務省調査",
            "総務省",
            "survey",
            "mic",
        ),
    },
    "cases": {
        "name": "産学官連携による地域活性化に関する実態調査",
        "ministry": "総務省",
        "markers": ("地域活性化に関する実態調査",),
        "aliases": ("実態調査", "事例集", "総務省の事例", "総務省", "case study", "case studies", "mic"),
    },
}

#: Words that say which sector a member is in → the table's sector label (【学】【官】【産】…). Used to read
#: questions (「どんな企業が」 → 産) and, for partners the text does not label, to infer it from the name.
SECTOR_WORDS: dict[str, str] = {
    "産業界": "産",
    "民間企業": "産",
    "企業": "産",
    "会社": "産",
    "メーカー": "産",
    "経済界": "産",
    "事業者": "産",
    "商工会": "産",
    "地場産業": "産",
    "industry": "産",
    "companies": "産",
    "company": "産",
    "firms": "産",
    "business": "産",
    "大学": "学",
    "高専": "学",
    "研究機関": "学",
    "アカデミア": "学",
    "学術": "学",
    "university": "学",
    "universities": "学",
    "academia": "学",
    "academic": "学",
    "自治体": "官",
    "行政": "官",
    "地方公共団体": "官",
    "市町村": "官",
    "県庁": "官",
    "市役所": "官",
    "役所": "官",
    "官庁": "官",
    "省庁": "官",
    "government": "官",
    "municipal": "官",
    "銀行": "金融",
    "金融機関": "金融",
    "信用金庫": "金融",
    "信金": "金融",
    "地銀": "金融",
    "金融": "金融",
    "bank": "金融",
    "banks": "金融",
    "finance": "金融",
}
#: Parts of an organisation's name that tell its sector when the text gives no label (longest first).
#: A bank is a company too (株式会社四国銀行): the financial markers come before the company forms.
SECTOR_NAME_MARKERS: tuple[tuple[str, str], ...] = (
    ("高等専門学校", "学"),
    ("大学", "学"),
    ("銀行", "金融"),
    ("信用金庫", "金融"),
    ("信用組合", "金融"),
    ("金融公庫", "金融"),
    ("株式会社", "産"),
    ("有限会社", "産"),
)

#: Titles printed after a member's name (「マツダ株式会社代表取締役会長」): the member is the organisation,
#: the title is its role. Longest first, so 代表取締役会長 is taken whole.
ROLE_TITLES: tuple[str, ...] = (
    "代表取締役会長",
    "代表取締役社長",
    "代表取締役頭取",
    "代表取締役副社長",
    "代表取締役",
    "取締役会長",
    "取締役社長",
    "代表理事",
    "専務理事",
    "理事長",
    "副会長",
    "会長",
    "会頭",
    "頭取",
    "社長",
    "学長",
    "総長",
    "校長",
    "知事",
    "市長",
    "町長",
    "村長",
    "所長",
    "センター長",
    "機構長",
)

#: Legal forms that one printing puts before a name and another after it (株式会社マツダ / マツダ株式会社), or
#: leaves out: they are not part of an organisation's identity when names are compared.
LEGAL_FORMS: tuple[str, ...] = (
    "国立研究開発法人",
    "地方独立行政法人",
    "独立行政法人",
    "国立大学法人",
    "公立大学法人",
    "学校法人",
    "一般社団法人",
    "公益社団法人",
    "一般財団法人",
    "公益財団法人",
    "特定非営利活動法人",
    "社会福祉法人",
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "(株)",
    "㈱",
)
#: A school printed with the corporation that runs it (「高知県公立大学法人高知工科大学」): the school is
#: the member, so names compare from the text after the corporation's legal form.
SCHOOL_CORPORATIONS: tuple[str, ...] = ("国立大学法人", "公立大学法人", "学校法人")
#: A list item that is only one of these is the tail of the item before it, cut off by a stray 、
#: (「徳島文理大学、短期大学部」 = 徳島文理大学短期大学部).
ORGANISATION_UNITS: tuple[str, ...] = ("短期大学部", "大学院", "支社", "支店", "支部", "事業所", "研究所")
#: Suffixes of organisation names in running text (「東大臨海実験所が協力」); a partner of a case is a
#: name ending in one of these that also holds a proper noun.
ORGANISATION_SUFFIXES: tuple[str, ...] = (
    "高等専門学校",
    "大学",
    "実験所",
    "研究所",
    "研究センター",
    "センター",
    "試験場",
    "機構",
    "協会",
    "組合",
    "会議所",
    "連合会",
    "銀行",
    "金庫",
    "会社",
    "公庫",
    "協議会",
    "ネットワーク",
)


# -- English ------------------------------------------------------------------------------------------------
#: English words of the domain → the Japanese words the documents use, so a question asked in English
#: is matched with the Japanese text by its words too (the embedding alone barely separates an answerable
#: English question from an unrelated one). Longest phrases are looked up first.
ENGLISH_TERMS: dict[str, str] = {
    "industry-academia-government collaboration": "産学官連携",
    "industry-academia-government": "産学官",
    "industry-academia collaboration": "産学連携",
    "industry-academia": "産学",
    "academia": "大学",
    "regional revitalization": "地域活性化",
    "regional revitalisation": "地域活性化",
    "regional revitalization through": "地域活性化",
    "local revitalization": "地方創生",
    "regional universities": "地方大学",
    "regional university": "地方大学",
    "local university": "地方大学",
    "university": "大学",
    "universities": "大学",
    "local government": "地方自治体 自治体",
    "local governments": "地方自治体 自治体",
    "municipality": "自治体",
    "municipalities": "自治体",
    "prefecture": "都道府県",
    "prefectures": "都道府県",
    "company": "企業",
    "companies": "企業",
    "industry": "産業",
    "startup": "スタートアップ",
    "startups": "スタートアップ",
    "venture": "ベンチャー",
    "entrepreneurship": "アントレプレナーシップ 起業",
    "gap fund": "ギャップファンド",
    "committee": "委員会",
    "report": "報告",
    "interim summary": "中間とりまとめ",
    "survey": "調査",
    "fact-finding survey": "実態調査",
    "case study": "事例",
    "case studies": "事例",
    "cases": "事例",
    "case": "事例",
    "example": "事例",
    "examples": "事例",
    "problem": "課題",
    "problems": "課題",
    "issue": "課題",
    "issues": "課題",
    "challenge": "課題",
    "challenges": "課題",
    "measure": "取組",
    "measures": "取組",
    "effort": "取組",
    "efforts": "取組",
    "initiative": "取組",
    "initiatives": "取組",
    "ecosystem": "エコシステム",
    "innovation": "イノベーション",
    "open innovation": "オープンイノベーション",
    "prize": "大賞 表彰",
    "top prize": "最も優れた 賞 表彰",
    "top award": "最も優れた 賞 表彰",
    "highest award": "最も優れた 賞 表彰",
    "highest prize": "最も優れた 賞 表彰",
    "award": "大賞 表彰",
    "awards": "大賞 表彰",
    "established": "創設",
    "founded": "創設",
    "created": "創設",
    "launched": "開始 創設",
    "started": "開始",
    "published": "公表",
    "announced": "公表",
    "hearing": "ヒアリング",
    "interviews": "ヒアリング",
    "interviewed": "ヒアリング",
    "human resources": "人材",
    "talent": "人材",
    "coordinator": "コーディネーター",
    "coordinators": "コーディネーター",
    "network": "ネットワーク",
    "networks": "ネットワーク",
    "platform": "プラットフォーム",
    "consortium": "コンソーシアム",
    "special zone": "特区",
    "special zones": "特区",
    "structural reform": "構造改革",
    "land": "土地",
    "disaster prevention": "防災",
    "disaster": "防災 災害",
    "decarbonization": "脱炭素",
    "decarbonisation": "脱炭素",
    "biomass": "バイオマス",
    "smart city": "スマートシティ",
    "smart agriculture": "スマート農業",
    "agriculture": "農業",
    "autonomous driving": "自動運転",
    "bioeconomy": "バイオエコノミー",
    "bio-community": "バイオコミュニティ",
    "biocommunity": "バイオコミュニティ",
    "package": "パッケージ",
    "comprehensive package": "総合振興パッケージ",
    "budget": "予算",
    "related programs": "関連事業 関連予算",
    "related projects": "関連事業 関連予算",
    "related budget": "関連予算",
    "regular budget": "予算額",
    "initial budget": "予算額",
    "supplementary budget": "補正予算",
    "draft budget": "予算政府案",
    "research": "研究",
    "research and development": "研究開発",
    "social implementation": "社会実装",
    "education": "教育",
    "students": "学生",
    "graduates": "卒業生",
    "regional": "地域",
    "region": "地域",
    "local": "地域",
    "pearl": "真珠",
    "cotton": "綿",
    "stand for": "略",
    "abbreviation": "略",
    "the mic": "総務省",
    "mic": "総務省",
    "mext": "文部科学省",
    "meti": "経済産業省",
    "cabinet office": "内閣府",
    "task force": "タスクフォース",
    "president": "学長",
    "governor": "知事",
    "mayor": "首長",
    "leader": "リーダー",
    "covid": "コロナ",
    "covid-19": "コロナ",
    "pandemic": "コロナ",
    "joint research": "共同研究",
    "evaluation": "評価",
    "decision-making": "意思決定",
    "personnel changes": "人事異動",
    "staff turnover": "人事異動",
    "rebuild": "再構築",
    "phone number": "電話番号 電話",
    "phone": "電話",
    "telephone": "電話",
    "contact": "連絡先 問い合わせ",
    "fax": "FAX",
    "e-mail": "メール",
    "email": "メール",
    "person in charge": "担当",
    "reform": "改革",
    "education program": "教育プログラム",
    "education programme": "教育プログラム",
    "education programs": "教育プログラム",
    "education programmes": "教育プログラム",
    "train": "育成",
    "training": "育成",
    "lead the region": "地域を牽引",
    "leaders": "リーダー 人材",
    "young people": "若者",
    "jobs": "雇用",
    "employment": "雇用",
    "creates jobs": "雇用創出",
    "future": "未来 将来像",
    "r&d": "研究開発",
    "national institute": "国の機関",
    "geodetic": "測地",
    "crustal deformation": "地殻変動",
    "meteorological observatory": "気象台",
    "observatory": "気象台",
    "disaster prevention education": "防災教育",
    "residents": "住民",
    "medical": "医療系",
    "patents": "知財",
    "patent": "知財",
    "intellectual property": "知財",
    "regulatory approval": "薬事承認",
    "advice": "相談",
    "consultation": "相談",
    "farms": "農業 生産",
    "farm": "農業",
    "farmers": "農業",
    "production area": "産地",
    "smart farming": "スマート農業",
    "technology": "技術",
    "technologies": "技術",
    "demonstration": "実証",
    "hub": "拠点",
    "research hub": "研究拠点 拠点",
    "joint laboratories": "共同実験施設",
    "incubation": "インキュベーション",
    "facilities": "施設",
    "campus": "キャンパス",
    "data": "データ",
    "plastic": "プラスチック",
    "recycling": "資源循環",
    "renewable energy": "再エネ",
    "carbon neutral": "脱炭素",
    "mobility": "モビリティ",
    "level 4": "レベル４",
    "drones": "ドローン",
    "ai": "AI",
    "firefighting": "消防",
    "fire": "消防",
}


def english_gloss(text: str) -> str:
    """The Japanese words of the English domain terms in a text (「」 and names left out), for matching."""
    lowered = text.lower()
    found: list[str] = []
    for term in sorted(ENGLISH_TERMS, key=len, reverse=True):
        if re.search(rf"(?<![a-z]){re.escape(term)}(?![a-z])", lowered):
            found.extend(ENGLISH_TERMS[term].split())
            lowered = lowered.replace(term, " ")
    for year in re.findall(r"\b(?:fy|fiscal(?: year)?)\s*(\d{4})\b", lowered):
        found.append(_japanese_fiscal_year(int(year)))  # the documents print 令和3年度, not FY2021
    return " ".join(dict.fromkeys(found))


def _japanese_fiscal_year(year: int) -> str:
    """FY2021 → 令和3年度, FY2018 → 平成30年度 (the era the documents count years in)."""
    if year >= 2019:
        return f"令和{year - 2018}年度"
    return f"平成{year - 1988}年度"


#: English function words: they occur in the corpus too (「RoAD to the L4」, 「The University of …」), so they
#: must not count as matched words of an English question.
ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "without",
        "about",
        "into",
        "over",
        "under",
        "as",
        "and",
        "or",
        "but",
        "not",
        "no",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "done",
        "have",
        "has",
        "had",
        "can",
        "could",
        "may",
        "might",
        "will",
        "would",
        "should",
        "shall",
        "must",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "that",
        "this",
        "these",
        "those",
        "there",
        "here",
        "it",
        "its",
        "they",
        "them",
        "their",
        "we",
        "our",
        "us",
        "you",
        "your",
        "i",
        "me",
        "my",
        "he",
        "she",
        "his",
        "her",
        "any",
        "some",
        "all",
        "each",
        "every",
        "other",
        "such",
        "than",
        "then",
        "so",
        "if",
        "also",
        "only",
        "just",
        "very",
        "more",
        "most",
        "much",
        "many",
        "few",
        "one",
        "two",
        "three",
        "first",
        "second",
        "last",
        "new",
        "old",
        "get",
        "got",
        "make",
        "made",
        "use",
        "used",
        "run",
        "work",
        "works",
        "working",
        "tell",
        "give",
        "show",
        "list",
        "please",
        "know",
        "want",
        "need",
        "like",
    ]
)


def budget_with_note(thousand_yen: int | None, note: str | None) -> str:
    """A table's budget with its cell note, bracketed once: 「500,000千円（内数）」.

    The cells print the note with its own brackets, in either width (（内数）, (内数）), so wrapping it in
    another pair would print 「（（内数））」.
    """
    amount = "記載なし" if thousand_yen is None else format_thousand_yen(thousand_yen)
    inner = re.sub(r"^[（(]\s*|\s*[)）]$", "", (note or "").strip())
    return f"{amount}（{inner}）" if inner else amount


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
ORGANISATION_NAME_ENDINGS: tuple[str, ...] = tuple(
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
