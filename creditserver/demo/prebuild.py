"""Make the demo video's renditions beforehand and ship them beside it.

    .venv/bin/python -m creditserver.demo.prebuild

Every server started with `--demo` (and every test server) publishes the demo; with its
renditions shipped beside the video under a manifest naming the video's sha256 and the
recipe (renditions.py), publishing only copies them into the store, and the packaged app's
demo server, which has no PyAV, still offers them. Run this after make_video.py or after a
change of `renditions.RECIPE`; a stale manifest is ignored (the renditions are then made at
publish), and a test checks it is current.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from ..media import MediaStore
from ..renditions import MANIFEST_SUFFIX, renditions_for, shipped_manifest

DEMO_VIDEO = Path(__file__).resolve().parent / "media" / "home-bp-monitoring.mp4"


def prebuild(video: Path = DEMO_VIDEO) -> Path:
    """Write the renditions and their manifest beside `video`; return the manifest's path."""
    manifest = video.with_name(video.name + MANIFEST_SUFFIX)
    manifest.unlink(missing_ok=True)  # made afresh, not copied from an older manifest
    with tempfile.TemporaryDirectory() as tmp:
        store = MediaStore(Path(tmp) / "media")
        forms = renditions_for(store, video, video.name)
        files = {}
        for r in forms.renditions:
            name = f"{video.stem}.{r.kind.value}.mp4"
            shutil.copyfile(store.path_for(r.sha256), video.with_name(name))
            files[r.sha256] = name
    manifest.write_text(json.dumps(shipped_manifest(forms, files), indent=1) + "\n", encoding="utf-8")
    for line in forms.summary():
        print(line)
    return manifest


if __name__ == "__main__":
    prebuild(Path(sys.argv[1]) if len(sys.argv) > 1 else DEMO_VIDEO)
