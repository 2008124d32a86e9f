"""Goal → program recommendation: which support program fits what a university wants to do.

A goal question (「地域のリーダーを育てる教育プログラムを作り直したい」) is compared with what each program
is *for*, in the package's own words: the program's name and description box, and the goal lines of the
page 「具体的にどのような支援策が使えるのか？」 (goal ⇒ program). Comparing with whole passages or with
program records that also list themes and ministries made the broad programs (共創の場, which appears
under every theme) win every goal; a program's purpose statement is what a reader matches a goal with.

Some goal lines point at measures outside the program tables (マテリアル先端リサーチインフラ, 構造改革特区);
they are recommended too, as *targets* without a catalog record, so the answer can say what the corpus
says about them and that it gives no contact for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.index.embeddings import Embedder
from assistant.jp_text import tokenize
from assistant.pipeline.conditions import ProgramFilter
from assistant.pipeline.scoring import SentenceScorer
from assistant.records import BudgetLine, Catalog, Program, UseCase
from assistant.tuning import RECOMMEND, RecommendThresholds


@dataclass(frozen=True)
class Recommendation:
    """One recommended target: a catalog program, or a measure named only on a goal ⇒ program line."""

    name: str
    score: float  # cosine similarity plus the lexical tie-break
    program: Program | None = None
    use_case: UseCase | None = None  # the goal line that matched (or that names the target)
    budget_lines: tuple[BudgetLine, ...] = ()  # for targets without a catalog record


@dataclass
class _Target:
    name: str
    program: Program | None
    use_cases: list[UseCase]
    budget_lines: list[BudgetLine]


#: 「構造改革特区へ申請」 names the measure 構造改革特区; the verb is not part of its name.
_ACTION_SUFFIX = re.compile(r"(?:へ|に|を)(?:申請|応募|活用)$")


def target_name(use_case: UseCase) -> str:
    return _ACTION_SUFFIX.sub("", use_case.program_name.strip())


class ProgramRecommender:
    """Built once per process (embeds the purpose statements once); ``recommend`` is thread-safe."""

    def __init__(
        self,
        catalog: Catalog,
        embedder: Embedder,
        scorer: SentenceScorer,
        thresholds: RecommendThresholds | None = None,
    ) -> None:
        self.embedder = embedder
        self.scorer = scorer
        self.thresholds = thresholds or RECOMMEND
        programs = {p.id: p for p in catalog.programs}
        self.targets: list[_Target] = [_Target(p.name, p, [], []) for p in catalog.programs]
        by_program = {t.program.id: t for t in self.targets if t.program}
        by_name: dict[str, _Target] = {}
        for use_case in catalog.use_cases:
            if use_case.program_id in programs:
                by_program[use_case.program_id].use_cases.append(use_case)
                continue
            name = target_name(use_case)
            target = by_name.get(name)
            if target is None:
                target = by_name[name] = _Target(name, None, [], _budget_lines_named(catalog, name))
                self.targets.append(target)
            target.use_cases.append(use_case)

        # One row per statement: (target index, use case or None), and its text.
        self._rows: list[tuple[int, UseCase | None]] = []
        texts: list[str] = []
        for index, target in enumerate(self.targets):
            if target.program is not None:
                texts.append(_purpose(target.program))
                self._rows.append((index, None))
            for use_case in target.use_cases:
                texts.append(use_case.goal)
                self._rows.append((index, use_case))
        self._vectors = embedder.embed_documents_array(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        self._tokens = [set(tokenize(text)) for text in texts]  # for the lexical tie-break, once

    def recommend(
        self,
        question: str,
        program_filter: ProgramFilter | None = None,
        query_vector: list[float] | None = None,
        min_score: float | None = None,
        min_margin: float = 0.0,
        lexical: str | None = None,
    ) -> list[Recommendation]:
        """Targets whose purpose is close to the question, best first; empty when none is close enough.

        The e5 similarities of the right purpose and a near miss differ by less than 0.01, so the share of the
        question's words a statement uses (「AIやドローン」 ↔ 「AI、IoTや自動運転、ドローン等」) is added.

        Exact conditions (a ministry, an applicant type, a budget, new calls) narrow the targets to the catalog
        programs meeting them, when any does; conditions a caller set (``program_filter.explicit``) always do.
        """
        if not self._rows:
            return []
        vector = np.asarray(
            query_vector if query_vector is not None else self.embedder.embed_query(question),
            dtype=np.float32,
        )
        sims = self._vectors @ vector
        t = self.thresholds
        question_tokens = set(tokenize(lexical if lexical is not None else question))
        best: dict[int, tuple[float, UseCase | None]] = {}
        for (index, use_case), sim, tokens in zip(self._rows, sims, self._tokens, strict=True):
            score = float(sim) + t.lexical_weight * self.scorer.token_coverage(question_tokens, tokens)
            if index not in best or score > best[index][0]:
                best[index] = (score, use_case)
        ranked = sorted(best, key=lambda i: -best[i][0])
        hard = program_filter or ProgramFilter()
        if hard.active:
            meeting = [i for i in ranked if self.targets[i].program and hard.matches(self.targets[i].program)]
            # Conditions read from a goal's prose may be loose; filters the caller set are never dropped.
            leader = ranked[0] if ranked else None
            unchecked = (
                leader is not None
                and self.targets[leader].program is None
                and not hard.explicit
                and (not meeting or best[leader][0] >= best[meeting[0]][0] + t.unchecked_target_margin)
            )
            ranked = [leader, *meeting] if unchecked else meeting if meeting or hard.explicit else ranked
        if not ranked or best[ranked[0]][0] < (t.min_score if min_score is None else min_score):
            return []
        if min_margin and len(ranked) > 1 and best[ranked[0]][0] - best[ranked[1]][0] < min_margin:
            return []  # nothing stands out: no recommendation rather than a guess
        top = best[ranked[0]][0]
        chosen = [i for i in ranked[: t.max_targets] if best[i][0] >= top - t.runner_up_margin]
        recommendations = []
        for i in chosen:
            target, (score, use_case) = self.targets[i], best[i]
            recommendations.append(
                Recommendation(
                    name=target.name,
                    score=round(score, 4),
                    program=target.program,
                    use_case=use_case or (target.use_cases[0] if target.program is None else None),
                    budget_lines=tuple(target.budget_lines),
                )
            )
        return recommendations


def _purpose(program: Program) -> str:
    """What a program is for: its name (and aliases) and its description box."""
    name = program.name + (f"（{'・'.join(program.aliases)}）" if program.aliases else "")
    return f"{name}\n{program.description}" if program.description else name


def _budget_lines_named(catalog: Catalog, name: str) -> list[BudgetLine]:
    squashed = re.sub(r"\s+", "", name)
    return [
        line
        for line in catalog.budget_lines
        if line.program_id is None and squashed and squashed in re.sub(r"\s+", "", line.program_name)
    ]
