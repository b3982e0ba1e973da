"""A loopback proxy that forwards every request to the real server and can then lose the
answer to `POST /completions`: "drop" closes the connection without a response (the reply
was lost on the way back), "hang" keeps the client waiting until released (so a test can
kill the client while the server has already stored the batch). `stored` is set once the
server has answered a held request."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length", "host"}


class HoldingProxy:
    def __init__(self, upstream: str, path_prefix: str = "/api/v1/completions"):
        self.upstream = upstream.rstrip("/")
        self.path_prefix = path_prefix
        self.mode = "pass"  # pass | drop | hang
        self.stored = threading.Event()
        self.release = threading.Event()
        self.held: list[tuple[str, str, int]] = []  # (method, path, upstream status) answered then lost
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                with httpx.Client(timeout=60) as client:
                    r = client.request(self.command, proxy.upstream + self.path, headers=headers, content=body)
                mode = proxy.mode
                if self.command == "POST" and self.path.startswith(proxy.path_prefix) and mode != "pass":
                    proxy.held.append((self.command, self.path, r.status_code))
                    proxy.stored.set()
                    if mode == "hang":
                        proxy.release.wait(30)
                    self.close_connection = True
                    return  # the server stored it; the client never hears back
                out = {k: v for k, v in r.headers.items() if k.lower() not in HOP_BY_HOP | {"content-encoding"}}
                self.send_response(r.status_code)
                for k, v in out.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
