"""The desktop client on a test's own data dir: `data_dir`, `make_services`, and helpers
that put a catalog in its cache or give it an address where nothing answers."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from cmecore import protocol
from desktop.cache.catalog_store import apply_catalog
from desktop.config import Paths
from desktop.services import Services


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """The app's data dir for this test (created, empty)."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def make_services(data_dir) -> Iterator[Callable[..., Services]]:
    """`make_services(server_url=None, *, at=data_dir, **kwargs) -> Services`; every one made
    is closed at teardown, after the GUI's background tasks (if a test started any) end."""
    made: list[Services] = []

    def make(server_url: str | None = None, *, at: Path | None = None, **kwargs) -> Services:
        services = Services(Paths(at or data_dir), server_url=server_url, **kwargs)
        made.append(services)
        return services

    yield make
    tasks = sys.modules.get("desktop.views.tasks")  # only GUI tests load it; others never import Qt widgets
    if tasks is not None:
        tasks.wait_for_tasks(30_000)
    for services in made:
        services.close()


def fill_cache(services: Services, activities: Iterable[protocol.Activity],
               server_url: str = "http://127.0.0.1:9") -> None:
    """Put `activities` in the client's cache as a full catalog from `server_url`."""
    catalog = protocol.Catalog(cursor=1, full=True, activities=list(activities))
    apply_catalog(services.db, catalog, server_url=server_url, etag=None,
                  synced_at=datetime(2025, 1, 1), clock_offset_ms=0)


def dead_url() -> str:
    """An http:// address on loopback where nothing listens."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"
