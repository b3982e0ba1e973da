"""Debian's nginx, started as a child process in front of a credit server's media folder.

The `location` blocks and the workers' lines come from docs/deployment.md ("Media from a
static server"), with its example paths, secret and upstream replaced: what the tests and
the bench run is what operators are told to write (sendfile and its tuning are in those
blocks, measured with tests/bench/bench_media_static.py). The rest of the configuration is
the test's own: a prefix in a temporary folder, one loopback port, `daemon off`, the error
log to a file, and an access log that records whether each request carried an
Authorization header.

Run as root, nginx's workers drop to `nobody` with the media group given (so they read the
store through `--media-group` as a real static server would); as another user the `user`
line is left out and the workers run as that user.
"""

from __future__ import annotations

import grp
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"
INSTALL_LINE = "apt-get install -y --no-install-recommends nginx   (or: packaging/system-packages test)"
SIGNED_LINKS = "signed links"
ACCEL_REDIRECT = "X-Accel-Redirect"
WORKERS = "nginx's workers"
STARTUP_TIMEOUT_S = 10.0


def nginx_binary() -> str | None:
    """nginx's path, or None if it is not installed (Debian puts it in /usr/sbin)."""
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if os.access(found, os.X_OK) else None


def documented_block(kind: str) -> str:
    """The ```nginx block of docs/deployment.md whose first line names `kind`, as written."""
    blocks = re.findall(r"```nginx\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.DOTALL)
    [block] = [b for b in blocks if kind in b.splitlines()[0]]
    return block


def documented_locations(kind: str, *, data_dir: Path, secret: str = "", upstream: str = "") -> str:
    """The ```nginx block of docs/deployment.md whose first line names `kind`, with the
    example data folder, secret and upstream replaced."""
    return (documented_block(kind).replace("/srv/cme/data", str(data_dir)).replace("CME_MEDIA_SECRET", secret)
            .replace("127.0.0.1:8765", upstream))


def media_group() -> str:
    """The group nginx's workers read the store through: `nogroup` when we are root (they
    run as nobody), else our own group (nginx cannot change user then)."""
    return "nogroup" if os.geteuid() == 0 else grp.getgrgid(os.getgid()).gr_name


def passable_folder(prefix: str) -> Path:
    """A new folder in the system's temp dir that nginx's `nobody` workers can pass through
    (pytest's own are 0700). The caller removes it."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o711)
    return folder


class Nginx:
    """`Nginx(folder, locations, group=...)`: nginx serving `locations` on a loopback port.
    `url`; `access_log()` parses what was served; `stop()`. `port`: one chosen earlier with
    `free_port()` (the credit server must know the address before nginx starts)."""

    def __init__(self, folder: Path, locations: str, *, group: str | None = None, port: int | None = None) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError(f"nginx is not installed: {INSTALL_LINE}")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.error_log = self.folder / "error.log"
        self.access_log_path = self.folder / "access.log"
        conf = self.folder / "nginx.conf"
        conf.write_text(self._config(locations, group), encoding="utf-8")
        self._process = subprocess.Popen(
            [binary, "-p", str(self.folder), "-e", str(self.error_log), "-c", str(conf)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self._wait_until_listening()

    def _config(self, locations: str, group: str | None) -> str:
        user = f"user nobody {group};" if os.geteuid() == 0 and group else ""
        temp = "\n".join(f"    {kind}_temp_path {self.folder / kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        return f"""daemon off;
master_process on;
{documented_block(WORKERS)}
{user}
pid {self.folder / 'nginx.pid'};
error_log {self.error_log} warn;
events {{ worker_connections 256; }}
http {{
    keepalive_requests 10000;
    log_format cme '$request_method $uri $status $body_bytes_sent "$http_range" "$http_if_range" auth=$http_authorization';
    access_log {self.access_log_path} cme;
{temp}
    server {{
        listen 127.0.0.1:{self.port};
{locations}
    }}
}}
"""

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"nginx stopped at start: {self._process.stderr.read().decode(errors='replace')}"
                                   f"{self.error_log.read_text(errors='replace') if self.error_log.exists() else ''}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("nginx did not start listening in time")

    @property
    def pid(self) -> int:
        """The master process's id (its workers are its children)."""
        return self._process.pid

    def access_log(self) -> list[dict[str, str]]:
        """One dict per request served: method, uri, status, bytes, range, if_range, auth
        ("-" for a header not sent; nginx's \\xHH escapes undone)."""
        rows = []
        if not self.access_log_path.exists():
            return rows
        for line in self.access_log_path.read_text(encoding="utf-8").splitlines():
            m = re.fullmatch(r'(\S+) (\S+) (\d+) (\d+) "(.*)" "(.*)" auth=(.*)', line)
            if m:
                values = (re.sub(r"\\x([0-9A-F]{2})", lambda x: chr(int(x.group(1), 16)), v) for v in m.groups())
                rows.append(dict(zip(("method", "uri", "status", "bytes", "range", "if_range", "auth"), values)))
        return rows

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        if self._process.stderr is not None:
            self._process.stderr.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
