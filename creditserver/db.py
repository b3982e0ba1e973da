"""The server database: an engine from any SQLAlchemy URL, SQLite by default."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, select, update
from sqlalchemy.orm import Session, sessionmaker

from cmecore.private_files import close_file, private_file

from .media_folder import close_data_dir
from .models import CatalogState

SQLITE_BUSY_TIMEOUT_MS = 10_000


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{(Path(data_dir) / 'server.sqlite3').resolve()}"


def pool_size_for(threads: int) -> int:
    """Connections a server process keeps for `threads` request threads: one each, so no
    request waits for a connection while holding a thread. Up to POOL_OVERFLOW more open for
    what runs beside them (the certificate renderer, a route nesting a session)."""
    return threads


POOL_OVERFLOW = 10  # SQLAlchemy's default max_overflow


def make_engine(url: str, *, pool_size: int | None = None) -> Engine:
    """An engine for `url`; SQLite connections get WAL, foreign keys and a busy timeout.
    `pool_size`: connections kept open (None: SQLAlchemy's default, 5)."""
    is_sqlite = url.startswith("sqlite")
    connect_args = {"check_same_thread": False} if is_sqlite else {}
    sizing = {"pool_size": pool_size, "max_overflow": POOL_OVERFLOW} if pool_size and ":memory:" not in url else {}
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=not is_sqlite, **sizing)
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


class Database:
    """Engine plus session factory. It creates no tables: Alembic does (creditserver/schema.py,
    `prepare_database` or `cme-credit-server migrate`), before any Database is opened."""

    def __init__(self, data_dir: Path, url: str | None = None, *, pool_size: int | None = None) -> None:
        close_data_files(data_dir, url)
        self.url = url or default_url(data_dir)
        self.engine = make_engine(self.url, pool_size=pool_size)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for a few reads, without the ORM (a Session costs about as much
        again as the queries of a short request: media.py's 307s); rolled back when done."""
        with self.engine.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()


def close_data_files(data_dir: Path, url: str | None) -> None:
    """The data folder owner-only (0700 on POSIX) and the SQLite file 0600 before SQLite opens
    it (its WAL and SHM take its mode): password hashes and learners' records live there.
    A media store shared with a static server's group leaves the folder 0710 (media_folder.py)."""
    close_data_dir(data_dir)
    if url is None:
        path = Path(data_dir) / "server.sqlite3"
        for suffix in ("-wal", "-shm"):
            close_file(path.with_name(path.name + suffix))
        private_file(path)


_REVISION = select(CatalogState.revision).where(CatalogState.id == 1)  # built once: asked on every media request


def current_revision(session: Session | Connection) -> int:
    return session.execute(_REVISION).scalar_one()


def bump_revision(session: Session) -> int:
    """Increase the catalog revision atomically (also across processes) and return it."""
    session.execute(update(CatalogState).where(CatalogState.id == 1).values(revision=CatalogState.revision + 1))
    return current_revision(session)
