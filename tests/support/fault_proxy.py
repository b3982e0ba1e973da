"""A loopback HTTP proxy between the client and the real credit server that can misbehave.

Requests are forwarded to the real server unless a rule for the path answers instead,
so tests see the server's real behaviour everywhere except the fault they inject.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


@dataclass
class Canned:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Rule = Callable[[str, str], Canned | None]  # (method, path) -> answer, or None to forward


class FaultProxy:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.seen: list[tuple[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _handle(self):
                proxy.seen.append((self.command, self.path))
                for rule in proxy.rules:
                    canned = rule(self.command, self.path)
                    if canned is not None:
                        return self._send(canned.status, canned.headers, canned.body)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
                with httpx.Client() as client:
                    r = client.request(self.command, proxy.upstream + self.path, headers=headers, content=body)
                out = {k: v for k, v in r.headers.items() if k.lower() not in HOP_BY_HOP | {"content-encoding"}}
                self._send(r.status_code, out, r.content)

            def _send(self, status, headers, body):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, path_prefix: str, canned: Canned, method: str | None = None) -> None:
        """From now on, answer requests whose path starts with `path_prefix` with `canned`."""

        def rule(m: str, path: str) -> Canned | None:
            if path.startswith(path_prefix) and (method is None or m == method):
                return canned
            return None

        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
