"""Where a server process tree spends its CPU during one step of the load bench: py-spy
samples the thread holding the GIL in the server and each worker (`--subprocesses --gil`: a
thread waiting for the GIL, a lock or the database is not using the CPU)
and each sample is put in the first part of the work, reading its stack from the innermost
frame out, that one of PARTS names. So a stack inside PyLD called by the signing code counts
as canonicalisation, SQLAlchemy called by the completion rules counts as the database, and
JSON encoding inside FastAPI counts as HTTP.

py-spy is a dev tool (extra `test`); without it, or where the kernel does not let it read
another process (ptrace), `Profile.start` returns None and the bench prints the CPU per
completion without the split.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

# (part, substrings of a frame "function (file:line)"), innermost frame first.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("canonicalisation (PyLD, RDFC-1.0)", ("pyld/", "c14n/", "frozendict/", "cachetools/")),
    ("signing (Ed25519, multibase, the credential)", ("cmecore/credentials/", "cryptography/", "base58")),
    ("PDF (fpdf2, QR code)", ("fpdf/", "segno/", "certificate_pdf.py", "PIL/")),
    ("password hashing (Argon2id)", ("argon2",)),
    ("database (SQLAlchemy, psycopg)", ("sqlalchemy/", "psycopg", "sqlite3/")),
    ("pydantic (validation, serialising)", ("pydantic/", "pydantic_core/")),
    ("HTTP (uvicorn, Starlette, FastAPI, AnyIO)", ("uvicorn/", "starlette/", "fastapi/", "h11/", "httptools/",
                                                   "anyio/", "asyncio/")),
    ("completion rules (creditserver, cmecore)", ("creditserver/", "cmecore/")),
)
OTHER = "other (the interpreter, threads, stdlib)"
RATE_HZ = 250


def part_of(stack: list[str]) -> str:
    """The part a sampled stack (outermost frame first) counts for."""
    for frame in reversed(stack):
        for part, needles in PARTS:
            if any(n in frame for n in needles):
                return part
    return OTHER


def split(raw: str) -> Counter:
    """Samples per part from py-spy's `--format raw` output (collapsed stacks: frames joined
    by ';', then the count)."""
    parts: Counter = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            parts[part_of(stack.split(";"))] += int(count)
    return parts


class Profile:
    """py-spy recording one process tree from `start` until `stop`."""

    def __init__(self, proc: subprocess.Popen, output: Path) -> None:
        self._proc = proc
        self._output = output

    @classmethod
    def start(cls, pid: int, output: Path) -> Profile | None:
        spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
        if spy is None:
            return None
        proc = subprocess.Popen(
            [spy, "record", "--pid", str(pid), "--subprocesses", "--gil", "--format", "raw", "--rate", str(RATE_HZ),
             "--nonblocking", "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)  # attaching to every worker takes a moment; a bench, not a test
        if proc.poll() is not None:
            return None  # not allowed to read the server (ptrace) or not a Python it knows
        return cls(proc, output)

    def stop(self) -> Counter:
        """Samples per part (empty if py-spy wrote nothing)."""
        self._proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            self._proc.wait(60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(5)
            return Counter()
        return split(self._output.read_text()) if self._output.exists() else Counter()
