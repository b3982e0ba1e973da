"""What a content pack holds and the check of a whole pack before anything is imported.

The format (`manifest.json` and `blobs/<sha256>`, nothing else) is described in
desktop/sync/packs.py, which writes and imports packs; this module reads a pack's member
list and manifest and checks them whole: names, schema and size caps, every signature
against the keys this computer knows, the server's signed issue, and that every asset of
every activity is in the pack with its size. A video needs one of its forms, the ones IT
chose to carry (desktop/sync/carry.py); a transcript or summary its one file. Member names
are never used as paths: blobs are addressed by the manifest's SHA-256 only.
"""

from __future__ import annotations

import base64
import json
import re
import zipfile
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from cmecore import protocol
from cmecore.pack_issue import PackIssue
from cmecore.signatures import activity_digest, key_id_for, verify_activity, verify_pack_issue
from desktop.cache.db import Database
from desktop.cache.server_state import signing_key
from desktop.errors import PackRefused
from desktop.sync.carry import files_standing_for

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

def check_pack(keys: dict[str, str], zf: zipfile.ZipFile, name: str
               ) -> tuple[PackManifest, PackIssue | None, list[protocol.Activity], dict[str, int]]:
    """The manifest, its checked issue (None for version 1), its activities and its blobs
    (sha256 -> size), or PackRefused saying what is wrong. Reads no blob's bytes."""
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
        raise refuse(f"its manifest is not JSON ({brief(exc)})") from None
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
            activity = activity_model(item.activity, label)
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
            # A video needs one of its forms (the ones IT chose to carry); anything else its one file.
            forms = files_standing_for(asset)
            carried = {sha: size for sha, size in forms.items() if sha in blobs}
            if not carried or any(blobs[sha] != size for sha, size in carried.items()):
                raise refuse(f"the {asset.kind} of {activity.id!r} is missing from the pack (or has the wrong size)")
            wanted.update(carried)
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


def activity_model(doc: dict, label: str) -> protocol.Activity:
    try:
        return protocol.Activity.model_validate(doc)
    except ValidationError as exc:
        raise PackRefused(f"{label} is not a valid activity ({_where(exc)})") from None
    except (RecursionError, TypeError, ValueError) as exc:
        raise PackRefused(f"{label} is not a valid activity ({type(exc).__name__})") from None


def brief(exc) -> str:
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
