"""An answer as plain text: the text with its [n] markers, then a sources block any chat window can show.

The OpenAI-compatible endpoint and the MCP tools hand answers to clients that show text only (a chat
front-end, an agent's transcript). So the citations travel in the text too: for each [n] its document
title, lines and the quote, verbatim (line breaks included) between 「」, so a reader can check it against
the document without our UI. Contacts are in the answer text itself, copied from the catalog.

The block starts with a fixed heading line; :func:`strip_sources` cuts it off an earlier reply that a chat
client sends back as history, so the quotes of one answer do not become words of the next question.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SOURCES_HEADING = "出典:"
SUGGESTIONS_HEADING = "資料で答えられる質問の例:"
_BLOCK_STARTS = tuple(f"\n\n{heading}\n" for heading in (SOURCES_HEADING, SUGGESTIONS_HEADING))


def citation_line(citation: dict[str, Any]) -> str:
    """``[n] title（doc_id 12–14行, p.3, section）`` — where the quote stands."""
    where = [f"{citation['doc_id']} {_lines(citation['line_start'], citation['line_end'])}"]
    if citation.get("page"):
        where.append(f"p.{citation['page']}")
    if citation.get("section"):
        where.append(str(citation["section"]))
    return f"[{citation['id']}] {citation['title']}（{', '.join(where)}）"


def _lines(start: int, end: int) -> str:
    return f"{start}行" if start == end else f"{start}–{end}行"


def sources_block(citations: Iterable[dict[str, Any]]) -> str:
    """The heading and, per citation, where it stands and its verbatim quote; '' without citations."""
    entries = [f"{citation_line(c)}\n「{c['quote']}」" for c in citations]
    return f"{SOURCES_HEADING}\n" + "\n".join(entries) if entries else ""


def suggestions_block(suggestions: Iterable[str]) -> str:
    items = [f"・{s}" for s in suggestions]
    return f"{SUGGESTIONS_HEADING}\n" + "\n".join(items) if items else ""


def appendix(answer: dict[str, Any]) -> str:
    """What follows the answer text: the sources, then the suggested questions (abstentions, clarifications),
    each block introduced by a blank line; '' when there is neither."""
    blocks = [
        sources_block(answer.get("citations") or []),
        suggestions_block(answer.get("suggestions") or []),
    ]
    return "".join(f"\n\n{block}" for block in blocks if block)


def answer_text(answer: dict[str, Any]) -> str:
    """The whole plain-text reply: the answer with its [n] markers, then :func:`appendix`."""
    return answer["answer"] + appendix(answer)


def strip_sources(reply: str) -> str:
    """An earlier reply without the blocks :func:`appendix` added (other text is kept as it is)."""
    cut = min((i for i in (reply.find(start) for start in _BLOCK_STARTS) if i >= 0), default=-1)
    return reply[:cut] if cut >= 0 else reply
