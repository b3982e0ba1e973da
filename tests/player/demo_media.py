"""The real demo activity (60 s video, VTT, two summaries) in a client's cache and blob store.

The catalog entry is built from the demo folder's own files (so each asset's sha256 is the
file's), applied to the cache, and the files are written straight into the BlobStore at
their sha256 — what a finished download leaves behind, without a server.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

from cmecore import protocol
from desktop.cache.catalog_store import apply_catalog
from desktop.cache.learners import save_signed_in

DEMO_FOLDER = Path(__file__).resolve().parents[2] / "creditserver" / "demo"
DEMO_VIDEO = DEMO_FOLDER / "media" / "home-bp-monitoring.mp4"
DEMO_VTT = DEMO_FOLDER / "media" / "home-bp-monitoring.en.vtt"
DEMO_LENGTH_MS = 60_000
SERVER_URL = "http://127.0.0.1:9"


def demo_activity(**overrides) -> tuple[protocol.Activity, dict[str, Path]]:
    """The demo activity as the catalog would carry it (with the dates a demo server sets
    today), and {sha256: file}."""
    from creditserver.demo import demo_dates
    from creditserver.publish import EXTENSIONS, load_folder

    doc, files = load_folder(DEMO_FOLDER)
    assets, by_sha = [], {}
    for i, path, media_type in files:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        _mt, kind, timed = EXTENSIONS[path.suffix.lower()]
        raw = {k: v for k, v in doc["assets"][i].items() if k != "path"}
        raw.setdefault("kind", kind.value)
        raw.setdefault("timed", timed)
        assets.append({**raw, "media_type": media_type, "size": path.stat().st_size, "sha256": sha,
                       "url": f"/api/v1/media/{sha}"})
        by_sha[sha] = path
    body = {k: v for k, v in doc.items() if k not in ("assets", "version")}
    dates = demo_dates(datetime.now(UTC).date()).fields()
    activity = protocol.Activity.model_validate({"version": 1, **body, **dates, "assets": assets, **overrides})
    return activity, by_sha


def install_demo(services, *, kinds=("video", "transcript", "summary"), sign_in: bool = True,
                 acknowledge: bool = True, **overrides) -> str:
    """Put the demo activity in the cache, its files of `kinds` in the blob store; returns its id.

    With `sign_in`, learner-1 is signed in and (with `acknowledge`) has acknowledged the
    disclosures, so the content is unlocked (DOMAIN rule 1: disclosure before content).
    """
    activity, by_sha = demo_activity(**overrides)
    catalog = protocol.Catalog(cursor=1, full=True, activities=[activity])
    apply_catalog(services.db, catalog, server_url=SERVER_URL, etag=None,
                  synced_at=datetime(2025, 1, 1), clock_offset_ms=0)
    for asset in activity.assets:
        if asset.kind.value in kinds and asset.sha256 in by_sha:
            target = services.blobs.path_for(asset.sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(by_sha[asset.sha256], target)
    if sign_in:
        profile = protocol.LearnerProfile(id="learner-1", username="demo", display_name="Dr. Dana Demo",
                                          profession="physician")
        save_signed_in(services.db, profile, SERVER_URL, datetime(2025, 1, 2))
        if acknowledge:
            acknowledge_disclosures(services, activity.id, profile.id)
    return activity.id


def acknowledge_disclosures(services, activity_id: str, learner_id: str = "learner-1") -> None:
    """Rule 1: the learner read the disclosures (written straight to the cache, whatever today's date)."""
    from desktop.cache.learning_store import acknowledge

    acknowledge(services.db, learner_id, activity_id, 1, datetime(2025, 1, 2), datetime(2025, 1, 2))
