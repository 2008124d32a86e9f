"""Stage 4, compose: an :class:`AnswerPlan` becomes answer lines that cite evidence ids.

Every composer implements one interface, :class:`Composer` (``compose(plan) -> AnswerDraft``), and is
registered by name in ``COMPOSERS``; ``ASSISTANT_COMPOSER`` picks one (the deterministic composer is the
default, registered the same way). Whatever a composer writes goes through the same citation and
verification stage (:mod:`assistant.pipeline.cite`) before anyone sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from assistant.pipeline.plan import AnswerPlan
from assistant.records import Program
from assistant.registry import Registry


@dataclass
class Line:
    """One piece of an answer. ``end='。'`` makes it a sentence (it then carries its evidence ids);
    ``end='：\\n'`` / ``'\\n'`` make it a lead-in or a heading."""

    text: str
    cites: list[int] = field(default_factory=list)  # evidence ids (AnswerPlan.evidence)
    end: str = "。"


@dataclass
class AnswerDraft:
    """What a composer returns: lines citing evidence ids, and the programs to show as cards."""

    lines: list[Line]
    programs: list[Program]
    composer: str
    note: str = ""  # e.g. why a generative composer fell back


@runtime_checkable
class Composer(Protocol):
    name: str

    def compose(self, plan: AnswerPlan) -> AnswerDraft: ...


#: Composers by name (``ASSISTANT_COMPOSER``); factories take the process's ``ComposerContext``.
COMPOSERS: Registry[Composer] = Registry("composer")

__all__ = ["COMPOSERS", "AnswerDraft", "Composer", "Line"]
