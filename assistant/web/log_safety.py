"""What a client sends reaches the log as one bounded line, escaped, and without secrets.

Issue 20 forged log lines with a path (``/v1/x%0D%0A2026-… CRITICAL … FORGED`` is decoded to CR LF by the
router and was logged in a warning), sent raw ESC bytes to the operator's terminal, and had an API key
put in a path or an ``X-Request-ID`` logged as it was. So every record is rewritten before it is written:

* **escaped** — C0/C1 controls (CR, LF, ESC, NUL, …), DEL, the Unicode line and paragraph separators and
  the bidirectional overrides become visible ``\\xNN`` / ``\\uNNNN`` escapes: a record is one line that
  reads as what it is;
* **bounded** — each value a client controls (``MAX_VALUE_CHARS``) and each message (``MAX_MESSAGE_CHARS``),
  with the number of characters cut;
* **without secrets** — ``Bearer …`` and ``api_key=…``-style parameters, the configured API keys wherever
  they appear (found by hashing the key-alphabet spans of the text: only digests are kept) and any
  *key-shaped* run (20+ URL-safe characters mixing upper case, lower case and digits, as ``assistant keys
  new`` and session ids look) become ``[redacted]``.
"""

from __future__ import annotations

import re
import weakref
from typing import Any, Protocol

MAX_VALUE_CHARS = 300
MAX_MESSAGE_CHARS = 4000
REDACTED = "[redacted]"

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_BEARER = re.compile(r"(Bearer\s+)[^\s'\",]+", re.IGNORECASE)
_KEY_PARAM = re.compile(r"((?:api[_-]?key|access[_-]?token|token)=)[^&\s'\",]+", re.IGNORECASE)
#: A run of URL-safe characters long enough to be a generated secret.
_RUN = re.compile(r"[A-Za-z0-9_-]{20,}")
#: Characters an API key may hold (``api_keys._KEY``); spans of them are checked against the keyring.
_KEY_SPAN = re.compile(r"[A-Za-z0-9._~+/=-]{16,}")
_KEY_PUNCTUATION = re.compile(r"([._~+/=])")
MAX_KEY_PIECES = 40
MAX_KEY_CHARS = 256


class _Identifies(Protocol):
    def identify(self, token: str | None) -> object | None: ...


#: Keyrings of the apps in this process (normally one): a configured key is redacted wherever it appears.
_keyrings: weakref.WeakSet[Any] = weakref.WeakSet()


def remember_keys(keyring: _Identifies) -> None:
    """Register an app's keyring so that its keys are redacted from every log line of the process."""
    _keyrings.add(keyring)


def escape_controls(text: str) -> str:
    """``text`` with every control, line separator and bidi override written as a visible escape."""

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(escape, text)


def bound(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[+{len(text) - limit} chars]"


def looks_like_a_key(run: str) -> bool:
    """A generated secret: 20+ URL-safe characters with upper case, lower case and digits (hex ids,
    timestamps and words lack one of the three)."""
    return (
        len(run) >= 20
        and any(c.isupper() for c in run)
        and any(c.islower() for c in run)
        and any(c.isdigit() for c in run)
    )


def holds_a_key(text: str, keyrings: list[_Identifies] | None = None) -> bool:
    """True when ``text`` contains something key-shaped or one of the configured keys."""
    return redact_secrets(text, keyrings) != text


def redact_secrets(text: str, keyrings: list[_Identifies] | None = None) -> str:
    """``text`` with bearer tokens, key parameters, configured keys and key-shaped runs redacted."""
    text = _KEY_PARAM.sub(rf"\1{REDACTED}", _BEARER.sub(rf"\1{REDACTED}", text))
    rings = list(_keyrings) if keyrings is None else keyrings
    if rings:
        text = _KEY_SPAN.sub(lambda m: _without_configured_keys(m.group(), rings), text)
    return _RUN.sub(lambda m: REDACTED if looks_like_a_key(m.group()) else m.group(), text)


def _without_configured_keys(span: str, rings: list[_Identifies]) -> str:
    """Redact every sub-span (cut at key punctuation) that is a configured key: ``<key>.x`` or
    ``/v1/<key>`` hide the key inside a longer token."""
    pieces = _KEY_PUNCTUATION.split(span[: MAX_KEY_PIECES * 8])
    if len(pieces) > MAX_KEY_PIECES:
        return span
    starts = [sum(len(p) for p in pieces[:i]) for i in range(len(pieces) + 1)]
    for i in range(len(pieces)):
        for j in range(len(pieces), i, -1):
            start, end = starts[i], starts[j]
            if end - start < 16 or end - start > MAX_KEY_CHARS:
                continue
            candidate = span[start:end]
            if any(ring.identify(candidate) is not None for ring in rings):
                return span[:start] + REDACTED + _without_configured_keys(span[end:], rings)
    return span


def safe(value: object, limit: int = MAX_VALUE_CHARS) -> str:
    """A client-controlled value as a log line may hold it: secrets redacted, escaped, bounded."""
    return bound(escape_controls(redact_secrets(str(value))), limit)
