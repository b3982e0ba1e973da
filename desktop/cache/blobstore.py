"""The content-addressed media store: `blobs/ab/abcdef…`, named only by SHA-256.

Nothing from the network becomes a path here: the only input is a hash, checked to be
64 lowercase hex digits before it is joined to the store's root.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class LocalState(StrEnum):
    absent = "absent"
    queued = "queued"
    partial = "partial"
    present = "present"


class BlobStore:
    def __init__(self, root: Path):
        self.root = root

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
