"""Content packs: activities and their media in one file, for machines with no network.

A pack is a zip file holding exactly:

* `manifest.json` — `{"format": "cme-offline-content-pack", "format_version": 2,
  "created_at", "server_url", "issue", "issue_key_id", "issue_signature",
  "activities": [{"activity", "key_id", "signature"}], "blobs": [{"sha256", "size"}]}`;
  each `activity` is the JSON exactly as the credit server published and signed it, and
  `issue` is what the server signed over the whole pack (`POST /packs/issue`,
  cmecore.pack_issue): the catalog revision and time it was issued at and each activity's
  id, version and digest. Version 1 packs (no issue) are still read: their revision is
  unknown, so they are older than any withdrawal this computer knows of;
* `blobs/<sha256>` — one member per blob in the manifest, nothing else.

Each video goes in the forms IT chose to carry (`pack export --quality small,audio`, by
the one rule in desktop/sync/carry.py, within the policy maximum): the blobs list says which.
The manifest has no field for it, so a pack of originals is still read by older clients;
an older client refuses a pack without the original, whole, as a pack missing a file.

Never learner data: no attempts, claims, progress, tokens or settings.

Import is all or nothing. The whole pack is checked before anything changes: the member
list (only the names above: a `../` or absolute name is refused, and member names are
never used as paths — blobs are addressed by the manifest's SHA-256 only), the manifest
(schema, size caps), each activity's Ed25519 signature against the server key this
computer already has (kept at sign-in, or the policy's `server_public_key`), the issue's
signature and that it names exactly these activities, every asset of every activity
present in the pack with its size (a video: at least one of its forms; desktop/sync/pack_manifest.py), every blob's SHA-256 (streamed into a staging store
beside the blob store, by `BlobStore.ingest` with a `PackSource`). Only then are the blobs
moved into the store and the activities written in one transaction; if that transaction
fails, the blobs just placed are removed again. The forms imported are then on this
computer like downloaded ones: a learner whose quality they match plays them with no download.
A form above this computer's policy maximum (`max_download_quality`) is not imported (IT set
it for disk or bandwidth reasons); an activity whose video the pack holds only above it is
imported without that video, which Download then fetches in an allowed form. The report says both.

Within a good pack, an activity is left out — and the import says so — when this computer
holds it in a newer version, or knows the provider withdrew it after the pack was issued
(desktop/cache/catalog_store.apply_activities); the rest is imported.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from cmecore import protocol
from cmecore.pack_issue import PackIssue
from cmecore.private_files import PRIVATE_DIR
from cmecore.renditions import QUALITY_LABELS, RANK, Quality, offered
from cmecore.signatures import verify_activity, verify_pack_issue
from desktop.cache.blobstore import BlobStore, LocalState, check_free_space
from desktop.cache.catalog_store import apply_activities, pack_skips
from desktop.cache.db import Database
from desktop.errors import PackRefused, TransferError
from desktop.sync.account import Account
from desktop.sync.api import CreditServerApi
from desktop.sync.carry import CarriedFile, carried_files, files_within, no_form_allowed
from desktop.sync.pack_manifest import (FORMAT, FORMAT_VERSION, MANIFEST, activity_model, brief, check_pack,
                                        known_keys)
from desktop.sync.prefetch import PrefetchReport
from desktop.sync.sources import FetchTarget, PackSource

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ExportReport:
    path: Path
    activity_ids: list[str]
    blobs: int
    bytes: int
    qualities: list[Quality] = field(default_factory=list)  # the videos' forms asked for (desktop/sync/carry.py)


@dataclass(frozen=True)
class ImportReport:
    activity_ids: list[str]  # activities written to the library
    kept_newer: list[str] = field(default_factory=list)  # already here in a newer version: left as they were
    withdrawn: list[str] = field(default_factory=list)  # withdrawn by the provider after the pack was issued
    blobs_added: int = 0
    blobs_present: int = 0  # verified in the pack, already in the store
    catalog_revision: int | None = None  # the pack's signed issue; None for a version 1 pack
    issued_at: datetime | None = None
    video_forms: list[Quality] = field(default_factory=list)  # the forms its videos came in, largest first
    maximum: Quality | None = None  # this computer's policy maximum (max_download_quality)
    # activity -> the forms of its videos the pack held above `maximum`: not imported
    above_maximum: dict[str, list[Quality]] = field(default_factory=dict)
    # activities imported without a video: it came only in forms above `maximum`
    without_video: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """What happened, in words: "2 activities were older than what you have; 1 was withdrawn
        by the provider; 5 imported." """
        parts = []
        if self.kept_newer:
            n = len(self.kept_newer)
            parts.append(f"{_count(n, 'activity', 'activities')} {'was' if n == 1 else 'were'} older than what you have")
        if self.withdrawn:
            n = len(self.withdrawn)
            parts.append(f"{_count(n, 'activity', 'activities') if not parts else str(n)} "
                         f"{'was' if n == 1 else 'were'} withdrawn by the provider")
        imported = len(self.activity_ids)
        parts.append(f"{imported} imported" if parts else f"{_count(imported, 'activity', 'activities')} imported")
        return "; ".join(parts) + "."

    @property
    def policy_notes(self) -> list[str]:
        """What this computer's policy maximum kept out, in words (empty: nothing)."""
        if self.maximum is None or not self.above_maximum:
            return []
        most = QUALITY_LABELS[self.maximum]
        notes = []
        partly = {a: qs for a, qs in self.above_maximum.items() if a not in self.without_video}
        if partly:
            notes.append(f"Not imported, above this computer's policy maximum ({most}): "
                         + "; ".join(f"the {_labels(qs)} video of {a}" for a, qs in partly.items()) + ".")
        if self.without_video:
            notes.append(f"Imported without their video, which the pack held only above this computer's policy "
                         f"maximum ({most}): {', '.join(self.without_video)}. Use Download (or `cme-offline download`) "
                         "to fetch it in an allowed form.")
        return notes


# ---------------------------------------------------------------- export


def export_pack(
    activity_ids: list[str], out: Path, *, db: Database, store: BlobStore, api: CreditServerApi, account: Account,
    server_url: str, policy_key: str | None, sync: Callable[[], object], qualities: list[Quality],
    maximum: Quality | None, fetch: Callable[[BlobStore, list[CarriedFile]], PrefetchReport],
) -> ExportReport:
    """Sign-in and network needed: `sync()` first (the catalog as the server has it now, and
    proof that it is reachable), then the signed metadata comes from the server. Each video
    goes in the forms carried for `qualities` within `maximum` (desktop/sync/carry.py); media
    come from `store`, and those it lacks are fetched by `fetch` into a staging store beside it,
    removed once the pack is written (this computer's own files stay as they were)."""
    ids = list(dict.fromkeys(activity_ids))
    if not ids:
        raise PackRefused("Name at least one activity to put in the pack.")
    sync()
    key = known_keys(db, server_url, policy_key)
    issued = account.authorized(lambda token: api.pack_issue(token, ids))
    for item in [issued, *issued.activities]:
        if key.get(item.key_id) is None:
            key[item.key_id] = _fetch_key(api, item.key_id)
    if not verify_pack_issue(issued.issue, issued.signature, key[issued.key_id], issued.key_id):
        raise PackRefused("The server's signature on the pack's issue does not verify; no pack was written.")
    signed = list(issued.activities)
    for activity_id, item in zip(ids, signed, strict=True):
        if not verify_activity(item.activity, item.signature, key[item.key_id], item.key_id):
            raise PackRefused(f"The server's signature on {activity_id!r} does not verify; no pack was written.")
    activities = [activity_model(item.activity, f"activity {i + 1}") for i, item in enumerate(signed)]

    files: dict[str, CarriedFile] = {}
    for activity in activities:
        for asset in activity.assets:
            carried = carried_files(activity.id, asset, qualities, maximum)
            if not carried:
                raise PackRefused(f"The {asset.kind} of {activity.id!r} cannot go in the pack: "
                                  f"{no_form_allowed(maximum)}. No pack was written.")
            files.update((f.sha256, f) for f in carried)
    staging = BlobStore(store.root / f".pack-export-{uuid.uuid4().hex}")
    try:
        missing = [f for f in files.values() if not store.path_for(f.sha256).is_file()]
        if missing:
            store.make_folder(store.root)
            report = fetch(staging, missing)
            if report.failures:
                first = report.failures[0]
                raise PackRefused(f"{len(report.failures)} file(s) of these activities could not be downloaded "
                                  f"(the {first.kind} of {first.activity_id}: {first.error}); no pack was written.")
        held = {sha: (store if store.path_for(sha).is_file() else staging).path_for(sha) for sha in files}
        if any(not path.is_file() for path in held.values()):  # e.g. removed from the store meanwhile
            raise PackRefused("A file of these activities went missing while the pack was made; no pack was written.")
        return _write_pack(out, issued, signed, server_url, held, files, qualities)
    finally:
        shutil.rmtree(staging.root, ignore_errors=True)


def _write_pack(out: Path, issued, signed, server_url: str, held: dict[str, Path], files: dict[str, CarriedFile],
                qualities: list[Quality]) -> ExportReport:
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": str(issued.issue.get("issued_at", "")),
        "server_url": server_url,
        "issue": issued.issue,
        "issue_key_id": issued.key_id,
        "issue_signature": issued.signature,
        "activities": [{"activity": i.activity, "key_id": i.key_id, "signature": i.signature} for i in signed],
        "blobs": [{"sha256": sha, "size": f.size} for sha, f in files.items()],
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    total = 0
    try:
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(zipfile.ZipInfo(MANIFEST, date_time=(1980, 1, 1, 0, 0, 0)),
                        json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"),
                        compress_type=zipfile.ZIP_DEFLATED)
            for sha, f in files.items():
                info = zipfile.ZipInfo(f"blobs/{sha}", date_time=(1980, 1, 1, 0, 0, 0))
                with open(held[sha], "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
                total += f.size
        with open(part, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(part, out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    ids = [item.activity["id"] for item in signed]
    log.info("content pack %s written: %d activities, %d files (videos: %s)", out, len(ids), len(files),
             ", ".join(qualities))
    return ExportReport(out, ids, len(files), total, list(qualities))


def _fetch_key(api: CreditServerApi, key_id: str) -> str:
    for k in api.keys().keys:
        if k.key_id == key_id:
            return k.public_key
    raise PackRefused(f"The server signed with a key ({key_id}) it does not list; no pack was written.")


# ---------------------------------------------------------------- import


def import_pack(
    path: Path, *, db: Database, store: BlobStore, server_url: str | None, policy_key: str | None,
    maximum: Quality | None, on_blob_added: Callable[[str], None],
) -> ImportReport:
    """Works offline. `on_blob_added(sha256)` is told of each transcript and summary imported
    (to index them for search, as if downloaded). A video's forms above `maximum` (this
    computer's policy) are checked with the pack but not imported; an activity whose video
    the pack holds only above it is imported without that video."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise PackRefused(f"There is no file {str(path)!r}.") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
        raise PackRefused(f"{path.name} is not a readable content pack (damaged or incomplete: {brief(exc)}); "
                          "nothing was imported.") from None
    staging = store.root / f".pack-import-{uuid.uuid4().hex}"
    try:
        with zf:
            manifest, issue, activities, blobs = check_pack(known_keys(db, server_url, policy_key), zf, path.name)
            revision = issue.catalog_revision if issue else None
            # The files of an activity left out (older, withdrawn) are not taken in, unless another uses them.
            skipped = pack_skips(db, activities, revision)
            kept = [a for a in activities if a.id not in skipped]
            needed = {sha for a in kept for asset in a.assets for sha in files_within(asset, maximum)}
            above = _above_maximum(kept, blobs, needed)
            blobs = {sha: size for sha, size in blobs.items() if sha in needed}
            present = _stage_blobs(store, zf, blobs, staging, path.name)
        report = _apply(db, store, activities, blobs, present, staging, on_blob_added, issue)
        return replace(report, maximum=maximum, above_maximum={a: q for a, q in above.items()
                                                               if a in report.activity_ids},
                       without_video=[a for a in report.activity_ids if _without_video(a, kept, blobs, store)])
    except PackRefused:
        raise
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError,
            zlib.error) as exc:
        raise PackRefused(f"{path.name} is damaged or incomplete ({brief(exc)}); nothing was imported.") from None
    except OSError as exc:
        raise PackRefused(f"{path.name} could not be read or stored ({brief(exc.strerror or exc)}); "
                          "nothing was imported.") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stage_blobs(store: BlobStore, zf: zipfile.ZipFile, blobs: dict[str, int], staging: Path, name: str) -> set[str]:
    """Ingest every blob the store lacks into a store at `staging` (verified: size and SHA-256)
    and check the others without keeping them; returns those already in the store."""
    present = {sha for sha in blobs if store.path_for(sha).is_file()}
    store.make_folder(store.root)
    staging.mkdir(mode=PRIVATE_DIR)  # a learner-private store while the pack is checked
    source = PackSource(zf, name)
    try:
        check_free_space(staging, sum(size for sha, size in blobs.items() if sha not in present), 0)
        for sha, size in blobs.items():
            target = FetchTarget(sha, size)  # named by the manifest's checked digest, never by a member name
            if sha in present:
                store.check(source, target)
            else:
                BlobStore(staging).ingest(source, target)
    except TransferError as exc:  # a full disk, a file that cannot be written
        raise PackRefused(f"{exc} Nothing was imported.") from None
    return present


def _apply(db: Database, store: BlobStore, activities: list[protocol.Activity], blobs: dict[str, int],
           present: set[str], staging: Path, on_blob_added: Callable[[str], None],
           issue: PackIssue | None) -> ImportReport:
    placed: list[Path] = []
    try:
        for sha in blobs:
            # None: arrived meanwhile (a download), the same verified bytes
            if sha not in present and (path := store.adopt(BlobStore(staging), sha)) is not None:
                placed.append(path)
        applied = apply_activities(db, activities, synced_at=datetime.now(timezone.utc).replace(tzinfo=None),
                                   issued_revision=issue.catalog_revision if issue else None)
    except BaseException:
        for p in placed:
            p.unlink(missing_ok=True)
        raise
    # Transcripts and summaries become searchable as if they had been downloaded.
    for activity in activities:
        if activity.id not in applied.written:
            continue
        for asset in activity.assets:
            if asset.kind in ("transcript", "summary"):
                on_blob_added(asset.sha256)
    forms = {f.quality for a in activities if a.id in applied.written for asset in a.assets
             for f in offered(asset) if f.sha256 in blobs}
    log.info("content pack imported (catalog revision %s): %d activities, %d kept newer, %d withdrawn, "
             "%d files added, %d already here", issue.catalog_revision if issue else "unknown", len(applied.written),
             len(applied.older), len(applied.withdrawn), len(placed), len(present))
    return ImportReport(applied.written, applied.older, applied.withdrawn, len(placed), len(present),
                        issue.catalog_revision if issue else None, issue.issued_at if issue else None,
                        sorted(forms, key=RANK.__getitem__))


def _above_maximum(activities: list[protocol.Activity], blobs: dict[str, int],
                   needed: set[str]) -> dict[str, list[Quality]]:
    """activity -> the forms of its videos the pack holds that this computer's maximum keeps out."""
    above: dict[str, list[Quality]] = {}
    for activity in activities:
        out = {f.quality for asset in activity.assets for f in offered(asset)
               if f.sha256 in blobs and f.sha256 not in needed}
        if out:
            above[activity.id] = sorted(out, key=RANK.__getitem__)
    return above


def _without_video(activity_id: str, activities: list[protocol.Activity], imported: dict[str, int],
                   store: BlobStore) -> bool:
    """Whether a video of this activity has none of its forms among the files imported or
    already on this computer."""
    activity = next(a for a in activities if a.id == activity_id)

    def here(sha: str) -> bool:
        return sha in imported or store.state(sha) is LocalState.present

    return any(forms and not any(here(f.sha256) for f in forms)
               for forms in (offered(asset) for asset in activity.assets))


# ---------------------------------------------------------------- helpers


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _labels(qualities: list[Quality]) -> str:
    return " and ".join(QUALITY_LABELS[q] for q in qualities)
