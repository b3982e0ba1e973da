"""The credit server (or its CDN) as a blob source: resumable, checked, never misaligned.

`ServerSource` is the `BlobSource` (desktop/sync/sources.py) for the network;
`BlobStore.ingest` around it keeps `<sha256>.part`, hashes bytes as they arrive, verifies
and renames. What this module adds:

* a `.part` left by an earlier attempt (or an earlier run, or a killed process) is
  continued with `Range: bytes=N-` plus `If-Range: <strong ETag>`, so a byte already kept
  is never fetched again;
* every response is checked before a byte of it is written: the status, `Content-Range`
  (start must be exactly N, total the catalog's size) and `Content-Length`. A 200 to a
  range request means the server ignored the range: the `.part` is truncated and the file
  restarts from 0. A wrong `Content-Range` also restarts from 0. Misaligned bytes are
  never appended;
* the bandwidth cap (`BandwidthLimiter`, shared by every transfer) and the stop event are
  honoured between two pieces;
* a 401 to the access token raises `AccessExpired`, so the caller's `authorized` (the
  signature of `Account.authorized`) refreshes the token once and asks again.

Only the catalog's validated SHA-256 names files: nothing from the network becomes a path.
The access token is sent to the credit server only (server-relative URLs, or absolute
URLs on the same origin); a CDN on another host gets no token.

Redirects are followed here, not by httpx (at most MAX_REDIRECTS): the server may answer
`307` to a short-lived signed link on a static server (creditserver/media_links.py). Each
target must pass the server address rule (`desktop.addresses.may_download_from`: https, or
http only to this computer), gets Range and If-Range, and gets the token only if it is the
server's own origin. A static server that refuses the link it was sent to (403, 410:
expired or not valid) is a retry, and the retry asks the server again for a fresh link;
an asset's address in the catalog stays the server's, so a resume always starts there.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from cmecore.protocol import ProblemType
from desktop.addresses import may_download_from
from desktop.cache.blobstore import Incoming, TransferInterrupted, size_text
from desktop.errors import (
    AccessExpired,
    DamagedInTransit,
    MediaWithdrawn,
    PermanentTransferError,
    RetryableTransferError,
)
from desktop.logs import redact
from desktop.sync.downloads_ratelimit import BandwidthLimiter
from desktop.sync.sources import BlobSource, FetchTarget

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 3600.0
MAX_RESTARTS_PER_FETCH = 3
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)

T = TypeVar("T")
Authorized = Callable[[Callable[[str], T]], T]  # Account.authorized: call(access_token), once more after a 401


class ServerSource(BlobSource):
    resumable = True
    remote = True

    def __init__(self, client: httpx.Client, *, server_url: str, authorized: Authorized,
                 limiter: BandwidthLimiter | None = None, chunk_size: int = 64 * 1024):
        self.client = client
        self.server_url = server_url.rstrip("/")
        self.authorized = authorized
        self.limiter = limiter or BandwidthLimiter(None)
        self.chunk_size = chunk_size

    def fill(self, part: Incoming, target: FetchTarget) -> None:
        etag = target.etag
        restarts = 0
        while part.have < target.size:
            if part.stop.is_set():
                raise TransferInterrupted()
            try:
                etag = self._request(part, target, etag)
            except _Restart as why:
                restarts += 1
                if restarts > MAX_RESTARTS_PER_FETCH:
                    raise RetryableTransferError(str(why)) from None
                log.info("%s: %s; restarting from byte 0", target.sha256[:12], why)
                part.restart()
        target.etag = etag

    def damaged(self, target: FetchTarget) -> Exception:
        log.warning("%s: SHA-256 mismatch after download; discarded", target.sha256[:12])
        return DamagedInTransit()

    def _request(self, part: Incoming, target: FetchTarget, etag: str | None) -> str | None:
        url, send_token = self._resolve(target.url)
        if not may_download_from(url):
            raise _refused_address(url)
        if not send_token:
            return self._exchange(part, target, etag, url, None)
        return self.authorized(lambda token: self._exchange(part, target, etag, url, token))

    # ------------------------------------------------------------ one HTTP exchange

    def _exchange(self, part: Incoming, target: FetchTarget, etag, url: str, token: str | None) -> str | None:
        """One GET; returns the strong validator to send with the next range request."""
        headers = {"Accept-Encoding": "identity"}
        if part.have > 0:
            headers["Range"] = f"bytes={part.have}-"
            headers["If-Range"] = etag or f'"{target.sha256}"'
        got = 0
        try:
            with self._open(url, headers, token) as (r, sent_token, redirected):
                start, expected = self._check_response(r, part.have, target, sent_token, redirected)
                if start != part.have:  # 200 to a range request: the server sent the whole file
                    log.info("%s: server ignored the range; starting again from 0", target.sha256[:12])
                    part.restart()
                new_etag = r.headers.get("ETag")
                if new_etag and not new_etag.startswith("W/"):
                    etag = new_etag
                base = part.mark()
                # No chunk_size here: httpx would hold back a partial chunk, and lose it if
                # the connection then broke. Every byte that arrives is written at once.
                for chunk in _pieces(r.iter_raw(), self.limiter.chunk_size(self.chunk_size)):
                    if part.stop.is_set() or not self.limiter.acquire(len(chunk), part.stop):
                        raise TransferInterrupted()
                    if got + len(chunk) > expected:
                        # More than announced: nothing from this reply can be trusted to line up.
                        part.rewind(base)
                        raise RetryableTransferError(
                            "The server sent more data than it announced; the extra was discarded.", discarded=True
                        )
                    part.write(chunk)
                    got += len(chunk)
                if got < expected:
                    raise RetryableTransferError(_cut_message(part.have, target.size))
        except httpx.TimeoutException as exc:
            raise RetryableTransferError(
                f"The server stopped sending data (no answer in time) after {size_text(part.have)} of "
                f"{size_text(target.size)}; the download will continue from there."
            ) from exc
        except httpx.TransportError as exc:
            if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
                raise RetryableTransferError(
                    "The server cannot be reached (connection refused or no network); the download will "
                    "continue when it can."
                ) from exc
            raise RetryableTransferError(_cut_message(part.have, target.size)) from exc
        return etag

    @contextmanager
    def _open(self, url: str, headers: dict[str, str], token: str | None) -> Iterator[tuple[httpx.Response, bool, bool]]:
        """GET `url`, following redirects by hand (module docstring). Yields the final
        response, whether it carried the token, and whether it came after a redirect."""
        for hops in range(MAX_REDIRECTS + 1):
            sent_token = token is not None and _origin(url) == _origin(self.server_url)
            send = {**headers, "Authorization": f"Bearer {token}"} if sent_token else headers
            with self.client.stream("GET", url, headers=send, follow_redirects=False) as r:
                location = r.headers.get("Location") if r.status_code in REDIRECTS else None
                if location is None:
                    yield r, sent_token, hops > 0
                    return
            url = str(r.url.join(location))
            if not may_download_from(url):
                raise _refused_address(url)
        raise RetryableTransferError("The server redirected the download too many times; it will be tried again later.")

    def _check_response(self, r: httpx.Response, have: int, target: FetchTarget, send_token: bool,
                        redirected: bool) -> tuple[int, int]:
        """(offset the body starts at, body length) — or an exception saying why not."""
        status = r.status_code
        if status == 401 and send_token:
            raise AccessExpired()
        if status in (403, 410) and redirected:
            raise RetryableTransferError(
                f"The media server refused the download link the credit server gave ({status}: expired or not "
                "valid); a new link will be asked for.")
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
        if status == 403 and _problem_type(r) == ProblemType.activity_withdrawn:
            raise MediaWithdrawn()
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


# ---------------------------------------------------------------- helpers


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


def _content_length(r: httpx.Response) -> int | None:
    value = r.headers.get("Content-Length")
    return int(value) if value and value.strip().isdigit() else None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _refused_address(url: str) -> PermanentTransferError:
    return PermanentTransferError(
        f"The download was sent to {redact(_without_query(url))}, which is not an encrypted (https://) address, "
        "so it was not fetched. Ask your provider to serve media over https.")


def _without_query(url: str) -> str:
    """A link without its query: a signed link's signature does not belong in a message or a log."""
    return url.split("?", 1)[0].split("#", 1)[0]


def _cut_message(have: int, size: int) -> str:
    return (
        f"The connection broke after {size_text(have)} of {size_text(size)}; the download will continue from there."
    )


def _problem_type(r: httpx.Response) -> str | None:
    """The `type` of a small problem+json refusal (read in full: at most 16 KiB), else None."""
    length = _content_length(r)
    if "json" not in r.headers.get("Content-Type", "") or length is None or length > 16 * 1024:
        return None
    try:
        doc = json.loads(r.read())
    except (ValueError, httpx.HTTPError):
        return None
    return doc.get("type") if isinstance(doc, dict) and isinstance(doc.get("type"), str) else None
