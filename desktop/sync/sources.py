"""Where a blob's bytes come from: one small class per kind of place, sharing one base.

`BlobStore.ingest(source, target)` is the one way a file enters a store: it hashes the bytes
as they arrive, checks size and SHA-256, fsyncs and renames (desktop/cache/blobstore.py). A
source only knows where the bytes are and writes them to the `Incoming` file it is handed,
so adding a place to get files from is one `BlobSource` subclass, plus one line where the
fetcher's list of sources is built (`desktop/services.py: run_downloads`).

* `SharedFolderSource` — IT's read-only shared content folder (`ab/<sha256>`), never written to;
* `PackSource` — a member of a content pack (desktop/sync/packs.py);
* `ServerSource` — the credit server or its CDN, resumable with Range/If-Range
  (desktop/sync/downloads_transfer.py: it alone needs httpx).

`BlobFetcher` gives a download job its blob from the first source that offers it: a source
that does not have it, or has a damaged copy, is skipped for the next (the server comes last).
"""

from __future__ import annotations

import logging
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from desktop.cache.blobstore import BlobStore, Incoming, ProgressFn
from desktop.errors import DamagedInTransit, PackRefused, PermanentTransferError

log = logging.getLogger(__name__)

BLOCK = 1024 * 1024


@dataclass
class FetchTarget:
    """One blob a job wants: named by the catalog's SHA-256, never by anything from the network."""

    sha256: str
    size: int
    url: str = ""
    # A strong validator from an earlier response, if any; ServerSource sets the latest one
    # when the blob is complete (the queue keeps it for the next resume).
    etag: str | None = None


@dataclass(frozen=True)
class FetchResult:
    path: Path
    etag: str | None
    already_present: bool


class SourceUnusable(Exception):
    """This source cannot give this blob (missing, unreadable, damaged): try the next one."""


class BlobSource:
    """A place blobs can come from. Subclasses write the bytes in `fill`; `ingest` does the rest."""

    resumable = False  # continues a .part left by an earlier attempt, and leaves one when cut
    remote = False  # its bytes count as received over the network (speed, bytes fetched)

    def offers(self, target: FetchTarget) -> bool:
        """A cheap look before anything is written (default: yes)."""
        return True

    def fill(self, part: Incoming, target: FetchTarget) -> None:
        """Write the blob's bytes from `part.have` on with `part.write`."""
        raise NotImplementedError

    def damaged(self, target: FetchTarget) -> Exception:
        """What wrong bytes (size or SHA-256) from here mean; `ingest` has already deleted them."""
        return DamagedInTransit()

    @staticmethod
    def copy(reader: BinaryIO, part: Incoming, limit: int) -> bool:
        """Copy a readable file into `part`; False if it holds more than `limit` bytes."""
        while block := reader.read(BLOCK):
            if part.have + len(block) > limit:
                return False
            part.write(block)
        return True


class BlobFetcher:
    """Brings one blob into `blobs` from the first of `sources` that offers it."""

    def __init__(self, blobs: BlobStore, sources: Sequence[BlobSource], *, disk_margin_bytes: int = 0):
        self.blobs = blobs
        self.sources = list(sources)
        self.disk_margin_bytes = disk_margin_bytes

    def fetch(self, target: FetchTarget, *, progress: ProgressFn, stop: threading.Event) -> FetchResult:
        final = self.blobs.path_for(target.sha256)  # raises for anything but a hex digest
        if final.is_file():
            return FetchResult(final, target.etag, already_present=True)
        for source in self.sources:
            if not source.offers(target):
                continue
            try:
                self.blobs.ingest(source, target, progress=progress, stop=stop, disk_margin=self.disk_margin_bytes)
            except SourceUnusable:
                continue
            return FetchResult(final, target.etag, already_present=False)
        raise PermanentTransferError("No source offers this file (no server is set and the shared folder lacks it).")


# ---------------------------------------------------------------- the shared content folder


class SharedFolderSource(BlobSource):
    """IT's shared content folder (the blob store's layout, read-only for users): a verified
    copy from there replaces the download. Never written to; anything wrong there is logged
    and the file is downloaded instead."""

    def __init__(self, folder: Path):
        self.folder = BlobStore(Path(folder), private=False)

    def offers(self, target: FetchTarget) -> bool:
        src = self.folder.path_for(target.sha256)
        try:
            if not src.is_file():
                return False
            size = src.stat().st_size
        except OSError as exc:
            log.warning("shared content %s cannot be read (%s); downloading instead", src, exc)
            return False
        if size != target.size:
            log.warning("shared content %s has %d bytes where the catalog says %d; ignored, downloading instead",
                        src, size, target.size)
            return False
        return True

    def fill(self, part: Incoming, target: FetchTarget) -> None:
        src = self.folder.path_for(target.sha256)
        try:
            with open(src, "rb") as reader:
                complete = self.copy(reader, part, target.size)
        except OSError as exc:
            log.warning("shared content %s could not be copied (%s); downloading instead", src, exc)
            raise SourceUnusable() from None
        if not complete:
            raise self.damaged(target)
        log.info("%s read from the shared content folder (checked before it is kept)", target.sha256[:12])

    def damaged(self, target: FetchTarget) -> Exception:
        log.warning("shared content %s does not match its SHA-256 (damaged or replaced); ignored, "
                    "downloading instead", self.folder.path_for(target.sha256))
        return SourceUnusable()


# ---------------------------------------------------------------- content packs


class PackSource(BlobSource):
    """The members `blobs/<sha256>` of an open content pack, looked up by the manifest's
    checked digest (a member's own name never becomes a path)."""

    def __init__(self, pack: zipfile.ZipFile, pack_name: str):
        self.pack = pack
        self.pack_name = pack_name

    def fill(self, part: Incoming, target: FetchTarget) -> None:
        with self.pack.open(f"blobs/{target.sha256}") as member:
            if not self.copy(member, part, target.size):
                raise self.damaged(target)

    def damaged(self, target: FetchTarget) -> Exception:
        return PackRefused(f"{self.pack_name} was refused: file {target.sha256[:12]}… in it is damaged (its SHA-256 "
                           "does not match). Nothing was imported.")
