"""Content packs against what this computer knows: an older pack never replaces newer content
nor brings back an activity the provider withdrew (the rest of it is imported, and the import
says so), and the pack's signed issue (catalog revision, time) cannot be changed.

Real server over loopback, real SQLite, real Ed25519 signatures."""

from __future__ import annotations

import json
import zipfile

import pytest

from desktop.errors import MediaWithdrawn, PackRefused
from tests.support.activities import DEMO_ID
from tests.support.media_publish import publish_activity, store_files
from tests.support.packs import assert_nothing_applied, rewrite


def manifest_of(pack) -> dict:
    with zipfile.ZipFile(pack) as zf:
        return json.loads(zf.read("manifest.json"))


@pytest.fixture
def learner_client(fresh, server):
    """A fresh client signed in to the server (it keeps the server's key), not yet synced."""
    services = fresh("learner", server_url=server.url)
    services.sign_in("demo", "demo")
    return services


def test_the_pack_carries_the_signed_catalog_revision_and_issue_time(exported, server):
    pack, _, _ = exported
    manifest = manifest_of(pack)
    issue = manifest["issue"]
    with server.app.state.db.session() as s:
        from creditserver.db import current_revision

        assert issue["catalog_revision"] == current_revision(s)
    assert issue["issued_at"].endswith("Z") and manifest["created_at"] == issue["issued_at"]
    assert [a["id"] for a in issue["activities"]] == ["talk-a", DEMO_ID]


def test_an_older_pack_does_not_replace_newer_content(exported, server, learner_client, tmp_path):
    pack, old, _ = exported
    newer = publish_activity(server, tmp_path / "pub2", "talk-a", video_size=150_000, seed=2)
    services = learner_client
    services.sync()
    assert services.activity_detail("talk-a").version == 2

    report = services.import_pack(pack)

    assert report.kept_newer == ["talk-a"] and report.activity_ids == [DEMO_ID] and report.withdrawn == []
    assert report.summary == "1 activity was older than what you have; 1 imported."
    assert services.activity_detail("talk-a").version == 2
    assert newer.video_sha != old.video_sha and old.video_sha not in store_files(services.paths.blobs)


@pytest.mark.parametrize("learnt_by", ["full catalog", "delta"])
def test_a_pack_does_not_bring_back_a_withdrawn_activity_nor_does_the_next_sync(
        exported, server, learner_client, learnt_by):
    pack, pub, _ = exported
    services = learner_client
    if learnt_by == "delta":
        services.sync()  # has talk-a; the withdrawal then comes as a change since this cursor
    server.withdraw("talk-a")
    services.sync()
    assert "talk-a" not in {r.id for r in services.library_rows()}

    report = services.import_pack(pack)

    assert report.withdrawn == ["talk-a"] and report.activity_ids == [DEMO_ID] and report.kept_newer == []
    assert report.summary == "1 activity was withdrawn by the provider; 1 imported."
    assert {r.id for r in services.library_rows()} == {DEMO_ID}
    assert not pub.shas & set(store_files(services.paths.blobs))  # its files were not taken in
    assert "talk-a" not in {h.activity_id for h in services.search("Hello")}
    services.sync()
    assert {r.id for r in services.library_rows()} == {DEMO_ID}


def test_a_pack_issued_after_the_activity_was_published_again_is_imported(
        exported, server, learner_client, make_services, tmp_path):
    pack, _, _ = exported
    services = learner_client
    server.withdraw("talk-a")
    services.sync()
    publish_activity(server, tmp_path / "again", "talk-a", video_size=120_000, seed=3)
    exporter = make_services(server.url, at=tmp_path / "exporter")
    exporter.sign_in("demo", "demo")
    newer_pack = exporter.export_pack(["talk-a"], tmp_path / "newer.zip").path

    assert services.import_pack(pack).withdrawn == ["talk-a"]
    report = services.import_pack(newer_pack)  # offline: no sync in between

    assert report.activity_ids == ["talk-a"] and report.withdrawn == []
    services.sync()
    assert "talk-a" in {r.id for r in services.library_rows()}


def test_the_cli_says_what_was_left_out(exported, server, learner_client, monkeypatch, capsys):
    from tests.support.cli import run_cli

    pack, _, _ = exported
    server.withdraw("talk-a")
    learner_client.sync()
    code, out, err = run_cli(monkeypatch, capsys, "pack", "import", str(pack), "--data-dir",
                             str(learner_client.paths.data_dir), "--server", server.url)
    assert code == 0, err
    assert "1 activity was withdrawn by the provider; 1 imported." in out
    assert "withdrawn by the provider after the pack was made: talk-a" in out


@pytest.mark.parametrize("change", ["revision", "time", "activity list"])
def test_a_changed_issue_fails_the_signature_check(exported, learner_client, tmp_path, change):
    pack, _, _ = exported
    services = learner_client

    def tamper(doc):
        if change == "revision":
            doc["issue"]["catalog_revision"] += 1000
        elif change == "time":
            doc["issue"]["issued_at"] = "2099-01-01T00:00:00Z"
        else:
            doc["issue"]["activities"] = doc["issue"]["activities"][:1]

    bad = rewrite(pack, tmp_path / "bad.zip", manifest=tamper)
    with pytest.raises(PackRefused, match="signature on its issue .* does not match"):
        services.import_pack(bad)
    assert_nothing_applied(services)


def test_an_issue_cannot_cover_other_activities_nor_be_stripped(exported, server, learner_client, make_services,
                                                                tmp_path):
    old_pack, _, _ = exported
    services = learner_client
    server.withdraw("talk-a")
    services.sync()
    # A newer pack's genuine issue, with the old pack's talk-a put under it: refused whole.
    exporter = make_services(server.url, at=tmp_path / "exporter")
    exporter.sign_in("demo", "demo")
    newer = manifest_of(exporter.export_pack([DEMO_ID], tmp_path / "newer.zip").path)
    old = manifest_of(old_pack)

    def graft(doc):
        doc["issue"], doc["issue_signature"] = newer["issue"], newer["issue_signature"]

    grafted = rewrite(old_pack, tmp_path / "grafted.zip", manifest=graft)
    with pytest.raises(PackRefused, match="not the ones the credit server issued"):
        services.import_pack(grafted)

    # Stripped to a version 1 pack (no issue): its revision is unknown, so it is older than any withdrawal.
    def strip(doc):
        doc["format_version"] = 1
        for key in ("issue", "issue_key_id", "issue_signature"):
            del doc[key]

    stripped = rewrite(old_pack, tmp_path / "v1.zip", manifest=strip)
    report = services.import_pack(stripped)
    assert report.withdrawn == ["talk-a"] and report.activity_ids == [DEMO_ID] and report.catalog_revision is None
    assert old["issue"]["catalog_revision"] < newer["issue"]["catalog_revision"]


def test_a_download_refused_for_a_withdrawn_activity_says_so(server, learner_client, tmp_path):
    pub = publish_activity(server, tmp_path / "pub", "talk-a", video_size=50_000)
    services = learner_client
    services.sync()
    server.withdraw("talk-a")  # the client has not synced since

    services.enqueue_downloads(["talk-a"])
    summary = services.run_downloads()

    assert summary.failed == 3 and len(summary.failures) == 3
    assert all(MediaWithdrawn.message in f.error for f in summary.failures), summary.failures
    assert not pub.shas & set(store_files(services.paths.blobs))
