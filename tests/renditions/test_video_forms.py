"""The desktop fetches, counts, plays and switches the form of a video the learner or the
policy chose (issue 14, items 2 and 3), against the real reference server over loopback."""

from __future__ import annotations

import shutil

import pytest

from cmecore.renditions import Quality
from desktop.cache.blobstore import LocalState
from desktop.cache.video_forms import video_choice
from desktop.errors import QualityNotAllowed, VideoNotRemoved
from desktop.policy import Policy
from tests.renditions.conftest import Recorder, fast_policy, publish_with_renditions
from tests.support.media_publish import publish_activity, store_files


def row(services, activity_id):
    return next(r for r in services.library_rows() if r.id == activity_id)


def media_fetched(server) -> set[str]:
    """The blobs the server was asked for (its request log)."""
    return {r.path.rsplit("/", 1)[1] for r in server.request_log.matching("/api/v1/media/")}


def limit_to(quality: str) -> Policy:
    return Policy({"max_download_quality": quality}, {"max_download_quality": "test policy"})


def test_audio_only_fetches_only_the_audio_blob(server, client, tmp_path, data_dir):
    forms = publish_with_renditions(server, tmp_path / "a", "talk-a")
    services = client()
    server.request_log.clear()
    jobs = services.enqueue_downloads(["talk-a"], quality=Quality.audio)
    assert [(j.kind, j.quality) for j in jobs if j.kind == "video"] == [("video", Quality.audio)]
    assert all(j.quality is None for j in jobs if j.kind != "video")
    assert services.run_downloads(policy=fast_policy()).ok

    pub = forms.published
    assert media_fetched(server) == {pub.transcript_sha, pub.summary_sha, forms.sha["audio"]}
    assert set(store_files(data_dir / "blobs")) == {pub.transcript_sha, pub.summary_sha, forms.sha["audio"]}
    library = row(services, "talk-a")
    assert library.media_state is LocalState.present and library.video_quality is Quality.audio
    used = services.storage_used().by_activity["talk-a"]
    assert used == len(forms.audio) + (data_dir / "blobs").joinpath(
        pub.transcript_sha[:2], pub.transcript_sha).stat().st_size + (data_dir / "blobs").joinpath(
        pub.summary_sha[:2], pub.summary_sha).stat().st_size
    choices = services.video_forms("talk-a")
    assert [(f.quality, f.on_machine, f.wanted) for f in choices] == [
        (Quality.best, False, False), (Quality.small, False, False), (Quality.audio, True, True)]
    assert choices[0].size == len(pub.video) and choices[0].width == 1280 and choices[2].width is None
    (video,) = [a for a in services.activity_detail("talk-a").assets if a.kind == "video"]
    assert (video.quality, video.state, video.sha256, video.size) == (
        Quality.audio, LocalState.present, forms.sha["audio"], len(forms.audio))
    assert {a.state for a in services.library.assets()["talk-a"]} == {LocalState.present}
    services.acknowledge_disclosures("talk-a")
    assert services.media_file("talk-a").name == forms.sha["audio"]
    assert services.video_form("talk-a") is Quality.audio


def test_the_settings_quality_applies_and_a_form_already_here_counts(server, client, tmp_path, data_dir):
    forms = publish_with_renditions(server, tmp_path / "a", "talk-a")
    services = client()
    services.config.update_settings(download_quality=Quality.small)
    assert services.config.download_quality() is Quality.small
    (video,) = [j for j in services.enqueue_downloads(["talk-a"]) if j.kind == "video"]
    assert video.quality is Quality.small and video.sha256 == forms.sha["small"]
    services.cancel_download()

    # An audio file brought by a pack or the shared folder counts: no other form is fetched.
    target = data_dir / "blobs" / forms.sha["audio"][:2] / forms.sha["audio"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(forms.audio)
    assert not [j for j in services.enqueue_downloads(["talk-a"]) if j.kind == "video"]
    assert row(services, "talk-a").video_quality is Quality.audio
    assert row(services, "talk-a").media_state is not LocalState.absent


def test_a_policy_maximum_hides_larger_forms_and_they_are_never_fetched(server, client, tmp_path):
    forms = publish_with_renditions(server, tmp_path / "a", "talk-a")
    publish_activity(server, tmp_path / "b", "talk-b", video_size=20_000, seed=7)  # the original only
    services = client(policy=limit_to("small"))
    assert services.config.quality_maximum() is Quality.small
    assert services.config.download_quality() is Quality.small  # Best, the default, is above the maximum
    assert [f.quality for f in services.video_forms("talk-a")] == [Quality.small, Quality.audio]
    assert services.video_forms("talk-b") == []

    with pytest.raises(QualityNotAllowed) as refused:
        services.enqueue_downloads(["talk-b"], quality=Quality.best)
    assert "up to Small" in str(refused.value) and "only as Best" in str(refused.value)
    assert services.download_jobs() == []  # refused before anything was queued

    server.request_log.clear()
    services.enqueue_downloads(None, quality=Quality.best)  # everything: talk-b gets no video
    assert services.run_downloads(policy=fast_policy()).ok
    fetched = media_fetched(server)
    assert forms.sha["small"] in fetched and forms.sha["best"] not in fetched and forms.sha["audio"] not in fetched
    assert not any(j.kind == "video" and j.activity_id == "talk-b" for j in services.download_jobs())
    assert row(services, "talk-a").video_quality is Quality.small


def test_switching_keeps_the_old_form_until_the_new_one_is_verified(server, client, tmp_path, data_dir):
    forms = publish_with_renditions(server, tmp_path / "a", "talk-a", video_size=600_000)
    services = client()
    services.enqueue_downloads(["talk-a"])
    assert services.run_downloads(policy=fast_policy()).ok
    services.acknowledge_disclosures("talk-a")
    assert services.video_form("talk-a") is Quality.best
    before = services.save_watch_progress("talk-a", 30_000, 120_000, [(0, 60_000)])

    # A switch cut short: the original stays here and playable.
    (job,) = services.switch_quality("talk-a", Quality.small)
    assert job.quality is Quality.small

    def cancel_midway(event):
        if event.kind == "video" and event.state == "running" and event.bytes_done >= 20_000:
            services.cancel_download(event.job_id)

    services.run_downloads(Recorder(cancel_midway), policy=fast_policy(bandwidth_bytes_per_s=300_000))
    assert services.media_file("talk-a").name == forms.sha["best"]
    assert row(services, "talk-a").video_quality is Quality.best
    assert forms.sha["small"] not in store_files(data_dir / "blobs")

    # Resumed, it completes: the original goes only now.
    services.resume_download()
    assert services.run_downloads(policy=fast_policy()).ok
    files = store_files(data_dir / "blobs")
    assert forms.sha["small"] in files and forms.sha["best"] not in files
    assert services.media_file("talk-a").name == forms.sha["small"]
    assert row(services, "talk-a").video_quality is Quality.small
    assert [f.quality for f in services.video_forms("talk-a") if f.on_machine] == [Quality.small]

    # Progress is in media time: the same share and position whichever form plays, even
    # when the player finds the new file a little shorter than the catalog says.
    services.content.media_length_found("talk-a", 119_400)
    after = services.watch_progress("talk-a")
    assert (after.position_ms, after.watched_share) == (before.position_ms, before.watched_share) == (30_000, 0.5)
    services.save_watch_progress("talk-a", 31_000, 119_400, [(60_000, 61_000)])
    assert services.watch_progress("talk-a").duration_ms == 120_000


def test_switching_to_audio_removes_nothing_another_activity_plays(server, client, tmp_path, data_dir):
    forms = publish_with_renditions(server, tmp_path / "a", "talk-a", seed=3)
    publish_activity(server, tmp_path / "b", "talk-b", video_size=300_000, seed=3)  # the same original file
    services = client()
    services.enqueue_downloads(["talk-a", "talk-b"])
    assert services.run_downloads(policy=fast_policy()).ok
    services.switch_quality("talk-a", Quality.audio)
    assert services.run_downloads(policy=fast_policy()).ok
    files = store_files(data_dir / "blobs")
    assert forms.sha["audio"] in files and forms.sha["best"] in files  # talk-b still plays the original
    assert row(services, "talk-a").video_quality is Quality.audio
    assert row(services, "talk-b").video_quality is Quality.best
    assert services.remove_downloaded_video("talk-a") == len(forms.audio)
    assert forms.sha["best"] in store_files(data_dir / "blobs")


def test_a_catalog_from_a_server_without_renditions_works_as_before(server, client, tmp_path, data_dir):
    pub = publish_activity(server, tmp_path / "a", "talk-a", video_size=50_000)
    services = client()
    services.config.update_settings(download_quality=Quality.audio)  # not offered: the nearest form
    (video,) = [j for j in services.enqueue_downloads(["talk-a"]) if j.kind == "video"]
    assert video.quality is Quality.best and video.sha256 == pub.video_sha
    assert services.run_downloads(policy=fast_policy()).ok
    assert [(f.quality, f.on_machine, f.wanted) for f in services.video_forms("talk-a")] == [
        (Quality.best, True, True)]
    assert row(services, "talk-a").video_quality is Quality.best
    services.acknowledge_disclosures("talk-a")
    assert services.media_file("talk-a").name == pub.video_sha


def test_download_quality_on_the_command_line(server, client, tmp_path, data_dir, no_machine_policy,
                                              monkeypatch, capsys):
    from tests.support.cli import run_cli

    forms = publish_with_renditions(server, tmp_path / "a", "talk-a")
    publish_activity(server, tmp_path / "b", "talk-b", video_size=20_000, seed=7)  # the original only
    client().close()
    d = ["--data-dir", str(data_dir), "--server", server.url]
    code, out, err = run_cli(monkeypatch, capsys, "download", "talk-a", "--quality", "audio", *d)
    assert code == 0, err
    files = store_files(data_dir / "blobs")
    assert forms.sha["audio"] in files and forms.sha["best"] not in files and forms.sha["small"] not in files

    no_machine_policy.write_text('max_download_quality = "small"\n')
    code, out, err = run_cli(monkeypatch, capsys, "download", "talk-b", *d)
    assert code == 1 and err.count("\n") == 1
    assert "policy allows videos up to Small" in err and "only as Best" in err


def test_the_demo_video_as_audio_only_is_its_audio_rendition_alone(server, client, data_dir):
    """With the server's own renditions (publish made them): Audio only fetches that file alone,
    and the player is given it with the catalog's length."""
    from tests.support.activities import DEMO_ID

    services = client()
    forms = services.video_forms(DEMO_ID)
    assert [f.quality for f in forms] == [Quality.best, Quality.small, Quality.audio]
    assert forms[0].size > forms[1].size > forms[2].size and forms[2].media_type.startswith("audio/")
    assert len({f.duration_ms for f in forms}) == 1
    video = next(a for a in services.activity_detail(DEMO_ID).assets if a.kind == "video")
    server.request_log.clear()
    services.enqueue_downloads([DEMO_ID], quality=Quality.audio)
    assert services.run_downloads(policy=fast_policy()).ok
    fetched_videos = {sha for sha in media_fetched(server)
                      if sha not in {a.sha256 for a in services.activity_detail(DEMO_ID).assets if a.kind != "video"}}
    (audio_sha,) = fetched_videos
    assert audio_sha != video.sha256 and row(services, DEMO_ID).video_quality is Quality.audio
    services.acknowledge_disclosures(DEMO_ID)
    assert services.media_file(DEMO_ID).name == audio_sha and services.video_form(DEMO_ID) is Quality.audio
    assert services.media_file(DEMO_ID).stat().st_size == forms[2].size


def test_the_form_in_the_shared_content_folder_is_copied_rather_than_another_downloaded(
        server, client, tmp_path, data_dir):
    forms = publish_with_renditions(server, tmp_path / "a", "talk-a")
    shared = tmp_path / "shared"
    (shared / forms.sha["small"][:2]).mkdir(parents=True)
    (shared / forms.sha["small"][:2] / forms.sha["small"]).write_bytes(forms.small)  # IT prefetched Small
    services = client()
    services.update_settings(shared_content_dir=str(shared))
    assert services.config.download_quality() is Quality.best
    (video,) = [j for j in services.enqueue_downloads(["talk-a"]) if j.kind == "video"]
    assert video.quality is Quality.small
    server.request_log.clear()
    assert services.run_downloads(policy=fast_policy()).ok
    assert not {forms.sha["small"], forms.sha["best"]} & media_fetched(server)
    assert row(services, "talk-a").video_quality is Quality.small
    # asked for by name, the learner's choice is fetched even so
    (video,) = [j for j in services.enqueue_downloads(["talk-a"], quality=Quality.best) if j.kind == "video"]
    assert video.quality is Quality.best


def test_switching_to_a_form_already_here_removes_the_old_one_at_once(server, client, tmp_path, data_dir):
    forms = publish_with_renditions(server, tmp_path / "a", "talk-a")
    services = client()
    services.enqueue_downloads(["talk-a"])
    assert services.run_downloads(policy=fast_policy()).ok
    target = data_dir / "blobs" / forms.sha["small"][:2] / forms.sha["small"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(forms.small)  # a content pack brought it
    assert row(services, "talk-a").video_quality is Quality.best  # the wanted form, here, stands for it
    server.request_log.clear()
    assert services.switch_quality("talk-a", Quality.small) == []
    files = store_files(data_dir / "blobs")
    assert forms.sha["small"] in files and forms.sha["best"] not in files
    assert row(services, "talk-a").video_quality is Quality.small
    assert services.switch_quality("talk-a", Quality.small) == []  # nothing to do twice
    assert media_fetched(server) == set()


def test_a_remove_that_fails_part_way_says_so_and_names_the_activity_changed(server, client, tmp_path, data_dir):
    """Remove video deletes the forms here one by one: one that will not go (a folder stands
    where its partial file would be) stops it with words for the learner, the forms before
    it stay removed, and the services still name the activity changed (the one place that
    says so: the Downloads queue redraws its Files line from it)."""
    forms = publish_with_renditions(server, tmp_path / "a", "talk-a")
    services = client()
    services.enqueue_downloads(["talk-a"], quality=Quality.small)
    services.enqueue_downloads(["talk-a"], quality=Quality.audio)
    assert services.run_downloads(policy=fast_policy()).ok
    first, second = sorted([forms.sha["small"], forms.sha["audio"]])  # the order they are removed in
    blocked = services.blobs.part_path_for(first)
    blocked.mkdir()  # its file goes, then removing this fails
    services.downloads.take_files_changed()

    with pytest.raises(VideoNotRemoved):
        services.remove_downloaded_video("talk-a")
    assert services.downloads.take_files_changed() == {"talk-a"}
    files = store_files(data_dir / "blobs")
    assert first not in files and second in files
    assert [f.on_machine for f in services.video_forms("talk-a")].count(True) == 1
    blocked.rmdir()
    size = files[second].stat().st_size
    assert services.remove_downloaded_video("talk-a") == size  # tried again: the rest goes
    assert not any(f.on_machine for f in services.video_forms("talk-a"))


def test_a_switch_left_open_finishes_at_the_next_run_and_names_the_activity(server, client, tmp_path, data_dir):
    """The old form could not be removed when the new one arrived (a player had it open): the
    next run removes it and the services name the activity changed."""
    forms = publish_with_renditions(server, tmp_path / "a", "talk-a")
    services = client()
    services.enqueue_downloads(["talk-a"])
    assert services.run_downloads(policy=fast_policy()).ok
    target = services.blobs.path_for(forms.sha["small"])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(forms.small)  # a content pack brought it
    services.blobs.part_path_for(forms.sha["best"]).mkdir()  # removing the original stops part way
    assert services.switch_quality("talk-a", Quality.small) == []
    assert services.downloads.take_files_changed() == {"talk-a"}
    assert video_choice(services.db, "talk-a").replaces is Quality.best  # the switch is still open
    services.blobs.part_path_for(forms.sha["best"]).rmdir()

    assert services.run_downloads(policy=fast_policy()).ok
    assert services.downloads.take_files_changed() == {"talk-a"}
    assert services.downloads.take_files_changed() == set()
