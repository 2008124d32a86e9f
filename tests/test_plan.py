"""The answer plan, table-driven: questions as people ask them → the kind of answer and what it rests on.

No embedding model and no index: the catalog is extracted from corpus/ and the documents are read from
it directly, so these run in seconds. Goal questions are checked for their kind only (which program fits
needs the model: tests/test_recommend.py). Each row is a phrasing of our own — narratives, colloquial and
keigo, English, kana, typos, multi-turn references — not a copy of an eval case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.config import PROJECT_ROOT
from assistant.pipeline.hits import RetrievalResult
from assistant.pipeline.read import Turn

CORPUS = PROJECT_ROOT / "corpus"

KYOSO = "共創の場形成支援プログラム"
SPARC = "地域活性化人材育成事業"
START = "大学発新産業創出プログラム（START）大学・エコシステム推進型"
KOFUKIN = "地方大学・地域産業創生交付金"
LOCAL10K = "ローカル10,000プロジェクト"
SANGAKU = "産学融合拠点創出事業"
KANKYO = "環境研究総合推進費"
SMART_MLIT = "スマートシティ実装化支援事業"
SMART_MIC = "地域課題解決のためのスマートシティ推進事業"
MOONSHOT = "ムーンショット型農林水産研究開発事業"
SHOBO = "消防防災科学技術研究推進制度"
KISHO = "地方気象台との人材育成・防災教育等での連携"
DATSU = "地域脱炭素移行・再エネ推進交付金"


@dataclass(frozen=True)
class Row:
    question: str
    kind: str
    programs: tuple[str, ...] = ()  # the programs the plan rests on, leading first (a prefix is checked)
    conditions: tuple[tuple[str, str, object], ...] = ()  # (field, op, value) applied (asked/filter)
    background: tuple[str, ...] = ()  # fields that must be background, never applied
    history: tuple[str, ...] = ()  # alternating user / assistant turns
    verdict: str | None = None
    exclude: tuple[str, ...] = ()  # programs that must not be in the plan
    note: str = field(default="", compare=False)


TWO_MEXT = (
    "文科省の事業で大学が申請できるものは？",
    f"{KYOSO}と{SPARC}があります。",
)
SMART = ("スマートシティに関係する事業は？", f"{SMART_MIC}と{SMART_MLIT}があります。")
THREE = ("事業を教えて", f"{KYOSO}、{SPARC}、{SANGAKU}があります。")
ONE_SPARC = ("人材育成の事業は？", f"{SPARC}（文部科学省）が合います。")
METI_MEXT = (
    "産学融合と人材育成の事業について教えて",
    f"{SANGAKU}（経済産業省）と{SPARC}（文部科学省）があります。",
)
DISASTER = ("防災の事業で大学に関係あるものは？", f"{SHOBO}と{KISHO}があります。")

ROWS: list[Row] = [
    # -- lists that honour every condition -------------------------------------------------------------
    Row(
        "文科省の事業で、大学が直接申請できるものを一覧で",
        "list",
        conditions=(("ministry", "any", ("文部科学省",)), ("applicant", "all", ("大学等研究機関",))),
    ),
    Row(
        "環境省の事業で大学が申請できて、新規採択もあるものは？",
        "list",
        (KANKYO,),
        (("ministry", "any", ("環境省",)), ("new_calls", "eq", True)),
    ),
    Row("予算が100億円を超える事業はどれ？", "list", (DATSU, KYOSO), (("min_budget", "gt", 10_000_000),)),
    Row("新規採択をしていない事業を教えてください", "list", (MOONSHOT,), (("new_calls", "eq", False),)),
    Row(
        "大学・企業・自治体のどれもが申請できる事業は？",
        "list",
        conditions=(("applicant", "all", ("大学等研究機関", "民間事業者等", "自治体")),),
        exclude=(KYOSO,),
    ),
    Row(
        "大学は申請主体に入っていない環境省の事業は？",
        "list",
        (DATSU,),
        (("applicant", "not", ("大学等研究機関",)),),
        exclude=(KANKYO,),
    ),
    Row(
        "内閣府以外の事業で、自治体が申請主体のものを全部",
        "list",
        conditions=(("ministry", "not", ("内閣府",)),),
        exclude=(KOFUKIN,),
    ),
    Row(
        "農水省か経産省の事業で民間企業が応募できるもの",
        "list",
        conditions=(("ministry", "any", ("農林水産省", "経済産業省")),),
    ),
    Row(
        "スマートシティ関連で国交省の事業は？",
        "list",
        (SMART_MLIT,),
        (("ministry", "any", ("国土交通省",)),),
        exclude=(SMART_MIC,),
    ),
    Row("予算額が書かれていない事業は？", "list", (KISHO,), (("has_budget", "eq", False),)),
    Row(
        "研究者個人が応募できる事業はありますか",
        "list",
        ("新SBIR制度加速事業",),
        (("applicant", "all", ("研究者",)),),
    ),
    Row("経産省の事業の連絡先を全部教えて", "list", conditions=(("ministry", "any", ("経済産業省",)),)),
    Row(
        "自治体も大学も申請できる脱炭素の事業はある？",
        "list",
        ("環境で地域を元気にする地域循環共生圏プラットフォーム事業",),
    ),
    Row(
        "Which programs can a university apply to directly?",
        "list",
        conditions=(("applicant", "all", ("大学等研究機関",)),),
    ),
    Row("List the programs of MEXT.", "list", (KYOSO,), (("ministry", "any", ("文部科学省",)),)),
    Row(
        "List the Ministry of the Environment programs that local governments can apply to.", "list", (DATSU,)
    ),
    Row("大学が申請できる事業は？", "list", conditions=(("applicant", "all", ("大学等研究機関",)),)),
    Row(
        "1億円以下のMaaSの事業",
        "list",
        ("未来技術社会実装事業", "日本版MaaS推進・支援事業"),
        (("max_budget", "le", 100_000),),
    ),
    Row(
        "5000万円以下のMaaSの事業",
        "list",
        conditions=(("max_budget", "le", 50_000),),
        exclude=("日本版MaaS推進・支援事業",),
    ),
    Row("国交省の事業はどんなものがありますか", "list", conditions=(("ministry", "any", ("国土交通省",)),)),
    # -- rankings and superlatives ---------------------------------------------------------------------
    Row("一番予算が大きい事業はどれ？", "ranking", (DATSU,)),
    Row("予算の多い順に上位5件", "ranking", (DATSU, KYOSO)),
    Row(
        "農水省の事業で予算が一番大きいのは？", "ranking", ("スマート農業技術の開発・実証・実装プロジェクト",)
    ),
    Row("Which program has the largest budget?", "ranking", (DATSU,)),
    Row("予算が最も小さい事業は？", "ranking", ("日本版MaaS推進・支援事業",)),
    Row("その中で一番予算が大きいのは？", "ranking", (SMART_MIC,), history=SMART),
    Row("予算が小さいほうは？", "ranking", (SPARC,), history=TWO_MEXT),
    Row("その中で一番予算が大きいのはどれ？", "ranking", (KYOSO,), history=THREE),
    # -- comparisons ------------------------------------------------------------------------------------
    Row(f"{KYOSO}と{SPARC}では、どちらの予算が大きいですか？", "compare", (KYOSO, SPARC)),
    Row(f"{SPARC}と{START}、どっちが予算多い？", "compare", (SPARC, START)),
    Row(f"{KYOSO}と{SPARC}は同じ省の事業ですか？", "compare", (KYOSO, SPARC), verdict="yes"),
    Row(f"{SMART_MLIT}と{SMART_MIC}は所管が同じ？", "compare", (SMART_MLIT, SMART_MIC), verdict="no"),
    Row(f"{KANKYO}と河川砂防技術開発公募の違いは？", "compare", (KANKYO, "河川砂防技術開発公募")),
    Row("両者の申請主体は同じですか？", "compare", (KYOSO, SPARC), history=TWO_MEXT, verdict="yes"),
    # -- yes / no -----------------------------------------------------------------------------------------
    Row(f"{SPARC}は大学が直接申請できますか？", "yes_no", (SPARC,), verdict="yes"),
    Row(f"{SMART_MLIT}に大学は申請できますか", "yes_no", (SMART_MLIT,), verdict="no"),
    Row(f"{MOONSHOT}は今も新規採択をしていますか？", "yes_no", (MOONSHOT,), verdict="no"),
    Row(f"{KANKYO}は文科省の事業ですか？", "yes_no", (KANKYO,), verdict="no"),
    Row(f"{KYOSO}の予算は100億円以上ですか？", "yes_no", (KYOSO,), verdict="yes"),
    Row("その事業は大学が直接申請できますか？", "yes_no", (SPARC,), history=ONE_SPARC, verdict="yes"),
    Row(
        "そこには自治体も申請できる？",
        "yes_no",
        (SHOBO,),
        history=("消防の研究開発に使える制度は？", f"{SHOBO}があります。"),
        verdict="yes",
    ),
    Row(f"Can a university apply directly to the {KYOSO}?", "yes_no", (KYOSO,), verdict="yes"),
    Row(f"Is {KANKYO} a program of MEXT?", "yes_no", (KANKYO,), verdict="no"),
    Row(f"{LOCAL10K}は自治体向けの事業ですか？", "yes_no", (LOCAL10K,), verdict="yes"),
    # -- attributes and contacts of named programs ------------------------------------------------------
    Row(f"{KOFUKIN}の予算額は？", "attribute", (KOFUKIN,)),
    Row(f"{KYOSO}の予算は何億円ですか？", "attribute", (KYOSO,)),
    Row("きょうそうのばけいせいしえんぷろぐらむの予算は？", "attribute", (KYOSO,)),
    Row("ちいきかっせいかじんざいいくせいじぎょうの予算", "attribute", (SPARC,)),
    Row("産学融合拠点創出事行について教えて", "attribute", (SANGAKU,)),
    Row(f"{SPARC}について教えて", "attribute", (SPARC,)),
    Row(f"What is the budget of {KOFUKIN}?", "attribute", (KOFUKIN,)),
    Row(f"{KYOSO}の申請主体は？", "attribute", (KYOSO,)),
    Row("どこの省の事業？", "attribute", (SPARC,), history=ONE_SPARC),
    Row("それぞれの予算は？", "attribute", (KYOSO, SPARC), history=TWO_MEXT),
    Row(f"{SPARC}の問い合わせ先（電話とメール）を教えてください。", "contact", (SPARC,)),
    Row(f"{KYOSO}について文科省に問い合わせたいです。担当部署と連絡先は？", "contact", (KYOSO,)),
    Row("ろーかるいちまんぷろじぇくとの問い合わせ先", "contact", (LOCAL10K,)),
    Row("環境研究総合推進比の担当", "contact", (KANKYO,)),
    Row(f"Who should I contact about {LOCAL10K}?", "contact", (LOCAL10K,)),
    Row("その事業の問い合わせ先は？", "contact", (SPARC,), history=ONE_SPARC),
    Row("電話番号を教えて。", "contact", (SPARC,), history=ONE_SPARC),
    Row("後者のメールアドレスは？", "contact", (SPARC,), history=TWO_MEXT),
    Row("2番目の事業の担当部署は？", "contact", (SPARC,), history=THREE),
    Row("経産省のほうの問い合わせ先は？", "contact", (SANGAKU,), history=METI_MEXT, background=("ministry",)),
    Row("文科省の方の連絡先は", "contact", (SPARC,), history=METI_MEXT, background=("ministry",)),
    Row("自治体が申請するほうの連絡先を教えて", "contact", (SHOBO,), history=DISASTER),
    Row(
        "What about its budget?",
        "attribute",
        (SPARC,),
        history=(f"Tell me about {SPARC}", f"{SPARC}は文部科学省の事業です。"),
    ),
    # -- look-alikes the documents do not state -----------------------------------------------------------
    Row(f"{KYOSO}の申請締切はいつですか？", "not_stated", (KYOSO,)),
    Row(f"{SPARC}の次回の公募はいつですか？", "not_stated", (SPARC,)),
    Row(f"{KYOSO}の担当者の名前は？", "not_stated", (KYOSO,)),
    Row(f"{KYOSO}の審査員は誰？", "not_stated", (KYOSO,)),
    Row(f"{LOCAL10K}の令和7年度の予算は？", "not_stated", (LOCAL10K,)),
    Row(f"{SANGAKU}の採択率は？", "not_stated", (SANGAKU,)),
    Row(f"When is the application deadline of {KYOSO}?", "not_stated", (KYOSO,)),
    # -- clarifying questions -------------------------------------------------------------------------------
    Row("その事業の予算は？", "clarify"),
    Row("それの担当は？", "clarify"),
    Row("その事業の担当部署は？", "clarify", history=THREE),
    Row("3番目の事業の予算は？", "clarify", history=TWO_MEXT),
    # -- goals (the program comes from the model: kind only) -------------------------------------------------
    Row(
        "うちは工学部が強い地方国立大学です。地元の自治体や企業と一緒に、地域の課題を解決する研究拠点をつくりたい。",
        "fit",
    ),
    Row(
        "私どもは農学部のある地方の国立大学です。県の農業試験場や地元の農協と協力して、スマート農業の技術を現場で試したいと考えております。応募できる国の事業はございますでしょうか。",
        "fit",
        background=("theme",),
    ),
    Row("地域のリーダーを育てる教育プログラムを作り直したい。使える事業と問い合わせ先は？", "fit"),
    Row(
        "当大学ではすでに経産省の産学融合拠点創出事業に参加していますが、今度は学生の起業を支援する仕組みを作りたいです。使える事業はありますか？",
        "fit",
        background=("ministry",),
    ),
    Row(
        "うちの大学はすでに文科省の共創の場に採択されています。次は企業と一緒に脱炭素の実証をしたいのですが、使える事業は？",
        "fit",
        background=("ministry", "theme"),
    ),
    Row("脱炭素先行地域の構想を支援してくれる事業はありますか", "fit"),
    # What the asker says about themself does not make a theme question "about something specific".
    Row(
        "本学は以前から経産省の研究開発事業を受託している地方大学なのですが、脱炭素の分野で県と一緒にやれる事業ってありますか？",
        "fit",
        background=("ministry",),
    ),
    Row("地方気象台と組んで防災教育をしたい場合、どこに連絡すればいい？", "fit"),
    Row("We want to build a research hub with local companies and the prefecture.", "fit"),
    # -- prose ----------------------------------------------------------------------------------------------
    Row(
        "総務省の実態調査で整理された、産学官連携を進める工夫にはどんなものがありますか？",
        "prose",
        background=("ministry",),
    ),
    Row("浜松市が市内のベンチャー企業への投資を呼び込むためにやっている事業は？", "prose"),
    Row("コロナの影響で、文科省の事業の拠点のうちどのくらいの割合が共同研究を始めにくくなった？", "prose"),
    Row(
        "産学官連携の実態調査について総務省に問い合わせたい。電話番号は？", "prose", background=("ministry",)
    ),
    Row("中間とりまとめに出てくる「ABC」とは何の略ですか？", "prose"),
    Row("日本オープンイノベーション大賞は何年に創設されたの？", "prose"),
    # an elliptical follow-up naming a new region asks the earlier network question of it
    Row(
        "じゃあ高知県だと？",
        "network",
        history=("広島県の産学官ネットワークを知りたい", "広島県の産学官ネットワークは次のとおりです。"),
    ),
    # a request reported without quotation marks is what is asked: its conditions apply
    Row(
        "同僚から、文科省の事業で自治体が申請できるものを調べてほしいと言われました。ありますか？",
        "list",
        conditions=(("ministry", "any", ("文部科学省",)), ("applicant", "all", ("自治体",))),
    ),
    # a list of the documents' items (論点, 課題), though a word like 施策 names the group
    Row("アンケートで出た課題のうち、自治体の施策に関係するものを全部教えて", "prose"),
    # what a rule scores, asked with 「どんな事業」: the rule's words, not a list of programs
    Row("審査の際、どういう事業に参加していると加点されるんですか？", "prose"),
    Row(
        "今年度は新規の課題採択をしない事業を教えてください。",
        "list",
        (MOONSHOT,),
        (("new_calls", "eq", False),),
    ),
    Row(
        "国土交通省の事業の連絡先を全部",
        "list",
        conditions=(("ministry", "any", ("国土交通省",)),),
        history=SMART,
    ),
    # -- outside the documents' period ---------------------------------------------------------------------
    Row("2026年度の大学入学共通テストの日程を教えてください。", "abstain"),
]


@pytest.fixture(scope="module")
def reader_and_planner(corpus_catalog, corpus_stages):
    reader, planner, _ = corpus_stages
    names = {p.id: p.name for p in corpus_catalog.programs}
    return reader, planner, names


def _history(row: Row) -> list[Turn]:
    return [Turn(role="user" if i % 2 == 0 else "assistant", content=t) for i, t in enumerate(row.history)]


def test_there_are_enough_rows_of_every_kind():
    kinds = {row.kind for row in ROWS}
    assert len(ROWS) >= 80
    assert kinds >= {
        "list",
        "ranking",
        "compare",
        "yes_no",
        "attribute",
        "contact",
        "not_stated",
        "clarify",
        "fit",
        "prose",
    }


@pytest.mark.parametrize("row", ROWS, ids=[r.question[:40] for r in ROWS])
def test_question_to_plan(row: Row, reader_and_planner):
    reader, planner, names = reader_and_planner
    q = reader.read(row.question, _history(row))
    decision = planner.decide(q)
    kind = decision.kind
    plan = None
    if kind not in ("fit", "prose", "abstain", "network"):
        plan = planner.plan(q, RetrievalResult(question=q.text, mode="hybrid", hits=[], programs=[]))
        kind = plan.kind
    assert kind == row.kind, (row.question, decision.reason)
    if row.programs:
        got = [names[f.program.id] for f in plan.programs] if plan else [names[pid] for pid in q.program_ids]
        assert got[: len(row.programs)] == list(row.programs) or (
            kind == "list" and set(row.programs) <= set(got)
        ), (row.question, got)
    if plan is not None and row.exclude:
        got = {names[f.program.id] for f in plan.programs}
        assert not got & set(row.exclude), (row.question, got)
    applied = {(c.field, c.op, c.value) for c in q.conditions if c.role != "background"}
    for field_name, op, value in row.conditions:
        assert (field_name, op, value) in applied, (row.question, applied)
    for field_name in row.background:
        assert all(c.role == "background" for c in q.conditions if c.field == field_name), (
            row.question,
            q.conditions,
        )
        assert any(c.field == field_name for c in q.conditions), (row.question, q.conditions)
    if row.verdict is not None:
        assert plan is not None and plan.verdict == row.verdict, (
            row.question,
            plan.verdict if plan else None,
        )
