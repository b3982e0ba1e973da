"""One file from the network into the blob store: resumable, verified, never misaligned.

`BlobFetcher.fetch` brings one asset to `blobs/ab/<sha256>`:

* bytes go to `<sha256>.part`; a `.part` left by an earlier attempt (or an earlier run, or
  a killed process) is hashed from disk and continued with `Range: bytes=N-` plus
  `If-Range: <strong ETag>`, so a byte already kept is never fetched again;
* every response is checked before a byte of it is written: the status, `Content-Range`
  (start must be exactly N, total the catalog's size) and `Content-Length`. A 200 to a
  range request means the server ignored the range: the `.part` is truncated and the file
  restarts from 0. A wrong `Content-Range` also restarts from 0. Misaligned bytes are
  never appended;
* SHA-256 is computed as bytes arrive and compared with the catalog's before the file is
  fsynced and renamed into place (`os.replace`, then the directory is fsynced). A
  mismatch deletes the `.part` and raises `DamagedInTransit`;
* free space is checked before starting; ENOSPC while writing keeps every good byte
  received so far and raises `DiskFull`.

Only the catalog's validated SHA-256 names files: nothing from the network becomes a path.
The access token is sent to the credit server only (server-relative URLs, or absolute
URLs on the same origin); a CDN on another host gets no token.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from desktop.cache.blobstore import BlobStore
from desktop.sync.downloads_ratelimit import BandwidthLimiter
from desktop.errors import SignInRequired

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 3600.0
MAX_RESTARTS_PER_FETCH = 3
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


# ---------------------------------------------------------------- outcomes


class TransferError(Exception):
    """A fetch that did not complete; `message` is one plain sentence for the learner."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, discarded: bool = False):
        super().__init__(message)
        self.message = message
        # The same without the promise to retry, for the final message after giving up.
        self.what = re.split(r"; (it will be fetched again|the download will)", message)[0].rstrip(".")
        self.retry_after = retry_after  # seconds the server asked us to wait
        self.discarded = discarded  # received bytes were thrown away (they do not count as progress)


class RetryableTransferError(TransferError):
    """Connection trouble, a timeout, 5xx, 429, a confused reply: worth another try."""


class DamagedInTransit(RetryableTransferError):
    def __init__(self) -> None:
        super().__init__(
            "The downloaded file was damaged in transit and was discarded; it will be fetched again.",
            discarded=True,
        )


class PermanentTransferError(TransferError):
    """Retrying will not help (404, 403, a full disk): the job fails with this message."""

    retryable = False


class DiskFull(PermanentTransferError):
    pass


class TransferInterrupted(Exception):
    """The job was paused, cancelled or the run stopped; every good byte is kept."""


@dataclass(frozen=True)
class FetchTarget:
    sha256: str
    size: int
    url: str
    etag: str | None = None  # a strong validator from an earlier response, if any


@dataclass(frozen=True)
class FetchResult:
    path: Path
    etag: str | None
    already_present: bool


ProgressFn = Callable[[int, int], None]  # (bytes in .part now, bytes just received)


# ---------------------------------------------------------------- the fetcher


class BlobFetcher:
    def __init__(
        self,
        client: httpx.Client,
        blobs: BlobStore,
        *,
        server_url: str,
        access_token: Callable[[], str],
        forget_token: Callable[[], None] = lambda: None,
        limiter: BandwidthLimiter | None = None,
        chunk_size: int = 64 * 1024,
        disk_margin_bytes: int = 64 * 1024 * 1024,
        shared_dir: Path | None = None,
    ):
        self.client = client
        # A read-only folder with the same ab/<sha256> layout (IT's shared content folder):
        # a verified copy from there replaces the download. Never written to.
        self.shared = BlobStore(Path(shared_dir)) if shared_dir else None
        self.blobs = blobs
        self.server_url = server_url.rstrip("/")
        self.access_token = access_token
        self.forget_token = forget_token
        self.limiter = limiter or BandwidthLimiter(None)
        self.chunk_size = chunk_size
        self.disk_margin_bytes = disk_margin_bytes
        # sha256 -> (bytes hashed, hasher) left by a broken attempt in this run, so the
        # retry need not re-read the whole .part from disk (a 4 MB cut in a 500 MB video
        # would otherwise re-hash everything before it on every retry).
        self._hashed: dict[str, tuple[int, object]] = {}

    # ------------------------------------------------------------ public

    def fetch(self, target: FetchTarget, *, progress: ProgressFn, stop: threading.Event) -> FetchResult:
        final = self.blobs.path_for(target.sha256)  # raises for anything but a hex digest
        if final.is_file():
            return FetchResult(final, target.etag, already_present=True)
        part = self.blobs.part_path_for(target.sha256)
        part.parent.mkdir(parents=True, exist_ok=True)
        if self.shared is not None and self._copy_from_shared(target, progress, stop):
            return FetchResult(final, target.etag, already_present=False)
        fd = os.open(part, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        try:
            have = os.fstat(fd).st_size
            if have > target.size:
                log.info("%s.part is longer than the file; starting again", target.sha256[:12])
                os.ftruncate(fd, 0)
                have = 0
            hasher = self._resume_hash(target.sha256, have) or _hash_existing(fd, have)
            check_free_space(part.parent, target.size - have, self.disk_margin_bytes)
            progress(have, 0)
            etag = target.etag
            restarts = 0
            auth_retried = False
            while have < target.size:
                if stop.is_set():
                    raise TransferInterrupted()
                try:
                    have, hasher, etag = self._one_request(fd, hasher, have, target, etag, progress, stop)
                except _Restart as why:
                    restarts += 1
                    if restarts > MAX_RESTARTS_PER_FETCH:
                        raise RetryableTransferError(str(why)) from None
                    log.info("%s: %s; restarting from byte 0", target.sha256[:12], why)
                    os.ftruncate(fd, 0)
                    have, hasher = 0, hashlib.sha256()
                    progress(0, 0)
                except _AuthExpired:
                    if auth_retried:
                        raise SignInRequired() from None
                    auth_retried = True
                    self.forget_token()
            os.fsync(fd)
        finally:
            os.close(fd)
        if hasher.hexdigest() != target.sha256:
            part.unlink(missing_ok=True)
            log.warning("%s: SHA-256 mismatch after download; discarded", target.sha256[:12])
            raise DamagedInTransit()
        os.replace(part, final)
        _fsync_dir(final.parent)
        return FetchResult(final, etag, already_present=False)

    def _resume_hash(self, sha256: str, have: int):
        """The hash kept from this run's last attempt, if it covers exactly the .part's bytes."""
        kept = self._hashed.pop(sha256, None)
        return kept[1] if kept is not None and kept[0] == have else None

    # ------------------------------------------------------------ the shared content folder

    def _copy_from_shared(self, target: FetchTarget, progress: ProgressFn, stop: threading.Event) -> bool:
        """Copy the blob from the shared folder, verified; False (and a log line) if it is not usable."""
        src = self.shared.path_for(target.sha256)
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
        final = self.blobs.path_for(target.sha256)
        tmp = final.with_name(f".shared-{target.sha256}.tmp")  # not a .part: keeps any download's bytes
        hasher = hashlib.sha256()
        copied = 0
        try:
            check_free_space(final.parent, size, self.disk_margin_bytes)
            with open(src, "rb") as fin, open(tmp, "wb") as fout:
                while block := fin.read(1024 * 1024):
                    if stop.is_set():
                        raise TransferInterrupted()
                    fout.write(block)
                    hasher.update(block)
                    copied += len(block)
                    progress(copied, 0)
                fout.flush()
                os.fsync(fout.fileno())
        except TransferInterrupted:
            tmp.unlink(missing_ok=True)
            raise
        except DiskFull:
            tmp.unlink(missing_ok=True)
            raise
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            log.warning("shared content %s could not be copied (%s); downloading instead", src, exc)
            return False
        if copied != target.size or hasher.hexdigest() != target.sha256:
            tmp.unlink(missing_ok=True)
            log.warning("shared content %s does not match its SHA-256 (damaged or replaced); ignored, "
                        "downloading instead", src)
            progress(0, 0)
            return False
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        self.blobs.part_path_for(target.sha256).unlink(missing_ok=True)
        log.info("%s copied from the shared content folder", target.sha256[:12])
        return True

    # ------------------------------------------------------------ one HTTP exchange

    def _one_request(self, fd, hasher, have: int, target: FetchTarget, etag, progress: ProgressFn, stop):
        url, send_token = self._resolve(target.url)
        headers = {"Accept-Encoding": "identity"}
        if send_token:
            headers["Authorization"] = f"Bearer {self.access_token()}"
        if have > 0:
            headers["Range"] = f"bytes={have}-"
            headers["If-Range"] = etag or f'"{target.sha256}"'
        got = 0
        try:
            with self.client.stream("GET", url, headers=headers, follow_redirects=True) as r:
                start, expected = self._check_response(r, have, target, send_token)
                if start != have:  # 200 to a range request: the server sent the whole file
                    log.info("%s: server ignored the range; starting again from 0", target.sha256[:12])
                    os.ftruncate(fd, 0)
                    have, hasher = 0, hashlib.sha256()
                    progress(0, 0)
                new_etag = r.headers.get("ETag")
                if new_etag and not new_etag.startswith("W/"):
                    etag = new_etag
                os.lseek(fd, have, os.SEEK_SET)
                base, base_hasher = have, hasher.copy()
                # No chunk_size here: httpx would hold back a partial chunk, and lose it if
                # the connection then broke. Every byte that arrives is written at once.
                for chunk in _pieces(r.iter_raw(), self.limiter.chunk_size(self.chunk_size)):
                    if stop.is_set() or not self.limiter.acquire(len(chunk), stop):
                        raise TransferInterrupted()
                    if got + len(chunk) > expected:
                        # More than announced: nothing from this reply can be trusted to line up.
                        os.ftruncate(fd, base)
                        hasher = base_hasher
                        progress(base, 0)
                        raise RetryableTransferError(
                            "The server sent more data than it announced; the extra was discarded."
                        )
                    _write_all(fd, chunk, have)
                    hasher.update(chunk)
                    have += len(chunk)
                    got += len(chunk)
                    progress(have, len(chunk))
                if got < expected:
                    self._hashed[target.sha256] = (have, hasher)
                    raise RetryableTransferError(_cut_message(have, target.size))
        except httpx.TimeoutException as exc:
            self._hashed[target.sha256] = (have, hasher)
            raise RetryableTransferError(
                f"The server stopped sending data (no answer in time) after {_mb(have)} of {_mb(target.size)}; "
                "the download will continue from there."
            ) from exc
        except httpx.TransportError as exc:
            self._hashed[target.sha256] = (have, hasher)  # every byte counted in `have` is hashed
            if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
                raise RetryableTransferError(
                    "The server cannot be reached (connection refused or no network); the download will "
                    "continue when it can."
                ) from exc
            raise RetryableTransferError(_cut_message(have, target.size)) from exc
        return have, hasher, etag

    def _check_response(self, r: httpx.Response, have: int, target: FetchTarget, send_token: bool) -> tuple[int, int]:
        """(offset the body starts at, body length) — or an exception saying why not."""
        status = r.status_code
        if status == 401 and send_token:
            raise _AuthExpired()
        if status == 416 and have > 0:
            raise _Restart("the server refused the resume range (416)")
        if status == 429 or status >= 500:
            what = "is busy (429)" if status == 429 else f"had a problem ({status})"
            raise RetryableTransferError(
                f"The server {what}; the download will be tried again shortly.",
                retry_after=parse_retry_after(r.headers.get("Retry-After")),
            )
        if status in (404, 410):
            raise PermanentTransferError(
                f"The server no longer has this file ({status}). Sync the catalog, then try again."
            )
        if status in (401, 403):
            raise PermanentTransferError(f"The server refused access to this file ({status}).")
        length = _content_length(r)
        encoding = r.headers.get("Content-Encoding", "identity").strip().lower()
        if status in (200, 206) and encoding not in ("", "identity"):
            raise RetryableTransferError(
                f"The server sent the file compressed ({encoding}) although asked not to; it was not used."
            )
        if status == 200:
            if length is not None and length != target.size:
                raise RetryableTransferError(
                    f"The server offered a file of {length} bytes where the catalog says {target.size}; "
                    "it was not used (a proxy or login page may be in the way)."
                )
            if have > 0 and length is None and r.headers.get("ETag") != (target.etag or f'"{target.sha256}"'):
                # Not clearly the whole file again (a proxy page?): keep the .part as it is.
                raise RetryableTransferError(
                    "The server answered a resume request with something that is not this file; "
                    "what was received so far is kept."
                )
            return 0, target.size
        if status == 206:
            m = _CONTENT_RANGE.match(r.headers.get("Content-Range", ""))
            if not m:
                raise _Restart("a partial reply came without a usable Content-Range")
            first, last, total = int(m.group(1)), int(m.group(2)), m.group(3)
            if first != have or last < first or last >= target.size or (total != "*" and int(total) != target.size):
                raise _Restart(
                    f"the server sent bytes {first}-{last}/{total} when asked for {have}-"
                )
            span = last - first + 1
            if length is not None and length != span:
                raise _Restart(f"Content-Length {length} does not match Content-Range {first}-{last}")
            return first, span
        if 400 <= status < 500:
            raise PermanentTransferError(f"The server refused the download ({status}).")
        raise RetryableTransferError(f"The server answered in an unexpected way ({status}).")

    def _resolve(self, url: str) -> tuple[str, bool]:
        """(absolute URL, whether the credit server's token may be sent to it)."""
        if url.startswith("/") and not url.startswith("//"):
            return self.server_url + url, True
        return url, _origin(url) == _origin(self.server_url)


class _Restart(Exception):
    """The reply does not line up with the .part: truncate and fetch from byte 0."""


class _AuthExpired(Exception):
    pass


# ---------------------------------------------------------------- helpers


def check_free_space(folder: Path, remaining: int, margin: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < remaining + margin:
        raise DiskFull(
            f"Not enough free disk space: this file needs {_mb(remaining)} more (plus {_mb(margin)} "
            f"kept free) and only {_mb(free)} are free. Free some space, then resume the download."
        )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now_dt = datetime.fromtimestamp(time.time() if now is None else now, tz=timezone.utc)
    return min(max(0.0, (when - now_dt).total_seconds()), MAX_RETRY_AFTER_S)


def _pieces(chunks, size: int):
    """Split what the network delivers into pieces of at most `size` (for the rate limiter)."""
    for chunk in chunks:
        if len(chunk) <= size:
            yield chunk
            continue
        view = memoryview(chunk)
        for i in range(0, len(chunk), size):
            yield bytes(view[i:i + size])


def _hash_existing(fd: int, length: int):
    """SHA-256 of the first `length` bytes already on disk (continued as new bytes arrive)."""
    hasher = hashlib.sha256()
    os.lseek(fd, 0, os.SEEK_SET)
    left = length
    while left > 0:
        block = os.read(fd, min(1024 * 1024, left))
        if not block:
            break
        hasher.update(block)
        left -= len(block)
    return hasher


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    try:
        while view:
            n = os.write(fd, view)
            view = view[n:]
    except OSError as exc:
        # Keep every good byte received so far, and nothing half-written after them.
        try:
            os.ftruncate(fd, offset)
        except OSError:
            pass
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise DiskFull(
                f"The disk is full: free some space, then resume the download. The {_mb(offset)} "
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


def _content_length(r: httpx.Response) -> int | None:
    value = r.headers.get("Content-Length")
    return int(value) if value and value.strip().isdigit() else None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _cut_message(have: int, size: int) -> str:
    return (
        f"The connection broke after {_mb(have)} of {_mb(size)}; the download will continue from there."
    )


def _mb(n: int) -> str:
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"
