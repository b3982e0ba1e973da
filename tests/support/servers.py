"""The reference credit server on loopback, and the proxies tests put in front of it.

`start_server` is the one way a test gets a running server: a factory, so a test can have
several or pass options; every server it started is stopped when the test ends. `server`
is the demo server most tests want (learners demo/demo, a physician, and pharm/demo, a
pharmacist; the demo activity). The proxies forward to `server`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from creditserver.runner import RunningServer, serve_in_thread
from tests.support.fault_proxy import FaultProxy
from tests.support.socket_proxy import SocketProxy

StartServer = Callable[..., RunningServer]
NewDatabase = Callable[[], "str | None"]


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--server-db", choices=("sqlite", "postgresql"), default="sqlite",
        help="the database every test server uses: SQLite in its data folder (default) or a "
        "fresh database on a private PostgreSQL cluster started for the session "
        "(tests/support/postgres.py). CME_SERVER_DB_URL=postgresql+psycopg://user@host:port/ "
        "uses a PostgreSQL already running instead.",
    )


@pytest.fixture(scope="session")
def server_database(request) -> Iterator[NewDatabase]:
    """`server_database() -> url | None`: the database URL for the next test server, or None
    for SQLite in its data folder. One switch for the whole suite (`--server-db`)."""
    from tests.support import postgres  # deferred: only PostgreSQL runs need it

    existing = os.environ.get("CME_SERVER_DB_URL")
    if existing:
        urls = postgres.database_urls(existing)
        yield lambda: next(urls)
    elif request.config.getoption("--server-db") == "postgresql":
        cluster = postgres.PrivateCluster()
        yield cluster.new_database
        cluster.stop()
    else:
        yield lambda: None


@dataclass(frozen=True)
class ServerData:
    """Where a server keeps its data on the suite's backend: a data folder (media, keys) and
    the database URL (None: SQLite in the folder)."""

    folder: Path
    database_url: str | None = None

    @property
    def options(self) -> list[str]:
        """`--data-dir` (and `--database-url`) for a `cme-credit-server` command on this data."""
        options = ["--data-dir", str(self.folder)]
        if self.database_url is not None:
            options += ["--database-url", self.database_url]
        return options

    def serve(self, **options: Any) -> RunningServer:
        """A server on this data (stop it, or use it as a context manager)."""
        return serve_in_thread(self.folder, database_url=self.database_url, **options)


def data_options(server: RunningServer) -> list[str]:
    """The command line's options for `server`'s data: a `cme-credit-server` command run
    beside a test server works on the same database, whichever backend the suite runs on."""
    return ServerData(server.data_dir, server.database_url).options


@pytest.fixture
def server_data(tmp_path_factory, server_database: NewDatabase) -> Callable[[], ServerData]:
    """`server_data() -> ServerData`: a new data folder and database on the suite's backend,
    for tests that run commands before (or without) a server."""
    return lambda: ServerData(tmp_path_factory.mktemp("data"), server_database())


def server_backend(config) -> str:
    """"postgresql" or "sqlite": what the suite's servers run on (for a test's own choices)."""
    if os.environ.get("CME_SERVER_DB_URL") or config.getoption("--server-db") == "postgresql":
        return "postgresql"
    return "sqlite"


@pytest.fixture
def start_server(tmp_path_factory, server_database: NewDatabase) -> Iterator[StartServer]:
    """`start_server(*, demo=True, again=None, **options) -> RunningServer`: a server on its
    own data folder; `options` are serve_in_thread's (access_ttl_s, completion_grace_days,
    database_url, port, media_delivery) and `data_dir` (default: a new temporary folder).
    Without `demo` it has no learner and no activity. `again`: a
    stopped server to start once more, on its data folder, database and port (the network
    came back). Without `database_url` the suite's switch decides (`server_database`)."""
    started: list[RunningServer] = []

    def start(*, demo: bool = True, again: RunningServer | None = None, **options: Any) -> RunningServer:
        if again is not None:
            options["port"] = int(again.url.rsplit(":", 1)[1])
            options.setdefault("database_url", again.database_url)
        elif "database_url" not in options:
            options["database_url"] = server_database()
        folder = again.data_dir if again is not None else options.pop("data_dir", None) or tmp_path_factory.mktemp("server")
        running = serve_in_thread(folder, demo=demo, **options)
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        running.stop()


@pytest.fixture
def server(start_server: StartServer) -> RunningServer:
    """The demo server."""
    return start_server()


@pytest.fixture
def proxy(server: RunningServer) -> Iterator[SocketProxy]:
    """A byte-level proxy in front of `server` that can cut, stall or corrupt replies."""
    p = SocketProxy(server.url)
    yield p
    p.stop()


@pytest.fixture
def fault_proxy(server: RunningServer) -> Iterator[FaultProxy]:
    """A proxy in front of `server` that can answer a path with a canned reply."""
    p = FaultProxy(server.url)
    yield p
    p.stop()
