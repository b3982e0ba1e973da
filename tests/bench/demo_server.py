"""A throwaway reference server for the server benches: the demo data on a fresh SQLite
folder in /tmp, stopped and removed afterwards (the benches measure a cold, private server)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def demo_server(name: str) -> Iterator:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    from creditserver.runner import serve_in_thread  # not imported by `python -m tests.bench --help`

    server = serve_in_thread(tmp / "server", demo=True)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
