"""👍/👎 feedback: the store on both engines (a SQLite file and PostgreSQL) and its export as eval cases (no
model, no index)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from assistant.config import PROJECT_ROOT, Settings, get_settings
from assistant.storage import Database
from assistant.web.feedback import FEEDBACK_FILE, FeedbackStore, to_eval_case
from assistant.web.widget_answers import WidgetAnswers, WidgetFeedbackError
from evals.dataset import EvalCase, load_cases, validate_cases

DOC = "001_9b2f57644b0d39be"
CONTACT_ANSWER = {
    "answer": "共創の場形成支援プログラムの問い合わせ先は次のとおりです\n・連絡先：TEL：03-5253-4111（内線4195）／mail：coi-next@mext.go.jp[1]。",
    "abstained": False,
    "intent": "contact",
    "citations": [
        {
            "id": 1,
            "doc_id": DOC,
            "title": "総合振興パッケージ",
            "section": "４．別紙（関連事業マップ）",
            "page": 31,
            "line_start": 1663,
            "line_end": 1669,
            "quote": "共創の場形成支援プログラム ①大学等研究機関 13,750,508 有 文部科学省",
        },
        {  # the same span cited twice becomes one evidence entry
            "id": 2,
            "doc_id": DOC,
            "title": "総合振興パッケージ",
            "section": "４．別紙（関連事業マップ）",
            "page": 31,
            "line_start": 1663,
            "line_end": 1669,
            "quote": "mail：coi-next@mext.go.jp",
        },
    ],
    "programs": [
        {"id": "p-0b74025205", "name": "共創の場形成支援プログラム", "email": ["coi-next@mext.go.jp"]}
    ],
    "timings_ms": {"retrieve": 1.0, "compose": 1.0, "total": 2.0},
}
ABSTAINED = {
    "answer": "収録資料には、ご質問に答える記載が見当たりませんでした。",
    "abstained": True,
    "intent": "prose",
    "citations": [],
    "programs": [],
    "timings_ms": {"retrieve": 1.0, "compose": 1.0, "total": 2.0},
}
HISTORY = [
    {"role": "user", "content": "共創の場形成支援プログラムについて教えて"},
    {"role": "assistant", "content": "共創の場形成支援プログラムは…"},
]


@pytest.fixture
def store(database) -> FeedbackStore:
    return FeedbackStore(database)


def _export(store: FeedbackStore, tmp_path: Path, **kwargs) -> list[dict]:
    out = tmp_path / "cases.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        count = store.export(fh, **kwargs)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == count
    return rows


def test_creates_the_table_and_stores_every_column(store):
    fid = store.add(
        "共創の場形成支援プログラムの問い合わせ先は？",
        CONTACT_ANSWER,
        "up",
        history=HISTORY,
        comment="  助かりました  ",
        filters={"ministry": "文部科学省", "theme": None},
    )
    with store.database.begin() as conn:
        question, history, filters, answer, rating, comment, created_at = conn.execute(
            text(
                "SELECT question, history, filters, answer, rating, comment, created_at FROM feedback"
                " WHERE id = :id"
            ),
            {"id": fid},
        ).one()
    assert question == "共創の場形成支援プログラムの問い合わせ先は？"
    assert json.loads(history) == HISTORY
    assert json.loads(filters) == {"ministry": "文部科学省"}  # empty filters are not stored
    assert json.loads(answer) == CONTACT_ANSWER
    assert (rating, comment) == ("up", "助かりました")
    assert created_at.startswith("20") and "T" in created_at

    # A second store on the same database (another replica) sees the row; its migration finds the schema
    # up to date and leaves it alone.
    other = Database(store.database.url)
    try:
        again = FeedbackStore(other).get(fid)
    finally:
        other.dispose()
    assert again is not None and again.answer["programs"][0]["name"] == "共創の場形成支援プログラム"


def test_update_delete_and_bad_ratings(store):
    fid = store.add("質問", CONTACT_ANSWER, "up")
    assert store.update(fid, rating="down", comment="古い連絡先")
    row = store.get(fid)
    assert (row.rating, row.comment) == ("down", "古い連絡先")
    assert store.update(fid, comment="連絡先が違う") and store.get(fid).rating == "down"
    assert not store.update(9999, rating="up")
    with pytest.raises(ValueError):
        store.add("質問", CONTACT_ANSWER, "meh")
    with pytest.raises(ValueError):
        store.update(fid, rating="meh")
    assert store.delete(fid) and store.get(fid) is None and not store.delete(fid)


def test_concurrent_adds_from_many_threads(store):
    def worker(n: int) -> None:
        for i in range(10):
            store.add(f"質問 {n}-{i}", CONTACT_ANSWER, "up" if i % 2 else "down")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = store.all()
    assert len(rows) == 80 and len({r.id for r in rows}) == 80
    assert len(store.all("up")) == 40


def test_thumbs_up_exports_gold_that_validates_against_the_corpus(store, tmp_path):
    store.add("共創の場形成支援プログラムの問い合わせ先は？", CONTACT_ANSWER, "up", comment="正確")
    [case] = _export(store, tmp_path)
    EvalCase.model_validate(case)
    assert case["id"].startswith("feedback-")
    assert case["category"] == "contact"
    assert case["expected_programs"] == ["共創の場形成支援プログラム"]
    assert case["expected_strings"] == []
    assert case["evidence"] == [{"doc_id": DOC, "line_start": 1663, "line_end": 1669}]
    assert case["abstain"] is False and case["history"] == [] and case["filters"] is None
    assert case["note"].startswith("👍 正確")
    # The exported file is a valid eval set: the same loader and validator as evals/cases.jsonl.
    cases = load_cases(tmp_path / "cases.jsonl")
    assert validate_cases(cases, PROJECT_ROOT / "corpus") == []


def test_thumbs_down_becomes_a_case_to_fill_in(store, tmp_path):
    store.add(
        "その事業の問い合わせ先は？",
        CONTACT_ANSWER,
        "down",
        history=HISTORY,
        comment="別の事業の連絡先が出た",
        filters={"ministry": "文部科学省"},
    )
    store.add("宇宙旅行の補助金は？", ABSTAINED, "down")
    follow_up, refusal = _export(store, tmp_path)
    assert follow_up["category"] == "follow_up" and follow_up["history"] == HISTORY
    assert follow_up["filters"] == {"ministry": "文部科学省", "applicant_type": None, "theme": None}
    assert follow_up["expected_programs"] == [] and follow_up["evidence"] == []  # no gold from a 👎
    assert follow_up["note"].startswith("👎 別の事業の連絡先が出た")
    assert refusal["category"] == "refusal" and refusal["abstain"] is True
    # A 👎 answer has no gold yet: the validator says what to fill in before it gates a release.
    problems = validate_cases(load_cases(tmp_path / "cases.jsonl"), PROJECT_ROOT / "corpus")
    assert any("without evidence" in p for p in problems)
    # Only 👎 rows, for turning complaints into regression cases.
    assert [c["id"] for c in _export(store, tmp_path, rating="down")] == [follow_up["id"], refusal["id"]]
    assert _export(store, tmp_path, rating="up") == []


def test_plan_kinds_become_eval_categories(store):
    for kind, category in (
        ("fit", "program_fit"),
        ("contact", "contact"),
        ("list", "list"),
        ("attribute", "figure"),
        ("prose", "fact"),
        ("ranking", "ranking"),
    ):
        fid = store.add("質問", {**CONTACT_ANSWER, "intent": kind}, "up")
        assert to_eval_case(store.get(fid))["category"] == category


def test_cli_export(tmp_path, monkeypatch, capsys):
    from assistant.cli import main

    data = tmp_path / "data"
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
    get_settings.cache_clear()
    try:
        assert main(["feedback", "export"]) == 2  # nothing rated yet: a readable error
        assert "no feedback yet" in capsys.readouterr().err
        store = FeedbackStore.for_data_dir(data)
        store.add("共創の場形成支援プログラムの問い合わせ先は？", CONTACT_ANSWER, "up")
        store.add("宇宙旅行の補助金は？", ABSTAINED, "down", comment="答えてほしかった")
        out = tmp_path / "exported" / "feedback.jsonl"
        assert main(["feedback", "export", "--out", str(out)]) == 0
        assert "Exported 2" in capsys.readouterr().err
        cases = load_cases(out)
        assert [c.category for c in cases] == ["contact", "refusal"]
        assert main(["feedback", "export", "--rating", "down"]) == 0
        printed = capsys.readouterr().out.splitlines()
        assert len(printed) == 1 and json.loads(printed[0])["note"].startswith("👎 答えてほしかった")
    finally:
        get_settings.cache_clear()


def test_widget_ratings_land_in_the_apps_database_and_an_outage_says_they_were_not_saved(database, tmp_path):
    """The widget stores in the database the app uses (PostgreSQL shared by the replicas, when configured),
    never in a file of its own; a database that cannot be reached is a 503 with Retry-After, not a 500."""
    settings = Settings(data_dir=tmp_path / "data", feedback_per_minute=0)
    answers = WidgetAnswers(settings, database)
    token = answers.remember("共創の場形成支援プログラムの問い合わせ先は？", HISTORY, None, CONTACT_ANSWER)
    assert answers.rate(token, "up", None, "127.0.0.1") is True
    assert answers.rate(token, None, "連絡先がすぐ分かった", "127.0.0.1") is True
    [row] = FeedbackStore(database).all()
    assert (row.question, row.rating, row.comment) == (
        "共創の場形成支援プログラムの問い合わせ先は？",
        "up",
        "連絡先がすぐ分かった",
    )
    assert row.answer == CONTACT_ANSWER and not (tmp_path / "data" / FEEDBACK_FILE).exists()

    blocker = tmp_path / "not-a-folder"  # an unreachable database: its folder is a file
    blocker.write_text("x")
    down = WidgetAnswers(settings, Database(f"sqlite:///{blocker / FEEDBACK_FILE}"))
    token = down.remember("質問", [], None, CONTACT_ANSWER)
    with pytest.raises(WidgetFeedbackError) as refused:
        down.rate(token, "up", None, "127.0.0.1")
    assert refused.value.status == 503 and refused.value.code == "feedback_unavailable"
    assert refused.value.retry_after and "not saved" in refused.value.message
