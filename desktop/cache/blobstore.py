"""The content-addressed media store: `blobs/ab/abcdef…`, named only by SHA-256.

Nothing from the network becomes a path here: the only input is a hash, checked to be
64 lowercase hex digits before it is joined to the store's root.

`BlobStore.ingest(source, target)` is the one way a file enters a store, whatever it comes
from (the server, the shared content folder, a content pack: `desktop/sync/sources.py`).
Invariant: every file named `ab/<sha256>` hashes to its name. Standard library only (the
library list reads the store before the first paint).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from cmecore.private_files import open_private, private_dir
from desktop.errors import DiskFull, PermanentTransferError

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")

ProgressFn = Callable[[int, int], None]  # (bytes in the file now, bytes just received over the network)


def _sha256():
    """A fresh SHA-256. This module is on the first-paint path (the library's file states),
    which never hashes; OpenSSL's hashlib loads when a file first arrives."""
    import hashlib  # start-up speed: see the docstring

    return hashlib.sha256()

class TransferInterrupted(Exception):
    """The stop event was set (pause, cancel, end of the run); every good byte is kept."""


class Target(Protocol):
    sha256: str
    size: int


class Source(Protocol):
    """What `ingest` needs of a source (`desktop.sync.sources.BlobSource` is the base)."""

    resumable: bool  # continues a .part left by an earlier attempt, and leaves one when cut
    remote: bool  # its bytes count as received over the network (speed, bytes fetched)

    def fill(self, part: Incoming, target: Any) -> None: ...

    def damaged(self, target: Any) -> Exception: ...


class LocalState(StrEnum):
    absent = "absent"
    queued = "queued"
    partial = "partial"
    present = "present"


class BlobStore:
    def __init__(self, root: Path, *, private: bool = True):
        """`private`: a learner's own store, folders 0700 and files 0600 on POSIX (they tell
        what someone studies); False for the shared content folder that IT fills for every
        user of the computer (prefetch), whose files must stay readable to all."""
        self.root = root
        self.private = private
        # sha256 -> (bytes hashed, hasher) of a .part an ingest left in this process, so that
        # continuing it need not re-read the whole .part (a 4 MB cut in a 500 MB video would
        # otherwise re-hash everything before it on every retry).
        self._hashed: dict[str, tuple[int, Any]] = {}

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def part_path_for(self, sha256: str) -> Path:
        path = self.path_for(sha256)
        return path.with_name(path.name + ".part")

    def state(self, sha256: str, *, queued: bool = False) -> LocalState:
        """present > partial (a .part exists) > queued (a download job waits) > absent."""
        return _state(self.path_for(sha256).is_file(), self.part_path_for(sha256).is_file(), queued)

    def scan(self) -> BlobScan:
        """Every stored and partial blob, from one directory walk (for whole-library views)."""
        present: set[str] = set()
        partial: set[str] = set()
        try:
            top = os.scandir(self.root)
        except FileNotFoundError:
            return BlobScan(frozenset(), frozenset())
        with top:
            for folder in top:
                if len(folder.name) != 2 or not folder.is_dir():
                    continue
                with os.scandir(folder.path) as files:
                    for entry in files:
                        if entry.name.endswith(".part"):
                            partial.add(entry.name[:-5])
                        elif len(entry.name) == 64:
                            present.add(entry.name)
        return BlobScan(frozenset(present), frozenset(partial))

    def remove(self, sha256: str) -> int:
        """Delete a stored blob and any partial download of it; returns the bytes freed."""
        freed = 0
        for path in (self.path_for(sha256), self.part_path_for(sha256)):
            try:
                freed += path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                pass
        return freed

    # ------------------------------------------------------------ bringing files in

    def ingest(self, source: Source, target: Target, *, progress: ProgressFn | None = None,
               stop: threading.Event | None = None, disk_margin: int = 0) -> Path:
        """Bring one blob into the store from `source`, verified; returns its path.

        Bytes go to `<sha256>.part` if the source is resumable (bytes an earlier attempt left
        there are hashed once and continued; they are kept when this attempt fails) or to a
        private `.<sha256>.tmp` otherwise (deleted on failure). SHA-256 is computed as the
        bytes arrive; size and hash are checked, the file is fsynced, renamed to
        `ab/<sha256>` and the folder fsynced. A mismatch deletes the bytes and raises
        `source.damaged(target)`. Free space (plus `disk_margin`) is checked first: DiskFull,
        which a full disk while writing also raises, keeping every good byte.
        `TransferInterrupted` when `stop` is set. One ingest per blob at a time.
        """
        final = self.path_for(target.sha256)  # raises for anything but a hex digest
        self.make_folder(final.parent)
        part = self._open(target, source, progress or _no_progress, stop or threading.Event())
        try:
            check_free_space(final.parent, target.size - part.have, disk_margin)
            part.report()
            source.fill(part, target)
            if not part.holds(target):
                part.discard()
                raise source.damaged(target)
            part.seal()
        except BaseException:
            part.close(keep=source.resumable)
            raise
        self._place(part.path, final)
        self.part_path_for(target.sha256).unlink(missing_ok=True)  # a partial download is not needed now
        return final

    def check(self, source: Source, target: Target) -> None:
        """Read what `source` holds for `target` and check size and SHA-256, keeping nothing
        (a content pack proving a blob this store already has). Raises `source.damaged(target)`."""
        part = Incoming(None, target, None, 0, _sha256(), _no_progress, threading.Event(), False)
        source.fill(part, target)
        if not part.holds(target):
            raise source.damaged(target)

    def adopt(self, staging: BlobStore, sha256: str) -> Path | None:
        """Move a blob from a staging store on the same disk (its files came through `ingest`,
        so they are verified) into this one; None if this store has it already."""
        final = self.path_for(sha256)
        if final.is_file():
            return None
        self.make_folder(final.parent)
        self._place(staging.path_for(sha256), final)
        return final

    def _open(self, target: Target, source: Source, progress: ProgressFn, stop: threading.Event) -> Incoming:
        sha = target.sha256
        if not source.resumable:
            path = self.path_for(sha).with_name(f".{sha}.tmp")  # not the .part: a download's bytes stay
            fd = self._create(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
            return Incoming(path, target, fd, 0, _sha256(), progress, stop, source.remote)
        path = self.part_path_for(sha)
        fd = self._create(path, os.O_RDWR | os.O_CREAT)
        try:
            have = os.fstat(fd).st_size
            if have > target.size:
                log.info("%s.part is longer than the file; starting again", sha[:12])
                os.ftruncate(fd, 0)
                have = 0
            kept = self._hashed.pop(sha, None)
            hasher = kept[1] if kept is not None and kept[0] == have else _hash_existing(fd, have)
        except BaseException:
            os.close(fd)
            raise
        return Incoming(path, target, fd, have, hasher, progress, stop, source.remote, kept=self._hashed)

    def make_folder(self, folder: Path) -> None:
        """Create a folder of this store (the root, a shard), owner-only if the store is private."""
        if self.private:
            private_dir(folder)
        else:
            folder.mkdir(parents=True, exist_ok=True)

    def _create(self, path: Path, flags: int) -> int:
        if self.private:
            return open_private(path, flags)
        return os.open(path, flags | getattr(os, "O_BINARY", 0), 0o644)

    @staticmethod
    def _place(path: Path, final: Path) -> None:
        os.replace(path, final)
        _fsync_dir(final.parent)

    def bytes_used(self) -> int:
        if not self.root.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.root.glob("??/*") if p.is_file())


@dataclass(frozen=True)
class BlobScan:
    present: frozenset[str]
    partial: frozenset[str]

    def state(self, sha256: str, *, queued: bool = False) -> LocalState:
        """The same answer as BlobStore.state, without touching the disk again."""
        return _state(sha256 in self.present, sha256 in self.partial, queued)


def _state(present: bool, partial: bool, queued: bool) -> LocalState:
    if present:
        return LocalState.present
    if partial:
        return LocalState.partial
    return LocalState.queued if queued else LocalState.absent


def combined_state(states: list[LocalState]) -> LocalState:
    """One activity's media state from its assets' states."""
    if not states:
        return LocalState.absent
    if all(s is LocalState.present for s in states):
        return LocalState.present
    if any(s in (LocalState.present, LocalState.partial) for s in states):
        return LocalState.partial
    if any(s is LocalState.queued for s in states):
        return LocalState.queued
    return LocalState.absent


class Incoming:
    """A blob on its way into the store: bytes appended at `have`, hashed as they arrive.

    Invariant: the file holds exactly `have` bytes and the hash has seen exactly those (a
    failed write is cut back). Written by one thread, the one running `BlobStore.ingest`;
    a set `stop` event ends the next write with TransferInterrupted. `path` None: hash only.
    """

    def __init__(self, path: Path | None, target: Target, fd: int | None, have: int, hasher, progress: ProgressFn,
                 stop: threading.Event, remote: bool, kept: dict | None = None):
        self.path = path
        self.sha256 = target.sha256
        self.size = target.size
        self.have = have
        self.stop = stop
        self._fd = fd
        self._hasher = hasher
        self._progress = progress
        self._remote = remote
        self._kept = kept  # where a resumable part leaves its hash when an attempt ends early

    def write(self, data: bytes) -> None:
        if self.stop.is_set():
            raise TransferInterrupted()
        if self._fd is not None:
            _write_all(self._fd, data, self.have)
        self._hasher.update(data)
        self.have += len(data)
        self._progress(self.have, len(data) if self._remote else 0)

    def restart(self) -> None:
        """Drop every byte (they do not line up with the file): start again from byte 0."""
        self.rewind((0, _sha256()))

    def mark(self) -> tuple[int, Any]:
        """A point to `rewind` to (cheap: the length and a copy of the running hash)."""
        return self.have, self._hasher.copy()

    def rewind(self, mark: tuple[int, Any]) -> None:
        have, hasher = mark
        if self._fd is not None:
            os.ftruncate(self._fd, have)
        self.have, self._hasher = have, hasher.copy()
        self.report()

    def report(self) -> None:
        self._progress(self.have, 0)

    def holds(self, target: Target) -> bool:
        return self.have == target.size and self._hasher.hexdigest() == target.sha256

    def seal(self) -> None:
        """Flush to disk and close: the bytes survive a power cut once renamed."""
        if self._fd is not None:
            os.fsync(self._fd)
            self._close_fd()

    def discard(self) -> None:
        self._close_fd()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        self._kept = None

    def close(self, *, keep: bool) -> None:
        """After a failed attempt: keep the bytes (and their hash, for the next attempt) or delete them."""
        if not keep:
            self.discard()
            return
        if self._fd is not None and self._kept is not None:
            self._kept[self.sha256] = (self.have, self._hasher)
        self._close_fd()

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def check_free_space(folder: Path, remaining: int, margin: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < remaining + margin:
        raise DiskFull(
            f"Not enough free disk space: this file needs {size_text(remaining)} more (plus {size_text(margin)} "
            f"kept free) and only {size_text(free)} are free. Free some space, then resume the download."
        )


def size_text(n: int) -> str:
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _no_progress(_have: int, _received: int) -> None:
    pass


def _hash_existing(fd: int, length: int):
    """SHA-256 of the first `length` bytes already on disk (continued as new bytes arrive)."""
    hasher = _sha256()
    os.lseek(fd, 0, os.SEEK_SET)
    left = length
    while left > 0:
        block = os.read(fd, min(1024 * 1024, left))
        if not block:
            break
        hasher.update(block)
        left -= len(block)
    return hasher


def _seek_and_write(fd: int, data, offset: int) -> int:
    os.lseek(fd, offset, os.SEEK_SET)
    return os.write(fd, data)


# One system call a piece where the OS has it (not Windows): a download writes thousands.
_write_at = getattr(os, "pwrite", _seek_and_write)


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    at = offset
    try:
        while view:
            n = _write_at(fd, view, at)
            view, at = view[n:], at + n
    except OSError as exc:
        # Keep every good byte received so far, and nothing half-written after them.
        try:
            os.ftruncate(fd, offset)
        except OSError:
            pass
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise DiskFull(
                f"The disk is full: free some space, then resume the download. The {size_text(offset)} "
                "already received are kept."
            ) from exc
        raise PermanentTransferError(f"The downloaded file could not be written ({exc.strerror}).") from exc


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a directory for fsync; NTFS journals the rename
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
