"""Canned HTTP answers in front of the real credit server: a thin face on `SocketProxy`.

Requests are forwarded to the real server unless a rule for the path answers instead,
so tests see the server's real behaviour everywhere except the fault they inject. The
byte-level faults (cuts, stalls, corruption, lost replies) are `SocketProxy.add(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.support.socket_proxy import SocketProxy


@dataclass
class Canned:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class FaultProxy(SocketProxy):
    def __init__(self, upstream: str):
        super().__init__(upstream)

    def answer(self, path_prefix: str, canned: Canned, method: str | None = None) -> None:
        """From now on, answer requests whose path starts with `path_prefix` with `canned`."""
        self.add(path_prefix=path_prefix, method=method, times=None,
                 answer=(canned.status, dict(canned.headers), canned.body))

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request seen so far."""
        with self.settled():
            return [(s.method, s.path) for s in self.log]
