"""Is an index build whole? Each problem is one line that names the file and the fix.

A damaged index used to surface as whatever the first reader of the bad file raised — a
``UnicodeDecodeError`` from CURRENT, a Chroma traceback from a garbage ``chroma.sqlite3``, a pydantic
error from ``manifest.json`` — in the CLI, and as the raw exception with absolute paths on the open
``/readyz``. :func:`read_current` and :func:`check_build` look at every file a server reads before any
of it is loaded, and raise :class:`IndexCorruptError` with a message such as::

    /srv/data/index/builds/20261124T212850775292Z/chunks.jsonl is missing. Rebuild the index with `assistant ingest --rebuild`.

The CLI prints it (exit 2); a server logs it, serves the previous intact build instead, and tells
``/readyz`` only ``IndexCorruptError.public_message``.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from pathlib import Path

from pydantic import ValidationError

from assistant.config import Settings
from assistant.index.keyword import IDS_FILE
from assistant.index.store import (
    CURRENT_POINTER,
    IndexCorruptError,
    IndexManifest,
    builds_dir,
)

FIX = "Rebuild the index with `assistant ingest --rebuild`."
#: Build ids are UTC timestamps (``new_build_id``); anything else in CURRENT is damage, not a name.
_BUILD_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
#: What ``bm25s`` writes for a non-empty keyword index (besides our ``ids.json``).
_BM25_FILES = ("params.index.json", "vocab.index.json", "data.csc.index.npy", "indices.csc.index.npy")


def read_current(settings: Settings) -> str | None:
    """The build id CURRENT names; None when there is no CURRENT (no index yet).

    Raises :class:`IndexCorruptError` when CURRENT holds no build id or names a build that is not there.
    """
    pointer = settings.index_dir / CURRENT_POINTER
    try:
        raw = pointer.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexCorruptError(f"{pointer} cannot be read ({exc.strerror}). {FIX}") from None
    try:
        build_id = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise IndexCorruptError(
            f"{pointer} is damaged: it is not UTF-8 text, so it names no build. {FIX}"
        ) from None
    if not _BUILD_ID.fullmatch(build_id):
        raise IndexCorruptError(f"{pointer} is damaged: it does not hold a build id. {FIX}")
    if not (builds_dir(settings) / build_id / "manifest.json").is_file():
        raise IndexCorruptError(
            f"{pointer} names build {build_id}, which is not in {builds_dir(settings)} (or is unfinished). {FIX}"
        )
    return build_id


def finished_builds(settings: Settings) -> list[str]:
    """Ids of the builds that have a manifest, newest first (ids sort by time)."""
    root = builds_dir(settings)
    if not root.is_dir():
        return []
    return sorted((p.name for p in root.iterdir() if (p / "manifest.json").is_file()), reverse=True)


def check_build(settings: Settings, build_id: str) -> IndexManifest:
    """The build's manifest, once every file a server reads is present and readable.

    Raises :class:`IndexCorruptError` for the first missing or damaged file.
    """
    build = builds_dir(settings) / build_id
    manifest = _manifest(build / "manifest.json")
    _chunks(build / "chunks.jsonl", manifest.chunks)
    _json(build / "catalog.json", dict)
    _documents(build)
    _keyword(build / "keyword", required=True)
    _keyword(build / "keyword_programs", required=False)
    if settings.chroma_mode == "embedded":
        _chroma(build / "chroma" / "chroma.sqlite3")
    return manifest


def _missing(path: Path) -> IndexCorruptError:
    return IndexCorruptError(f"{path} is missing. {FIX}")


def _damaged(path: Path, what: str) -> IndexCorruptError:
    return IndexCorruptError(f"{path} is damaged ({what}). {FIX}")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _missing(path) from None
    except IsADirectoryError:
        raise _damaged(path, "a folder where a file belongs") from None
    except UnicodeDecodeError:
        raise _damaged(path, "not UTF-8 text") from None
    except OSError as exc:
        raise _damaged(path, f"cannot be read: {exc.strerror}") from None


def _json(path: Path, kind: type) -> object:
    try:
        data = json.loads(_read_text(path))
    except ValueError:
        raise _damaged(path, "not valid JSON") from None
    if not isinstance(data, kind):
        raise _damaged(path, f"not a JSON {'object' if kind is dict else 'array'}")
    return data


def _manifest(path: Path) -> IndexManifest:
    data = _json(path, dict)
    try:
        return IndexManifest.model_validate(data)
    except ValidationError as exc:
        fields = sorted({str(err["loc"][0]) for err in exc.errors() if err.get("loc")})
        raise _damaged(path, f"wrong or missing {', '.join(fields) or 'fields'}") from None


def _chunks(path: Path, expected: int) -> None:
    """Every line is a JSON object, and there are as many as the manifest says (a truncated copy is
    caught here, not as a missing citation later)."""
    count = 0
    try:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    if not isinstance(json.loads(line), dict):
                        raise ValueError
                except ValueError:
                    raise _damaged(path, f"line {number} is not a JSON object") from None
                count += 1
    except FileNotFoundError:
        raise _missing(path) from None
    except UnicodeDecodeError:
        raise _damaged(path, "not UTF-8 text") from None
    except OSError as exc:
        raise _damaged(path, f"cannot be read: {exc.strerror}") from None
    if count != expected:
        raise _damaged(path, f"{count} chunks, the manifest says {expected}")


def _documents(build: Path) -> None:
    infos = _json(build / "documents.json", list)
    folder = build / "documents"
    if not folder.is_dir():
        raise _missing(folder)
    for info in infos:  # type: ignore[union-attr]
        doc_id = info.get("doc_id") if isinstance(info, dict) else None
        if not isinstance(doc_id, str) or not _BUILD_ID.fullmatch(doc_id):
            raise _damaged(build / "documents.json", "an entry without a valid doc_id")
        _read_text(folder / f"{doc_id}.txt")


def _keyword(folder: Path, required: bool) -> None:
    if not folder.is_dir():
        if required:
            raise _missing(folder)
        return
    ids = _json(folder / IDS_FILE, list)
    if ids:
        for name in _BM25_FILES:
            if not (folder / name).is_file():
                raise _missing(folder / name)


def _chroma(path: Path) -> None:
    """The embedded Chroma database opens as SQLite and has its collections table."""
    if not path.is_file():
        raise _missing(path)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
            conn.execute("SELECT count(*) FROM collections").fetchone()
    except sqlite3.Error as exc:
        raise _damaged(path, f"not a readable Chroma database: {exc}") from None
