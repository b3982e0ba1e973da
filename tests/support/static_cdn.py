"""A tiny static file host on loopback, standing in for a CDN: GET with one byte range.

It serves files added with `add(name, data)` at `/files/<name>`, answers single ranges
with 206 and a strong ETag, and records whether each request carried an Authorization
header (a CDN must never receive the credit server's token).
"""

from __future__ import annotations

import hashlib
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StaticCdn:
    def __init__(self, host: str = "127.0.0.1"):
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None, bool]] = []  # path, Range, had Authorization
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                cdn.requests.append((self.path, self.headers.get("Range"), "Authorization" in self.headers))
                name = self.path.removeprefix("/files/")
                data = cdn.files.get(name)
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = '"' + hashlib.sha256(data).hexdigest() + '"'
                start, status = 0, 200
                m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                if m and self.headers.get("If-Range", etag) == etag and int(m.group(1)) < len(data):
                    start, status = int(m.group(1)), 206
                self.send_response(status)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(data) - start))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                self.wfile.write(data[start:])

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url_for(self, name: str, host: str = "localhost") -> str:
        return f"http://{host}:{self.port}/files/{name}"

    def add(self, name: str, data: bytes) -> None:
        self.files[name] = data

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
