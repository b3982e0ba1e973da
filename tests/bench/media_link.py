"""The far end of a download bench: the real reference server and the fault proxy, in a
process of their own.

A download bench compares our downloader with `curl`. Were the server and the proxy in the
bench's own process, they would share its interpreter lock with our downloader but not
with curl, and the comparison would measure that. Here they run in a child process, as a
real server runs elsewhere; the bench talks to it over a pipe:

    with MediaLink(tmp, video_size=42_000_000, cut_every=4_000_000) as link:
        link.url            # the proxy's address: what a client is given as the server
        link.video_sha      # the published file (activity "bench-talk")
        link.body_bytes()   # bytes of media body relayed so far, and link.requests()

`rate_bytes_per_s` paces every media body like a slow link. With no `video_size`, only the
demo activity is there (with whatever renditions publish made of its video).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ACTIVITY = "bench-talk"
MEDIA = "/api/v1/media/"


class MediaLink:
    def __init__(self, folder: Path, *, video_size: int | None = None, cut_every: int | None = None,
                 rate_bytes_per_s: float | None = None, seed: int = 42):
        spec = {"folder": str(folder), "video_size": video_size, "cut_every": cut_every,
                "rate_bytes_per_s": rate_bytes_per_s, "seed": seed}
        self._child = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.media_link", json.dumps(spec)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        ready = json.loads(self._child.stdout.readline() or "{}")
        if "url" not in ready:
            self.close()
            raise RuntimeError("the bench's server process did not start")
        self.url: str = ready["url"]
        self.server_url: str = ready["server_url"]
        self.video_sha: str | None = ready.get("video_sha")

    def body_bytes(self, prefix: str = MEDIA) -> int:
        return self._ask("bytes", prefix)

    def requests(self, prefix: str = MEDIA) -> int:
        return self._ask("requests", prefix)

    def _ask(self, what: str, prefix: str) -> int:
        self._child.stdin.write(f"{what} {prefix}\n")
        self._child.stdin.flush()
        return int(self._child.stdout.readline())

    def close(self) -> None:
        if self._child.poll() is None:
            try:
                self._child.stdin.write("quit\n")
                self._child.stdin.flush()
                self._child.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self._child.kill()
                self._child.wait()

    def __enter__(self) -> MediaLink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(spec: dict) -> None:
    from creditserver.runner import serve_in_thread
    from tests.support.media_publish import publish_activity
    from tests.support.socket_proxy import SocketProxy

    folder = Path(spec["folder"])
    server = serve_in_thread(folder / "server", demo=True)
    proxy = SocketProxy(server.url)
    try:
        ready = {"url": proxy.url, "server_url": server.url}
        if spec["video_size"]:
            pub = publish_activity(server, folder / "pub", ACTIVITY, video_size=spec["video_size"], seed=spec["seed"])
            ready["video_sha"] = pub.video_sha
        if spec["cut_every"] or spec["rate_bytes_per_s"]:
            proxy.add(path_prefix=MEDIA, times=None, cut_after=spec["cut_every"],
                      rate_bytes_per_s=spec["rate_bytes_per_s"])
        print(json.dumps(ready), flush=True)
        for line in sys.stdin:
            what, _, prefix = line.strip().partition(" ")
            if what == "bytes":
                print(proxy.body_bytes(prefix), flush=True)
            elif what == "requests":
                print(len(proxy.seen(prefix)), flush=True)
            else:
                break
    finally:
        proxy.stop()
        server.stop()


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]))
