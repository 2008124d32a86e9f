"""Fixtures of the generative-composer tests: the real catalog, and evidence as the planner builds it for two
programs of the 総合振興パッケージ (quotes as the document prints them; each is checked against the corpus)."""

from __future__ import annotations

import pytest

from assistant.config import PROJECT_ROOT
from assistant.pipeline.compose.verify import Sentence, Verifier, norm, parse_sentence
from assistant.pipeline.evidence import Evidence
from assistant.pipeline.plan import AnswerPlan, ProgramFacts
from assistant.pipeline.read import QuestionReader

CORPUS = PROJECT_ROOT / "corpus"
PACKAGE = "001_9b2f57644b0d39be"
KYOSO = "共創の場形成支援プログラム"
SPARC = "地域活性化人材育成事業"

#: Evidence as the planner builds it for these two programs (quotes as the package prints them).
EVIDENCE = [
    (
        "row",
        KYOSO,
        "共創の場形成支援プログラム ①大学等研究機関 13,750,508 有 文部科学省\n科学技術・学術政策局\n"
        "産業連携・地域振興課\n拠点形成・地域振興室\n\nTEL：03-5253-4111（内線4195）\nmail：coi-next@mext.go.jp",
    ),
    ("budget_line", KYOSO, "<文>共創の場形成支援：13,751百万円"),
    ("budget_line", KYOSO, "共創の場形成支援プログラム【文科省】 ：138億円"),
    (
        "row",
        SPARC,
        "地域活性化人材育成事業 ①大学等研究機関 1,450,000 有 文部科学省\n高等教育局\n大学振興課\n"
        "大学改革推進室\n\nTEL：03-5253-4111（内線3034）\nmail：daikaika@mext.go.jp",
    ),
    ("budget_line", SPARC, "<文>地域活性化人材育成事業（SPARC)：1,450百万 円（新規）等"),
    ("budget_line", SPARC, "地域活性化人材育成事業【文科省】 ：14.5億円"),
    (
        "description",
        SPARC,
        "地域社会と大学間の連携を通じて既存の 教育プログラムを再構築し、地域を 牽引 する人材を育成",
    ),
]


@pytest.fixture(scope="module")
def catalog(corpus_catalog):
    return corpus_catalog


@pytest.fixture(scope="module")
def matcher(corpus_matcher):
    return corpus_matcher


@pytest.fixture(scope="module")
def verifier(catalog, matcher):
    return Verifier({p.id: p for p in catalog.programs}, matcher)


@pytest.fixture(scope="module")
def reader(catalog, matcher):
    return QuestionReader(catalog.programs, matcher)


@pytest.fixture(scope="module")
def evidence(catalog) -> list[Evidence]:
    text = norm((CORPUS / f"{PACKAGE}.txt").read_text(encoding="utf-8"))
    by_name = {p.name: p for p in catalog.programs}
    items = []
    for number, (kind, name, quote) in enumerate(EVIDENCE, start=1):
        assert norm(quote) in text, f"evidence {number} is not in the corpus"
        program = by_name[name]
        items.append(
            Evidence(
                id=number,
                kind=kind,  # type: ignore[arg-type]
                doc_id=PACKAGE,
                line_start=1,
                line_end=1,
                quote=quote,
                title="総合振興パッケージ",
                program_id=program.id if kind in ("row", "description") else None,
                label=name if kind == "budget_line" else "",
            )
        )
    return items


def make_plan(reader, catalog, evidence, question: str, kind: str, **extra) -> AnswerPlan:
    by_name = {p.name: p for p in catalog.programs}
    facts = [
        ProgramFacts(by_name[KYOSO], row=1, budget_lines=[2, 3]),
        ProgramFacts(by_name[SPARC], row=4, description=7, budget_lines=[5, 6]),
    ]
    named = reader.read(question, [], None)
    order = [f for pid in named.program_ids for f in facts if f.program.id == pid] or facts
    return AnswerPlan(
        kind=kind,  # type: ignore[arg-type]
        question=named,
        evidence=evidence,
        programs=order,
        conditions=named.conditions,
        asked=tuple(sorted(named.asked)),
        **extra,
    )


def sentence(text: str) -> Sentence:
    parsed = parse_sentence(text)
    assert parsed is not None
    return parsed
