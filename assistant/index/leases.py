"""Which index builds running servers still serve, so that pruning never deletes one from under them.

A server holds a shared ``flock`` on ``index/leases/<build_id>.lock`` for as long as it serves that
build; pruning takes the exclusive lock of a build (without waiting) before deleting it and skips the
build when a server holds it. The kernel releases the locks of a process that dies, even by ``kill -9``,
so a crashed server never pins a build forever. (``flock`` is per host: replicas on other machines
sharing the folder over NFS are not seen; give each host its own data directory, as the README says.)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from assistant.config import Settings

LEASES_DIR = "leases"


def _lease_path(settings: Settings, build_id: str) -> Path:
    return settings.index_dir / LEASES_DIR / f"{build_id}.lock"


class BuildLease:
    """A held lock on one build's lease file; ``release`` gives it back (and may remove the file)."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path, self._handle = path, handle

    def release(self, delete: bool = False) -> None:
        if self._handle.closed:
            return
        if delete:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        with contextlib.suppress(OSError):
            fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


def _open(settings: Settings, build_id: str) -> tuple[Path, IO[str]]:
    path = _lease_path(settings, build_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, open(path, "a")  # noqa: SIM115 - held open for as long as the lease lasts


def serve_lease(settings: Settings, build_id: str) -> BuildLease:
    """Mark a build as served by this process (waits while a prune is deleting it; the caller then
    finds the build gone and serves another)."""
    path, handle = _open(settings, build_id)
    fcntl.flock(handle, fcntl.LOCK_SH)
    return BuildLease(path, handle)


def claim_for_deletion(settings: Settings, build_id: str) -> BuildLease | None:
    """The exclusive lock of a build nobody serves, to hold while deleting it; None when it is served."""
    path, handle = _open(settings, build_id)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return BuildLease(path, handle)
