"""Changing a content pack on its way (tests of what an import refuses), and checking that a
refused import changed nothing."""

from __future__ import annotations

import json
import zipfile

from tests.support.media_publish import store_files


def rewrite(src, dst, *, manifest=None, members=None, drop=(), extra=()):
    """Copy a pack, changing the manifest (a function of the dict) or members' bytes."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info.filename)
            if info.filename == "manifest.json" and manifest is not None:
                doc = json.loads(data)
                manifest(doc)
                data = json.dumps(doc).encode()
            if members and info.filename in members:
                data = members[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in extra:
            zout.writestr(name, data)
    return dst


def assert_nothing_applied(services):
    assert services.library_rows() == []
    assert store_files(services.paths.blobs) == {}
    leftovers = [p for p in services.paths.blobs.rglob("*")] if services.paths.blobs.exists() else []
    assert all(p.is_dir() and not any(p.iterdir()) for p in leftovers), leftovers
