"""Folders and files only their owner can open: learners' records, password hashes, keys.

The client's cache holds attempts, claims, licence numbers and birth dates; the server's
database holds password hashes. With the usual umask (022) a new file is readable by every
account on the computer, so on POSIX every folder the client or the server keeps its data
in is made 0700 and every file it writes there 0600, whatever the umask — by these helpers,
the one place both sides take the modes from. On Windows they only create: the per-user
data folders (%LOCALAPPDATA%) already carry an ACL that gives the user (and SYSTEM and the
Administrators) access and nobody else, and files inherit it.

The one piece of I/O in cmecore: a handful of `os` calls that both sides need, so that the
client and the server cannot drift apart on what "private" means. Standard library only.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
POSIX = os.name == "posix"


def private_dir(path: str | os.PathLike) -> Path:
    """Create `path` (and any missing parents) as folders only the owner can open; an existing
    `path` is closed too (a folder an older version made 0755). Returns it as a Path."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # another process made it meanwhile
            pass
    path.mkdir(exist_ok=True)  # raises as mkdir does when `path` is a file
    for folder in (path, *missing):
        _chmod(folder, PRIVATE_DIR)
    return path


def private_file(path: str | os.PathLike) -> Path:
    """Create `path` empty if missing, as a file only its owner can read and write; an existing
    file is closed (its content kept). Returns it as a Path."""
    path = Path(path)
    os.close(open_private(path, os.O_WRONLY | os.O_CREAT))
    return path


def close_file(path: str | os.PathLike) -> None:
    """Make an existing file owner-only (one a library created: a lock file, an old log); a
    missing file is left missing."""
    if Path(path).exists():
        _chmod(Path(path), PRIVATE_FILE)


def open_private(path: str | os.PathLike, flags: int) -> int:
    """`os.open(path, flags)` with an owner-only file whatever the umask, also when the file
    was already there with a wider mode. Returns the descriptor."""
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0), PRIVATE_FILE)
    if POSIX:
        try:
            os.fchmod(fd, PRIVATE_FILE)
        except OSError as exc:  # not our file (a folder IT shares): keep it working, say so
            log.warning("could not make %s private (%s)", path, exc.strerror or exc)
    return fd


def _chmod(path: Path, mode: int) -> None:
    if not POSIX:
        return
    try:
        os.chmod(path, mode)
    except OSError as exc:  # owned by someone else (IT made the folder): it stays as they set it
        log.warning("could not make %s private (%s)", path, exc.strerror or exc)
