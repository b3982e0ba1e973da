"""Opening the cache database: pragmas, write transactions, and in-place upgrades.

Reads and writes use two engines on the same file. Writes start with `BEGIN IMMEDIATE`
so a writer never fails half-way with SQLITE_BUSY on a read→write upgrade (busy_timeout
does not cover that case); reads use plain deferred transactions and never block writers
under WAL.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cmecore.private_files import close_file, private_dir, private_file
from desktop.cache.schema_version import SCHEMA_HEAD, current_revision
from desktop.errors import SchemaTooNewError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _move_aside_damaged(path: Path) -> Path:
    """Keep a damaged file (and its WAL) for the help desk, and let a fresh cache start."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        src = path.with_name(path.name + suffix)
        if src.exists():
            os.replace(src, kept.with_name(kept.name + suffix))
    return kept


def _make_engine(path: Path, begin_sql: str, synchronous: str = "NORMAL") -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql(begin_sql)

    return engine


class Database:
    """The cache file. `read()`, `write()` and `durable()` hand out sessions that end with the block.

    Writes run with `synchronous=NORMAL` (WAL: survives an app crash); `durable()` writes
    (a learner's answers, claims and their outbox items) with FULL, which also survives a
    power cut. SQLite cannot change `synchronous` inside a transaction, hence an engine each.
    """

    def __init__(self, path: Path):
        self.path = path
        self.damaged_copy: Path | None = None  # set when a damaged file was moved aside
        self._read_engine = _make_engine(path, "BEGIN")
        self._write_engine = _make_engine(path, "BEGIN IMMEDIATE")
        self._read = sessionmaker(self._read_engine, expire_on_commit=False)
        self._write = sessionmaker(self._write_engine, expire_on_commit=False)
        self._durable_engine = _make_engine(path, "BEGIN IMMEDIATE", synchronous="FULL")
        self._durable = sessionmaker(self._durable_engine, expire_on_commit=False)
        self._version_lock = threading.Lock()
        self._version_conn: sqlite3.Connection | None = None  # a connection of its own: data_version

    @contextmanager
    def read(self) -> Iterator[Session]:
        # Closing (not rolling back) ends the transaction without expiring loaded rows,
        # so callers may read attributes of what they got after the block.
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def durable(self) -> Iterator[Session]:
        """Like `write()`, but committed with `synchronous=FULL` (fsynced before returning)."""
        with self._durable() as session, session.begin():
            yield session

    def data_version(self) -> int:
        """A number that changes whenever the file was committed to by any connection but the
        one asking: this process's engines (reads, writes, durable writes) and other processes
        (the CLI beside the GUI) alike. SQLite's `PRAGMA data_version` on a connection kept for
        it: ~10 µs, against ~0.5 ms for a query, so something read earlier can be kept in
        memory and read again only when this number moved."""
        with self._version_lock:
            if self._version_conn is None:
                self._version_conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                                     check_same_thread=False, isolation_level=None)
            return self._version_conn.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        for engine in (self._read_engine, self._write_engine, self._durable_engine):
            engine.dispose()
        with self._version_lock:
            if self._version_conn is not None:
                self._version_conn.close()
                self._version_conn = None


def open_database(path: Path) -> Database:
    """Open (creating or upgrading in place) the cache at `path`, owner-only (SQLite gives its
    WAL and SHM files the database file's mode)."""
    private_dir(path.parent)
    for suffix in ("-wal", "-shm"):
        close_file(path.with_name(path.name + suffix))
    private_file(path)
    damaged = None
    try:
        upgrade_in_place(path)
    except sqlite3.DatabaseError as exc:  # "file is not a database", truncated file, …
        damaged = _move_aside_damaged(path)
        log.error("cache %s is damaged (%s); kept as %s and starting a fresh cache", path, exc, damaged)
        private_file(path)
        upgrade_in_place(path)
    db = Database(path)
    db.damaged_copy = damaged
    return db


def upgrade_in_place(path: Path) -> None:
    """Bring the schema to SCHEMA_HEAD, backing the file up first if it holds data."""
    revision = current_revision(path)
    if revision == SCHEMA_HEAD:
        return
    if revision is not None and revision > SCHEMA_HEAD:
        raise SchemaTooNewError(
            f"{path} was written by a newer CME Offline (schema {revision}); "
            "update the app to open it."
        )
    if revision is not None:
        backup = path.with_name(f"{path.name}.before-{SCHEMA_HEAD}.bak")
        _backup(path, backup)
        log.info("upgrading cache schema %s -> %s (backup at %s)", revision, SCHEMA_HEAD, backup)
    _run_alembic_upgrade(path)


def _backup(path: Path, dest: Path) -> None:
    # sqlite's backup API copies a consistent snapshot even with a WAL beside the file.
    src = sqlite3.connect(path)
    try:
        dst = sqlite3.connect(private_file(dest))
        with dst:
            src.backup(dst)
        dst.close()
    finally:
        src.close()


def _run_alembic_upgrade(path: Path) -> None:
    from alembic import command  # start-up speed: Alembic loads only when a migration is due
    from alembic.config import Config  # start-up speed, as above

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            # A batch table rebuild drops the old table; with foreign keys on, that drop
            # would cascade-delete child rows. PRAGMA foreign_keys is a no-op inside a
            # transaction, so it is set before Alembic begins one.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.commit()
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
    finally:
        engine.dispose()


def alembic_head() -> str:
    """The head revision according to Alembic's scripts (for the consistency test)."""
    from alembic.config import Config  # start-up speed: only the consistency test asks
    from alembic.script import ScriptDirectory  # start-up speed, as above

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()
