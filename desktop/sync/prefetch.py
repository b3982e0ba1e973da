"""`cme-offline prefetch --into DIR`: fill a shared content folder for IT (a scheduled task).

DIR gets the blob store's layout (`ab/<sha256>`), so clients whose policy names it as
`shared_content_dir` copy files from there instead of downloading them. The transfer is
the app's own: `BlobStore(DIR).ingest` from a `ServerSource`, resumable (`.part` files in
DIR, continued with Range/If-Range), verified by SHA-256 before the rename, retried with
backoff on connection trouble. The learner's own download queue and blob store are not
touched, and nothing about any learner is written to DIR.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

from desktop.cache import models as m
from desktop.cache.blobstore import BlobStore, TransferInterrupted
from desktop.cache.db import Database
from desktop.cache.video_forms import every_video_forms
from cmecore.renditions import Quality
from desktop.errors import TransferError, UnknownActivity
from desktop.sync.account import Account
from desktop.sync.carry import CarriedFile, carried_forms, no_form_allowed
from desktop.sync.downloads_data import DownloadPolicy
from desktop.sync.downloads_ratelimit import BandwidthLimiter
from desktop.sync.downloads_transfer import ServerSource
from desktop.sync.sources import BlobFetcher, FetchTarget

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrefetchFailure:
    activity_id: str
    kind: str
    sha256: str
    error: str
    form: Quality | None = None  # a video's form (None: a transcript or summary)


@dataclass
class PrefetchReport:
    fetched: int = 0  # files that arrived in this run
    present: int = 0  # files DIR already had
    bytes_fetched: int = 0
    failures: list[PrefetchFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def prefetch(db: Database, folder: Path, activity_ids: list[str] | None, *, qualities: list[Quality],
             maximum: Quality | None, server_url: str, account: Account,
             new_client: Callable[[httpx.Timeout], httpx.Client], policy: DownloadPolicy,
             stop: threading.Event | None = None) -> PrefetchReport:
    """Fetch into `folder` the files of these activities (None: all) as the catalog in `db` lists
    them, each video in the forms carried for `qualities` within `maximum` (desktop/sync/carry.py),
    from `server_url` with `account`'s token over a client from `new_client(timeout)`."""
    files, failures = _targets(db, server_url, activity_ids, qualities, maximum)
    folder.mkdir(parents=True, exist_ok=True)
    store = BlobStore(folder, private=False)  # shared with every user of the computer
    report = fetch_files(store, files, server_url=server_url, account=account, new_client=new_client,
                         policy=policy, stop=stop)
    report.failures[:0] = failures
    return report


def fetch_files(store: BlobStore, files: list[CarriedFile], *, server_url: str, account: Account,
                new_client: Callable[[httpx.Timeout], httpx.Client], policy: DownloadPolicy,
                stop: threading.Event | None = None) -> PrefetchReport:
    """Bring each of `files` into `store` from the server (those it has are counted as present):
    resumable, verified, retried with backoff. A file that fails is reported and the next one tried."""
    stop = stop or threading.Event()
    client = new_client(httpx.Timeout(policy.connect_timeout_s, read=policy.read_timeout_s))
    server_source = ServerSource(client, server_url=server_url, authorized=account.authorized,
                                 limiter=BandwidthLimiter(policy.bandwidth_bytes_per_s), chunk_size=policy.chunk_size)
    fetcher = BlobFetcher(store, [server_source], disk_margin_bytes=policy.disk_margin_bytes)
    report = PrefetchReport()
    try:
        for file in files:
            if store.path_for(file.sha256).is_file():
                report.present += 1
                continue
            received = [0]

            def progress(_in_part: int, got: int) -> None:
                received[0] += got

            target = FetchTarget(file.sha256, file.size, file.url)
            for attempt in range(1, policy.max_attempts + 1):
                try:
                    fetcher.fetch(target, progress=progress, stop=stop)
                except TransferInterrupted:
                    return report
                except TransferError as exc:
                    if exc.retryable and attempt < policy.max_attempts:
                        delay = exc.retry_after if exc.retry_after is not None else policy.backoff_s(attempt)
                        log.info("prefetch %s attempt %d: %s; retry in %.1fs", file.sha256[:12], attempt,
                                 exc.message, delay)
                        if stop.wait(delay):
                            return report
                        continue
                    report.failures.append(PrefetchFailure(file.activity_id, file.kind, file.sha256,
                                                           exc.what if exc.retryable else exc.message, file.form))
                    break
                else:
                    report.fetched += 1
                    break
            report.bytes_fetched += received[0]
    finally:
        client.close()
    return report


def _targets(db: Database, server_url: str, activity_ids: list[str] | None, qualities: list[Quality],
             maximum: Quality | None) -> tuple[list[CarriedFile], list[PrefetchFailure]]:
    """The files to fetch, once each, and a failure for each video with no form within `maximum`."""
    with db.read() as s:
        if activity_ids is not None:
            known = set(s.scalars(select(m.Activity.id).where(m.Activity.id.in_(activity_ids))))
            missing = [a for a in activity_ids if a not in known]
            if missing:
                raise UnknownActivity(f"No activity {missing[0]!r} is in the catalog of {server_url}.")
        query = select(m.Asset).order_by(m.Asset.activity_id, m.Asset.position)
        if activity_ids is not None:
            query = query.where(m.Asset.activity_id.in_(activity_ids))
        assets = [CarriedFile(a.activity_id, a.sha256, a.size, a.url, a.kind) for a in s.scalars(query)]
    # each video's forms, largest first (the original, which the asset row names, first)
    videos = {(activity_id, forms[0].sha256): forms
              for activity_id, every in every_video_forms(db, activity_ids).items() for forms in every}
    seen: set[str] = set()
    out: list[CarriedFile] = []
    failures: list[PrefetchFailure] = []
    for a in assets:
        forms = videos.get((a.activity_id, a.sha256)) if a.kind == "video" else None
        if forms:  # every video of the activity, in the forms carried
            files = [CarriedFile(a.activity_id, f.sha256, f.size, f.url, a.kind, f.quality)
                     for f in carried_forms(forms, qualities, maximum)]
        else:  # a transcript, a summary
            files = [a]
        if not files:
            failures.append(PrefetchFailure(a.activity_id, a.kind, a.sha256, no_form_allowed(maximum)))
        for f in files:
            if f.sha256 not in seen:
                seen.add(f.sha256)
                out.append(f)
    return out, failures
