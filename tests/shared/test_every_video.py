"""An activity with two videos: IT's prefetch and packs carry the chosen form of each (not
only of the first), and a machine wanting that form finds every video there: it downloads
nothing, the library counts the activity as here, and Remove video frees both."""

from __future__ import annotations

import json
import zipfile

import pytest

from cmecore.renditions import Quality
from tests.downloads.conftest import fast_policy
from tests.shared.test_prefetch_quality import fetched
from tests.support.media_publish import generated_bytes, publish_activity, store_files
from tests.support.renditions import add_forms


@pytest.fixture
def two_videos(server, tmp_path):
    """(first video's Forms, second video's Forms) of "talk-2": each with Small and Audio only."""
    pub = publish_activity(server, tmp_path / "pub", "talk-2", video_size=200_000,
                           second_video=generated_bytes(150_000, 7))
    first = add_forms(server, pub, tmp_path / "f1")
    second = add_forms(server, pub, tmp_path / "f2", video=1, small=generated_bytes(30_000, 111), audio=generated_bytes(7_000, 112))
    return first, second


@pytest.fixture
def it(server, make_services, tmp_path):
    services = make_services(server.url, at=tmp_path / "it")
    services.sign_in("demo", "demo")
    return services


def test_prefetch_small_carries_the_small_form_of_every_video(two_videos, it, server, tmp_path):
    first, second = two_videos
    share = tmp_path / "share"
    server.request_log.clear()
    assert it.prefetch(share, ["talk-2"], qualities=[Quality.small]).ok
    assert set(store_files(share)) == {first.small_sha, second.small_sha} | first.others
    assert second.original_sha not in fetched(server)


def test_pack_export_small_carries_the_small_form_of_every_video(two_videos, it, tmp_path):
    first, second = two_videos
    report = it.export_pack(["talk-2"], tmp_path / "small.zip", qualities=[Quality.small])
    with zipfile.ZipFile(report.path) as zf:
        blobs = {b["sha256"] for b in json.loads(zf.read("manifest.json"))["blobs"]}
    assert blobs == {first.small_sha, second.small_sha} | first.others


def test_a_machine_wanting_small_copies_every_video_from_the_folder_and_downloads_nothing(
        two_videos, it, server, make_services, tmp_path, data_dir, no_machine_policy):
    first, second = two_videos
    share = tmp_path / "share"
    assert it.prefetch(share, ["talk-2"], qualities=[Quality.small]).ok
    no_machine_policy.write_text(f'shared_content_dir = "{share}"\n')
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.update_settings(download_quality=Quality.small)
    services.sync()
    server.request_log.clear()
    services.enqueue_downloads(["talk-2"])
    summary = services.run_downloads(policy=fast_policy())
    assert summary.ok and summary.bytes_fetched == 0 and fetched(server) == set()
    assert set(store_files(data_dir / "blobs")) == {first.small_sha, second.small_sha} | first.others
    (row,) = [r for r in services.library_rows() if r.id == "talk-2"]
    assert row.media_state.value == "present" and row.video_quality is Quality.small
    assert row.media_bytes == sum(store_files(data_dir / "blobs")[s].stat().st_size
                                  for s in store_files(data_dir / "blobs"))
    detail = services.activity_detail("talk-2")
    assert [(a.quality, a.sha256) for a in detail.assets if a.kind == "video"] == [
        (Quality.small, first.small_sha), (Quality.small, second.small_sha)]
    assert all(a.state.value == "present" for a in detail.assets)

    services.remove_downloaded_video("talk-2")
    assert set(store_files(data_dir / "blobs")) == first.others


def test_downloading_small_fetches_the_small_form_of_every_video(two_videos, server, make_services, data_dir):
    first, second = two_videos
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    server.request_log.clear()
    services.enqueue_downloads(["talk-2"], quality=Quality.small)
    assert services.run_downloads(policy=fast_policy()).ok
    assert fetched(server) == {first.small_sha, second.small_sha} | first.others
    (row,) = [r for r in services.library_rows() if r.id == "talk-2"]
    assert row.media_state.value == "present"
    assert [j for j in services.enqueue_downloads(["talk-2"]) if j.kind == "video"] == []  # nothing more to fetch
