"""A private PostgreSQL cluster for the tests and the benches: Debian's own `postgresql`
binaries, a throwaway data folder, a loopback port, trust authentication (nothing but this
machine can reach it), stopped when the session ends.

The server suite runs twice in `make test`: on SQLite, then with `--server-db=postgresql`
(tests/conftest.py), which starts one cluster for the session and gives every server the
tests start its own fresh database. `CME_SERVER_DB_URL=postgresql+psycopg://user@host:port/`
points the same switch at a PostgreSQL someone already runs (each server gets a new database
there too; the role must be allowed to create databases).

As root (CI containers), initdb refuses to run, so the cluster runs as the `postgres` user
the Debian package creates, in a folder outside pytest's root-only temporary tree.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_ROLE = "cme"
_INSTALL_LINE = "apt-get install postgresql   (or: packaging/system-packages test)"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries here; the message carries the line to run."""


def postgres_bindir() -> Path:
    """The newest Debian PostgreSQL binary folder (/usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise PostgresUnavailable(f"PostgreSQL is not installed; run: {_INSTALL_LINE}")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    """initdb + pg_ctl start on 127.0.0.1:<free port>; `new_database()` hands out URLs.

    `durable=False` (the tests) turns fsync off: a crash loses the throwaway cluster anyway.
    The load bench passes `durable=True` so its figures include real commits."""

    def __init__(self, *, durable: bool = False, max_connections: int = 300) -> None:
        self.bindir = postgres_bindir()
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="cme-pg-"))
        self.data = self.folder / "data"
        self._run_as = "postgres" if os.geteuid() == 0 else None
        self._names = itertools.count(1)
        if self._run_as:
            user = pwd.getpwnam(self._run_as)
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self.folder.chmod(0o700)
        self._pg("initdb", "-D", str(self.data), "-U", PG_ROLE, "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync")
        settings = [
            "listen_addresses=127.0.0.1", f"port={self.port}", f"unix_socket_directories={self.folder}",
            f"max_connections={max_connections}", "shared_buffers=128MB",
        ]
        if not durable:
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        options = " ".join(f"-c {s}" for s in settings)
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-o", options, "-w", "start")
        self.base_url = f"postgresql+psycopg://{PG_ROLE}@127.0.0.1:{self.port}/"

    def _pg(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self._run_as:
            command = ["runuser", "-u", self._run_as, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if done.returncode != 0:
            log = self.folder / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")

    def new_database(self) -> str:
        return create_database(self.base_url, f"cme_test_{os.getpid()}_{next(self._names)}")

    def stop(self) -> None:
        try:
            self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def create_database(base_url: str, name: str) -> str:
    """CREATE DATABASE `name` on the server of `base_url` (…/ with no database) and return
    its SQLAlchemy URL."""
    import psycopg  # deferred: only the PostgreSQL runs need the driver

    plain = base_url.replace("postgresql+psycopg://", "postgresql://", 1).rstrip("/") + "/postgres"
    with psycopg.connect(plain, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}"')
        con.execute(f'CREATE DATABASE "{name}"')
    return base_url.rstrip("/") + "/" + name


def database_urls(base_url: str):
    """An endless supply of fresh databases on an existing server (CME_SERVER_DB_URL)."""
    for n in itertools.count(1):
        yield create_database(base_url, f"cme_test_{os.getpid()}_{n}")
