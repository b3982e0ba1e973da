"""A socket-level loopback proxy in front of the real server that can break responses.

Unlike `fault_proxy.FaultProxy` (which buffers whole replies), this one relays bytes as
they come, so it can do what real networks do to a download:

* cut the connection after N bytes of response body (`cut_after`),
* stall after N bytes for a while (`stall_after`, `stall_s`) — for read-timeout tests,
* strip `Range`/`If-Range` from the request so the server answers 200 with the whole file
  (`ignore_range`),
* rewrite response headers (`set_headers`, e.g. a wrong `Content-Range`),
* flip a byte of the body at an offset (`corrupt_at`),
* answer by itself without asking the server (`answer=(status, headers, body)`, e.g. 429
  with Retry-After or 503),
* hold the server's reply back for a while before relaying it (`delay_s`; nothing is
  reordered), e.g. past the client's read timeout after the server has acted,
* relay the body no faster than `rate_bytes_per_s` (a slow link: hospital Wi-Fi, a
  hotspot; the benches' throttled loopback),
* cut the *request* after N bytes (`cut_request_after`): the server never gets it whole,
* lose the reply (`drop_response`): the server acted on the request, the client hears
  nothing; with `hold` the client is kept waiting until that event is set (at most
  `stall_s`), so a test can kill it meanwhile. `answered` (an Event) is set once the
  server has answered a request the fault applied to.

Each connection carries one request (`Connection: close` both ways), so each request is
judged on its own. Faults are matched in order (`method`, `path_prefix`, `only_range`);
each applies `times` times (None: always). When none matches, `chooser(method, path,
headers)` may return a Fault for this one request (a seeded random schedule, see
`tests/faults/schedule.py`). `log` records, per request: method, path, Range sent,
status, body bytes relayed to the client and the fault applied. Everything else goes to
the real server untouched. Body offsets count raw bytes after the header block (the
server uses Content-Length).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Fault:
    path_prefix: str = "/api/v1/media/"
    times: int | None = 1
    method: str | None = None  # None: any method
    only_range: bool | None = None  # True: only requests with Range; False: only without
    cut_after: int | None = None
    stall_after: int | None = None
    stall_s: float = 5.0
    ignore_range: bool = False
    set_headers: dict[str, str] = field(default_factory=dict)
    corrupt_at: int | None = None
    corrupt_xor: int = 0xFF
    answer: tuple[int, dict[str, str], bytes] | None = None
    delay_s: float = 0.0
    cut_request_after: int | None = None  # bytes of the request (head and body) the server gets
    drop_response: bool = False
    hold: threading.Event | None = None  # with drop_response: keep the client waiting until set
    rate_bytes_per_s: float | None = None  # pace the body like a link of this speed
    answered: threading.Event = field(default_factory=threading.Event)
    used: int = 0

    def matches(self, method: str, path: str, headers: dict[str, str]) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        if self.method is not None and method != self.method:
            return False
        if not path.startswith(self.path_prefix):
            return False
        if self.only_range is not None and ("range" in headers) != self.only_range:
            return False
        return True


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    range: str | None
    if_range: str | None
    authorization: bool
    status: int
    body_bytes: int  # response body bytes relayed to the client
    fault: str | None
    at: float


class SocketProxy:
    def __init__(self, upstream_url: str, host: str = "127.0.0.1"):
        rest = upstream_url.split("://", 1)[1].rstrip("/")
        up_host, _, up_port = rest.partition(":")
        self.upstream = (up_host, int(up_port or 80))
        self.faults: list[Fault] = []
        self.chooser: Callable[[str, str, dict[str, str]], Fault | None] | None = None
        self.log: list[Seen] = []
        self._lock = threading.Lock()
        # Replies whose last byte may have reached the client but which are not logged yet:
        # `seen` waits for them, so a client that has finished never finds its request missing.
        self._finishing = 0
        self._logged = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(64)
        self.url = f"http://{host}:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept_loop, name="socket-proxy", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ test API

    def add(self, **kwargs) -> Fault:
        fault = Fault(**kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.chooser = None

    def seen(self, path_prefix: str = "/api/v1/media/") -> list[Seen]:
        with self.settled():
            return [s for s in self.log if s.path.startswith(path_prefix)]

    @contextmanager
    def settled(self) -> Iterator[None]:
        """Hold the lock once every reply a client may have finished reading is logged."""
        with self._lock:
            self._logged.wait_for(lambda: self._finishing == 0, timeout=5)
            yield

    def body_bytes(self, path_prefix: str = "/api/v1/media/") -> int:
        return sum(s.body_bytes for s in self.seen(path_prefix))

    def stop(self) -> None:
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (close alone does not)
        except OSError:
            pass
        try:
            self._listener.close()
        except OSError:
            pass
        self._thread.join(5)

    # ------------------------------------------------------------ plumbing

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if self._stop.is_set():
                conn.close()
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _pick(self, method: str, path: str, headers: dict[str, str]) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path, headers):
                    fault.used += 1
                    return fault
            chooser = self.chooser
        if chooser is not None:
            fault = chooser(method, path, headers)
            if fault is not None:
                fault.used += 1
            return fault
        return None

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        method = path = ""
        headers: dict[str, str] = {}
        status, sent, fault = 0, 0, None
        finishing = False

        def last_bytes() -> None:  # what is sent next may end the exchange for the client
            nonlocal finishing
            if not finishing:
                finishing = True
                with self._lock:
                    self._finishing += 1

        try:
            head, rest = _read_head(client)
            if head is None:
                return
            lines = head.decode("latin-1").split("\r\n")
            method, path, _version = lines[0].split(" ", 2)
            raw_headers = [tuple(x.split(":", 1)) for x in lines[1:] if ":" in x]
            headers = {k.strip().lower(): v.strip() for k, v in raw_headers}
            length = int(headers.get("content-length") or 0)
            while len(rest) < length:
                more = client.recv(65536)
                if not more:
                    break
                rest += more
            fault = self._pick(method, path, headers)

            if fault is not None and fault.answer is not None:
                status, extra, body = fault.answer
                if fault.delay_s:
                    self._stop.wait(fault.delay_s)
                out = [f"HTTP/1.1 {status} Canned", f"Content-Length: {len(body)}", "Connection: close"]
                out += [f"{k}: {v}" for k, v in extra.items()]
                body = b"" if method == "HEAD" else body
                last_bytes()
                client.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
                sent = len(body)
                return

            drop = {"connection", "keep-alive", "proxy-connection"}
            if fault is not None and fault.ignore_range:
                drop |= {"range", "if-range"}
            out_lines = [lines[0]] + [f"{k.strip()}:{v}" for k, v in raw_headers if k.strip().lower() not in drop]
            out_lines.append("Connection: close")
            upstream = socket.create_connection(self.upstream, timeout=30)
            request = ("\r\n".join(out_lines) + "\r\n\r\n").encode("latin-1") + rest
            if fault is not None and fault.cut_request_after is not None:
                upstream.sendall(request[: fault.cut_request_after])
                return  # the request breaks on the way: close both sides, no reply

            upstream.sendall(request)
            resp_head, body_start = _read_head(upstream)
            if resp_head is None:
                return
            if fault is not None and fault.drop_response:
                status = int(resp_head.split(b" ", 2)[1])
                _drain(upstream, resp_head, body_start)  # the server finished its answer
                fault.answered.set()
                if fault.hold is not None:
                    fault.hold.wait(fault.stall_s)
                return  # ... which the client never hears
            if fault is not None:
                fault.answered.set()
                if fault.delay_s:
                    self._stop.wait(fault.delay_s)
            resp_lines = resp_head.decode("latin-1").split("\r\n")
            status = int(resp_lines[0].split(" ", 2)[1])
            resp_headers = [tuple(x.split(":", 1)) for x in resp_lines[1:] if ":" in x]
            overrides = {k.lower(): v for k, v in (fault.set_headers.items() if fault else [])}
            kept = [
                (k.strip(), v.strip()) for k, v in resp_headers
                if k.strip().lower() not in overrides and k.strip().lower() not in ("connection", "keep-alive")
            ]
            kept += [(k, v) for k, v in (fault.set_headers.items() if fault else [])]
            kept.append(("Connection", "close"))
            announced = _content_length(resp_head)
            if method == "HEAD" or announced == 0 or status in (204, 304):
                last_bytes()
            client.sendall(
                (resp_lines[0] + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept) + "\r\n").encode("latin-1")
            )

            limit = None
            if fault is not None and fault.cut_after is not None:
                limit = fault.cut_after
            if fault is not None and fault.stall_after is not None:
                limit = fault.stall_after
            pace = _Pace(fault.rate_bytes_per_s if fault is not None else None)
            chunk = body_start
            while True:
                if chunk:
                    pace.wait(sent + len(chunk), self._stop)
                    if fault is not None and fault.corrupt_at is not None and sent <= fault.corrupt_at < sent + len(chunk):
                        i = fault.corrupt_at - sent
                        chunk = chunk[:i] + bytes([chunk[i] ^ fault.corrupt_xor]) + chunk[i + 1:]
                    if limit is not None and sent + len(chunk) >= limit:
                        client.sendall(chunk[: limit - sent])
                        sent = limit
                        if fault.stall_after is not None:
                            self._stop.wait(fault.stall_s)
                        return  # cut: close both sides mid-body
                    if announced is not None and sent + len(chunk) >= announced:
                        last_bytes()
                    client.sendall(chunk)
                    sent += len(chunk)
                chunk = upstream.recv(pace.read_size)
                if not chunk:
                    return
        except OSError:
            return
        finally:
            # Logged before the client sees the connection close (a cut body ends there).
            with self._lock:
                if method:
                    self.log.append(
                        Seen(
                            method, path, headers.get("range"), headers.get("if-range"),
                            "authorization" in headers, status, sent, _describe(fault), time.time(),
                        )
                    )
                if finishing:
                    self._finishing -= 1
                    self._logged.notify_all()
            for sock in (client, upstream):
                if sock is not None:
                    try:
                        sock.close()
                    except OSError:
                        pass


class _Pace:
    """Holds a relay back so that the first `n` bytes of a body take at least `n / rate` seconds."""

    def __init__(self, rate: float | None):
        self.rate = rate
        self.started = time.monotonic()
        # Small reads at a low rate, so the body trickles as on a slow link, not in bursts.
        self.read_size = 65536 if rate is None else max(1024, min(65536, int(rate / 50)))

    def wait(self, n: int, stop: threading.Event) -> None:
        if self.rate is not None:
            ahead = self.started + n / self.rate - time.monotonic()
            if ahead > 0:
                stop.wait(ahead)


def _read_head(sock: socket.socket) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            return None, b""
        data += more
        if len(data) > 1024 * 1024:
            return None, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _content_length(head: bytes) -> int | None:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length" and value.strip().isdigit():
            return int(value.strip())
    return None


def _drain(sock: socket.socket, head: bytes, body_start: bytes) -> None:
    """Read the rest of a response (by Content-Length, else to EOF) and throw it away."""
    length = _content_length(head)
    got = len(body_start)
    while length is None or got < length:
        more = sock.recv(65536)
        if not more:
            return
        got += len(more)


def _describe(fault: Fault | None) -> str | None:
    if fault is None:
        return None
    for name in ("answer", "cut_request_after", "cut_after", "stall_after", "corrupt_at"):
        if getattr(fault, name) is not None:
            return name
    for name in ("drop_response", "ignore_range", "set_headers", "delay_s", "rate_bytes_per_s"):
        if getattr(fault, name):
            return name
    return "none"
