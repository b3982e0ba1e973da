"""Content packs carry the forms of each video IT chooses (`pack export --quality small`),
and a machine that imports one has those forms as if it had downloaded them."""

from __future__ import annotations

import json
import zipfile

import pytest

from cmecore.renditions import Quality
from desktop.errors import PackRefused, QualityNotAllowed
from tests.shared.test_prefetch import login
from tests.support.cli import run_cli
from tests.support.media_publish import publish_activity, store_files
from tests.support.packs import assert_nothing_applied, rewrite
from tests.support.renditions import add_forms


def fetched(server) -> set[str]:
    return {r.path.rsplit("/", 1)[-1] for r in server.request_log.matching("/api/v1/media/")}


def pack_blobs(pack) -> set[str]:
    with zipfile.ZipFile(pack) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        members = {n.removeprefix("blobs/") for n in zf.namelist() if n.startswith("blobs/")}
    assert members == {b["sha256"] for b in manifest["blobs"]}
    return members


@pytest.fixture
def talk_forms(server, tmp_path):
    return add_forms(server, publish_activity(server, tmp_path / "pub", "talk-q", video_size=200_000), tmp_path / "f")


@pytest.fixture
def exporter(server, make_services):
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    return services


def test_a_small_pack_holds_only_the_small_video_fetched_for_it(talk_forms, exporter, server, tmp_path):
    server.request_log.clear()
    report = exporter.export_pack(["talk-q"], tmp_path / "small.zip", qualities=[Quality.small])
    assert report.qualities == [Quality.small] and report.blobs == 3
    assert pack_blobs(report.path) == {talk_forms.small_sha} | talk_forms.others
    assert fetched(server) == {talk_forms.small_sha} | talk_forms.others  # not the original, not the audio
    # fetched for the pack only: this computer's own store is as it was, no staging left
    assert store_files(exporter.paths.blobs) == {}
    assert [p.name for p in exporter.paths.blobs.iterdir()] == []

    both = exporter.export_pack(["talk-q"], tmp_path / "both.zip", qualities=[Quality.small, Quality.audio])
    assert pack_blobs(both.path) == {talk_forms.small_sha, talk_forms.audio_sha} | talk_forms.others


def test_a_pack_takes_the_forms_this_computer_has_without_fetching_them(talk_forms, exporter, server, tmp_path):
    exporter.export_pack(["talk-q"], tmp_path / "first.zip", qualities=[Quality.audio])
    exporter.enqueue_downloads(["talk-q"])  # the learner's own download, whatever form it is
    exporter.run_downloads()
    held = set(store_files(exporter.paths.blobs))
    server.request_log.clear()
    report = exporter.export_pack(["talk-q"], tmp_path / "again.zip", qualities=[Quality.audio])
    assert fetched(server) == {talk_forms.audio_sha} - held
    assert pack_blobs(report.path) == {talk_forms.audio_sha} | talk_forms.others


def test_a_pack_above_the_policy_maximum_is_refused_before_anything(talk_forms, server, make_services, tmp_path,
                                                                   no_machine_policy):
    no_machine_policy.write_text('max_download_quality = "small"\n')
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    server.request_log.clear()
    with pytest.raises(QualityNotAllowed, match="up to Small, so Best cannot be carried"):
        services.export_pack(["talk-q"], tmp_path / "best.zip", qualities=[Quality.best])
    assert not (tmp_path / "best.zip").exists() and fetched(server) == set()
    report = services.export_pack(["talk-q"], tmp_path / "default.zip")  # the policy's maximum
    assert report.qualities == [Quality.small]
    assert pack_blobs(report.path) == {talk_forms.small_sha} | talk_forms.others


def test_a_pack_with_no_form_of_a_video_is_refused_whole(talk_forms, exporter, server, fresh, no_machine_policy, tmp_path):
    report = exporter.export_pack(["talk-q"], tmp_path / "small.zip", qualities=[Quality.small])
    no_machine_policy.write_text(f'server_public_key = "{server.app.state.signing_key.public_key_b64}"\n')
    services = fresh()

    def drop_small(doc):
        doc["blobs"] = [b for b in doc["blobs"] if b["sha256"] != talk_forms.small_sha]

    bad = rewrite(report.path, tmp_path / "bad.zip", manifest=drop_small, drop={f"blobs/{talk_forms.small_sha}"})
    with pytest.raises(PackRefused, match="the video of 'talk-q' is missing from the pack"):
        services.import_pack(bad)
    assert_nothing_applied(services)

    def wrong_size(doc):
        next(b for b in doc["blobs"] if b["sha256"] == talk_forms.small_sha)["size"] += 1

    bad = rewrite(report.path, tmp_path / "size.zip", manifest=wrong_size)
    with pytest.raises(PackRefused, match="wrong size"):
        services.import_pack(bad)
    assert_nothing_applied(services)


def test_a_small_pack_imported_offline_is_played_in_its_small_form_without_a_download(
        server, exporter, make_services, tmp_path, qtbot, qapp, libvlc):
    """The demo video's own renditions (made at publish): a pack of its Small form, imported on
    a machine whose learner prefers Small, is what the library shows and the player plays."""
    from desktop.media.qt_player import QtPlayer
    from tests.support.activities import DEMO_ID

    exporter.sync()
    small = next(f for f in exporter.video_forms(DEMO_ID) if f.quality is Quality.small)
    report = exporter.export_pack([DEMO_ID], tmp_path / "demo-small.zip", qualities=[Quality.small])
    assert len(pack_blobs(report.path)) == 4  # the Small video, the transcript, two summaries

    services = make_services(server.url, at=tmp_path / "ward")
    services.sign_in("demo", "demo")  # keeps the server's key (no media here)
    services.update_settings(download_quality=Quality.small)
    server.stop()
    imported = services.import_pack(report.path)
    assert imported.activity_ids == [DEMO_ID] and imported.video_forms == [Quality.small]
    (row,) = [r for r in services.library_rows() if r.id == DEMO_ID]
    assert row.media_state.value == "present" and row.video_quality is Quality.small
    assert [j for j in services.enqueue_downloads([DEMO_ID]) if j.kind == "video"] == []  # nothing to fetch

    services.acknowledge_disclosures(DEMO_ID)
    path = services.media_file(DEMO_ID)
    assert services.video_form(DEMO_ID) is Quality.small and path.stat().st_size == small.size
    player = QtPlayer()
    try:
        player.load(path)
        with qtbot.waitSignal(player.length_changed, timeout=10_000) as length:
            player.play()
        assert abs(length.args[0] - small.duration_ms) <= 100
        qtbot.waitUntil(lambda: player.position_ms() >= 500, timeout=10_000)
    finally:
        player.release()


def test_pack_export_says_which_forms_it_carried(server, tmp_path, data_dir, monkeypatch, capsys):
    add_forms(server, publish_activity(server, tmp_path / "pub", "talk-q", video_size=200_000), tmp_path / "f")
    login(monkeypatch, capsys, data_dir, server.url)
    out_file = tmp_path / "p.zip"
    code, out, err = run_cli(monkeypatch, capsys, "pack", "export", "talk-q", "--out", str(out_file),
                             "--quality", "small,audio", "--data-dir", str(data_dir))
    assert code == 0, err
    assert out.startswith(f"Wrote {out_file}: 1 activities, 4 files") and out.endswith("(videos: small, audio)\n")
    server.stop()
    code, out, err = run_cli(monkeypatch, capsys, "pack", "import", str(out_file), "--data-dir",
                             str(tmp_path / "offline"), "--server", server.url)
    assert code == 1 and "no key to check" in err  # this machine never signed in
    code, out, err = run_cli(monkeypatch, capsys, "pack", "import", str(out_file), "--data-dir", str(data_dir))
    assert code == 0, err
    assert out == "Imported 1 activities, 4 new files; videos: small, audio\n"  # the export kept none here


def ward_with_maximum(server, fresh, no_machine_policy, maximum: str):
    """A machine that never signed in to the server it knows, its policy naming the server's key
    and this maximum."""
    no_machine_policy.write_text(f'server_public_key = "{server.app.state.signing_key.public_key_b64}"\n'
                                 f'max_download_quality = "{maximum}"\n')
    return fresh(server_url=server.url)


def test_forms_above_the_importing_computers_maximum_are_not_imported(talk_forms, exporter, server, fresh,
                                                                     no_machine_policy, tmp_path):
    """IT's maximum holds for packs too: the pack's Best video stays out, its Small and Audio
    forms come in, and the import says which form it left out and why."""
    report = exporter.export_pack(["talk-q"], tmp_path / "all.zip",
                                  qualities=[Quality.best, Quality.small, Quality.audio])
    assert pack_blobs(report.path) == {talk_forms.original_sha, talk_forms.small_sha,
                                       talk_forms.audio_sha} | talk_forms.others
    services = ward_with_maximum(server, fresh, no_machine_policy, "small")
    imported = services.import_pack(report.path)
    assert imported.activity_ids == ["talk-q"] and imported.video_forms == [Quality.small, Quality.audio]
    assert imported.above_maximum == {"talk-q": [Quality.best]} and imported.without_video == []
    assert imported.policy_notes == [
        "Not imported, above this computer's policy maximum (Small): the Best video of talk-q."]
    assert set(store_files(services.paths.blobs)) == {talk_forms.small_sha, talk_forms.audio_sha} | talk_forms.others
    (row,) = services.library_rows()
    assert row.media_state.value == "present" and row.video_quality is Quality.small


def test_a_pack_holding_a_video_only_above_the_maximum_brings_the_activity_without_it(
        talk_forms, exporter, server, fresh, no_machine_policy, tmp_path):
    """The activity, its transcript and summary come in; the video does not, and the import
    says so naming the maximum. Once the computer reaches the server, the Small form downloads."""
    report = exporter.export_pack(["talk-q"], tmp_path / "best.zip", qualities=[Quality.best])
    services = ward_with_maximum(server, fresh, no_machine_policy, "small")
    imported = services.import_pack(report.path)
    assert imported.activity_ids == ["talk-q"] and imported.video_forms == []
    assert imported.above_maximum == {"talk-q": [Quality.best]} and imported.without_video == ["talk-q"]
    assert imported.policy_notes == [
        "Imported without their video, which the pack held only above this computer's policy maximum (Small): "
        "talk-q. Use Download (or `cme-offline download`) to fetch it in an allowed form."]
    assert set(store_files(services.paths.blobs)) == talk_forms.others
    (row,) = services.library_rows()
    assert row.media_state.value != "present" and row.video_quality is None

    services.sign_in("demo", "demo")
    server.request_log.clear()
    services.enqueue_downloads(["talk-q"])
    assert services.run_downloads().ok
    assert fetched(server) == {talk_forms.small_sha}
    (row,) = services.library_rows()
    assert row.media_state.value == "present" and row.video_quality is Quality.small


def test_pack_import_on_the_command_line_names_the_maximum(talk_forms, exporter, server, no_machine_policy,
                                                          tmp_path, monkeypatch, capsys):
    report = exporter.export_pack(["talk-q"], tmp_path / "best.zip", qualities=[Quality.best])
    no_machine_policy.write_text(f'server_public_key = "{server.app.state.signing_key.public_key_b64}"\n'
                                 'max_download_quality = "small"\n')
    code, out, err = run_cli(monkeypatch, capsys, "pack", "import", str(report.path),
                             "--data-dir", str(tmp_path / "ward"))
    assert code == 0, err
    assert out.splitlines() == [
        "Imported 1 activities, 2 new files",
        "  Imported without their video, which the pack held only above this computer's policy maximum (Small): "
        "talk-q. Use Download (or `cme-offline download`) to fetch it in an allowed form.",
    ]
