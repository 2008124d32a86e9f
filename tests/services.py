"""Throwaway servers for tests and benchmarks, each in a temporary folder on a loopback port, stopped
afterwards: a PostgreSQL cluster (Debian's ``initdb``/``pg_ctl``), a ``redis-server`` and ``nginx``.

``.ci/run`` installs the Debian packages when they are missing; a missing binary here is an error that says
which package to install, never a skip. PostgreSQL refuses to run as root, so as root the cluster belongs to
an unprivileged system user (``postgres``, else ``nobody``) and its commands run through ``runuser``.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def need(binary: str | Path, package: str) -> str:
    path = shutil.which(str(binary))
    if path is None:
        raise RuntimeError(f"{binary} is missing: apt-get install -y {package} (.ci/run does it)")
    return path


# -- PostgreSQL ------------------------------------------------------------------------------------------
def _unprivileged_user() -> str | None:
    """None when not root; else the system user to own the cluster."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root without a 'postgres' or 'nobody' user to own a PostgreSQL cluster")


@dataclass
class Postgres:
    """A running throwaway cluster; ``url(db)`` is a SQLAlchemy URL for one of its databases."""

    folder: Path
    port: int
    user: str | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=120, cwd=self.folder, check=False
        )

    def _ctl(self, *args: str) -> None:
        result = self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), *args)
        if result.returncode != 0:
            log = (self.folder / "server.log").read_text(errors="replace")[-1500:]
            raise RuntimeError(f"pg_ctl {args[0]} failed: {result.stderr.strip()} {log}")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off"
        self._ctl("start", "-w", "-t", "60", "-l", str(self.folder / "server.log"), "-o", options)

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast", "-w", "-t", "60")

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres") as conn:
            conn.autocommit = True
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def postgres_cluster() -> Iterator[Postgres]:
    """``initdb`` + ``pg_ctl start`` in a temporary folder (trust auth, loopback only, no fsync)."""
    need(PG_BIN / "initdb", "postgresql")
    user = _unprivileged_user()
    folder = Path(tempfile.mkdtemp(prefix="pa-pg-"))
    if user is not None:
        shutil.chown(folder, user)
    cluster = Postgres(folder, free_port(), user)
    result = cluster._run(
        str(PG_BIN / "initdb"),
        "-D",
        str(folder / "data"),
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    )
    if result.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {result.stderr.strip()[-800:]}")
    try:
        cluster.start()
        yield cluster
    finally:
        with suppress(RuntimeError):
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


# -- Redis -----------------------------------------------------------------------------------------------
@dataclass
class Redis:
    folder: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = need("redis-server", "redis-server")
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - the server writes it while it runs
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--protected-mode",
                "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for_port(self.port, 30, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@contextmanager
def redis_server() -> Iterator[Redis]:
    """A ``redis-server`` without persistence on a free loopback port."""
    folder = Path(tempfile.mkdtemp(prefix="pa-redis-"))
    server = Redis(folder, free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


# -- nginx -----------------------------------------------------------------------------------------------
REPLICAS_CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "replicas.conf"


def render_replicas_conf(
    listen: int, replicas: list[int], access_log: Path, conf: Path = REPLICAS_CONF
) -> str:
    """The shipped ``deploy/nginx/replicas.conf`` with its ``listen`` port, its upstreams' ``server`` lines
    and its access log pointed at this run's (everything else — routing, headers, timeouts — as shipped)."""
    text = conf.read_text(encoding="utf-8")
    text, listens = re.subn(r"(?m)^(\s*)listen\s+[^;]+;", rf"\g<1>listen 127.0.0.1:{listen};", text)
    text, logs = re.subn(
        r"(?m)^(\s*)access_log\s+\S+\s+(\w+);", rf"\g<1>access_log {access_log} \g<2>;", text
    )

    def servers(match: re.Match) -> str:
        indent, options = match.group(1), match.group(2)
        return "".join(f"{indent}server 127.0.0.1:{port}{options};\n" for port in replicas)

    block = (
        r"(?m)^([ \t]*)server 127\.0\.0\.1:80\d\d([^;\n]*);\n(?:[ \t]*server 127\.0\.0\.1:80\d\d[^;\n]*;\n)*"
    )
    text, upstreams = re.subn(block, servers, text)
    if (listens, logs, upstreams) != (1, 1, 2):
        raise RuntimeError(f"{conf} no longer has one listen, one access_log and two upstreams to rewrite")
    return text


@dataclass
class Nginx:
    folder: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.folder / "access.log"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@contextmanager
def nginx_server(replicas: list[int], port: int | None = None) -> Iterator[Nginx]:
    """``nginx`` in the foreground, running the shipped ``deploy/nginx/replicas.conf`` in front of
    ``replicas`` (ports on loopback) in a temporary prefix; its access log names the replica that answered
    each request (``upstream=127.0.0.1:<port>``)."""
    binary = need("nginx", "nginx")
    folder = Path(tempfile.mkdtemp(prefix="pa-nginx-"))
    server = Nginx(folder, port or free_port())
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / name).mkdir()
    site = render_replicas_conf(server.port, replicas, server.access_log)
    (folder / "site.conf").write_text(site, encoding="utf-8")
    user = "user root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        f"  client_body_temp_path {folder}/client_body;\n  proxy_temp_path {folder}/proxy;\n"
        f"  fastcgi_temp_path {folder}/fastcgi;\n  uwsgi_temp_path {folder}/uwsgi;\n"
        f"  scgi_temp_path {folder}/scgi;\n"
        f"  include {folder}/site.conf;\n"
        "}\n",
        encoding="utf-8",
    )
    command = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf")]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30, check=False)
    if check.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"nginx refused the config: {check.stderr.strip()}")
    server.process = subprocess.Popen(
        [*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(server.port, 30, server.process)
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


# -- app replicas ----------------------------------------------------------------------------------------
@dataclass
class Replica:
    """``assistant serve`` in a child process (the real CLI, as systemd runs it); its output goes to
    ``log``."""

    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_ready: float = 900) -> None:
        self.launch()
        self.wait_ready(wait_ready)

    def launch(self) -> None:
        """Start the process (several replicas load their models at the same time)."""
        import sys

        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "assistant.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=Path(__file__).resolve().parent.parent,
            )

    def wait_ready(self, timeout: float = 900) -> None:
        """Until ``/readyz`` answers 200 (the index and model are loaded)."""
        import httpx

        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"replica on {self.port} exited with {self.process.returncode}: {tail}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"replica on {self.port} not ready after {timeout} s")
            time.sleep(0.3)

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed or closed."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")
