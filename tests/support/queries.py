"""The SQL statements an app runs on one cache file, counted from SQLAlchemy's own event (any
engine, any thread): for tests that hold a read is not repeated needlessly."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def queries_on(path: Path) -> Iterator[list[str]]:
    """Every statement run through SQLAlchemy on the SQLite file at `path` while the block
    runs, in order (the list fills as they run)."""
    seen: list[str] = []
    lock = threading.Lock()
    target = str(path)

    def note(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        if conn.engine.url.database == target:
            with lock:
                seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)
