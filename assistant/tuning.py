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
    #: A goal line that names a measure without a catalog row (so conditions read from the question's prose
    #: cannot be checked on it) still leads when it beats every program meeting them by this much: the
    #: package answers that very goal with it (measured: 1.009 vs 0.925 for a goal the page prints ⇒ a measure).
    unchecked_target_margin: float = 0.05


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
    near_misses: int = 5  # an empty list shows at most this many programs that miss one condition
    #: Prose about a named program is quoted (instead of its card) when a sentence covers this share of the
    #: question's words besides the program's name.
    prose_about_program_coverage: float = 0.5


class MatchingTuning(BaseModel):
    """Program names typed in kana or with a slip (``pipeline/matching.py``)."""

    min_reading_chars: int = 6  # a reading match needs this many kana (shorter readings collide with words)
    min_typo_chars: int = 7  # typos are looked for in names of at least this many characters …
    chars_per_typo: int = 8  # … one edit per this many characters
    typo_prefilter: int = 75  # rapidfuzz's partial-ratio pre-filter (0–100) before the exact edit distance
    #: A question about a program's row that names none whole is about the program whose name words cover this
    #: share of its specific words (IDF-weighted, at least two words) and beat the runner-up by the margin:
    #: 「自動運転レベル4のプロジェクト（L4）」 → RoAD to the L4 covers all five; スマートシティ fits two programs.
    min_name_words_share: float = 0.7
    name_words_margin: float = 0.25


class QuoteTuning(BaseModel):
    """Which sentences answer a prose question (``pipeline/quotes.py``)."""

    #: Bonus for a sentence holding the shape the question asks for (a date for いつ, a number for いくつ) …
    answer_shape_bonus: float = 0.25
    #: … given only from this coverage on, so a stray number does not win on its own.
    answer_shape_min_coverage: float = 0.2
    #: A sentence holding the date / number asked for is judged with its passage's heading too (「（趣旨）…
    #: 2019年に創設」 under 【日本オープンイノベーション大賞について】), a little below its own words.
    shape_heading_weight: float = 0.9
    #: A bold or bracketed label line without a sentence end names a topic; it still answers when nothing
    #: better does, at this weight.
    label_weight: float = 0.5
    title_prefix: int = 16  # a sentence opening with this many characters of its document's title is it
    #: How far after the best sentence a continuation is looked for, and how many are quoted at most.
    continuation_lookahead: int = 3
    max_continuation: int = 3
    #: A next sentence of the same line or list continues the best one when it covers this share of its words.
    continuation_min_share: float = 0.4
    #: A sentence is quoted as an answer when it covers this share of the question's (known) words …
    min_sentence_coverage: float = 0.25
    #: … and further sentences only when nearly as good as the best (each one more is a citation to check).
    relative_sentence_score: float = 0.9
    #: A list under its heading answers a question asking for several items when it scores this share of the
    #: best sentence, and covers this share of the question (title, heading and items together).
    list_over_sentence: float = 0.85
    list_min_coverage: float = 0.4
    #: A list's score: its heading and items, its heading alone, and those with the document's title.
    list_body_weight: float = 0.5
    list_heading_weight: float = 0.1
    list_title_weight: float = 0.4
    #: Items quoted at most, and the longest average item that still makes a list (longer ones are paragraphs).
    max_list_items: int = 10
    max_list_item_chars: int = 120


SUPPORT = SupportThresholds()
RECOMMEND = RecommendThresholds()
RETRIEVAL = RetrievalTuning()
PLAN = PlanTuning()
MATCHING = MatchingTuning()
QUOTES = QuoteTuning()
