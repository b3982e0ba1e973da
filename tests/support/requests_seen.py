"""Reading the server's request log: entries land just after the response's last byte."""

from __future__ import annotations

import time


def requests_seen(server, path_prefix: str, count: int = 1, timeout_s: float = 5.0):
    """The logged requests under `path_prefix`, once at least `count` have been logged."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = server.request_log.matching(path_prefix)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.01)
