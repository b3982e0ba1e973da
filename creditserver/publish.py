"""Publishing and withdrawing activities.

A publish folder holds `activity.json` (the protocol Activity fields, except that each
asset gives a `path` to a file in the folder instead of sha256/size/url/media_type, and
`version` may be left out) plus the files. Publishing hashes the files into the media
store, fills in the asset fields (a video's `duration_ms` read from the file by
media_probe), validates the result with `protocol.Activity` and
stores its JSON text under a new catalog revision. The same content published again
changes nothing. A plain-text transcript beside a video is timed from the video's audio
(transcript_timing.py) and served as WebVTT; `PublishResult.transcripts` says how it went.
Each video is checked by decoding it and gets its smaller renditions (renditions.py), made
once per source and reused; `PublishResult.videos` says what each one has.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from cmecore.protocol import Activity, AssetKind

from .db import Database, bump_revision
from .media import MediaStore, media_url
from .media_probe import media_duration_ms
from .models import ActivityRecord, ActivityVersion, utcnow
from .publish_checks import refusal, warnings
from .renditions import BadVideo, Forms, asset_fields, rendition_files, renditions_for
from .transcript_timing import TranscriptTiming, time_transcripts

# extension → (media type, asset kind, timed by default)
EXTENSIONS: dict[str, tuple[str, AssetKind, bool]] = {
    ".mp4": ("video/mp4", AssetKind.video, False),
    ".m4v": ("video/mp4", AssetKind.video, False),
    ".webm": ("video/webm", AssetKind.video, False),
    ".vtt": ("text/vtt", AssetKind.transcript, True),
    ".srt": ("application/x-subrip", AssetKind.transcript, True),
    ".txt": ("text/plain", AssetKind.transcript, False),
    ".md": ("text/markdown", AssetKind.summary, False),
    ".html": ("text/html", AssetKind.summary, False),
}

ACTIVITY_FILE = "activity.json"


class PublishError(ValueError):
    """A folder or activity that cannot be published; the message is one line naming the field."""


@dataclass(frozen=True)
class PublishResult:
    activity_id: str
    version: int
    revision: int
    changed: bool
    transcripts: tuple[TranscriptTiming, ...] = ()  # untimed transcripts timed (or not) from the audio
    warnings: tuple[str, ...] = ()  # what reporting will lack (publish_checks.warnings); published anyway
    videos: tuple[Forms, ...] = ()  # each video's original and renditions (none with videos_as_is)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def format_validation_error(exc: ValidationError, prefix: str = ACTIVITY_FILE) -> str:
    errors = exc.errors()
    first = errors[0]
    where = _loc(first.get("loc", ()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    msg = f"{prefix}: {where}: {first['msg']}" if where else f"{prefix}: {first['msg']}"
    return msg + more


def _resolve_asset_path(folder: Path, raw: Any, where: str) -> Path:
    if not isinstance(raw, str) or not raw.strip():
        raise PublishError(f"{where}: a relative file path is required")
    if "\x00" in raw:
        raise PublishError(f"{where}: contains a NUL character")
    posix, windows = PurePosixPath(raw), PureWindowsPath(raw)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or raw.startswith(("/", "\\")):
        raise PublishError(f"{where}: must be relative to the folder, not absolute: {raw!r}")
    if ".." in posix.parts or ".." in windows.parts:
        raise PublishError(f"{where}: must not leave the folder ('..'): {raw!r}")
    root = folder.resolve()
    target = (folder / raw).resolve()
    if not target.is_relative_to(root):
        raise PublishError(f"{where}: resolves outside the folder (symlink?): {raw!r}")
    if not target.is_file():
        raise PublishError(f"{where}: no such file in the folder: {raw!r}")
    return target


def load_folder(folder: Path) -> tuple[dict[str, Any], list[tuple[int, Path, str]]]:
    """Read activity.json and check its asset paths; return (document, [(index, file, media type)])."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PublishError(f"{folder}: not a folder")
    meta = folder / ACTIVITY_FILE
    if not meta.is_file():
        raise PublishError(f"{ACTIVITY_FILE}: missing from {folder}")
    try:
        doc = json.loads(meta.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise PublishError(f"{ACTIVITY_FILE}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise PublishError(f"{ACTIVITY_FILE}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(doc, dict):
        raise PublishError(f"{ACTIVITY_FILE}: must hold a JSON object")
    assets = doc.get("assets", [])
    if not isinstance(assets, list):
        raise PublishError(f"{ACTIVITY_FILE}: assets: must be a list")
    files: list[tuple[int, Path, str]] = []
    for i, entry in enumerate(assets):
        where = f"{ACTIVITY_FILE}: assets.{i}.path"
        if not isinstance(entry, dict):
            raise PublishError(f"{ACTIVITY_FILE}: assets.{i}: must be an object with a 'path'")
        path = _resolve_asset_path(folder, entry.get("path"), where)
        ext = path.suffix.lower()
        if ext not in EXTENSIONS:
            known = ", ".join(sorted(EXTENSIONS))
            raise PublishError(f"{where}: unknown file type {ext or '(none)'!r}; use one of {known}")
        media_type, kind, _timed = EXTENSIONS[ext]
        given_kind = entry.get("kind")
        if given_kind is not None and given_kind != kind.value:
            raise PublishError(
                f"{ACTIVITY_FILE}: assets.{i}.kind: {given_kind!r} does not match a {ext} file (expected {kind.value!r})"
            )
        files.append((i, path, media_type))
    return doc, files


def _content_hash(activity_doc: dict[str, Any]) -> str:
    body = {k: v for k, v in activity_doc.items() if k != "version"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def publish_folder(db: Database, store: MediaStore, folder: Path, *, allow_expired: bool = False,
                   videos_as_is: bool = False, fields: dict[str, Any] | None = None) -> PublishResult:
    """Publish the folder's activity; PublishError names the field and the rule it breaks
    (publish_checks.py) or the video that cannot be played. `allow_expired`: publish it even
    if its termination has passed. `videos_as_is`: publish each video as given, unchecked
    and without renditions (a format PyAV cannot decode; tests' stand-in bytes). `fields`:
    top-level fields set over activity.json's (the demo's dates, set when it is loaded)."""
    doc, files = load_folder(folder)
    doc.update(fields or {})
    raw_assets = doc.get("assets", [])
    videos: dict[int, Forms] = {}

    def asset_doc(i: int, path: Path, media_type: str, sha: str, size: int) -> dict[str, Any]:
        _mt, kind, timed = EXTENSIONS[path.suffix.lower()]
        asset = {k: v for k, v in raw_assets[i].items() if k not in ("path", "sha256", "size", "url", "media_type")}
        asset.setdefault("kind", kind.value)
        asset.setdefault("timed", timed)
        asset.update(media_type=media_type, size=size, sha256=sha, url=media_url(sha))
        if kind is AssetKind.video:  # the file's own length; else what activity.json says, if anything
            forms = videos.get(i)
            length = forms.original.duration_ms if forms else None
            asset["duration_ms"] = length or media_duration_ms(path) or asset.get("duration_ms")
            if forms is not None:
                asset.update(asset_fields(forms))
        return asset

    # Check everything but the file hashes first, so a bad folder copies nothing.
    placeholder = [asset_doc(i, p, mt, "0" * 64, p.stat().st_size) for i, p, mt in files]
    try:
        checked = Activity.model_validate({"version": 1, **doc, "assets": placeholder})
    except ValidationError as exc:
        raise PublishError(format_validation_error(exc)) from None
    if why := refusal(checked, today=utcnow().date(), allow_expired=allow_expired):
        raise PublishError(why)

    # Decoding (the videos' renditions, the transcripts' audio): before the transaction, not inside it.
    if not videos_as_is:
        videos.update(_video_forms(store, files, raw_assets))
    timings = time_transcripts(files)
    with db.session() as s:
        assets = []
        for i, path, media_type in files:
            obj = store.put(s, path, media_type)
            assets.append(asset_doc(i, path, obj.media_type, obj.sha256, obj.size))
        for forms in videos.values():
            for sha, size, media_type in rendition_files(forms):
                store.record(s, sha, size, media_type)
        for timing in timings:
            timing.apply(s, store, assets)
        return replace(_store_activity(s, {**doc, "assets": assets}), transcripts=tuple(timings),
                       warnings=tuple(warnings(checked)), videos=tuple(videos.values()))


def _video_forms(store: MediaStore, files: list[tuple[int, Path, str]], raw_assets: list[Any]) -> dict[int, Forms]:
    """Each video's renditions (made or reused), by asset position; PublishError for a bad video."""
    found = {}
    for i, path, _media_type in files:
        if EXTENSIONS[path.suffix.lower()][1] is AssetKind.video:
            try:
                found[i] = renditions_for(store, path, str(raw_assets[i]["path"]))
            except BadVideo as exc:
                raise PublishError(str(exc)) from None
    return found


def _store_activity(s: Session, doc: dict[str, Any]) -> PublishResult:
    activity_id = doc.get("id")
    existing = s.get(ActivityRecord, activity_id) if isinstance(activity_id, str) else None
    given_version = doc.get("version")
    if given_version is None:
        doc = {**doc, "version": (existing.version + 1) if existing else 1}
    try:
        activity = Activity.model_validate(doc)
    except ValidationError as exc:
        raise PublishError(format_validation_error(exc)) from None
    canonical = activity.model_dump(mode="json")
    content_hash = _content_hash(canonical)

    if existing is not None:
        if existing.content_hash == content_hash and not existing.withdrawn:
            return PublishResult(existing.id, existing.version, existing.revision, changed=False)
        if given_version is not None and activity.version <= existing.version:
            raise PublishError(
                f"{ACTIVITY_FILE}: version: must be greater than the published version {existing.version}"
                " (or leave it out)"
            )
    revision = bump_revision(s)
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    if existing is None:
        s.add(
            ActivityRecord(
                id=activity.id,
                version=activity.version,
                revision=revision,
                withdrawn=False,
                json_text=text,
                content_hash=content_hash,
            )
        )
    else:
        existing.version = activity.version
        existing.revision = revision
        existing.withdrawn = False
        existing.json_text = text
        existing.content_hash = content_hash
        existing.updated_at = utcnow()
    # Keep every version: completions of an older version are graded against its own key.
    if s.get(ActivityVersion, (activity.id, activity.version)) is None:
        s.add(ActivityVersion(activity_id=activity.id, version=activity.version, json_text=text))
    return PublishResult(activity.id, activity.version, revision, changed=True)


class UnknownActivity(LookupError):
    pass


def withdraw(db: Database, activity_id: str) -> PublishResult:
    """Remove an activity from the catalog; clients see its id in `withdrawn`."""
    with db.session() as s:
        rec = s.get(ActivityRecord, activity_id)
        if rec is None:
            raise UnknownActivity(f"no activity {activity_id!r} has been published")
        if rec.withdrawn:
            return PublishResult(rec.id, rec.version, rec.revision, changed=False)
        rec.revision = bump_revision(s)
        rec.withdrawn = True
        rec.updated_at = utcnow()
        return PublishResult(rec.id, rec.version, rec.revision, changed=True)


def inject_raw_activity(db: Database, activity_id: str, json_text: str) -> int:
    """Store `json_text` as an activity without any validation and bump the revision.

    For tests only: it lets a test serve a malformed catalog to check that clients
    refuse it. Returns the new revision.
    """
    with db.session() as s:
        revision = bump_revision(s)
        rec = s.get(ActivityRecord, activity_id)
        digest = hashlib.sha256(json_text.encode()).hexdigest()
        if rec is None:
            s.add(
                ActivityRecord(
                    id=activity_id, version=0, revision=revision, withdrawn=False, json_text=json_text, content_hash=digest
                )
            )
        else:
            rec.revision, rec.withdrawn, rec.json_text, rec.content_hash = revision, False, json_text, digest
            rec.updated_at = utcnow()
        return revision
