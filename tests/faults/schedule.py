"""A seeded random fault schedule for `SocketProxy.chooser`.

Whether the n-th request for a path is broken, and how, is drawn from
`random.Random(f"{seed}:{path}:{n}")`: the schedule does not depend on how worker threads
interleave, so a seed replays the same faults per file. Each path gets at most
`max_per_path` faults, so every transfer ends (below the queue's attempt limit).
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter

from tests.support.socket_proxy import Fault

MEDIA_KINDS = ("cut", "stall", "corrupt", "503", "429", "ignore_range", "bad_content_range", "delay", "drop")
_RANGE = re.compile(r"bytes=(\d+)-")


class RandomFaults:
    def __init__(self, seed: int, *, sizes: dict[str, int], rate: float = 0.5, kinds=MEDIA_KINDS,
                 max_per_path: int = 5, stall_s: float = 1.0, path_prefix: str = "/api/v1/media/"):
        self.seed = seed
        self.sizes = sizes  # sha256 -> size, to pick offsets inside the body
        self.rate = rate
        self.kinds = tuple(kinds)
        self.max_per_path = max_per_path
        self.stall_s = stall_s
        self.path_prefix = path_prefix
        self.applied: Counter[str] = Counter()
        self._requests: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str, headers: dict[str, str]) -> Fault | None:
        if method != "GET" or not path.startswith(self.path_prefix):
            return None
        with self._lock:
            n = self._requests[path]
            self._requests[path] += 1
            if self._faults[path] >= self.max_per_path:
                return None
            rng = random.Random(f"{self.seed}:{path}:{n}")
            if rng.random() >= self.rate:
                return None
            kind = rng.choice(self.kinds)
            self._faults[path] += 1
            self.applied[kind] += 1
        size = self.sizes.get(path.rsplit("/", 1)[-1].split("?")[0], 1)
        m = _RANGE.match(headers.get("range", ""))
        body = max(1, size - int(m.group(1))) if m else size
        at = rng.randrange(body)
        return _fault(kind, at, size, rng, self.stall_s)


def _fault(kind: str, at: int, size: int, rng: random.Random, stall_s: float) -> Fault:
    common = dict(path_prefix="", times=1)
    if kind == "cut":
        return Fault(cut_after=at, **common)
    if kind == "stall":
        return Fault(stall_after=at, stall_s=stall_s, **common)
    if kind == "corrupt":
        return Fault(corrupt_at=at, corrupt_xor=rng.randrange(1, 256), **common)
    if kind == "503":
        return Fault(answer=(503, {"Retry-After": "0"}, b"busy"), **common)
    if kind == "429":
        return Fault(answer=(429, {"Retry-After": rng.choice(["0", "1"])}, b"slow down"), **common)
    if kind == "ignore_range":
        return Fault(ignore_range=True, **common)
    if kind == "bad_content_range":
        first = rng.randrange(size)
        return Fault(set_headers={"Content-Range": f"bytes {first}-{size - 1}/{size}"}, **common)
    if kind == "delay":
        return Fault(delay_s=rng.uniform(0.05, 0.3), **common)
    if kind == "drop":
        return Fault(drop_response=True, **common)
    raise ValueError(kind)
