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

Never learner data: no attempts, claims, progress, tokens or settings.

Import is all or nothing. The whole pack is checked before anything changes: the member
list (only the names above: a `../` or absolute name is refused, and member names are
never used as paths — blobs are addressed by the manifest's SHA-256 only), the manifest
(schema, size caps), each activity's Ed25519 signature against the server key this
computer already has (kept at sign-in, or the policy's `server_public_key`), the issue's
signature and that it names exactly these activities, every asset of every activity
present in the pack with its size, every blob's SHA-256 (streamed into a staging store
beside the blob store, by `BlobStore.ingest` with a `PackSource`). Only then are the blobs
moved into the store and the activities written in one transaction; if that transaction
fails, the blobs just placed are removed again.

Within a good pack, an activity is left out — and the import says so — when this computer
holds it in a newer version, or knows the provider withdrew it after the pack was issued
(desktop/cache/catalog_store.apply_activities); the rest is imported.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from cmecore import protocol
from cmecore.pack_issue import PackIssue
from cmecore.private_files import PRIVATE_DIR
from cmecore.signatures import activity_digest, key_id_for, verify_activity, verify_pack_issue
from desktop.cache.blobstore import BlobStore, check_free_space
from desktop.cache.catalog_store import apply_activities, pack_skips
from desktop.cache.db import Database
from desktop.cache.server_state import signing_key
from desktop.errors import PackRefused, TransferError
from desktop.sync.account import Account
from desktop.sync.api import CreditServerApi
from desktop.sync.sources import FetchTarget, PackSource

log = logging.getLogger(__name__)

FORMAT = "cme-offline-content-pack"
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
MAX_ACTIVITIES = 2000
MAX_BLOBS = 20_000
_BLOB_MEMBER = re.compile(r"^blobs/([0-9a-f]{64})$")


# ---------------------------------------------------------------- the manifest


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PackActivity(_Strict):
    activity: dict[str, Any]
    key_id: protocol.KeyId
    signature: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{80,100}$")]


class PackBlob(_Strict):
    sha256: protocol.Sha256
    size: Annotated[int, Field(ge=0, le=50 * 1024**3)]


class PackManifest(_Strict):
    format: Literal["cme-offline-content-pack"]
    format_version: Literal[1, 2]
    created_at: Annotated[str, StringConstraints(max_length=64)]
    server_url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    # version 2: the server's signed issue (cmecore.pack_issue.PackIssue), kept as raw JSON
    issue: dict[str, Any] | None = None
    issue_key_id: protocol.KeyId | None = None
    issue_signature: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{80,100}$")] | None = None
    activities: Annotated[list[PackActivity], Field(min_length=1, max_length=MAX_ACTIVITIES)]
    blobs: Annotated[list[PackBlob], Field(max_length=MAX_BLOBS)]


@dataclass(frozen=True)
class ExportReport:
    path: Path
    activity_ids: list[str]
    blobs: int
    bytes: int


@dataclass(frozen=True)
class ImportReport:
    activity_ids: list[str]  # activities written to the library
    kept_newer: list[str] = field(default_factory=list)  # already here in a newer version: left as they were
    withdrawn: list[str] = field(default_factory=list)  # withdrawn by the provider after the pack was issued
    blobs_added: int = 0
    blobs_present: int = 0  # verified in the pack, already in the store
    catalog_revision: int | None = None  # the pack's signed issue; None for a version 1 pack
    issued_at: datetime | None = None

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


# ---------------------------------------------------------------- export


def export_pack(
    activity_ids: list[str], out: Path, *, db: Database, store: BlobStore, api: CreditServerApi, account: Account,
    server_url: str, policy_key: str | None, sync: Callable[[], object], download: Callable[[list[str]], object],
) -> ExportReport:
    """Sign-in and network needed: `sync()` first (the catalog as the server has it now, and
    proof that it is reachable), then the signed metadata comes from the server; media come
    from `store`, after `download(activity_ids)` if any is missing."""
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
    activities = [_activity_model(item.activity, f"activity {i + 1}") for i, item in enumerate(signed)]

    blobs: dict[str, int] = {}
    for activity in activities:
        for asset in activity.assets:
            blobs[asset.sha256] = asset.size
    if any(not store.path_for(sha).is_file() for sha in blobs):
        download(ids)
    missing = [sha for sha in blobs if not store.path_for(sha).is_file()]
    if missing:
        raise PackRefused(
            f"{len(missing)} file(s) of these activities could not be downloaded (see `cme-offline status`); "
            "no pack was written."
        )

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": str(issued.issue.get("issued_at", "")),
        "server_url": server_url,
        "issue": issued.issue,
        "issue_key_id": issued.key_id,
        "issue_signature": issued.signature,
        "activities": [{"activity": i.activity, "key_id": i.key_id, "signature": i.signature} for i in signed],
        "blobs": [{"sha256": sha, "size": size} for sha, size in blobs.items()],
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
            for sha, size in blobs.items():
                info = zipfile.ZipInfo(f"blobs/{sha}", date_time=(1980, 1, 1, 0, 0, 0))
                with open(store.path_for(sha), "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
                total += size
        with open(part, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(part, out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    log.info("content pack %s written: %d activities, %d files", out, len(ids), len(blobs))
    return ExportReport(out, ids, len(blobs), total)


def _fetch_key(api: CreditServerApi, key_id: str) -> str:
    for k in api.keys().keys:
        if k.key_id == key_id:
            return k.public_key
    raise PackRefused(f"The server signed with a key ({key_id}) it does not list; no pack was written.")


# ---------------------------------------------------------------- import


def import_pack(
    path: Path, *, db: Database, store: BlobStore, server_url: str | None, policy_key: str | None,
    on_blob_added: Callable[[str], None],
) -> ImportReport:
    """Works offline. `on_blob_added(sha256)` is told of each transcript and summary imported
    (to index them for search, as if downloaded)."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise PackRefused(f"There is no file {str(path)!r}.") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
        raise PackRefused(f"{path.name} is not a readable content pack (damaged or incomplete: {_brief(exc)}); "
                          "nothing was imported.") from None
    staging = store.root / f".pack-import-{uuid.uuid4().hex}"
    try:
        with zf:
            manifest, issue, activities, blobs = _check_pack(known_keys(db, server_url, policy_key), zf, path.name)
            revision = issue.catalog_revision if issue else None
            # The files of an activity left out (older, withdrawn) are not taken in, unless another uses them.
            skipped = pack_skips(db, activities, revision)
            needed = {asset.sha256 for a in activities if a.id not in skipped for asset in a.assets}
            blobs = {sha: size for sha, size in blobs.items() if sha in needed}
            present = _stage_blobs(store, zf, blobs, staging, path.name)
        return _apply(db, store, activities, blobs, present, staging, on_blob_added, issue)
    except PackRefused:
        raise
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError,
            zlib.error) as exc:
        raise PackRefused(f"{path.name} is damaged or incomplete ({_brief(exc)}); nothing was imported.") from None
    except OSError as exc:
        raise PackRefused(f"{path.name} could not be read or stored ({_brief(exc.strerror or exc)}); "
                          "nothing was imported.") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_pack(keys: dict[str, str], zf: zipfile.ZipFile, name: str):
    def refuse(why: str) -> PackRefused:
        return PackRefused(f"{name} was refused: {why}. Nothing was imported.")

    infos = zf.infolist()
    seen: set[str] = set()
    for info in infos:
        member = info.filename
        if member in seen:
            raise refuse(f"it holds {member!r} twice")
        seen.add(member)
        if member != MANIFEST and not _BLOB_MEMBER.match(member):
            raise refuse(f"it holds an unexpected entry {member[:120]!r} (a pack holds only "
                         "manifest.json and blobs/<sha256>)")
        if info.flag_bits & 0x1:
            raise refuse(f"{member!r} is encrypted")
    if MANIFEST not in seen:
        raise refuse("it has no manifest.json")
    if zf.getinfo(MANIFEST).file_size > MAX_MANIFEST_BYTES:
        raise refuse("its manifest is too large")
    with zf.open(MANIFEST) as fh:
        raw = fh.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise refuse("its manifest is too large")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise refuse(f"its manifest is not JSON ({_brief(exc)})") from None
    try:
        manifest = PackManifest.model_validate(doc)
    except ValidationError as exc:
        raise refuse(f"its manifest is malformed at {_where(exc)}") from None

    if not keys:
        raise PackRefused(
            "This computer has no key to check the pack's signatures with: sign in to the credit server once "
            "(the key is kept), or ask IT to set server_public_key in the machine policy. Nothing was imported."
        )
    activities: list[protocol.Activity] = []
    ids: set[str] = set()
    for i, item in enumerate(manifest.activities):
        label = _label(item.activity, i)
        pub = keys.get(item.key_id)
        if pub is None:
            raise refuse(f"{label} is signed with key {item.key_id}, which this computer does not know "
                         "(a pack from another credit server?)")
        if not verify_activity(item.activity, item.signature, pub, item.key_id):
            raise refuse(f"the credit server's signature on {label} does not match (the metadata was changed)")
        try:
            activity = _activity_model(item.activity, label)
        except PackRefused as exc:
            raise refuse(exc.message) from None
        if activity.id in ids:
            raise refuse(f"it lists activity {activity.id!r} twice")
        ids.add(activity.id)
        activities.append(activity)

    blobs: dict[str, int] = {}
    for b in manifest.blobs:
        if b.sha256 in blobs:
            raise refuse(f"its manifest lists file {b.sha256[:12]}… twice")
        blobs[b.sha256] = b.size
    wanted: dict[str, int] = {}
    for activity in activities:
        for asset in activity.assets:
            if blobs.get(asset.sha256) != asset.size:
                raise refuse(f"the {asset.kind} of {activity.id!r} is missing from the pack (or has the wrong size)")
            wanted[asset.sha256] = asset.size
    extra = set(blobs) - set(wanted)
    if extra:
        raise refuse(f"it holds file {sorted(extra)[0][:12]}… that none of its activities uses")
    members = {m for m in seen if m != MANIFEST}
    for sha, size in blobs.items():
        member = f"blobs/{sha}"
        if member not in members:
            raise refuse(f"file {sha[:12]}… is listed but not in the pack (truncated?)")
        if zf.getinfo(member).file_size != size:
            raise refuse(f"file {sha[:12]}… has the wrong size")
    stray = members - {f"blobs/{sha}" for sha in blobs}
    if stray:
        raise refuse(f"it holds {sorted(stray)[0]!r}, which its manifest does not list")
    return manifest, _check_issue(manifest, keys, activities, refuse), activities, blobs


def _check_issue(manifest: PackManifest, keys: dict[str, str], activities: list[protocol.Activity],
                 refuse: Callable[[str], PackRefused]) -> PackIssue | None:
    """The server's signed issue of a version 2 pack, checked to name exactly its activities."""
    if manifest.format_version == 1:
        return None
    if manifest.issue is None or manifest.issue_key_id is None or manifest.issue_signature is None:
        raise refuse("its manifest has no signed issue (catalog revision and date)")
    pub = keys.get(manifest.issue_key_id)
    if pub is None:
        raise refuse(f"its issue is signed with key {manifest.issue_key_id}, which this computer does not know")
    if not verify_pack_issue(manifest.issue, manifest.issue_signature, pub, manifest.issue_key_id):
        raise refuse("the credit server's signature on its issue (catalog revision and date) does not match "
                     "(the manifest was changed)")
    try:
        issue = PackIssue.model_validate(manifest.issue)
    except ValidationError as exc:
        raise refuse(f"its issue is malformed at {_where(exc)}") from None
    issued = [(i.id, i.version, i.sha256) for i in issue.activities]
    held = [(doc.activity["id"], a.version, activity_digest(doc.activity)) for doc, a in zip(manifest.activities, activities)]
    if issued != held:
        raise refuse("its activities are not the ones the credit server issued it with")
    return issue


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
    log.info("content pack imported (catalog revision %s): %d activities, %d kept newer, %d withdrawn, "
             "%d files added, %d already here", issue.catalog_revision if issue else "unknown", len(applied.written),
             len(applied.older), len(applied.withdrawn), len(placed), len(present))
    return ImportReport(applied.written, applied.older, applied.withdrawn, len(placed), len(present),
                        issue.catalog_revision if issue else None, issue.issued_at if issue else None)


# ---------------------------------------------------------------- helpers


def known_keys(db: Database, server_url: str | None, policy_key: str | None) -> dict[str, str]:
    """key id -> public key (base64): the one kept at sign-in, and the policy's server_public_key."""
    keys: dict[str, str] = {}
    candidates = []
    if server_url:
        stored = signing_key(db, server_url)
        if stored:
            candidates.append(stored[1])
    if policy_key:
        candidates.append(policy_key)
    for pub in candidates:
        try:
            keys[key_id_for(base64.b64decode(pub, validate=True))] = pub
        except ValueError:
            continue
    return keys


def _activity_model(doc: dict, label: str) -> protocol.Activity:
    try:
        return protocol.Activity.model_validate(doc)
    except ValidationError as exc:
        raise PackRefused(f"{label} is not a valid activity ({_where(exc)})") from None
    except (RecursionError, TypeError, ValueError) as exc:
        raise PackRefused(f"{label} is not a valid activity ({type(exc).__name__})") from None


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _brief(exc) -> str:
    """An exception's text fit for a one-line message: printable, no raw bytes, at most 120 characters."""
    text = str(exc)
    text = re.sub(r"b'[^']*'|b\"[^\"]*\"", "…", text)  # zipfile quotes raw header bytes
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= 120 else text[:117] + "…"


def _where(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"{where[:200]}: {str(first['msg'])[:200]}"


def _label(activity: Any, i: int) -> str:
    if isinstance(activity, dict) and isinstance(activity.get("id"), str):
        return f"activity {activity['id'][:80]!r}"
    return f"activity {i + 1}"
