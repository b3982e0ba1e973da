"""Fuzzing pack manifests: never a crash; every refusal is a PackRefused with a plain message
and leaves the library and the blob store exactly as they were."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmecore.signatures import key_id_for, sign_activity
from desktop.errors import PackRefused
from tests.support.activities import make_activity
from tests.support.media_publish import store_files

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUB_RAW = KEY.public_key().public_bytes_raw()
PUB = base64.b64encode(PUB_RAW).decode()
BLOB = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello.\n"
SHA = hashlib.sha256(BLOB).hexdigest()


def base_activity() -> dict:
    from cmecore import protocol

    a = make_activity(1, assets=[protocol.Asset(kind="transcript", media_type="text/vtt", size=len(BLOB), sha256=SHA,
                                                url=f"/api/v1/media/{SHA}", title="Transcript", timed=True)])
    return a.model_dump(mode="json")


def manifest_for(activity: dict, *, resign: bool = True, signature: str | None = None) -> dict:
    return {
        "format": "cme-offline-content-pack", "format_version": 1, "created_at": "2025-01-01T00:00:00Z",
        "server_url": "https://cme.example.org",
        "activities": [{"activity": activity, "key_id": key_id_for(PUB_RAW),
                        "signature": signature or sign_activity(activity, KEY)}],
        "blobs": [{"sha256": SHA, "size": len(BLOB)}],
    }


def pack_bytes(manifest, blobs=((SHA, BLOB),)) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", manifest if isinstance(manifest, bytes) else json.dumps(manifest))
        for sha, data in blobs:
            zf.writestr(f"blobs/{sha}", data)
    return buf.getvalue()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
MANIFEST_KEYS = ["format", "format_version", "created_at", "server_url", "activities", "blobs", "extra"]
ACTIVITY_KEYS = list(base_activity()) + ["assets.0.size", "assets.0.sha256", "assets.0.url", "unknown"]


def set_path(doc: dict, path: str, value) -> None:
    parts = path.split(".")
    for p in parts[:-1]:
        doc = doc[int(p)] if isinstance(doc, list) else doc[p]
    doc[int(parts[-1]) if isinstance(doc, list) else parts[-1]] = value


@st.composite
def packs(draw):
    kind = draw(st.sampled_from(["whole", "top", "activity-resigned", "activity-unsigned", "blobs", "bytes",
                                 "item"]))
    if kind == "bytes":
        return pack_bytes(draw(st.binary(max_size=200)))
    if kind == "whole":
        return pack_bytes(draw(json_values))
    activity = base_activity()
    if kind.startswith("activity"):
        set_path(activity, draw(st.sampled_from(ACTIVITY_KEYS)), draw(json_values))
        if kind == "activity-unsigned":
            return pack_bytes(manifest_for(activity, signature=sign_activity(base_activity(), KEY)))
        try:
            return pack_bytes(manifest_for(activity))
        except (TypeError, ValueError):  # not canonicalisable (e.g. float keys): sign the original
            return pack_bytes(manifest_for(activity, signature=sign_activity(base_activity(), KEY)))
    manifest = manifest_for(activity)
    if kind == "top":
        manifest[draw(st.sampled_from(MANIFEST_KEYS))] = draw(json_values)
    elif kind == "item":
        manifest["activities"][0][draw(st.sampled_from(["activity", "key_id", "signature", "x"]))] = \
            draw(json_values)
    else:
        manifest["blobs"] = draw(st.lists(st.fixed_dictionaries(
            {"sha256": st.sampled_from([SHA, "0" * 64, "../x"]) | st.text(max_size=70),
             "size": st.integers(-5, 10**12)}), max_size=3))
    return pack_bytes(manifest)


_CLIENTS: dict = {}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=packs())
def test_any_manifest_is_imported_or_refused_cleanly(fresh, no_machine_policy, tmp_path_factory, data):
    # Function-scoped fixtures are shared by every example of one run: one client for them all.
    if id(fresh) not in _CLIENTS:
        no_machine_policy.write_text(f'server_public_key = "{PUB}"\n')
        _CLIENTS.clear()
        _CLIENTS[id(fresh)] = fresh()
    services = _CLIENTS[id(fresh)]
    path = tmp_path_factory.mktemp("fuzz") / "pack.zip"
    path.write_bytes(data)
    rows_before = [(r.id, r.title) for r in services.library_rows()]
    files_before = set(store_files(services.paths.blobs))
    try:
        report = services.import_pack(path)
    except PackRefused as exc:
        message = str(exc)
        assert message and len(message) < 1000 and "\n" not in message
        assert "nothing was imported" in message.lower()
        assert [(r.id, r.title) for r in services.library_rows()] == rows_before
        assert set(store_files(services.paths.blobs)) == files_before
    else:
        assert report.activity_ids or report.kept_newer


def test_the_unfuzzed_pack_imports(fresh, no_machine_policy, tmp_path):
    no_machine_policy.write_text(f'server_public_key = "{PUB}"\n')
    services = fresh()
    path = tmp_path / "pack.zip"
    path.write_bytes(pack_bytes(manifest_for(base_activity())))
    assert services.import_pack(path).activity_ids == ["act-001"]
    assert set(store_files(services.paths.blobs)) == {SHA}
