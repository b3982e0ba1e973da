"""The smaller forms of a published video: a small H.264 + AAC video and sound alone.

Learners on hospital Wi-Fi or a metered hotspot fetch the smallest form that still earns
the credit (cmecore.renditions chooses). Publish makes them here with PyAV, in one decoding
pass over the provider's file (the recipe: rendition_recipe.py):

- `small`: H.264 within SMALL_BOX (640x360; never upscaled), a capped-quality encode of at
  most SMALL_VIDEO_MAXRATE, plus AAC sound. Skipped when the original is already that small,
  or when the result would not be clearly smaller (`Forms.notes` says so).
- `audio`: AAC alone, AUDIO_BITRATE, mono, in MP4 (`audio/mp4`), no picture.

Each is a file in the content-addressed store like any other. The renditions are made once
per (source sha256, RECIPE): the store keeps a small manifest for each source
(`media/renditions/<sha256>.json`); republishing, a new activity version with the same
video, or another activity using it reuses them. A publish folder may also ship them made
beforehand (`<video>.renditions.json` beside the video naming the same source and recipe,
the files beside it): the demo does, so the hundreds of servers the test suite starts never
transcode.

A source PyAV cannot read, that has neither picture nor sound, that ends well before the
length its header states (truncated) or fails to decode is refused (`BadVideo`, naming the
file); nothing is published then. Without PyAV no renditions are made and publish says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmecore.protocol import Rendition, RenditionKind

from .media import MediaStore, media_url
from .media_folder import SHARED_FILE
from .media_probe import MediaFacts, probe
from .rendition_recipe import RECIPE, SMALLER_ENOUGH, BadVideo

log = logging.getLogger(__name__)

MANIFEST_SUFFIX = ".renditions.json"
AUDIO_MP4 = "audio/mp4"
VIDEO_MP4 = "video/mp4"


@dataclass(frozen=True)
class Forms:
    """What publish knows of one video: the original's facts and its renditions."""

    name: str  # the file's path in the publish folder, for messages
    source_sha256: str
    size: int
    original: MediaFacts
    renditions: tuple[Rendition, ...] = ()
    how: str = "made"  # "made", "reused" (from the store), "shipped" (beside the video), "none"
    notes: tuple[str, ...] = ()  # why a form is missing

    def summary(self) -> list[str]:
        """Lines for the publisher: each rendition's size and its share of the original."""
        lines = []
        for r in self.renditions:
            picture = f"{r.width}x{r.height}" if r.width else "sound only"
            share = r.size / self.size if self.size else 0.0
            lines.append(f"{self.name}: {r.kind.value} rendition ({picture}, {_kbits(r.bitrate)}): "
                         f"{_megabytes(r.size)}, {share:.0%} of the original's {_megabytes(self.size)} ({self.how})")
        lines.extend(f"{self.name}: {note}" for note in self.notes)
        return lines


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.2f} MB"


def _kbits(bitrate: int | None) -> str:
    return f"{round(bitrate / 1000)} kbit/s" if bitrate else "bitrate unknown"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- reuse


def _manifest_doc(forms: Forms) -> dict[str, Any]:
    return {"source_sha256": forms.source_sha256, "recipe": RECIPE,
            "original": {"width": forms.original.width, "height": forms.original.height,
                         "bitrate": forms.original.bitrate, "duration_ms": forms.original.duration_ms},
            "renditions": [r.model_dump(mode="json") for r in forms.renditions], "notes": list(forms.notes)}


def _read_manifest(path: Path, sha: str) -> dict[str, Any] | None:
    """The manifest at `path` if it is for this source and recipe, else None."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("source_sha256") != sha or doc.get("recipe") != RECIPE:
        return None
    return doc


def _forms_from(doc: dict[str, Any], name: str, sha: str, size: int, how: str) -> Forms | None:
    """The forms a manifest names, or None for one that does not hold together (made again)."""
    try:
        o = doc["original"]
        facts = MediaFacts(o["duration_ms"], o["width"], o["height"], o["bitrate"], has_video=True, has_audio=True)
        renditions = tuple(Rendition.model_validate(r) for r in doc["renditions"])
        return Forms(name, sha, size, facts, renditions, how, tuple(str(n) for n in doc.get("notes", ())))
    except (KeyError, TypeError, ValueError):  # pydantic's ValidationError is a ValueError
        return None


def _store_manifest(store: MediaStore, sha: str) -> Path:
    return store.root / "renditions" / f"{sha}.json"


def _save_manifest(store: MediaStore, forms: Forms) -> None:
    path = _store_manifest(store, forms.source_sha256)
    store.subfolder(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    if store.shared:
        os.fchmod(fd, SHARED_FILE)  # like the media files beside it (media_folder.py)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(_manifest_doc(forms), out)
    os.replace(tmp, path)


def _reused(store: MediaStore, name: str, sha: str, size: int) -> Forms | None:
    doc = _read_manifest(_store_manifest(store, sha), sha)
    if doc is None:
        return None
    forms = _forms_from(doc, name, sha, size, "reused")
    for r in forms.renditions if forms else ():  # a store tidied by hand: make them again
        try:
            if store.path_for(r.sha256).stat().st_size != r.size:
                return None
        except FileNotFoundError:
            return None
    return forms


def _shipped(store: MediaStore, source: Path, name: str, sha: str, size: int) -> Forms | None:
    """Renditions made beforehand and shipped beside the video (the demo's), copied into the store."""
    manifest = source.with_name(source.name + MANIFEST_SUFFIX)
    doc = _read_manifest(manifest, sha) if manifest.is_file() else None
    if doc is None:
        return None
    forms = _forms_from(doc, name, sha, size, "shipped")
    if forms is None:
        return None
    for r, entry in zip(forms.renditions, doc["renditions"], strict=True):
        # A plain file name beside the video: a manifest cannot copy anything else into the store.
        file_name = entry.get("file")
        file = source.parent / file_name if isinstance(file_name, str) and _plain_name(file_name) else None
        if (file is None or file.is_symlink() or not file.is_file() or file_sha256(file) != r.sha256
                or store.put_file(file) != (r.sha256, r.size)):
            log.warning("%s: the renditions shipped beside it do not match their manifest; making them again", name)
            return None
    _save_manifest(store, forms)
    return forms


def _plain_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..") and "\x00" not in name


# ---------------------------------------------------------------- making


def renditions_for(store: MediaStore, source: Path, name: str) -> Forms:
    """The original's facts and its renditions, reused or made now (files in the store).

    BadVideo when the source cannot be published. Runs before the publish transaction:
    a long video takes minutes."""
    sha, size = file_sha256(source), source.stat().st_size
    if size == 0:
        raise BadVideo(f"{name}: the file is empty (0 bytes); copy the video into the folder again")
    if forms := _reused(store, name, sha, size) or _shipped(store, source, name, sha, size):
        return forms
    try:
        import av  # noqa: F401  optional dependency: the packaged app's demo server ships without PyAV
    except ImportError:
        return Forms(name, sha, size, MediaFacts(), how="none",
                     notes=("no renditions: PyAV is not installed (pip install av)",))
    from .transcode import transcode  # optional dependency: imports PyAV

    facts = probe(source)
    if facts is None:
        raise BadVideo(f"{name}: not a video file that can be read (PyAV could not open it); "
                       "export it again as MP4 (H.264 + AAC)")
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(dir=store.root, prefix=".renditions-"))
    try:
        made, notes = transcode(source, name, facts, work)
        renditions = []
        for kind, path in made:
            out = probe(path)
            r_sha, r_size = store.put_file(path)
            if r_size >= size * SMALLER_ENOUGH:
                notes.append(f"no {kind.value} rendition: it would be {r_size / size:.0%} of the original's size")
                continue
            renditions.append(Rendition(
                kind=kind, media_type=VIDEO_MP4 if kind is RenditionKind.small else AUDIO_MP4, size=r_size,
                sha256=r_sha, url=media_url(r_sha), duration_ms=out.duration_ms if out else None,
                width=out.width if out else None, height=out.height if out else None,
                bitrate=round(r_size * 8000 / out.duration_ms) if out and out.duration_ms else None))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    forms = Forms(name, sha, size, facts, tuple(renditions), "made", tuple(notes))
    _save_manifest(store, forms)
    log.info("%s: renditions made in %.1f s", name, time.monotonic() - started)
    return forms


def rendition_files(forms: Forms) -> list[tuple[str, int, str]]:
    """(sha256, size, media type) of each rendition, for the store's rows."""
    return [(r.sha256, r.size, r.media_type) for r in forms.renditions]


def asset_fields(forms: Forms) -> dict[str, Any]:
    """The video asset's fields that describe its original and list its renditions."""
    o = forms.original
    fields: dict[str, Any] = {"renditions": [r.model_dump(mode="json") for r in forms.renditions]}
    fields.update({k: v for k, v in (("width", o.width), ("height", o.height), ("bitrate", o.bitrate)) if v})
    return fields


def shipped_manifest(forms: Forms, files: dict[str, str]) -> dict[str, Any]:
    """The manifest to ship beside a video, `files` naming each rendition's file by sha256."""
    doc = _manifest_doc(forms)
    for entry in doc["renditions"]:
        entry["file"] = files[entry["sha256"]]
    return doc

