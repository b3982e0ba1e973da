"""`cme-offline download` as users and IT scripts run it, including a process killed mid-file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests.support.activities import DEMO_ID
from tests.support.cli import run_cli
from tests.support.media_publish import publish_activity, store_files
from tests.support.requests_seen import requests_seen


def test_download_json_lines_then_status_shows_present(server, client_via, data_dir, monkeypatch, capsys):
    client_via(server.url).close()
    d = ["--data-dir", str(data_dir), "--server", server.url]
    code, out, err = run_cli(monkeypatch, capsys, "download", DEMO_ID, "--json", *d)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert all(x["event"] == "progress" for x in lines[:-1])
    assert {x["kind"] for x in lines if x.get("state") == "done"} == {"video", "transcript", "summary"}
    summary = lines[-1]
    assert summary["event"] == "summary" and summary["ok"] and summary["done"] == 4 and summary["failures"] == []

    code, out, _ = run_cli(monkeypatch, capsys, "status", "--json", *d)
    (activity,) = json.loads(out)["activities"]
    assert activity["state"] == "present" and {a["state"] for a in activity["assets"]} == {"present"}


def test_download_failure_exits_non_zero_with_one_line(server, proxy, client_via, data_dir, monkeypatch, capsys):
    services = client_via(proxy.url)
    video = next(a for a in services.activity_detail(DEMO_ID).assets if a.kind == "video")
    services.close()
    proxy.add(path_prefix=f"/api/v1/media/{video.sha256}", answer=(404, {}, b"gone"), times=None)
    d = ["--data-dir", str(data_dir), "--server", proxy.url]
    code, out, err = run_cli(monkeypatch, capsys, "download", "--all", *d)
    assert code == 1 and err.count("\n") == 1
    assert f"the video of {DEMO_ID} could not be downloaded" in err and "(404)" in err
    assert "Downloaded 3 file(s)" in out

    code, _, err = run_cli(monkeypatch, capsys, "download", *d)
    assert code == 2 and "--all or one or more activity ids" in err
    code, _, err = run_cli(monkeypatch, capsys, "download", "nope", *d)
    assert code == 1 and "No activity 'nope'" in err


def test_app_killed_mid_download_resumes_on_restart(server, client_via, tmp_path, data_dir):
    services = client_via(server.url)
    pub = publish_activity(server, tmp_path / "pub", "talk-a", video_size=600_000)
    services.sync()
    services.update_settings(bandwidth_cap_kbps=800)  # 100 KB/s: the video takes ~6 s
    services.close()
    part = data_dir / "blobs" / pub.video_sha[:2] / (pub.video_sha + ".part")
    command = [sys.executable, "-m", "desktop.app", "download", "talk-a", "--data-dir", str(data_dir),
               "--server", server.url, "--json"]

    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 30
        while not (part.exists() and part.stat().st_size >= 50_000):
            assert first.poll() is None, first.stderr.read().decode()
            assert time.monotonic() < deadline, "the download never started"
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        first.wait(10)
    kept = part.stat().st_size
    assert 50_000 <= kept < 600_000

    make_uncapped(data_dir, server.url)
    server.request_log.clear()
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["ok"]
    (resumed,) = requests_seen(server, f"/api/v1/media/{pub.video_sha}")
    # the kill may land after a chunk was written but before the next: resume at the .part's size
    assert resumed.range == f"bytes={kept}-" and resumed.status == 206
    assert (data_dir / "blobs" / pub.video_sha[:2] / pub.video_sha).read_bytes() == pub.video
    assert pub.video_sha in store_files(data_dir / "blobs") and not part.exists()


def make_uncapped(data_dir, server_url) -> None:
    from desktop.config import Paths
    from desktop.services import Services

    services = Services(Paths(data_dir), server_url=server_url)
    try:
        services.update_settings(bandwidth_cap_kbps=None)
    finally:
        services.close()
