"""Tuning constants of the answer pipeline, beside the Settings (:mod:`assistant.config`).

They were calibrated on the eval set (``evals/``) and the paraphrase tests; each says what it trades off.
Settings are what an operator changes; these are what a developer changes, with the eval gate watching.
"""

from __future__ import annotations

from pydantic import BaseModel


class SupportThresholds(BaseModel):
    """When the corpus is taken to support a prose answer at all."""

    min_coverage: float = 0.34  # IDF share of the question's words found in one sentence of the top hits
    min_dense: float = 0.86  # cosine of the best chunk (e5 similarities of unrelated text sit near 0.75–0.8)


class RecommendThresholds(BaseModel):
    """Goal → program. Scores are e5-small cosine (query vs. passage) plus ``lexical_weight`` × the share of
    the goal's words (IDF) the statement uses. Measured here: goals the package answers scored 0.878–0.99
    against their program (all but one ≥ 0.89), unrelated or unanswerable goals 0.77–0.882."""

    min_score: float = 0.89  # below this the package names no program for the goal: none is recommended
    lexical_weight: float = 0.05  # 「AIやドローン」 ↔ 「AI、IoTや自動運転、ドローン等」 separates near ties
    runner_up_margin: float = 0.01  # further candidates only when nearly as close as the best
    max_targets: int = 3
    #: An English goal (with its glossed Japanese terms appended) is compared across languages: scores sit
    #: lower and a hub program scores high for anything, so the best must also stand out from the second.
    #: Measured here: five English goals the package answers led by 0.031–0.092 at 0.882–0.960; unrelated
    #: ones (a dormitory, salaries, a space rocket) scored ≤ 0.852 or led by ≤ 0.004.
    english_min_score: float = 0.87
    english_min_margin: float = 0.025


class RetrievalTuning(BaseModel):
    """Reciprocal rank fusion of the dense, BM25 and exact legs."""

    rrf_k: int = 60
    leg_depth: int = 20  # how many results each leg contributes to the fusion
    #: Weight of the dense/BM25 program legs (a named program is pinned by the exact leg instead): a program
    #: record matches many questions loosely (it lists themes and ministries), and at full weight its two legs
    #: pushed the passage that answers a prose question out of the top 5.
    open_question_program_weight: float = 0.5


class PlanTuning(BaseModel):
    """Sizes of answers."""

    ranking_default: int = 3  # 「一番予算が大きい事業は？」 shows the first and two more for context
    ranking_max: int = 10
    max_focus_programs: int = 3  # an answer about named programs shows at most this many cards
    prose_quotes: int = 3
    clarify_options: int = 5
    suggestions: int = 3
    #: Prose about a named program is quoted (instead of its card) when a sentence covers this share of the
    #: question's words besides the program's name.
    prose_about_program_coverage: float = 0.5


SUPPORT = SupportThresholds()
RECOMMEND = RecommendThresholds()
RETRIEVAL = RetrievalTuning()
PLAN = PlanTuning()
