"""Content packs: export with the server online, import fully offline, refused whole when wrong."""

from __future__ import annotations

import json
import zipfile

import pytest

from cmecore.signatures import verify_activity
from desktop.errors import PackRefused
from tests.support.activities import DEMO_ID
from tests.support.cli import run_cli
from tests.support.media_publish import assert_store_verified, store_files
from tests.support.packs import assert_nothing_applied, rewrite


def test_round_trip_into_a_fresh_data_dir_with_the_server_stopped(exported, server, fresh, no_machine_policy,
                                                                  tmp_path):
    pack, pub, key = exported
    with zipfile.ZipFile(pack) as zf:
        names = sorted(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert names == sorted(["manifest.json"] + [f"blobs/{b['sha256']}" for b in manifest["blobs"]])
    assert manifest["format"] == "cme-offline-content-pack" and manifest["format_version"] == 2
    assert {a["activity"]["id"] for a in manifest["activities"]} == {"talk-a", DEMO_ID}
    for item in manifest["activities"]:
        assert verify_activity(item["activity"], item["signature"], key, item["key_id"])
    # packs never carry learner data: only these fields, and only activities and blobs inside
    assert set(manifest) == {"format", "format_version", "created_at", "server_url", "issue", "issue_key_id",
                             "issue_signature", "activities", "blobs"}
    assert set(manifest["issue"]) == {"catalog_revision", "issued_at", "activities"}
    assert all(set(item) == {"activity", "key_id", "signature"} for item in manifest["activities"])
    server.stop()

    no_machine_policy.write_text(f'server_public_key = "{key}"\n')
    services = fresh()
    report = services.import_pack(pack)
    assert sorted(report.activity_ids) == sorted(["talk-a", DEMO_ID]) and report.blobs_present == 0
    assert {r.id for r in services.library_rows()} == {"talk-a", DEMO_ID}
    assert {r.media_state.value for r in services.library_rows()} == {"present"}
    assert pub.shas <= set(store_files(services.paths.blobs))
    assert_store_verified(services.paths.blobs)
    assert "talk-a" in {h.activity_id for h in services.search("Hello")}
    # importing again changes nothing and is fine
    again = services.import_pack(pack)
    assert again.blobs_added == 0 and again.blobs_present == report.blobs_added


def test_import_uses_the_key_kept_at_sign_in_via_the_cli(exported, server, data_dir, monkeypatch, capsys):
    pack, pub, _ = exported
    url = server.url
    code, _, err = run_cli(monkeypatch, capsys, "login", "--username", "demo", "--password-stdin",
                           "--data-dir", str(data_dir), "--server", url, stdin="demo\n")
    assert code == 0, err
    server.stop()
    code, out, err = run_cli(monkeypatch, capsys, "pack", "import", str(pack), "--data-dir", str(data_dir))
    assert code == 0, err
    assert out.startswith("Imported 2 activities")
    code, out, _ = run_cli(monkeypatch, capsys, "status", "--json", "--data-dir", str(data_dir))
    assert {a["state"] for a in json.loads(out)["activities"]} == {"present"}


def test_cli_export_needs_the_server(server, data_dir, tmp_path, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "login", "--username", "demo", "--password-stdin",
                           "--data-dir", str(data_dir), "--server", server.url, stdin="demo\n")
    assert code == 0, err
    out_file = tmp_path / "p.zip"
    code, out, err = run_cli(monkeypatch, capsys, "pack", "export", DEMO_ID, "--out", str(out_file),
                             "--data-dir", str(data_dir))
    assert code == 0, err and out.startswith(f"Wrote {out_file}")
    server.stop()
    code, out, err = run_cli(monkeypatch, capsys, "pack", "export", DEMO_ID, "--out", str(tmp_path / "q.zip"),
                             "--data-dir", str(data_dir))
    assert code == 1 and err.count("\n") == 1 and "cannot be reached" in err
    assert not (tmp_path / "q.zip").exists() and not (tmp_path / "q.zip.part").exists()
    code, _, err = run_cli(monkeypatch, capsys, "pack", "export", "no-such-activity", "--out",
                           str(tmp_path / "r.zip"), "--data-dir", str(data_dir))
    assert code == 1


def test_no_key_anywhere_is_refused_with_a_clear_message(exported, fresh):
    pack, _, _ = exported
    services = fresh()
    with pytest.raises(PackRefused, match="no key to check the pack's signatures") as exc:
        services.import_pack(pack)
    assert "server_public_key" in str(exc.value)
    assert_nothing_applied(services)


@pytest.fixture
def keyed(exported, fresh, no_machine_policy):
    pack, pub, key = exported
    no_machine_policy.write_text(f'server_public_key = "{key}"\n')
    return pack, pub, fresh()


def test_changed_metadata_is_refused_whole(keyed, tmp_path):
    pack, pub, services = keyed

    def retitle(doc):
        doc["activities"][1]["activity"]["title"] = "Free credit for everyone"

    bad = rewrite(pack, tmp_path / "bad.zip", manifest=retitle)
    with pytest.raises(PackRefused, match="signature .* does not match"):
        services.import_pack(bad)
    assert_nothing_applied(services)


def test_a_flipped_blob_byte_is_refused_whole(keyed, tmp_path):
    pack, pub, services = keyed

    def flip(data):
        b = bytearray(data)
        b[len(b) // 2] ^= 1
        return bytes(b)

    bad = rewrite(pack, tmp_path / "bad.zip", members={f"blobs/{pub.video_sha}": flip})
    with pytest.raises(PackRefused, match="damaged"):
        services.import_pack(bad)
    assert_nothing_applied(services)


@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
def test_a_truncated_pack_is_refused_whole(keyed, tmp_path, keep):
    pack, pub, services = keyed
    data = pack.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(PackRefused, match="damaged or incomplete|not a readable content pack"):
        services.import_pack(cut)
    assert_nothing_applied(services)


@pytest.mark.parametrize("name", ["../../evil.txt", "/etc/cme-evil", "blobs/../../evil", "blobs\\..\\evil",
                                  "manifest.json/../x", "blobs/" + "a" * 64 + "/x"])
def test_path_tricks_are_refused_whole_and_nothing_lands_outside(keyed, tmp_path, name):
    pack, pub, services = keyed
    bad = rewrite(pack, tmp_path / "bad.zip",
                  extra=[(name, b"gotcha")])
    with pytest.raises(PackRefused, match="unexpected entry"):
        services.import_pack(bad)
    assert_nothing_applied(services)
    assert not list(tmp_path.rglob("evil*")) and not (tmp_path.parent / "evil.txt").exists()


def test_missing_listed_or_unlisted_blobs_are_refused(keyed, tmp_path):
    pack, pub, services = keyed
    missing = rewrite(pack, tmp_path / "m.zip", drop={f"blobs/{pub.summary_sha}"})
    with pytest.raises(PackRefused, match="not in the pack"):
        services.import_pack(missing)
    unlisted = rewrite(pack, tmp_path / "u.zip", extra=[("blobs/" + "0" * 64, b"x")])
    with pytest.raises(PackRefused, match="does not list"):
        services.import_pack(unlisted)

    def drop_asset_blob(doc):
        doc["blobs"] = [b for b in doc["blobs"] if b["sha256"] != pub.video_sha]

    unreferenced = rewrite(pack, tmp_path / "r.zip", manifest=drop_asset_blob)
    with pytest.raises(PackRefused, match="video of 'talk-a' is missing"):
        services.import_pack(unreferenced)
    assert_nothing_applied(services)


def test_a_pack_signed_by_another_server_is_refused(keyed, tmp_path):
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cmecore.signatures import key_id_for, sign_activity

    pack, pub, services = keyed
    other = Ed25519PrivateKey.generate()
    raw = other.public_key().public_bytes_raw()

    def resign(doc):
        for item in doc["activities"]:
            item["activity"]["title"] = "Changed and re-signed"
            item["signature"] = sign_activity(item["activity"], other)
            item["key_id"] = key_id_for(raw)

    bad = rewrite(pack, tmp_path / "other.zip", manifest=resign)
    with pytest.raises(PackRefused, match="does not know"):
        services.import_pack(bad)
    assert_nothing_applied(services)
    assert base64  # (imported for readers who want to print the key)


def test_a_newer_cached_version_is_kept(keyed, tmp_path):
    from datetime import datetime

    from cmecore import protocol
    from desktop.cache.catalog_store import apply_activities

    pack, pub, services = keyed
    with zipfile.ZipFile(pack) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    doc = next(a["activity"] for a in manifest["activities"] if a["activity"]["id"] == "talk-a")
    newer = protocol.Activity.model_validate({**doc, "version": doc["version"] + 1, "title": "Newer"})
    apply_activities(services.db, [newer], synced_at=datetime(2025, 1, 1))
    report = services.import_pack(pack)
    assert report.kept_newer == ["talk-a"] and report.activity_ids == [DEMO_ID]
    assert services.activity_detail("talk-a").title == "Newer"
