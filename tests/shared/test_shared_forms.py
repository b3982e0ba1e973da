"""The shared content folder with the forms IT carried (`prefetch --quality small`): a
machine wanting that form copies it and downloads nothing; a form asked for that the folder
lacks comes from the server, that form alone."""

from __future__ import annotations

from cmecore.renditions import Quality
from tests.downloads.conftest import fast_policy
from tests.shared.test_prefetch_quality import fetched
from tests.support.media_publish import assert_store_verified, publish_activity, store_files
from tests.support.renditions import add_forms


def small_share(server, make_services, tmp_path):
    """An activity with Small and Audio forms, and a folder IT filled with `--quality small`."""
    forms, share = _share_filled_by_it(server, make_services, tmp_path, Quality.small)
    assert set(store_files(share)) == {forms.small_sha} | forms.others
    return forms, share


def _share_filled_by_it(server, make_services, tmp_path, quality: Quality):
    """An activity with Small and Audio forms ("talk-s"), and a folder IT filled with `--quality`."""
    forms = add_forms(server, publish_activity(server, tmp_path / "pub", "talk-s", video_size=200_000), tmp_path / "f")
    it = make_services(server.url, at=tmp_path / "it")
    it.sign_in("demo", "demo")
    share = tmp_path / "share"
    assert it.prefetch(share, ["talk-s"], qualities=[quality]).ok
    return forms, share


def ward(server, make_services, no_machine_policy, share, quality: Quality):
    no_machine_policy.write_text(f'shared_content_dir = "{share}"\n')
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.update_settings(download_quality=quality)
    services.sync()
    return services


def test_a_machine_wanting_small_copies_it_from_the_folder_and_downloads_nothing(server, make_services, tmp_path,
                                                                                 data_dir, no_machine_policy):
    forms, share = small_share(server, make_services, tmp_path)
    services = ward(server, make_services, no_machine_policy, share, Quality.small)
    server.request_log.clear()
    services.enqueue_downloads(["talk-s"])
    summary = services.run_downloads(policy=fast_policy())
    assert summary.ok and summary.bytes_fetched == 0
    assert fetched(server) == set()  # not the original, not the Small form: nothing over the network
    assert set(store_files(data_dir / "blobs")) == {forms.small_sha} | forms.others
    assert_store_verified(data_dir / "blobs")
    (row,) = [r for r in services.library_rows() if r.id == "talk-s"]
    assert row.media_state.value == "present" and row.video_quality is Quality.small


def test_a_form_the_folder_lacks_is_downloaded_that_form_alone(server, make_services, tmp_path, data_dir,
                                                               no_machine_policy):
    forms, share = small_share(server, make_services, tmp_path)
    services = ward(server, make_services, no_machine_policy, share, Quality.small)
    server.request_log.clear()
    services.enqueue_downloads(["talk-s"], quality=Quality.audio)  # the learner asks for Audio only
    assert services.run_downloads(policy=fast_policy()).ok
    assert fetched(server) == {forms.audio_sha}  # the transcript and summary came from the folder
    assert set(store_files(data_dir / "blobs")) == {forms.audio_sha} | forms.others
    (row,) = [r for r in services.library_rows() if r.id == "talk-s"]
    assert row.video_quality is Quality.audio


def test_a_form_in_the_folder_above_the_machines_maximum_is_not_copied(server, make_services, tmp_path, data_dir,
                                                                      no_machine_policy):
    """A folder filled elsewhere with the originals: a machine whose policy stops at Small
    downloads the Small form and copies nothing above it (only the transcript and summary)."""
    forms, share = _share_filled_by_it(server, make_services, tmp_path, Quality.best)
    assert set(store_files(share)) == {forms.original_sha} | forms.others
    no_machine_policy.write_text(f'shared_content_dir = "{share}"\nmax_download_quality = "small"\n')
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    server.request_log.clear()
    services.enqueue_downloads(["talk-s"])
    assert services.run_downloads(policy=fast_policy()).ok
    assert fetched(server) == {forms.small_sha}
    assert set(store_files(data_dir / "blobs")) == {forms.small_sha} | forms.others
    (row,) = [r for r in services.library_rows() if r.id == "talk-s"]
    assert row.video_quality is Quality.small
