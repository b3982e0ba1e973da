"""Download time of each rendition of the demo video on a slow link (issue 14, "Measured").

Not collected by pytest (no `test_` prefix). Run it:

    .venv/bin/python -m tests.bench.bench_rendition_downloads [KBIT_PER_S]

The demo server (with the renditions publish made of its video) behind the fault proxy
pacing every media body at LINK_BITS_PER_S (2 Mbit/s: a busy hospital Wi-Fi), both in a
process of their own (tests/bench/media_link.py). Each form listed in the catalog is
fetched ROUNDS times into a fresh blob store by the downloader's transfer layer
(`BlobFetcher` with `ServerSource`, verified and fsynced as the app does; which form the
app fetches is the queue's choice, not measured here), and with `curl` on the same link.
Anchor: the link itself, size ÷ rate; curl's time shows what any client pays on top
(the request's round trip, the server's set-up). For a longer talk, multiply its forms'
sizes (bench_renditions makes a 30-minute one) by the ratio to the floor printed here.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

LINK_BITS_PER_S = 2_000_000
ROUNDS = 3


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    bits = int(argv[0]) * 1000 if argv and argv[0].isdigit() else LINK_BITS_PER_S
    rate = bits / 8
    tmp = Path(tempfile.mkdtemp(prefix="bench-rendition-downloads-"))
    from tests.bench.media_link import MediaLink

    try:
        with MediaLink(tmp / "link", rate_bytes_per_s=rate) as link:
            forms = _forms(link)
            curl = shutil.which("curl")
            print(f"demo video's forms over a {bits / 1e6:g} Mbit/s loopback link, median of {ROUNDS} "
                  "(ours: the transfer layer, verified and fsynced)")
            print(f"  {'form':9}{'size':>11}{'link floor':>12}{'ours':>9}{'÷ floor':>9}{'curl':>9}{'ours ÷ curl':>13}")
            failed = 0
            for kind, sha, size, url in forms:
                ours = [_ours(link, tmp / f"store-{kind}-{n}", sha, size, url) for n in range(ROUNDS)]
                failed += sum(1 for t in ours if t is None)
                ours_s = statistics.median(t for t in ours if t is not None) if any(ours) else float("nan")
                theirs_s = (statistics.median(_curl(curl, link, url, tmp / f"{kind}.out") for _ in range(ROUNDS))
                            if curl else float("nan"))
                floor = size / rate
                print(f"  {kind:9}{size / 1e6:9.3f} MB{floor:10.2f} s{ours_s:7.2f} s{ours_s / floor:8.2f}x"
                      f"{theirs_s:7.2f} s{ours_s / theirs_s:12.2f}x")
            print("  (link floor: size ÷ link rate)")
            return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _token(link) -> str:
    import httpx

    reply = httpx.post(link.server_url + "/api/v1/auth/token", json={"username": "demo", "password": "demo"})
    return reply.json()["access_token"]


def _forms(link) -> list[tuple[str, str, int, str]]:
    """(kind, sha256, size, url) of the demo video and each of its renditions."""
    import httpx

    from cmecore.protocol import Catalog
    from creditserver.demo import DEMO_ACTIVITY_ID

    reply = httpx.get(link.server_url + "/api/v1/catalog", headers={"Authorization": f"Bearer {_token(link)}"})
    catalog = Catalog.model_validate_json(reply.content)
    activity = next(a for a in catalog.activities if a.id == DEMO_ACTIVITY_ID)
    video = next(a for a in activity.assets if a.kind == "video")
    return [("original", video.sha256, video.size, video.url)] + [
        (str(r.kind), r.sha256, r.size, r.url) for r in video.renditions
    ]


def _ours(link, root: Path, sha: str, size: int, url: str) -> float | None:
    from desktop.cache.blobstore import BlobStore
    from desktop.sync.http import build_client
    from desktop.sync.sources import BlobFetcher, FetchTarget
    from desktop.sync.downloads_transfer import ServerSource

    token = _token(link)
    blobs = BlobStore(root)
    with build_client(link.url) as client:
        source = ServerSource(client, server_url=link.url, authorized=lambda call: call(token))
        fetcher = BlobFetcher(blobs, [source])
        started = time.perf_counter()
        fetcher.fetch(FetchTarget(sha, size, url), progress=lambda have, received: None, stop=threading.Event())
        seconds = time.perf_counter() - started
    ok = blobs.path_for(sha).stat().st_size == size
    shutil.rmtree(root, ignore_errors=True)
    return seconds if ok else None


def _curl(curl: str, link, url: str, out: Path) -> float:
    command = [curl, "-s", "-f", "-o", str(out), "-H", f"Authorization: Bearer {_token(link)}", link.url + url]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    os.unlink(out)
    return seconds


if __name__ == "__main__":
    sys.exit(main())
