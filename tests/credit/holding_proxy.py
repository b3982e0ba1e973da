"""A loopback proxy that forwards every request to the real server and can then lose the
answer to `POST /completions`: "drop" closes the connection without a response (the reply
was lost on the way back), "hang" keeps the client waiting until released (so a test can
kill the client while the server has already stored the batch). `stored` is set once the
server has answered a held request. A thin face on `tests.support.socket_proxy`."""

from __future__ import annotations

import threading

from tests.support.socket_proxy import SocketProxy


class HoldingProxy(SocketProxy):
    def __init__(self, upstream: str, path_prefix: str = "/api/v1/completions"):
        super().__init__(upstream)
        self.path_prefix = path_prefix
        self.stored = threading.Event()
        self.release = threading.Event()
        self._mode = "pass"

    @property
    def mode(self) -> str:  # pass | drop | hang
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in ("pass", "drop", "hang"):
            raise ValueError(value)
        self._mode = value
        self.clear()
        if value != "pass":
            self.add(path_prefix=self.path_prefix, method="POST", times=None, drop_response=True,
                     hold=self.release if value == "hang" else None, stall_s=30.0, answered=self.stored)

    @property
    def held(self) -> list[tuple[str, str, int]]:
        """(method, path, upstream status) of the requests answered then lost."""
        with self._lock:
            return [(s.method, s.path, s.status) for s in self.log if s.fault == "drop_response"]

    def stop(self) -> None:
        self.release.set()
        super().stop()
