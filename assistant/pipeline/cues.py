"""The words of asking: which cue or attribute a phrase signals, in Japanese and in English.

The reader (:mod:`assistant.pipeline.read`) looks these up once per question; nothing else matches
question wording. Each pattern names a general way of asking (「一覧」, 「どちらが」, 「〜できますか」,
"which programs"), never one phrasing of a test question. Program names are masked before cues are read,
so a name that contains a cue word (世界トップレベル…, 〜支援プログラム) does not trigger it.
"""

from __future__ import annotations

import re

# -- kinds of questions -----------------------------------------------------------------------------
#: A list asked for in so many words.
EXPLICIT_LIST = re.compile(
    r"一覧|リスト|すべて|全て|全部|挙げて|列挙|全件|洗い出|網羅|もれなく|漏れなく|ぜんぶ|"
    r"\blist\b|\ball (?:the )?(?:programs?|projects?|schemes?)\b"
)
#: Asking which programs (a list or a recommendation, decided by whether a goal is stated).
WHICH_PROGRAMS = re.compile(
    r"(?:どんな|どの|どういう|どのような|何の|なんの)(?:事業|制度|支援|プログラム|補助|助成|交付金|枠組み|施策|メニュー|もの)|"
    r"(?:事業|制度|支援策|プログラム|補助金|交付金|施策|もの)(?:は|が|って)?(?:どれ|何|なに|ありますか|ある[?？]?$|あります[?？]|あるか|ある\?|教えて|知りたい|を教え|を知り|はある|がある)|"
    r"(?:何が|なにが)(?:ある|あり)|ありますか|ありませんか|あるでしょうか|ある？$|ある\?$|"
    r"(?:事業|制度|プログラム|もの|支援策|補助金|交付金|施策)(?:は|って)[?？]?$|"
    r"(?:事業|制度|プログラム|やつ)[^。？?]{0,30}の(?:は|が)\s*(?:どれ|どちら|何|なに)|"
    r"\b(?:which|what)\s+(?:\w+\s+){0,3}(?:programs?|projects?|schemes?|grants?|subsid\w+)\b|"
    r"\bare there (?:any )?(?:programs?|projects?|schemes?|grants?)\b"
)
#: A superlative of size (「一番予算が大きい」「予算が最も少ない」「最大」); 「一番近い」「最も合う」 is a best fit, not
#: a ranking, so 一番/最も count only with a word of size or of money right after them.
RANKING = re.compile(
    r"(?:一番|いちばん|最も|もっとも)[^。、？?いうるた]{0,6}?(?:大きい|多い|小さい|少ない|高い|安い|低い|大規模|小規模|予算|金額|額|規模|お金)|"
    r"最大|最小|最高|トップ\s*\d|上位\s*\d*\s*(?:件|つ|位|個)?|"
    r"(?:大きい|多い|小さい|少ない|高い|安い)(?:ほう|方)|"
    r"(?:多い|大きい|高い|少ない|小さい|低い)順|ランキング|"
    r"\b(?:largest|biggest|highest|smallest|lowest|most|top\s*\d*)\b|(?<!at )\bleast\b"
)
#: The measure a superlative is about (only budgets are ranked: the catalog has no other figure).
RANKING_MEASURE = re.compile(
    r"予算|金額|額|規模|お金|費用|大きい|多い|少ない|小さい|\bbudget|\bfunding|\bmoney|\bamount|\bexpensive"
)
ASCENDING = re.compile(r"最小|少ない|小さい|低い|\bsmallest\b|\blowest\b|\bleast\b")
RANK_SIZE = re.compile(
    r"上位\s*(\d{1,2})|トップ\s*(\d{1,2})|(\d{1,2})\s*(?:件|つ|個|事業)|\btop\s*(\d{1,2})\b"
)
COMPARE = re.compile(
    r"どちら|どっち|比べ|比較|違い|違う|異なる|同じ|共通|差は|差が|より(?:大きい|多い|少ない|小さい|高い)|"
    r"一緒(?!に)|\bcompare|\bdifference|\bdiffer|\bsame\b|\bwhich (?:one|of)\b|\b(?:bigger|larger|smaller|more) than\b|\bvs\.?\b|"
    r"\bversus\b|\bwhich (?:has|is|gets) the (?:larger|bigger|smaller|higher|lower|largest|biggest|smallest)\b"
)
SAME = re.compile(r"同じ|共通|同一|一緒(?!に)|\bsame\b")
#: What a 「同じ？」 question compares: the attribute word nearest to 同じ/共通/違う (「担当部署は同じ」「同じ課」).
#: Longer words first, so 「担当部署」 is department before 「省」 inside 「経産省」 could read as a ministry.
SAME_ATTRIBUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"メールアドレス|メール|アドレス|\be-?mail\b")),
    ("tel", re.compile(r"電話番号|電話|TEL|\bphone\b")),
    ("contact", re.compile(r"連絡先|問い?合わ?せ先|問い?合わ?せ|窓口|\bcontacts?\b")),
    (
        "department",
        re.compile(
            r"担当部署|担当部局|担当課|担当室|部署|部局|担当(?!者)|[^\s]課|[^\s]室|\bdepartments?\b|\bdivisions?\b|\boffices?\b"
        ),
    ),
    (
        "applicants",
        re.compile(
            r"申請主体|応募主体|申請者|申請できる(?:主体|団体|ところ|人|組織)|申請先|対象者?|\bapplicants?\b|\beligib\w*"
        ),
    ),
    ("ministry", re.compile(r"所管|府省|省庁|官庁|役所|[^\s]省|\bministr(?:y|ies)\b|\bagenc(?:y|ies)\b")),
    ("themes", re.compile(r"テーマ|分野|支援メニュー|\bthemes?\b")),
    ("budget", re.compile(r"予算|金額|規模|\bbudgets?\b")),
    ("new_calls", re.compile(r"新規(?:課題)?採択|公募|\bnew calls?\b")),
)
#: The words of sameness and difference a 「同じ？」 attribute is looked for around.
SAME_OR_DIFFERENT = re.compile(r"同じ|共通|同一|一緒(?!に)|違う|違い|異なる|別々|別の|\bsame\b|\bdiffer")
#: Words that make a Japanese question an open one (not answered by はい/いいえ).
INTERROGATIVE = re.compile(
    # 「取組なんですか」 (a noun + なんです) asks yes or no; 「これはなんですか」 asks what
    r"(?:何|なに|(?<![一-龥ァ-ヶー])なん|どこ|どれ|誰|だれ|いつ|どちら|どっち)(?!か[にがをはもので、]|も)|どの|どう|どんな|いくら|いくつ|なぜ|"
    r"どうして|どのくらい|どれくらい|どういう"
)
#: 「どれかに」「誰か」「何か」 are 'any': a yes/no question may hold them (above they are not interrogatives).
#: A Japanese yes/no predicate at the end of the question.
YES_NO_END = re.compile(
    r"(?:でき|あり|い|し|なり|れ|せ|え|け|め|べ|て|で|ね)ますか|(?:です|でしょう|でした|ます)か|"
    r"(?:できる|ある|いる|なる|する|いい|良い|入る|含まれる|含む|対象|ない|(?<!も)の)(?:か|の|んですか|でしょうか)?$|"
    r"かどうか|(?:ですか|ますか|か)[。?？]*$"
)
YES_NO_EN = re.compile(r"^(?:is|are|can|could|does|do|did|may|will|would|has|have|should)\b", re.I)
COUNT = re.compile(
    r"いくつ(?!か)|何件|何個|何事業|何団体|何地域|何か所|何カ所|何拠点|何人|何名|どのくらい|どれくらい|どれほど|割合|何割|何%|何％|比率|"
    r"\bhow many\b|\bnumber of\b|\bwhat share\b|\bproportion\b"
)
#: Quantities and times a prose sentence answers (the shape of the answer, not a program attribute).
WHEN = re.compile(r"いつ|何年|何月|何日|時期|創設され|始まっ|開始され|\bwhen\b|\bwhat year\b")
NEGATED = re.compile(
    r"以外|ではない|でない|じゃない|入っていない|含まない|含まれない|除く|除いた|できない|不可|対象外"
)

# -- goals and the asker ------------------------------------------------------------------------------
#: A need for support (「支援してもらえる」「使える」「応募できる」): the asker looks for a program that fits.
NEED = re.compile(
    r"(?:支援|援助|補助|助成|後押し|応援)(?:して)?(?:もらえ|くれ|いただけ)|(?:受けられ|使え|活用でき|利用でき|応募でき)る|"
    r"合う|適した|向いて|おすすめ|お勧め|オススメ|\b(?:support|help|fund|suit|fit)\w*\b"
)
#: A wish (the goal of a goal question): 「…したい」「…てほしい」「…を考えています」, "we want to …".
WISH = re.compile(
    r"(?:し|り|き|ち|み|び|い|け|せ|て|べ|め|れ|え|げ|ね|ぜ|で|へ|お|こ|ぎ)たい|ほしい|欲しい|"
    r"(?:を|と)?(?:考えて|検討して|計画して|目指して|予定して|構想して)(?:い|お)|目指しています|"
    r"つもり|予定です|困って|悩んで|探して(?:い|お)|求めて(?:い|お)|"
    r"\b(?:want|wants|wanted|would like|wish|hope|plan|planning|aim|aiming|intend|looking) to\b|\bwe(?:'d| would) like\b"
)
#: 「…について相談できる支援はありますか」: a program asked for by what it lets the asker do (a goal without
#: 「たい」); group 1 is that goal.
NEED_GOAL = re.compile(
    r"(.{6,}?(?:できる|してくれる|してもらえる|受けられる|のための|に役立つ|に使える|向けの|を支援する|を後押しする))"
    r"(?:国の)?(?:支援|事業|制度|枠組み|プログラム|仕組み|支援策|補助|補助金|助成|サポート)"
)

#: Which budget figure is asked for: 当初 (the year's budget) without 補正 (a supplementary budget), only 補正,
#: or both side by side (「当初と補正に分けて」「内訳」).
BUDGET_INITIAL_ONLY = re.compile(
    r"補正(?:予算)?(?:額)?(?:の)?(?:分|部分|額)?(?:は|を)?\s*(?:除|抜|含め(?:ない|ず)|入れ(?:ない|ず)|以外|別にして|なし)|"
    r"当初(?:予算)?(?:の|分|だけ|のみ)|本予算|\bexcluding (?:the )?supplementary\b|\binitial budget\b"
)
BUDGET_SUPPLEMENTARY = re.compile(r"補正(?:予算)?(?:額)?(?:の)?(?:分|部分|額)?|\bsupplementary\b")
BUDGET_SPLIT = re.compile(
    r"(?:当初|本予算).{0,6}補正|補正.{0,6}当初|分けて|内訳|別々|それぞれ(?:の額|いくら)|\bbreak ?down\b|\bsplit\b"
)

#: Asking for the name of something described (「これは何という制度ですか」「何という仕組みですか」): the
#: description around it is what a program must match.
NAME_OF = re.compile(
    r"(?:何|なん|なに)\s*(?:という|て言う|ていう|っていう|と呼ばれる|と呼ぶ)\s*(?:国の)?\s*"
    r"(?:制度|事業|仕組み|しくみ|プログラム|交付金|補助金|支援|枠組み|施策|名前|名称)|"
    r"(?:制度|事業|仕組み|プログラム|交付金|補助金)の?(?:名前|名称)(?:は|を|って)|"
    r"\bwhat is (?:it|this|that) called\b|\bwhat(?:'s| is) the name of\b"
)

#: The asker speaking about themself (a clause with these and no question is background).
ASKER = re.compile(
    r"うち|当大学|本学|弊学|当学|我が校|わが校|私たち|わたしたち|我々|われわれ|私の|僕の|当研究室|"
    r"私ども|弊社|当方|こちらの大学|\bwe\b|\bour\b|\bmy\b|\bI\b"
)
#: A state of the asker (「採択されています」「実施しています」): makes a clause background, not a request.
ASKER_STATE = re.compile(
    r"(?:採択|実施|参加|連携|受け|取り組ん|運営|持って|行って|所属|獲得|進めて)(?:されて|して|で)?(?:い|お)(?:ます|る|ました)|"
    r"です$|である|でした|\b(?:have|has|already|currently|run|are running|received|got)\b"
)

# -- the attribute asked about -----------------------------------------------------------------------
ASKS: dict[str, re.Pattern[str]] = {
    "budget": re.compile(
        r"予算|金額|いくら|何円|億円|百万円|千円|規模|額は|費用|お金|\bhow much\b|\bbudget|\bfunding\b|\bcost\b"
    ),
    "applicants": re.compile(
        r"申請(?:でき|主体|者|対象|可能|資格|する|します|でし)|応募(?:でき|主体|資格|可能|者|する)|"
        r"対象(?:者|は|と|に|です|ですか|となる|になる)|誰が|だれが|どこが申請|どんな(?:団体|組織|人)が|"
        r"手を挙げ|参加でき|利用でき|使え(?:ます|る)(?:か|の)|\beligib|\bwho can\b|\bapply\b|\bapplicant"
    ),
    "ministry": re.compile(
        r"所管|どこの(?:省|府省|官庁|役所)|何省|どの省|どこの事業|どこの府省|どの府省|府省は|省庁|"
        r"(?:の事業|のもの)(?:です|でしょう)か|\bministry\b|\bwhich agency\b"
    ),
    "department": re.compile(
        r"担当(?:部署|課|室|局|部局|部門|は|の部署|している(?:部署|課|室|局)|しているのは)|部署|どこが担当|所管課|"
        r"(?:どこ|どの|何)の?(?:課|室|局|部局|部門|部署)|(?:課|室|局|部署)(?:が|は)担当|"
        r"の担当[?？。]*$|"
        r"\bdepartment\b|\bdivision\b|\bbureau\b|\boffice in charge\b|\bin charge\b"
    ),
    "contact": re.compile(
        r"問い?合わ?せ|連絡先|連絡|電話|TEL|tel|FAX|fax|ファックス|ファクス|メール|mail|アドレス|窓口|どこに(?:聞|相談|連絡|問)|"
        r"\bcontact\b|\bphone\b|\btelephone\b|\be-?mail\b|\breach\b|\bwho (?:do|should) i (?:ask|call|contact)\b"
    ),
    "new_calls": re.compile(
        r"新規(?:の)?(?:課題)?(?:採択|公募|募集)|新たな(?:採択|公募|募集)|採択(?:は|が|の有無|されます|あります|してい|し)|"
        r"公募(?:して|は|が|中|を)|募集(?:して|は|が|中|を)|\bnew calls?\b|\baccept(?:ing|s)? (?:new )?(?:applications|proposals)\b|"
        r"\bopen (?:for|to) (?:new )?(?:applications|proposals)\b|"
        r"\b(?:taking|selecting|accepting|funding) new (?:projects|proposals|applications)\b|新しく採択"
    ),
    "themes": re.compile(r"テーマ|分野|政策課題|\btheme"),
    "overview": re.compile(
        r"どんな事業|どういう事業|どのような事業|概要|目的|内容|とは|って何|ってなに|について(?:教えて|知りたい|詳しく)|"
        r"\bwhat is\b|\btell me about\b|\babout\b"
    ),
    "deadline": re.compile(
        r"締切|締め切|〆切|しめきり|期限|いつまで|(?:申請|応募|募集|受付)(?:の)?(?:受付)?期間|受付(?:期間|期限)|"
        r"\bdeadline|\bdue date\b|\bby when\b|\bapplication period\b"
    ),
    "terms": re.compile(
        r"補助率|補助上限|上限額|助成率|採択予定件数|採択件数|公募要領|審査基準|審査の観点|申請要件|応募要件|事業期間|"
        r"\bsubsidy rate\b|\bfunding rate\b|\bceiling\b|\bselection criteria\b"
    ),
    "schedule": re.compile(
        r"公募(?:時期|開始|期間|予定|スケジュール)|募集(?:時期|開始|期間|予定)|スケジュール|いつから|いつ(?:公募|募集|始ま)|"
        r"\bwhen (?:does|will|is)\b.*\b(?:open|start|begin)|\bschedule\b"
    ),
    "person": re.compile(
        r"担当者(?:の)?(?:お?名前|氏名|名|は誰|はだれ|って誰|はどなた)|(?:担当|責任者)(?:の)?(?:お?名前|氏名)|誰が担当|責任者|担当の(?:方|人)|"
        r"(?:審査員|審査委員|評価委員|選考委員|委員長|プログラムオフィサー|プログラムディレクター)|"
        r"誰が(?:審査|評価|選考|選ぶ|決める)|"
        r"(?:[一-龥]{0,4}長|代表者?|責任者|担当者|理事|委員|メンバー|会員)(?:を務め(?:て|る)|として|は|が|の)?[^。？?]{0,10}(?:誰|だれ|どなた|お?名前|氏名)|"
        r"\bperson in charge\b|\bcontact person\b|\bwho is (?:the|in) charge\b|\bname of the\b|\bwho (?:chairs|heads|leads)\b"
    ),
    "later_round": re.compile(
        r"次回|来年度|次年度|再来年|今後の(?:公募|募集|採択)|第\s*\d+\s*回|二次公募|追加公募|"
        r"\bnext (?:round|year|call)\b|\bfuture calls?\b"
    ),
    "result": re.compile(
        r"採択(?:件数|数|実績|結果|率|倍率|された(?:大学|拠点|地域|件数))|何件採択|倍率|採択率|"
        r"何(?:大学|校|件|団体|拠点)(?:が|も)?(?:これまでに)?採択|採択され(?:た|ている)(?:のは)?(?:何|どの|どこ)|"
        r"\bsuccess rate\b|\bhow many (?:universities|projects) (?:were|have been) (?:selected|funded)\b"
    ),
    "members": re.compile(
        r"構成員|メンバー|参加(?:している|する)?(?:企業|団体|機関|大学|自治体|者)|参加者|"
        r"加わって(?:いる)?(?:企業|団体|機関)|\bmembers?\b|\bparticipants?\b"
    ),
    "region": re.compile(
        r"どこの(?:県|都道府県|地域|自治体)|どの(?:県|都道府県|地域)|何県|どこ(?:です)?か.{0,6}(?:県|地域)|"
        r"\bwhich (?:prefectures?|regions?)\b|\bwhere\b"
    ),
    "place": re.compile(
        r"どこに(?:置|あ|設|所在)|所在地|住所|場所は|事務局(?:は|の|が|って)|本部(?:は|の)|\bwhere is\b|\bsecretariat\b"
    ),
    "count": COUNT,
    "when": WHEN,
}
#: Attributes the catalog's table row answers.
#: Hiragana spellings of the words of asking (「たんとうぶしょ」「でんわばんごう」): a question typed in kana
#: is read with these replaced, so its cues count like the kanji ones.
KANA_WORDS: dict[str, str] = {
    "といあわせさき": "問い合わせ先",
    "といあわせ": "問い合わせ",
    "れんらくさき": "連絡先",
    "たんとうぶしょ": "担当部署",
    "たんとうしゃ": "担当者",
    "たんとう": "担当",
    "でんわばんごう": "電話番号",
    "でんわ": "電話",
    "めーるあどれす": "メールアドレス",
    "めーる": "メール",
    "あどれす": "アドレス",
    "よさん": "予算",
    "いくら": "いくら",
    "しんせい": "申請",
    "おうぼ": "応募",
    "しょかん": "所管",
    "しめきり": "締切",
    "こうぼ": "公募",
    "さいたく": "採択",
    "しんき": "新規",
    "いちらん": "一覧",
    "ぜんぶ": "全部",
    "じぎょう": "事業",
    "だいがく": "大学",
    "じちたい": "自治体",
    "きぎょう": "企業",
    "おしえて": "教えて",
}
KANA_WORD = re.compile("|".join(sorted(KANA_WORDS, key=len, reverse=True)))

CATALOG_ATTRIBUTES = frozenset(
    {"budget", "applicants", "ministry", "department", "contact", "new_calls", "themes"}
)
#: Attributes no table states; prose may, or the answer says they are not stated and whom to ask.
UNSTATED_ATTRIBUTES = frozenset({"deadline", "schedule", "person", "later_round", "result", "terms"})

# -- references to earlier turns ---------------------------------------------------------------------
ANAPHORA = re.compile(
    r"(?:その|この|あの|同|当該|上記の?|前述の?|先ほどの|先程の|さっきの|今の|前の)\s*"
    r"(?:事業|プログラム|交付金|制度|支援策|支援|補助金|助成|プロジェクト|取り組み|取組|施策|メニュー)|"
    r"(?:^|[、。\s])(?:それ|これ|あれ)(?:は|の|が|に|を|って|も|で|について)|^(?:それ|これ)$|"
    r"そちら|こちらの事業|そこ(?:は|に|の|って|では|も)|同事業|上記|前述|"
    r"\b(?:its|that one|this one|that program|this program|the program|that project|this project|that scheme)\b|"
    r"^(?:\w+\s+){0,4}it\b[^.]*\?$"
)
PLURAL_REFERENCE = re.compile(
    r"それぞれ|両方の(?:事業|予算|担当|連絡先|申請主体)|両者|それら(?!し)|これら|二つとも|2つとも|"
    r"\bboth of them\b|\beach of them\b|\ball of them\b|\bboth programs\b|\beach program\b"
)
SET_REFERENCE = re.compile(
    r"その中で|そのうち|この中で|これらの(?:うち|中で)|それらの(?:うち|中で)|上記の(?:うち|中で)|今の(?:うち|中で)|"
    r"挙げた(?:うち|中で)|\bamong (?:them|these|those)\b|\bof (?:these|those|them)\b"
)
ORDINAL = re.compile(
    r"前者|後者|最初の|最後の|(?P<n>[1-9１-９一二三四五])\s*(?:つ目|番目|件目|個目)|"
    r"\bthe (?P<en>first|second|third|former|latter|last)\b"
)
ORDINAL_WORDS = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "first": 1,
    "second": 2,
    "third": 3,
    "former": 1,
}
#: 「経産省のほう」「自治体が申請するほう」「予算が大きい方」: one of the programs just discussed, picked by a property.
PICK = re.compile(
    r"(?:の|が|な|い|る)\s*(?:ほう|方)(?:の|が|は|で|を|に|って|と|、|,)|(?:ほう|方)[?？]?$|\bthe \w+ one\b|"
    r"\bone (?:run )?by\b"
)


# -- words the planner weighs (read once, with the other cues) ------------------------------------------
#: Words that speak of the regional networks outright (not of programs).
NETWORK_WORDS = re.compile(
    r"ネットワーク|構成員|構成団体|メンバー|の欄|可視化の例|\bnetworks?\b|\bmembers?\b", re.I
)
#: The name of a scheme's adopted plan or hub in a region (「…の交付金で選ばれた計画名は」): the documents'
#: prose names it; a region the network table does not cover has none to name.
PLAN_NAME = re.compile(
    r"(?:採択|選定|認定)(?:され)?た(?:計画|拠点|プロジェクト)|計画名|計画の名(?:前|称)|拠点名|拠点の名(?:前|称)"
)
#: Being part of something (a network): 「参加」「入って」 "join".
JOINED = re.compile(r"参加|参画|加盟|所属|入って|\bjoin|\bbelong")
#: 「空いている」「記載がない」: asking which region lacks an entry.
ABSENT = re.compile(
    r"空い|空欄|記載(?:が)?(?:ない|無い)|載っていない|ないのは|無いのは|\bmissing\b|\bempty\b|\bno entry\b"
)
#: The counted noun of a how-many question (「何大学」「いくつの地域」).
COUNTER = re.compile(
    r"何(大学|校|件|地域|団体|拠点|事例|社|人|名|か所|カ所|プロジェクト)|いくつの([^\s、。？?がをにはで]{1,6})(?:が|を|に|は|で)"
)
#: Words that name programs as such (a question with one asks about programs, not about the documents' prose).
PROGRAM_WORDS = (
    "事業",
    "プログラム",
    "制度",
    "支援策",
    "支援メニュー",
    "交付金",
    "補助金",
    "助成",
    "公募",
    "枠組み",
    "施策",
    "やつ",
    "program",
    "project",
    "scheme",
    "grant",
    "subsid",
)


#: Whether a rule covers something (「…も加点の対象になりますか」「…も含まれますか」): asked of a rule, not of the
#: programs that meet a condition.
RULE_PREDICATE = re.compile(
    r"(?:も|は)[^。？?]{0,12}(?:対象(?:に|と)?(?:なり|なる|です|でしょう|外)|含まれ|加点|該当し|認められ|適用され|"
    r"カウントされ|算入され|除外され|除かれ)"
)


#: The set a list is drawn from, named as something other than programs (「調査で出た論点のうち」「課題の中で」):
#: the list is of those items, in the documents' prose, even when a word like 施策 follows.
ITEM_SET = re.compile(
    r"(?:論点|課題|指摘|意見|要件|要素|観点|視点|ポイント|項目|事例|留意点|問題点|取組|ニーズ)(?:等)?(?:のうち|の中で|の中から|のなか)"
)
#: What a rule scores or checks (「どんな取組をしていると加点されますか」「審査で見られるのは」): asked of the rule's
#: words, not of the programs meeting a condition.
RULE_CONTENT = re.compile(r"加点|減点|審査(?:項目|基準|の観点|で|の際|する)|評価項目|採点|配点")


def text_cues(masked: str) -> set[str]:
    """The cues the planner weighs besides the asking cues: whether the question speaks of programs, of the
    networks, of joining, of a case (事例), of a need, of an empty entry, of a budget measure, of a ministry."""
    lowered = masked.lower()
    tests = {
        "program_word": any(word in lowered for word in PROGRAM_WORDS),
        "network_word": bool(NETWORK_WORDS.search(masked)),
        "plan_name": bool(PLAN_NAME.search(masked)),
        "joined": bool(JOINED.search(masked)),
        "case_word": "事例" in masked,
        "need": bool(NEED.search(lowered)),
        "absent": bool(ABSENT.search(masked)),
        "measure": bool(RANKING_MEASURE.search(lowered)),
        "ministry_word": "省" in masked,
        "rule": bool(RULE_PREDICATE.search(masked)),
        "item_set": bool(ITEM_SET.search(masked)),
        "rule_content": bool(RULE_CONTENT.search(masked)),
    }
    return {name for name, hit in tests.items() if hit}


def counted_noun(masked: str) -> str | None:
    """The noun a how-many question counts (「何大学」 → 大学), or None."""
    match = COUNTER.search(masked)
    return (match.group(1) or match.group(2)) if match else None
