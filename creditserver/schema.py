"""Which schema the server's database is at, and bringing it to the newest (Alembic).

Alembic owns the tables (creditserver/migrations/versions/); nothing calls create_all.
`migrate` (the `cme-credit-server migrate` command) upgrades any database in place, one
from before Alembic too (tables made by create_all, no alembic_version: the first
migration creates only the tables it lacks and stamps it). `prepare_database` is what
starting does: a new, empty database is migrated then and there; one that is behind is
upgraded only when the caller says so (the tests and the desktop's own demo server) and
is otherwise refused with the command to run, so a provider upgrades on purpose, with a
backup, not as a side effect of a restart. `check_schema` is the app's own check: a
worker serves only a database at SCHEMA_HEAD.

Two processes preparing one database at once take turns, so the second finds it done:
on SQLite an exclusive lock on a file beside the database (`server.sqlite3.lock`; it
covers switching a new file to WAL, which SQLite refuses at once, without waiting, while
another connection writes), then `BEGIN IMMEDIATE`; on PostgreSQL a transaction-scoped
advisory lock. Each is taken before the schema is read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from cmecore.private_files import open_private

from .db import SQLITE_BUSY_TIMEOUT_MS, close_data_files, default_url

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

# The newest migration. A test checks it against Alembic's scripts.
SCHEMA_HEAD = "0005"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock's key: any constant the server's own database uses for nothing else.
PG_MIGRATION_LOCK = 0x434D45_0001  # "CME", 1


class SchemaMismatch(Exception):
    """The database is not at the schema this server needs; the message says what to do."""


class SchemaBehind(SchemaMismatch):
    pass


class SchemaTooNew(SchemaMismatch):
    pass


def migrate_command(data_dir: Path, url: str | None) -> str:
    """The command that upgrades this database (a password in the URL shown as ***)."""
    command = f"cme-credit-server migrate --data-dir {data_dir}"
    if url is not None:
        command += f" --database-url '{make_url(url).render_as_string(hide_password=True)}'"
    return command


def schema_revision(conn: Connection) -> str | None:
    """The database's Alembic revision; "" for tables without one (from before Alembic);
    None for an empty database."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" not in tables:
        return "" if tables else None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ("" if len(tables) > 1 else None)


def check_schema(engine: Engine, data_dir: Path, url: str | None) -> None:
    """Raise SchemaBehind or SchemaTooNew unless the database is at SCHEMA_HEAD."""
    with engine.connect() as conn:
        revision = schema_revision(conn)
    _refuse_unless_head(revision, data_dir, url)


def _refuse_unless_head(revision: str | None, data_dir: Path, url: str | None) -> None:
    if revision == SCHEMA_HEAD:
        return
    if revision and revision not in _known_revisions():
        raise SchemaTooNew(
            f"the database is at schema {revision}, which this server does not know: it was "
            "upgraded by a newer cme-credit-server; run that version (or restore a backup)"
        )
    found = {None: "empty", "": "from before migrations"}.get(revision, f"at schema {revision}")
    raise SchemaBehind(
        f"the database is {found}; this server needs schema {SCHEMA_HEAD}. "
        f"Back it up, then run: {migrate_command(data_dir, url)}"
    )


def prepare_database(data_dir: Path, url: str | None = None, *, upgrade_existing: bool = True) -> None:
    """Bring the database to SCHEMA_HEAD before serving. An empty one is always migrated; one
    that is behind only with `upgrade_existing` (else SchemaBehind with the command to run)."""
    _upgrade(Path(data_dir), url, upgrade_existing=upgrade_existing)


def migrate(data_dir: Path, url: str | None = None) -> tuple[str | None, str]:
    """Upgrade the database in place; returns (revision before, SCHEMA_HEAD). Idempotent."""
    return _upgrade(Path(data_dir), url, upgrade_existing=True)


def _upgrade(data_dir: Path, url: str | None, *, upgrade_existing: bool) -> tuple[str | None, str]:
    close_data_files(data_dir, url)
    engine = _migration_engine(url or default_url(data_dir))
    lock_path = _sqlite_lock_path(url or default_url(data_dir))
    try:
        with _file_lock(lock_path) if lock_path else nullcontext(), engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                # A batch rebuild drops the old table; with foreign keys on, the drop would
                # cascade-delete child rows. The pragma is a no-op inside a transaction.
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.commit()  # ends SQLAlchemy's autobegun transaction (no BEGIN was sent)
            with conn.begin():
                _take_lock(conn)
                before = schema_revision(conn)
                behind_or_unknown = before not in (None, SCHEMA_HEAD)
                if behind_or_unknown and (not upgrade_existing or (before and before not in _known_revisions())):
                    _refuse_unless_head(before, data_dir, url)  # returns when it is at SCHEMA_HEAD
                if before != SCHEMA_HEAD:
                    _run_alembic(conn)
        return before, SCHEMA_HEAD
    finally:
        engine.dispose()


def _sqlite_lock_path(url: str) -> Path | None:
    """The lock file beside a SQLite database file; None for other databases (and in-memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).with_name(Path(parsed.database).name + ".lock")


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created owner-only) for the block; waits for it."""
    fd = open_private(path, os.O_RDWR | os.O_CREAT)
    try:
        if sys.platform == "win32":
            while True:  # LK_LOCK itself retries for about 10 s, then raises
                try:
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
            try:
                yield
            finally:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _migration_engine(url: str) -> Engine:
    """An engine for migrating: on SQLite, transactions are begun by us (`_take_lock`)."""
    is_sqlite = url.startswith("sqlite")
    engine = create_engine(url, connect_args={"check_same_thread": False} if is_sqlite else {})
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # no implicit BEGIN: ours is IMMEDIATE, DDL included
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

    return engine


def _take_lock(conn: Connection) -> None:
    """The first statement of the migrating transaction: wait for any other migrator."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, waited for up to the busy timeout
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")  # released at commit


def _run_alembic(conn: Connection) -> None:
    from alembic import command  # start-up speed: Alembic loads only when a migration is due

    config = _alembic_config()
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def _alembic_config():
    from alembic.config import Config  # start-up speed, as in _run_alembic

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory  # start-up speed, as in _run_alembic

    return {script.revision for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def alembic_head() -> str:
    """The head revision according to Alembic's scripts (for the consistency test)."""
    from alembic.script import ScriptDirectory  # start-up speed, as in _run_alembic

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
