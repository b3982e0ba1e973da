"""The demo activity with its video in three forms (the original, Small, Audio only), in a
client's cache, with the forms a test asks for in the blob store.

The forms are the demo's own, shipped beside its video (creditserver/demo/prebuild.py and
its manifest): real files libvlc plays, whose times are the video's.
"""

from __future__ import annotations

import json
from datetime import datetime

from cmecore import protocol
from desktop.cache.catalog_store import apply_catalog
from tests.player.demo_media import DEMO_VIDEO, SERVER_URL, acknowledge_disclosures, demo_activity

MANIFEST = DEMO_VIDEO.with_name(DEMO_VIDEO.name + ".renditions.json")


def demo_renditions() -> dict[str, tuple[protocol.Rendition, bytes]]:
    """kind ("small", "audio") -> (the rendition as the catalog lists it, its file's bytes)."""
    shipped = json.loads(MANIFEST.read_text(encoding="utf-8"))
    out = {}
    for entry in shipped["renditions"]:
        fields = {k: v for k, v in entry.items() if k != "file"}
        out[entry["kind"]] = (protocol.Rendition.model_validate(fields), (MANIFEST.parent / entry["file"]).read_bytes())
    return out


def install_demo_forms(services, *, here: tuple[str, ...] = ("audio",)) -> str:
    """The demo activity (its video offered as best, small and audio) in the cache; the
    transcript, summaries and the forms named in `here` ("best", "small", "audio") in the blob
    store; learner-1 signed in with the disclosures acknowledged. Returns the activity id."""
    from desktop.cache.learners import save_signed_in

    activity, by_sha = demo_activity()
    forms = demo_renditions()
    original = json.loads(MANIFEST.read_text(encoding="utf-8"))["original"]
    assets = [a.model_copy(update={"renditions": [r for r, _data in forms.values()], **original})
              if a.kind is protocol.AssetKind.video else a for a in activity.assets]
    activity = activity.model_copy(update={"assets": assets})
    catalog = protocol.Catalog(cursor=1, full=True, activities=[activity])
    apply_catalog(services.db, catalog, server_url=SERVER_URL, etag=None, synced_at=datetime(2025, 1, 1),
                  clock_offset_ms=0)
    for asset in activity.assets:
        if asset.kind is not protocol.AssetKind.video or "best" in here:
            _store(services, asset.sha256, by_sha[asset.sha256].read_bytes())
    for kind, (rendition, data) in forms.items():
        if kind in here:
            _store(services, rendition.sha256, data)
    profile = protocol.LearnerProfile(id="learner-1", username="demo", display_name="Dr. Dana Demo",
                                      profession="physician")
    save_signed_in(services.db, profile, SERVER_URL, datetime(2025, 1, 2))
    acknowledge_disclosures(services, activity.id, profile.id)
    return activity.id


def _store(services, sha256: str, data: bytes) -> None:
    target = services.blobs.path_for(sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
