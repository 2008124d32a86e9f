"""API keys: which callers may use ``/v1``. Only SHA-256 hashes are kept in memory and in the keys file.

Keys come from ``ASSISTANT_API_KEYS`` (comma-separated plaintext, for simple setups) and/or
``ASSISTANT_API_KEYS_FILE`` (lines ``sha256:<64 hex> [label]``; ``#`` comments and blank lines allowed),
so a file that leaks gives nothing to call the API with. Keys are long random tokens (``assistant keys
new``), which is why a plain SHA-256, compared with :func:`hmac.compare_digest`, is enough: there is
nothing to brute-force that a slow hash would protect. Logs name a key by its label (or hash prefix),
never by the key; error messages about bad keys or lines never echo them either.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings

HASH_SCHEME = "sha256"
#: Shorter keys are refused: a guessable key would defeat the hash-only file and the rate limit.
MIN_KEY_CHARS = 16
_KEY = re.compile(r"[A-Za-z0-9._~+/=-]+")  # RFC 6750 b64token: what fits in "Bearer <key>"
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_LINE = re.compile(rf"{HASH_SCHEME}:([0-9a-f]{{64}})(?:\s+(\S+))?")
_BEARER = re.compile(r"Bearer +([A-Za-z0-9._~+/=-]+)", re.IGNORECASE)


class ApiKeyConfigError(ValueError):
    """The configured keys are unusable; the message says where and how to fix it (never the key)."""


@dataclass(frozen=True)
class ApiKey:
    """One accepted key: its SHA-256 digest and the name logs use for it."""

    label: str
    digest: bytes


def hash_key(key: str) -> str:
    """Hex SHA-256 of a key, as written in the keys file."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random key (256 bits, URL-safe), fit for ``Authorization: Bearer``."""
    return secrets.token_urlsafe(32)


def check_key(key: str, where: str) -> None:
    """Refuse keys that are short or cannot travel in a Bearer header (the message omits the key)."""
    if len(key) < MIN_KEY_CHARS:
        raise ApiKeyConfigError(f"{where}: a key must have at least {MIN_KEY_CHARS} characters")
    if not _KEY.fullmatch(key):
        raise ApiKeyConfigError(f"{where}: a key may only hold letters, digits and . _ ~ + / = -")


def check_label(label: str, where: str) -> None:
    if not _LABEL.fullmatch(label):
        raise ApiKeyConfigError(
            f"{where}: label {label[:70]!r} must be 1-64 letters, digits or . _ @ - (starting alphanumeric)"
        )


def key_line(key: str, label: str | None = None) -> str:
    """The keys-file line for ``key`` (validated)."""
    check_key(key, "key")
    if label is not None:
        check_label(label, "label")
    digest = f"{HASH_SCHEME}:{hash_key(key)}"
    return f"{digest} {label}" if label else digest


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    match = _BEARER.fullmatch(authorization.strip())
    return match.group(1) if match else None


def _default_label(hex_digest: str) -> str:
    return f"{HASH_SCHEME}:{hex_digest[:8]}"


class KeyRing:
    """The accepted keys. Empty means the API is open (``assistant serve`` then binds to loopback only)."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self.keys = tuple(keys)

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    @property
    def labels(self) -> list[str]:
        return [k.label for k in self.keys]

    def identify(self, token: str | None) -> ApiKey | None:
        """The key ``token`` is, or None. Compares digests in constant time and always checks all keys."""
        if not token:
            return None
        digest = hashlib.sha256(token.encode("utf-8")).digest()
        found = None
        for key in self.keys:
            if hmac.compare_digest(digest, key.digest):
                found = key
        return found


def parse_keys_file(text: str, source: str) -> list[ApiKey]:
    """Keys from the file format; a bad line is named by its number, its content is not repeated."""
    keys: list[ApiKey] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise ApiKeyConfigError(
                f"{source} line {number}: expected '{HASH_SCHEME}:<64 lowercase hex digits> [label]' "
                "(the file holds hashes only; make a line with `assistant keys new --name LABEL` "
                "or `assistant keys hash`)"
            )
        hex_digest, label = match.group(1), match.group(2)
        if label is not None:
            check_label(label, f"{source} line {number}")
        keys.append(ApiKey(label or _default_label(hex_digest), bytes.fromhex(hex_digest)))
    if not keys:
        raise ApiKeyConfigError(f"{source} holds no keys; add lines made with `assistant keys new`")
    return keys


def _env_keys(value: str) -> list[ApiKey]:
    keys = []
    for position, key in enumerate((k.strip() for k in value.split(",")), start=1):
        if not key:
            continue
        check_key(key, f"ASSISTANT_API_KEYS key #{position}")
        hex_digest = hash_key(key)
        keys.append(ApiKey(_default_label(hex_digest), bytes.fromhex(hex_digest)))
    return keys


def load_keyring(settings: Settings) -> KeyRing:
    """All configured keys; raises :class:`ApiKeyConfigError` on a missing or malformed source."""
    keys = _env_keys(settings.api_keys.get_secret_value())
    path: Path | None = settings.api_keys_file
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise ApiKeyConfigError(f"ASSISTANT_API_KEYS_FILE {path}: cannot read it ({reason})") from None
        keys += parse_keys_file(text, f"ASSISTANT_API_KEYS_FILE {path}")
    seen_digests: set[bytes] = set()
    seen_labels: set[str] = set()
    for key in keys:
        if key.digest in seen_digests:
            raise ApiKeyConfigError(f"the key labelled {key.label!r} is configured twice")
        if key.label in seen_labels:
            raise ApiKeyConfigError(f"two keys share the label {key.label!r}; labels name keys in the logs")
        seen_digests.add(key.digest)
        seen_labels.add(key.label)
    return KeyRing(keys)
