"""The shared content folder: files come from there (verified) instead of the network;
a damaged file there is ignored and downloaded; the folder is never written to."""

from __future__ import annotations

import logging
import os

from desktop.cache.blobstore import BlobStore
from tests.downloads.conftest import fast_policy
from tests.support.media_publish import assert_store_verified, publish_activity, store_files


def fill_shared(folder, pub, server) -> None:
    store = BlobStore(folder)
    media = server.data_dir / "media"
    for sha in pub.shas:
        path = store.path_for(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((media / sha[:2] / sha).read_bytes())


def snapshot(folder):
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*")}


def test_assets_come_from_the_shared_folder_not_the_network(server, make_services, tmp_path, data_dir,
                                                            no_machine_policy):
    shared = tmp_path / "share"
    no_machine_policy.write_text(f'shared_content_dir = "{shared}"\n')
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    pub = publish_activity(server, tmp_path / "pub", "talk-a", video_size=300_000)
    services.sync()
    fill_shared(shared, pub, server)
    os.chmod(shared, 0o555)  # read-only, as a share would be for users
    before = snapshot(shared)
    try:
        services.enqueue_downloads(["talk-a"])
        summary = services.run_downloads(policy=fast_policy())
    finally:
        os.chmod(shared, 0o755)
    assert summary.done == 3 and summary.failed == 0 and summary.bytes_fetched == 0
    assert server.request_log.matching("/api/v1/media/") == []
    assert set(store_files(data_dir / "blobs")) == pub.shas
    assert_store_verified(data_dir / "blobs")
    assert snapshot(shared) == before  # nothing written to the shared folder
    assert {a.state.value for a in services.activity_detail("talk-a").assets} == {"present"}
    assert "talk-a" in {h.activity_id for h in services.search("Hello")}  # indexed as if downloaded


def test_a_damaged_or_wrong_size_shared_file_is_ignored_and_downloaded(server, make_services, tmp_path, data_dir,
                                                                       no_machine_policy, caplog):
    shared = tmp_path / "share"
    no_machine_policy.write_text(f'shared_content_dir = "{shared}"\n')
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    pub = publish_activity(server, tmp_path / "pub", "talk-b", video_size=300_000, seed=7)
    services.sync()
    fill_shared(shared, pub, server)
    store = BlobStore(shared)
    video = store.path_for(pub.video_sha)
    damaged = bytearray(video.read_bytes())
    damaged[1000] ^= 0xFF
    video.write_bytes(bytes(damaged))  # same size, one byte flipped
    store.path_for(pub.summary_sha).write_bytes(b"short")  # wrong size
    with caplog.at_level(logging.INFO):
        services.enqueue_downloads(["talk-b"])
        summary = services.run_downloads(policy=fast_policy())
    assert summary.done == 3 and summary.failed == 0
    fetched = {r.path.rsplit("/", 1)[-1] for r in server.request_log.matching("/api/v1/media/")}
    assert fetched == {pub.video_sha, pub.summary_sha}  # the transcript came from the share
    assert set(store_files(data_dir / "blobs")) == pub.shas
    assert_store_verified(data_dir / "blobs")
    lines = [r.getMessage() for r in caplog.records if "shared content" in r.getMessage()]
    assert any("does not match its SHA-256" in m and str(video) in m for m in lines)
    assert any("has 5 bytes" in m for m in lines)
    assert video.read_bytes() == bytes(damaged)  # left as it was: the app never repairs the share
    assert not list((data_dir / "blobs").rglob("*.tmp"))
