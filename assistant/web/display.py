"""How document text is shown to a reader — display only: stored text, chunks and quotes stay verbatim.

* Half-width katakana (「ｲﾉﾍﾞｰｼｮﾝ」) is shown full-width (「イノベーション」), as every other word of the page.
* Private-use glyphs — the slides' Wingdings bullets (U+F0FC ✓, U+F0D8 ➢, U+F06C ●, …) — show as boxes in
  any font but Wingdings; they are shown as the symbol they draw, or a plain bullet.
* PDF extraction breaks a sentence (even a word) at every line of the slide; for reading, a line that
  does not end a sentence is joined to the next one, unless the next one starts a new item (a bullet,
  ①, 【…】, a contact line). :func:`reading_text` also maps each raw offset to its displayed offset,
  so a verbatim quote located in the raw lines can be highlighted in the joined text.
"""

from __future__ import annotations

import re
import unicodedata

from assistant.vocabulary import BULLET_MARKS, PRIVATE_USE

_HALF_WIDTH_KANA = re.compile(r"[\uff61-\uff9f]+")
#: What the Wingdings code points of the slides draw; any other private-use glyph is shown as •.
WINGDINGS = {
    "\uf0fc": "✓",
    "\uf0d8": "➢",
    "\uf0d9": "➢",
    "\uf0e8": "➔",
    "\uf06c": "●",
    "\uf06e": "■",
    "\uf0a7": "▪",
    "\uf075": "◆",
    "\uf076": "❖",
    "\uf0b2": "◇",
}
DEFAULT_BULLET = "•"

#: A line ending like this ends a sentence or an item: the break after it is kept.
_ENDS_ITEM = re.compile(r"[。！？!?：:」』）)】]$")
#: A line starting like this opens a new item: the break before it is kept.
_OPENS_ITEM = re.compile(
    r"^(?:["
    + re.escape(BULLET_MARKS)
    + r"※■□◇◆▶►➢✓•\ue000-\uf8ff]|[①-⑳]|【|[（(]?\d+[)）.．]|TEL|mail|ｍail|Ｍail)",
    re.IGNORECASE,
)


def display_text(text: str) -> str:
    """The text as a reader should see it: full-width kana, visible bullets instead of private-use glyphs."""
    text = _HALF_WIDTH_KANA.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    return PRIVATE_USE.sub(lambda m: WINGDINGS.get(m.group(0), DEFAULT_BULLET), text)


def _joiner(previous: str, following: str) -> str:
    """What a line break between two non-blank lines becomes: "" (joined), " " (between Latin words) or "\\n"."""
    left, right = previous.rstrip(), following.lstrip()
    if not left or not right or _ENDS_ITEM.search(left) or _OPENS_ITEM.match(right):
        return "\n"
    if left[-1].isascii() and right[0].isascii() and left[-1].isalnum() and right[0].isalnum():
        return " "
    return ""


def reading_text(raw: str) -> tuple[str, list[int]]:
    """``raw`` with PDF line breaks joined for reading, and ``offsets[i]`` = displayed offset of raw char ``i``
    (``offsets[len(raw)]`` is the displayed length). Blank lines stay one paragraph break."""
    lines = raw.split("\n")
    out: list[str] = []
    offsets: list[int] = []
    length = 0
    tail = ""  # the last two displayed characters
    for index, line in enumerate(lines):
        body = line.strip()
        lead = len(line) - len(line.lstrip())
        for position in range(len(line)):  # white space around a line maps to its edge
            offsets.append(length + max(0, min(position - lead, len(body))))
        out.append(body)
        length += len(body)
        tail = (tail + body)[-2:]
        if index < len(lines) - 1:
            following = lines[index + 1]
            glue = _joiner(line, following) if body and following.strip() else "\n"
            if glue == "\n" and tail == "\n\n" or (glue == "\n" and length == 0):
                glue = ""  # runs of empty lines show as one paragraph break
            offsets.append(length)  # the break itself
            out.append(glue)
            length += len(glue)
            tail = (tail + glue)[-2:]
    offsets.append(length)
    return "".join(out), offsets
