"""Media through nginx vs through the app: 20 parallel Range downloads of a 256 MiB file.

Not collected by pytest (no `test_` prefix). Run it:

    .venv/bin/python -m tests.bench.bench_media_static

Setup (not timed): a demo credit server on a fresh data folder, a 256 MiB video published
(generated: a sparse file), and Debian's nginx with docs/deployment.md's signed-link
block in front of the media folder (`--media-group`, so its workers read the store).
Timed, for LOAD_S seconds each: a client process with 20 threads, each fetching 32 MiB
ranges at its own offset, over and over —
  * through the app: `GET /api/v1/media/<sha256>` answered by the server itself;
  * through nginx: the same request, answered 307 by the server (a signed link), then
    the bytes from nginx (the client follows without the token, as the desktop does).
Printed: MiB/s, CPU seconds per GiB (the server's process; nginx's workers; the client
process; the kernel's softirq time, machine-wide, where loopback TCP does much of its
receiving), and the API's p50 (`GET /info`, every 20 ms) idle and under each load. The
client splices the bodies to /dev/null, in its own process, so it costs little beside what
it measures — but on 2 cores what it does cost is taken from nginx (the app, one Python
process, leaves the other core to the client); the CPU figures show how much. On a shared
machine the figures move with the load average, printed first. The file is read once
before either run, so neither pays for the first read. Target (issue 12): nginx ≥ 10× the
app's throughput (measured at filing: 252 vs 2,855 MiB/s).

Then, alone, the server's CPU per 307 (HANDOVERS requests for the link, not followed): the
cost of the app's yes. Here every 32 MiB range asks for one, ~90 a second at 3,000 MiB/s;
a desktop asks once per file (`Range: bytes=N-` to the end) and again only to resume, so
at the same MiB/s its 307s would be about an eighth of these. The server's CPU through
nginx also holds the `GET /info` pings and their client (in this process).
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

FILE_SIZE = 256 * 1024 * 1024
PARALLEL = 20
RANGE_SIZE = 32 * 1024 * 1024
LOAD_S = 4.0
HANDOVERS = 2000  # 307s asked for alone, to measure the server's CPU per 307
HANDOVER_THREADS = 4
TARGET_RATIO = 10.0
MiB = 1024 * 1024


def main() -> int:
    from tests.support.nginx import INSTALL_LINE, nginx_binary, passable_folder

    if nginx_binary() is None:
        print(f"nginx is not installed: {INSTALL_LINE}")
        return 0
    tmp = passable_folder("bench-media-static-")
    try:
        return _run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(tmp: Path) -> int:
    import httpx

    from creditserver.media_links import MediaDelivery
    from creditserver.runner import serve_in_thread
    from tests.support.activities import demo_doc
    from tests.support.nginx import SIGNED_LINKS, Nginx, documented_locations, free_port, media_group

    folder = tmp / "talk"
    folder.mkdir()
    with open(folder / "video.mp4", "wb") as f:
        f.truncate(FILE_SIZE)  # sparse: no time spent generating bytes
    doc = demo_doc()
    doc.update(id="bench-static", title="Bench: a large video",
               assets=[{"path": "video.mp4", "kind": "video", "title": "Video"}])
    (folder / "activity.json").write_text(json.dumps(doc), encoding="utf-8")
    _read_through(folder / "video.mp4")

    load = os.getloadavg()[0]  # a shared machine's figures are only comparable at similar load
    data_dir = tmp / "server"
    port = free_port()
    delivery = MediaDelivery(base_url=f"http://127.0.0.1:{port}/cme-media", group=media_group())
    results = {}
    for name, options in (("app", None), ("nginx", delivery)):
        server = serve_in_thread(data_dir, demo=True, media_delivery=options)
        nginx = None
        try:
            server.publish(folder, videos_as_is=True)  # zeros, not a video; the same file both times (idempotent)
            _read_through(data_dir / "media")  # the store's copy in the page cache before either side sends it
            if options is not None:
                secret = (data_dir / "media-link-secret").read_text().strip()
                nginx = Nginx(tmp / "nginx", documented_locations(SIGNED_LINKS, data_dir=data_dir, secret=secret),
                              group=media_group(), port=port)
            token = httpx.post(server.api_url + "/auth/token", json={"username": "demo", "password": "demo"}
                               ).json()["access_token"]
            url = f"{server.api_url}/media/{_video_sha(server.api_url, token)}"
            if name == "app":
                results["idle p50"] = _p50_while(server.api_url, lambda: time.sleep(1.0))
            results[name] = _load(url, token, server.api_url, nginx)
            if options is not None:
                results["307"] = _handover_cpu_ms(url, token)
        finally:
            if nginx is not None:
                nginx.stop()
            server.stop()

    app, static = results["app"], results["nginx"]
    ratio = static.mib_s / app.mib_s if app.mib_s else float("inf")
    print(f"{PARALLEL} parallel Range downloads of a {FILE_SIZE // MiB} MiB file, {LOAD_S:g} s each way "
          f"(load average {load:.1f} on {os.cpu_count()} CPUs before the run):")
    for name, r in (("through the app", app), ("through nginx  ", static)):
        print(f"  {name}: {r.mib_s:6.0f} MiB/s  CPU-s per GiB: server {r.server_cpu_s_per_gib:4.2f}, nginx "
              f"{r.nginx_cpu_s_per_gib:4.2f}, client {r.client_cpu_s_per_gib:4.2f}, softirq {r.softirq_s_per_gib:4.2f}"
              f"  API p50 {r.api_p50_ms:5.1f} ms  ({r.requests} ranges, {r.failures} failed)")
    print(f"  API p50 idle: {results['idle p50']:.1f} ms")
    per_307 = results["307"]
    print(f"  server CPU per 307 (the app's yes, alone: {HANDOVERS} requests, {HANDOVER_THREADS} at once): "
          f"{per_307:.2f} ms; at {static.requests / LOAD_S:.0f} ranges/s above that is "
          f"{per_307 * static.requests / LOAD_S / 10:.0f}% of one CPU")
    sending = static.server_cpu_s_per_gib + static.nginx_cpu_s_per_gib  # what a provider's machine spends
    print(f"  CPU per GiB on the serving side: the app {app.server_cpu_s_per_gib:.2f} s, nginx + the server's 307s "
          f"{sending:.2f} s ({app.server_cpu_s_per_gib / sending if sending else float('inf'):.1f}× less; the client's "
          f"and the kernel's softirq CPU come on top, here on the same {os.cpu_count()} CPUs)")
    met = ratio >= TARGET_RATIO and app.failures == static.failures == 0
    print(f"nginx ÷ app: {ratio:.1f}×  [target ≥ {TARGET_RATIO:g}× (issue 12; at filing 2,855 ÷ 252 MiB/s ≈ 11×): "
          f"{'met' if met else 'not met'}]", flush=True)
    return 0


def _video_sha(api_url: str, token: str) -> str:
    import httpx

    catalog = httpx.get(api_url + "/catalog", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    [activity] = [a for a in catalog["activities"] if a["id"] == "bench-static"]
    [video] = [a for a in activity["assets"] if a["kind"] == "video"]
    return video["sha256"]


@dataclass(frozen=True)
class _Load:
    mib_s: float
    server_cpu_s_per_gib: float  # the credit server's process (in-thread here)
    nginx_cpu_s_per_gib: float  # nginx's workers
    client_cpu_s_per_gib: float  # the client process (`_clients`)
    softirq_s_per_gib: float  # the kernel's softirq time, whole machine (loopback TCP's receive work)
    api_p50_ms: float
    requests: int
    failures: int


def _load(url: str, token: str, api_url: str, nginx) -> _Load:
    """The client process (`_clients`) for LOAD_S seconds; bytes, CPU and the API's p50 meanwhile."""
    server_before, nginx_before, softirq_before = _cpu_self(), _cpu_nginx(nginx), _softirq_s()
    outcome: list[str] = []
    client_cpu: list[float] = []

    def run_clients() -> None:
        # Its own process: 20 reading threads here would take the in-thread server's GIL.
        client = subprocess.Popen([sys.executable, "-m", "tests.bench.bench_media_static", "--clients", url, token],
                                  stdout=subprocess.PIPE, text=True)
        outcome.append(client.stdout.read())
        client.stdout.close()
        _pid, status, usage = os.wait4(client.pid, 0)  # wait4: the client's own CPU time, not the server's
        client.returncode = os.waitstatus_to_exitcode(status)
        if client.returncode != 0:
            raise subprocess.CalledProcessError(client.returncode, client.args)
        client_cpu.append(usage.ru_utime + usage.ru_stime)

    p50 = _p50_while(api_url, run_clients)
    server_cpu, nginx_cpu = _cpu_self() - server_before, _cpu_nginx(nginx) - nginx_before
    softirq = _softirq_s() - softirq_before
    got, wall, requests, failures = json.loads(outcome[0])
    gib = max(got, 1) / (1024 * MiB)
    return _Load(got / MiB / wall, server_cpu / gib, nginx_cpu / gib, client_cpu[0] / gib, softirq / gib, p50,
                 requests, failures)


def _handover_cpu_ms(url: str, token: str) -> float:
    """The server's CPU milliseconds per 307, asked HANDOVERS times (HANDOVER_THREADS at a
    time) by a client process that does not follow the link; nothing else runs meanwhile."""
    before = _cpu_self()
    subprocess.run([sys.executable, "-m", "tests.bench.bench_media_static", "--handovers", url, token], check=True)
    return (_cpu_self() - before) * 1000 / HANDOVERS


def _handovers(url: str, token: str) -> None:
    """HANDOVERS requests for the link, HANDOVER_THREADS at a time, each on a new connection as
    in `_clients`; exits non-zero unless every answer was a 307."""
    pipe, sink = os.pipe(), os.open(os.devnull, os.O_WRONLY)
    answers: list[int] = []

    def worker(n: int) -> None:
        for _ in range(n):
            answers.append(_get(url, {"Authorization": f"Bearer {token}"}, 0, pipe, sink)[0])

    threads = [threading.Thread(target=worker, args=(HANDOVERS // HANDOVER_THREADS,)) for _ in range(HANDOVER_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sys.exit(0 if answers and set(answers) == {307} else 1)


def _clients(url: str, token: str) -> None:
    """PARALLEL threads, each fetching RANGE_SIZE bytes at its own offset over and over for
    LOAD_S seconds (following one redirect, without the token, as the desktop does); prints
    [bytes, seconds, requests, failures]."""
    lock = threading.Lock()
    totals = [0, 0, 0]  # bytes, requests, failures
    stop_at = time.monotonic() + LOAD_S

    def worker(k: int) -> None:
        offset = k * (FILE_SIZE // PARALLEL) % (FILE_SIZE - RANGE_SIZE)
        pipe, sink = os.pipe(), os.open(os.devnull, os.O_WRONLY)
        fcntl.fcntl(pipe[1], fcntl.F_SETPIPE_SZ, MiB)
        while time.monotonic() < stop_at:
            status, body = _get(url, {"Authorization": f"Bearer {token}"}, offset, pipe, sink)
            if status == 307:
                status, body = _get(body, {}, offset, pipe, sink)
            with lock:
                totals[0] += body if isinstance(body, int) else 0
                totals[1] += 1
                totals[2] += status != 206 or body != RANGE_SIZE

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps([totals[0], time.monotonic() - started, totals[1], totals[2]]))


def _get(url: str, headers: dict[str, str], offset: int, pipe: tuple[int, int], sink: int) -> tuple[int, int | str]:
    """One HTTP/1.1 range GET: (status, body bytes received) — or (307, the Location). The
    body goes socket → pipe → /dev/null by splice(2), never through Python: the client
    should cost little beside the server it measures (curl's 16 KiB reads cost nginx two
    thirds of its speed on 2 cores)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", f"Range: bytes={offset}-{offset + RANGE_SIZE - 1}",
             "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                return 0, 0
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status == 307:
            [location] = [line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                          if line.lower().startswith(b"location:")]
            return 307, location.decode()
        got = len(rest)
        while n := os.splice(sock.fileno(), pipe[1], MiB):
            got += n
            while n:
                n -= os.splice(pipe[0], sink, n)
    return status, got


def _p50_while(api_url: str, work) -> float:
    """The median time of `GET /info` (ms), asked every 20 ms while `work()` runs."""
    import httpx

    times: list[float] = []
    done = threading.Event()

    def ping() -> None:
        with httpx.Client(timeout=30) as http:
            while not done.is_set():
                started = time.perf_counter()
                http.get(api_url + "/info")
                times.append((time.perf_counter() - started) * 1000)
                done.wait(0.02)

    pinger = threading.Thread(target=ping)
    pinger.start()
    try:
        work()
    finally:
        done.set()
        pinger.join()
    return statistics.median(times) if times else float("nan")


def _read_through(path: Path) -> None:
    """Read a file, or every file under a folder, once (into the page cache)."""
    for file in [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]:
        with open(file, "rb") as f:
            while f.read(8 * MiB):
                pass


def _softirq_s() -> float:
    """The machine's softirq CPU seconds so far (/proc/stat, all CPUs): loopback TCP does much
    of its work there, charged to no process."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[7]) / os.sysconf("SC_CLK_TCK")  # cpu user nice system idle iowait irq softirq


def _cpu_self() -> float:
    """This process's CPU seconds: the in-thread server (and the bench's own light threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_nginx(nginx) -> float:
    """CPU seconds of nginx's worker processes (children of its master), from /proc."""
    if nginx is None:
        return 0.0
    pid = nginx.pid
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    total = 0.0
    for child in children:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


if __name__ == "__main__":
    if sys.argv[1:2] == ["--clients"]:
        _clients(*sys.argv[2:4])
    elif sys.argv[1:2] == ["--handovers"]:
        _handovers(*sys.argv[2:4])
    else:
        sys.exit(main())
