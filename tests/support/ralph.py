"""A real learning record store for the tests: Ralph (`ralph-malph` on PyPI), the Python
LRS, with its file-system backend, on a loopback port.

Ralph lives in its own virtualenv, `.venv-ralph` at the top of the repository, because its
pinned dependencies (FastAPI, uvicorn, bcrypt …) would fight ours. `ensure_ralph()` makes
it once: `python -m venv`, then pip installs tests/support/ralph-requirements.txt, then a
stamp named after that file's SHA-1 (as the Makefile names .venv's). `make test` runs
`python -m tests.support.ralph` first, so CI installs it like everything else; a developer
running pytest directly gets it at the first test that needs it.

`RalphLrs(folder)` makes an auth file with `ralph auth` (bcrypt-hashed credentials, scope
`all`; the password goes in on stdin, never on a command line), then `start()`s Ralph's
LRS app with its file-system backend (what `ralph runserver -b fs` serves, through
tests/support/ralph_lrs.py, which makes that backend append: see there) in its own process
group on a port it keeps, so `stop()` and a later `start()` mimic an LRS that goes down and
comes back. `statements()` reads what it
stores through the xAPI (GET /xAPI/statements, following `more`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmecore.private_files import open_private

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = Path(__file__).with_name("ralph-requirements.txt")
LAUNCHER = Path(__file__).with_name("ralph_lrs.py")
VENV = REPO / ".venv-ralph"
USERNAME = "cme-credit-server"
START_TIMEOUT_S = 90.0  # its imports take seconds on a busy 2-core machine
XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3"}


def stamp() -> Path:
    return VENV / f".installed-{hashlib.sha1(REQUIREMENTS.read_bytes()).hexdigest()[:12]}"


def ensure_ralph() -> Path:
    """The `ralph` program, installed into .venv-ralph first if its stamp is missing.
    Idempotent; processes installing at once take turns (a lock file beside the venv)."""
    program = VENV / "bin" / "ralph"
    if stamp().exists():
        return program
    with open(REPO / ".venv-ralph.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp().exists():
            subprocess.run([_base_python(), "-m", "venv", str(VENV)], check=True)
            subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                            "-r", str(REQUIREMENTS)], check=True)
            for old in VENV.glob(".installed-*"):
                old.unlink()
            stamp().touch()
    return program


def _base_python() -> str:
    """The interpreter our own venv was made from (a venv inside a venv would inherit nothing, but
    its pip would be the wrong one to trust)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RalphLrs:
    def __init__(self, folder: Path) -> None:
        self.program = ensure_ralph()
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "statements").mkdir(exist_ok=True)
        (self.folder / "run").mkdir(exist_ok=True)  # its cwd (Ralph reads a .env there)
        self.port = _free_port()
        self.password = secrets.token_urlsafe(18)
        self._env = {**os.environ, "RALPH_AUTH_FILE": str(self.folder / "auth.json"),
                     "RALPH_APP_DIR": str(self.folder), "RALPH_RUNSERVER_BACKEND": "fs",
                     "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.folder / "statements")}
        subprocess.run(
            [str(self.program), "auth", "-u", USERNAME, "-s", "all", "-A", USERNAME, "http://127.0.0.1", "-w"],
            input=f"{self.password}\n{self.password}\n", text=True, env=self._env, cwd=self.folder / "run",
            check=True, capture_output=True, timeout=120,
        )
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The xAPI endpoint, as a provider gives it to `serve --lrs-url`."""
        return f"http://127.0.0.1:{self.port}/xAPI"

    def write_auth_file(self, path: Path) -> Path:
        """Our server's side of the credentials: one line user:password, owner-only."""
        fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"{USERNAME}:{self.password}\n")
        return path

    def start(self) -> RalphLrs:
        command = [str(VENV / "bin" / "python"), "-P", str(LAUNCHER),  # -P: not this folder (its ralph.py) on sys.path
                   "127.0.0.1", str(self.port)]
        log = open(self.folder / "ralph.log", "ab")
        self._process = subprocess.Popen(command, cwd=self.folder / "run", env=self._env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.folder / "ralph.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Ralph did not start on port {self.port}:\n{tail}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop it (its whole process group)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            try:
                os.killpg(self._process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self._process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(10)
        self._process = None

    def statements(self) -> list[dict[str, Any]]:
        """Every statement it stores, through its xAPI."""
        out: list[dict[str, Any]] = []
        url = f"http://127.0.0.1:{self.port}/xAPI/statements?limit=100"
        with httpx.Client(auth=(USERNAME, self.password), headers=XAPI_HEADERS, timeout=10) as client:
            while url:
                r = client.get(url)
                r.raise_for_status()
                body = r.json()
                out.extend(body["statements"])
                more = body.get("more")
                url = f"http://127.0.0.1:{self.port}{more}" if more else ""
        return out

    def wait_for(self, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """The stored statements once there are at least `count` (a deadline, not a sleep)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.statements()
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


@pytest.fixture
def ralph(tmp_path_factory) -> Iterator[RalphLrs]:
    """A Ralph LRS, made but not started (a test may want it down at first): call `start()`."""
    lrs = RalphLrs(tmp_path_factory.mktemp("ralph"))
    yield lrs
    lrs.stop()


if __name__ == "__main__":  # `make test` installs it before the tests run
    print(f"Ralph: {ensure_ralph()}")
