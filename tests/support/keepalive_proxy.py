"""A loopback proxy that keeps client connections open between requests, as the credit
server does, and can close one at the moment a real server's keep-alive timer would.

`socket_proxy.SocketProxy` closes every connection after one request, so a client never
reuses one through it; this one serves many requests per connection and relays each to
the real server on a connection of its own. A fault (`add`) applies to the next request
on a *reused* connection (not the first on it) whose path starts with `path_prefix`:

* `"close"`: close the connection as soon as the request has come, without passing it on
  (the server's keep-alive timer fired just as the client reused the connection);
* `"lose_reply"`: pass it on, let the server act and answer, then close without a byte of
  the reply (the same, a moment later: the server acted);
* `"cut_reply"`: relay the reply's head and `cut_after` bytes of its body, then close.

`forwarded` lists (method, path) of what reached the server; `connections` counts the
client connections accepted. Request bodies must carry Content-Length (httpx's do).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass


@dataclass
class StaleFault:
    path_prefix: str
    action: str  # "close", "lose_reply" or "cut_reply"
    cut_after: int = 0
    used: bool = False


class KeepAliveProxy:
    def __init__(self, upstream_url: str) -> None:
        host, _, port = upstream_url.split("://", 1)[1].rstrip("/").partition(":")
        self.upstream = (host, int(port))
        self.faults: list[StaleFault] = []
        self.forwarded: list[tuple[str, str]] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stopping = False
        threading.Thread(target=self._accept_loop, name="keepalive-proxy", daemon=True).start()

    def add(self, path_prefix: str, action: str, *, cut_after: int = 0) -> StaleFault:
        fault = StaleFault(path_prefix, action, cut_after)
        with self._lock:
            self.faults.append(fault)
        return fault

    def stop(self) -> None:
        self._stopping = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _fault_for(self, path: str, reused: bool) -> StaleFault | None:
        with self._lock:
            for fault in self.faults:
                if reused and not fault.used and path.startswith(fault.path_prefix):
                    fault.used = True
                    return fault
        return None

    def _serve(self, client: socket.socket) -> None:
        with client:
            pending = b""
            for number in range(1_000_000):
                head, pending = _next_head(client, pending)
                if head is None:
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                length = next((int(line.split(":", 1)[1]) for line in lines[1:]
                               if line.lower().startswith("content-length:")), 0)
                while len(pending) < length:
                    more = client.recv(65536)
                    if not more:
                        return
                    pending += more
                body, pending = pending[:length], pending[length:]
                fault = self._fault_for(path, reused=number > 0)
                if fault is not None and fault.action == "close":
                    return
                reply = self._forward(method, path, lines, body)
                if fault is not None and fault.action == "lose_reply":
                    return
                if fault is not None and fault.action == "cut_reply":
                    reply_head, _, reply_body = reply.partition(b"\r\n\r\n")
                    client.sendall(reply_head + b"\r\n\r\n" + reply_body[: fault.cut_after])
                    return
                client.sendall(reply)

    def _forward(self, method: str, path: str, lines: list[str], body: bytes) -> bytes:
        """The server's whole reply to the request, with the connection kept open towards the client."""
        kept = [line for line in lines[1:] if not line.lower().startswith(("connection:", "keep-alive:"))]
        request = "\r\n".join([lines[0], *kept, "Connection: close"]).encode("latin-1") + b"\r\n\r\n" + body
        with socket.create_connection(self.upstream, timeout=30) as upstream:
            upstream.sendall(request)
            reply = b""
            while more := upstream.recv(65536):
                reply += more
        with self._lock:
            self.forwarded.append((method, path))
        reply_head, _, reply_body = reply.partition(b"\r\n\r\n")
        head_lines = [line for line in reply_head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
        return b"\r\n".join(head_lines) + b"\r\n\r\n" + reply_body


def _next_head(sock: socket.socket, buffer: bytes) -> tuple[bytes | None, bytes]:
    """The next request head on a kept-open connection (None: the client closed it), and the
    bytes read past it; `buffer`: bytes already read past the previous request."""
    while b"\r\n\r\n" not in buffer:
        try:
            more = sock.recv(65536)
        except OSError:
            return None, b""
        if not more:
            return None, b""
        buffer += more
    head, _, rest = buffer.partition(b"\r\n\r\n")
    return head, rest
