"""An in-memory log of the last requests, for tests and for a glance while debugging.

Tests read `app.state.request_log` to check what went over the wire, e.g. that a second
catalog sync transferred no body, or that the client resumed a download with Range.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    status: int
    range: str | None
    if_none_match: str | None
    if_range: str | None
    bytes_sent: int  # response body bytes actually sent
    at: float


class RequestLog:
    """The last `maxlen` requests, oldest first; list-like (len, iter, index) plus `clear()`."""

    def __init__(self, maxlen: int = 1000) -> None:
        self._items: deque[LoggedRequest] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def append(self, item: LoggedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._items)

    def matching(self, path_prefix: str = "", method: str | None = None) -> list[LoggedRequest]:
        return [
            r for r in self.snapshot() if r.path.startswith(path_prefix) and (method is None or r.method == method)
        ]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[LoggedRequest]:
        return iter(self.snapshot())

    def __getitem__(self, index: int) -> LoggedRequest:
        return self.snapshot()[index]

    def __repr__(self) -> str:
        return f"RequestLog({self.snapshot()!r})"


class RequestLogMiddleware:
    """Pure ASGI middleware: records each HTTP request once its response has been sent."""

    def __init__(self, app, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        sent = 0
        logged = False
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}

        def record() -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            self.log.append(
                LoggedRequest(
                    method=scope.get("method", ""),
                    path=scope.get("path", ""),
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=status or 500,
                    range=headers.get("range"),
                    if_none_match=headers.get("if-none-match"),
                    if_range=headers.get("if-range"),
                    bytes_sent=sent,
                    at=time.time(),
                )
            )

        expected: int | None = None

        # Record just before the response's last byte leaves, so a client that has the
        # whole response can already see its request in the log.
        async def _send(message):
            nonlocal status, sent, expected
            if message["type"] == "http.response.start":
                status = message["status"]
                for k, v in message.get("headers", []):
                    if k.lower() == b"content-length":
                        expected = int(v)
                if scope.get("method") == "HEAD" or status in (204, 304) or status < 200:
                    expected = 0
                if expected == 0:
                    record()
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                if not message.get("more_body", False) or (expected is not None and sent >= expected):
                    record()
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            record()
