"""Which schema a cache file is at, read with the standard library only.

Start-up asks this before anything heavy is imported: when the file is already at
SCHEMA_HEAD, neither Alembic nor SQLAlchemy is needed to paint the library.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# The newest migration. A test checks it against Alembic's scripts.
SCHEMA_HEAD = "0013"


def current_revision(path: Path) -> str | None:
    if not path.exists():
        return None
    conn = sqlite3.connect(path)
    try:
        return revision_of(conn)
    finally:
        conn.close()


def revision_of(conn: sqlite3.Connection) -> str | None:
    """The schema revision of the file `conn` has open (None: not one Alembic made)."""
    row = conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'").fetchone()
    if row is None:
        return None
    found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return found[0] if found else None
