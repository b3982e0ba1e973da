"""`cme-offline prefetch --into DIR`: IT fills a shared content folder; quiet, verified, resumable."""

from __future__ import annotations

from desktop.cache.blobstore import BlobStore
from tests.support.cli import run_cli
from tests.support.media_publish import assert_store_verified, publish_activity, store_files


def login(monkeypatch, capsys, data_dir, url):
    code, _, err = run_cli(monkeypatch, capsys, "login", "--username", "demo", "--password-stdin",
                           "--data-dir", str(data_dir), "--server", url, stdin="demo\n")
    assert code == 0, err


def test_prefetch_fills_a_folder_quietly_and_leaves_the_users_store_alone(server, tmp_path, data_dir,
                                                                          monkeypatch, capsys):
    pub = publish_activity(server, tmp_path / "pub", "talk-a", video_size=250_000)
    login(monkeypatch, capsys, data_dir, server.url)
    share = tmp_path / "share"
    code, out, err = run_cli(monkeypatch, capsys, "prefetch", "--into", str(share), "--all",
                             "--data-dir", str(data_dir))
    assert (code, out, err) == (0, "", "")
    files = set(store_files(share))
    assert pub.shas <= files and len(files) == len(pub.shas) + 4  # + the demo's video, transcript, 2 summaries
    assert_store_verified(share)
    assert store_files(data_dir / "blobs") == {}  # the learner's own store is not where it went
    assert not (share / "cache.sqlite3").exists() and not list(share.rglob("*.part"))

    server.request_log.clear()
    code, out, err = run_cli(monkeypatch, capsys, "prefetch", "--into", str(share), "talk-a",
                             "--data-dir", str(data_dir))
    assert (code, out, err) == (0, "", "")
    assert server.request_log.matching("/api/v1/media/") == []  # nothing fetched twice


def test_prefetch_resumes_a_part_file(server, tmp_path, data_dir, monkeypatch, capsys):
    pub = publish_activity(server, tmp_path / "pub", "talk-r", video_size=400_000, seed=3)
    login(monkeypatch, capsys, data_dir, server.url)
    share = tmp_path / "share"
    part = BlobStore(share).part_path_for(pub.video_sha)
    part.parent.mkdir(parents=True)
    part.write_bytes(pub.video[:150_000])  # left by a run that was stopped
    code, out, err = run_cli(monkeypatch, capsys, "prefetch", "--into", str(share), "talk-r",
                             "--data-dir", str(data_dir))
    assert (code, out, err) == (0, "", "")
    (video_request,) = [r for r in server.request_log.matching(f"/api/v1/media/{pub.video_sha}")]
    assert video_request.range == "bytes=150000-" and video_request.bytes_sent == 250_000
    assert BlobStore(share).path_for(pub.video_sha).read_bytes() == pub.video
    assert_store_verified(share)


def test_prefetch_failure_exits_non_zero_with_one_line_per_file(server, tmp_path, data_dir, monkeypatch, capsys):
    from tests.support.socket_proxy import SocketProxy

    pub = publish_activity(server, tmp_path / "pub", "talk-f", video_size=100_000, seed=5)
    proxy = SocketProxy(server.url)
    try:
        proxy.add(path_prefix=f"/api/v1/media/{pub.video_sha}", answer=(404, {}, b"gone"), times=None)
        proxy.add(path_prefix=f"/api/v1/media/{pub.summary_sha}", answer=(403, {}, b"no"), times=None)
        login(monkeypatch, capsys, data_dir, proxy.url)
        share = tmp_path / "share"
        code, out, err = run_cli(monkeypatch, capsys, "prefetch", "--into", str(share), "talk-f",
                                 "--data-dir", str(data_dir))
    finally:
        proxy.stop()
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 2
    assert any("the video of talk-f" in line and "(404)" in line for line in lines)
    assert any("the summary of talk-f" in line and "(403)" in line for line in lines)
    assert set(store_files(share)) == {pub.transcript_sha}
    code, _, err = run_cli(monkeypatch, capsys, "prefetch", "--into", str(share), "--data-dir", str(data_dir))
    assert code == 2 and "--all or one or more activity ids" in err
