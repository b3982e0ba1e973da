"""Download resume efficiency: bytes fetched ÷ file size when the connection breaks every 4 MB.

Not collected by pytest (no `test_` prefix). Run it:

    .venv/bin/python -m tests.bench.bench_downloads

It publishes a ~40 MB file on a loopback credit server, puts the socket-level fault proxy
in front that cuts every response after 4 MB of body, and downloads it with the app's
queue (target: ≤ 1.01 bytes fetched per byte of file). If curl is installed, it then
fetches the same file through the same proxy with `curl -C -` in a retry loop, for a
wall-time comparison.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZE = 40 * 1024 * 1024
CUT_EVERY = 4 * 1024 * 1024


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-downloads-"))
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
    os.environ["XDG_DATA_HOME"] = str(tmp / "keyring")

    import httpx

    from creditserver.runner import serve_in_thread
    from desktop.config import Paths
    from desktop.services import Services
    from desktop.sync.downloads import DownloadPolicy
    from tests.support.media_publish import publish_activity
    from tests.support.socket_proxy import SocketProxy

    server = serve_in_thread(tmp / "server", demo=True)
    proxy = SocketProxy(server.url)
    services = None
    try:
        pub = publish_activity(server, tmp / "pub", "bench-talk", video_size=SIZE, seed=42)
        path = f"/api/v1/media/{pub.video_sha}"
        proxy.add(path_prefix=path, cut_after=CUT_EVERY, times=None)

        services = Services(Paths(tmp / "data"), server_url=proxy.url)
        services.sign_in("demo", "demo")
        services.sync()
        services.enqueue_downloads(["bench-talk"])
        policy = DownloadPolicy(parallel=1, backoff_base_s=0.01, backoff_max_s=0.05, disk_margin_bytes=0)
        started = time.monotonic()
        summary = services.run_downloads(policy=policy)
        app_s = time.monotonic() - started
        fetched = proxy.body_bytes(path)
        requests = len(proxy.seen(path))
        ok = summary.ok and _sha_file(services.blobs.path_for(pub.video_sha)) == pub.video_sha
        ratio = fetched / SIZE
        print(f"file size:              {SIZE / 1e6:.1f} MB, connection cut every {CUT_EVERY / 1e6:.1f} MB")
        print(f"app: bytes fetched/size {ratio:.4f}  (target <= 1.01)  requests {requests}  "
              f"wall {app_s:.2f} s  verified {ok}")

        curl = shutil.which("curl")
        if curl is None:
            print("curl: not installed, no comparison")
        else:
            token = httpx.post(server.api_url + "/auth/token", json={"username": "demo", "password": "demo"}).json()
            before = proxy.body_bytes(path)
            out = tmp / "curl.out"
            started = time.monotonic()
            tries = 0
            while tries < 100:
                tries += 1
                rc = subprocess.run(
                    [curl, "-s", "-f", "-C", "-", "-o", str(out), "-H",
                     f"Authorization: Bearer {token['access_token']}", proxy.url + path],
                ).returncode
                if rc == 0:
                    break
            curl_s = time.monotonic() - started
            curl_bytes = proxy.body_bytes(path) - before
            print(f"curl -C - loop: bytes/size {curl_bytes / SIZE:.4f}  tries {tries}  wall {curl_s:.2f} s  "
                  f"verified {_sha_file(out) == pub.video_sha}")
        return 0 if ok and ratio <= 1.01 else 1
    finally:
        if services is not None:
            services.close()
        proxy.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _sha_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


if __name__ == "__main__":
    sys.exit(main())
