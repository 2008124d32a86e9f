"""The process's AnswerService: loaded in the background, kept on an intact build, swapped to new builds.

Routes get it through the ``Service`` dependency, which answers 503 ``not_ready`` until it has loaded
(or says why it could not: no index, another model's index, an unreachable Chroma server) — with the
path-free ``public_message`` of the error; the details (paths, exception text) go to the log.

* **Fallback.** When CURRENT, or a file of the build it names, is damaged, the holder logs the one-line
  reason and serves the newest intact previous build instead (``/readyz`` then says so in ``note``).
* **Hot reload.** Every ``index_reload_seconds`` it reads CURRENT; when an ingest has switched it to a
  new build, the new AnswerService is loaded beside the old one and swapped in with one reference
  change (a service never changes once loaded, so requests running on the old one finish unharmed).
  A new build that fails to load is logged once and the old one stays in service. Replicas therefore
  follow an ingest without a restart.
* **Damage while serving.** A read of the served build that fails (``IndexReadError``: its Chroma
  database was overwritten, say) marks the build failed, logs one line, and the holder falls back to
  the newest intact build in the background (``/readyz`` says which, in ``note``); the request that
  found it gets 503. The watcher also notices a served build whose files change and checks it again.
* **Repairs.** A failed build is tried again once its files change (repaired in place), a new build in
  CURRENT is switched to, and a note that no longer holds (CURRENT repaired to name the build served)
  is cleared — all without a restart.
* **Leases.** The build being served is leased (``assistant.index.leases``), so an ingest's pruning
  never deletes it; the old build's lease and Chroma client are released a little after a swap.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Annotated, Any

from fastapi import Depends, Request

from assistant.config import Settings
from assistant.index.integrity import check_build, finished_builds, read_current
from assistant.index.leases import BuildLease, serve_lease
from assistant.index.store import (
    IndexCorruptError,
    IndexMissingError,
    IndexReadError,
    IndexStateError,
    builds_dir,
)
from assistant.pipeline.service import AnswerService
from assistant.web.errors import ApiError

log = logging.getLogger("assistant.web.app")

#: Seconds an old service stays open after a swap, for the requests still running on it.
RETIRE_AFTER_SECONDS = 30.0
LOADING = "The index and model are still loading; retry shortly."


class ServiceHolder:
    """Holds the served AnswerService and the reason when there is none (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.service: AnswerService | None = None
        self.error: str | None = None  # why there is no service, for the log
        self.public_error: str | None = None  # the same without paths or exception text
        self.note: str | None = None  # served, but not from the build CURRENT names
        self._lease: BuildLease | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._failed: dict[str, IndexStateError] = {}  # builds that would not load or read
        self._prints: dict[str, tuple] = {}  # build -> its files when it failed / was installed
        self._reported: str | None = None  # the last problem logged by the watcher, to log it once
        self._watcher: threading.Thread | None = None

    # -- loading --------------------------------------------------------------------------------------
    def load(self) -> None:
        """Load the build to serve (CURRENT's, or the newest intact one before it); never raises."""
        with self._lock:
            if self.service is None:
                self._load_best()

    def _load_best(self) -> None:
        pinned = self.settings.index_build
        damage: IndexStateError | None = None
        try:
            wanted = pinned or read_current(self.settings)
            if wanted is None:
                raise IndexMissingError(
                    f"No index in {self.settings.index_dir}. Build it with `assistant ingest` (or `make run`)."
                )
        except IndexCorruptError as exc:
            log.error("%s", exc)
            damage, wanted = exc, None
        except IndexStateError as exc:
            self._no_service(exc)
            return
        candidates = [wanted] if wanted else []
        if not pinned:
            candidates += [b for b in finished_builds(self.settings) if b != wanted]
        for build_id in candidates:
            if build_id in self._failed:
                damage = damage or self._failed[build_id]
                continue
            try:
                service, lease = self._open(build_id)
            except IndexCorruptError as exc:
                damage = damage or exc
                continue
            except IndexStateError as exc:  # another model, Chroma unreachable: the same for every build
                self._no_service(exc)
                return
            except Exception:
                damage = damage or self._failed[build_id]
                continue
            self._install(service, lease)
            if build_id != wanted:
                broken = f"index build {wanted} is damaged" if wanted else "CURRENT is damaged"
                self.note = (
                    f"{broken}; the newest intact build {build_id} is served (the server log names the "
                    "file). A repaired or new build is picked up by itself."
                )
                log.warning("serving the newest intact index build %s instead", build_id)
            return
        self._no_service(damage or IndexMissingError("no intact index build to serve"))

    def _open(self, build_id: str) -> tuple[AnswerService, BuildLease | None]:
        """Lease a build and load an AnswerService on it; a build that fails is remembered and logged."""
        lease: BuildLease | None = None
        try:
            lease = serve_lease(self.settings, build_id)
        except OSError as exc:  # a read-only data directory: serve without protecting the build
            log.warning("cannot lease index build %s (%s); an ingest could prune it", build_id, exc.strerror)
        try:
            return AnswerService(self.settings.model_copy(update={"index_build": build_id})), lease
        except BaseException as exc:
            if lease is not None:
                lease.release()
            if isinstance(exc, IndexCorruptError):
                self._mark_failed(build_id, exc)
                log.error("%s", exc)
            elif isinstance(exc, Exception) and not isinstance(exc, IndexStateError):
                self._mark_failed(build_id, IndexCorruptError(f"index build {build_id} could not be loaded"))
                log.error("index build %s could not be loaded: %s: %s", build_id, type(exc).__name__, exc)
            raise

    def _install(self, service: AnswerService, lease: BuildLease | None) -> None:
        self.service, self._lease = service, lease
        self.error = self.public_error = self.note = None
        build_id = service.index.manifest.build_id
        self._prints[build_id] = self._fingerprint(build_id)
        log.info("serving index build %s", build_id)

    def _fingerprint(self, build_id: str) -> tuple:
        """Names, sizes and modification times of a build's files: what changes when it is repaired."""
        root = builds_dir(self.settings) / build_id
        try:
            return tuple(
                sorted((str(p.relative_to(root)), *_stat(p)) for p in root.rglob("*") if p.is_file())
            )
        except OSError:
            return ()

    def _mark_failed(self, build_id: str, exc: IndexStateError) -> None:
        self._failed[build_id] = exc
        self._prints[build_id] = self._fingerprint(build_id)

    def _retry_repaired(self) -> None:
        """Forget the failure of builds whose files changed since: they are loaded (and checked) again."""
        for build_id in [b for b in self._failed if self._fingerprint(b) != self._prints.get(b)]:
            log.info("index build %s changed since it failed; trying it again", build_id)
            del self._failed[build_id]

    # -- damage found while serving -------------------------------------------------------------------
    def failed_while_serving(self, exc: IndexReadError) -> None:
        """A read of the served build failed: mark it failed and fall back to the newest intact build.

        The reload runs in a thread (the request that found the damage answers 503 at once); later
        reports of the same build are ignored."""
        with self._lock:
            if self.service is None or self.service.index.manifest.build_id != exc.build_id:
                return
            self._drop_served(exc)
        threading.Thread(target=self.load, name="index-fallback", daemon=True).start()

    def _drop_served(self, exc: IndexStateError) -> None:
        """Under the lock: the served build is failed; no service until the fallback is loaded."""
        service, lease = self.service, self._lease
        assert service is not None
        build_id = service.index.manifest.build_id
        log.error("%s", exc)
        self._mark_failed(build_id, exc)
        self.service, self._lease = None, None
        self.error, self.public_error = str(exc), exc.public_message
        timer = threading.Timer(RETIRE_AFTER_SECONDS, _retire, (service, lease))
        timer.daemon = True
        timer.start()

    def _check_served(self) -> None:
        """Under the lock: when the served build's files changed, check it again (damage is found before
        a question hits it); a damaged one is dropped and the newest intact build loaded."""
        assert self.service is not None
        build_id = self.service.index.manifest.build_id
        now = self._fingerprint(build_id)
        if now == self._prints.get(build_id):
            return
        self._prints[build_id] = now
        try:
            check_build(self.settings, build_id)
        except IndexCorruptError as exc:
            self._drop_served(exc)
            self._load_best()

    def _no_service(self, exc: IndexStateError) -> None:
        if str(exc) != self.error:
            log.error("not ready: %s", exc)
        self.error, self.public_error = str(exc), exc.public_message

    # -- following CURRENT ----------------------------------------------------------------------------
    def start_watching(self) -> None:
        """Poll CURRENT in a daemon thread (``index_reload_seconds``; 0 or a pinned build: never)."""
        if self.settings.index_reload_seconds <= 0 or self.settings.index_build or self._watcher is not None:
            return
        self._watcher = threading.Thread(target=self._watch, name="index-reload", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        with self._lock:
            if self._lease is not None:
                self._lease.release()
                self._lease = None

    def _watch(self) -> None:
        while not self._stop.wait(self.settings.index_reload_seconds):
            try:
                self.refresh()
            except Exception:
                log.exception("checking for a new index build failed")

    def refresh(self) -> bool:
        """Switch to the build CURRENT names when it is new and loads; True when the service changed."""
        with self._lock:
            self._retry_repaired()
            if self.service is not None:
                self._check_served()
            if self.service is None:  # not ready (no index yet, Chroma down, damage): try from scratch
                self._load_best()
                return self.service is not None
            try:
                wanted = read_current(self.settings)
            except IndexStateError as exc:
                self._report(str(exc))
                return False
            served = self.service.index.manifest.build_id
            if wanted == served and self.note and not self.settings.index_build:
                log.info("CURRENT names the served build %s again; its note is cleared", served)
                self.note = None
                self._reported = None
            if wanted is None or wanted == served or wanted in self._failed:
                return False
            try:
                service, lease = self._open(wanted)
            except Exception as exc:
                self._report(
                    f"index build {wanted} was not switched to ({type(exc).__name__}); still serving {served}"
                )
                return False
            old, old_lease = self.service, self._lease
            self._install(service, lease)
            self._reported = None
        log.info("switched from index build %s to %s", served, wanted)
        timer = threading.Timer(RETIRE_AFTER_SECONDS, _retire, (old, old_lease))
        timer.daemon = True
        timer.start()
        return True

    def _report(self, problem: str) -> None:
        if problem != self._reported:
            self._reported = problem
            log.error("%s", problem)

    # -- for the routes -------------------------------------------------------------------------------
    def get(self) -> AnswerService:
        service = self.service
        if service is None:
            raise ApiError(503, "not_ready", self.public_error or LOADING)
        return service


def _stat(path: Any) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def _retire(service: Any, lease: BuildLease | None) -> None:
    """Close an old service's Chroma client and give its build's lease back."""
    client = getattr(getattr(service, "index", None), "client", None)
    if client is not None and hasattr(client, "close"):
        with contextlib.suppress(Exception):
            client.close()
    if lease is not None:
        lease.release()


def _service(request: Request) -> AnswerService:
    """FastAPI dependency: the process-wide AnswerService (503 JSON until it has loaded)."""
    return request.app.state.holder.get()


# Module level: with postponed annotations FastAPI resolves these names in the module's globals.
Service = Annotated[AnswerService, Depends(_service)]
