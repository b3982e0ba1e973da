"""GUI test fixtures: offscreen Qt, a real SQLite cache, a plaintext keyring in tmp."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")

import socket  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from cmecore import protocol  # noqa: E402
from desktop.cache.catalog_store import apply_catalog  # noqa: E402
from desktop.config import Paths  # noqa: E402

pytestmark = pytest.mark.gui


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/gui" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def keyring_in_tmp(tmp_path, monkeypatch):
    """The plaintext keyring file lives under tmp (never under the app's data dir)."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    home = tmp_path / "keyring-home"
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "share"))
    monkeypatch.setenv("HOME", str(home))
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    yield home
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def drain_tasks(qapp):
    """No worker may outlive a test: wait for the pool and deliver what it posted."""
    yield
    from desktop.views.tasks import wait_for_tasks

    assert wait_for_tasks(30_000), "a background task did not finish"
    qapp.processEvents()


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "app-data"


def make_activity(n: int = 1, **overrides) -> protocol.Activity:
    """A valid catalog activity; fields can be overridden."""
    fields = dict(
        id=f"act-{n:03d}",
        version=1,
        title=f"Activity {n}",
        description=f"What activity {n} covers.",
        highlights=[f"Highlight {n}a", f"Highlight {n}b"],
        audience="Physicians, nurses and pharmacists",
        release_date=date(2025, 1, 1) + timedelta(days=n),
        review_date=date(2025, 6, 1),
        termination_date=date(2027, 1, 1) + timedelta(days=n),
        estimated_minutes=45,
        providers=["Example Academy"],
        commercial_support="No commercial support was received.",
        off_label_statement="This activity discusses off-label use of warfarin.",
        faculty=[
            protocol.Faculty(name=f"Faculty {n}", credentials="MD", title="Professor", affiliation="General Hospital")
        ],
        disclosures=[
            protocol.Disclosure(person=f"Faculty {n}", role="faculty", company="Pharma Inc", nature="consulting",
                                mitigated=True),
            protocol.Disclosure(person="Pat Planner", role="planner", company="None", nature="none",
                                mitigated=False),
        ],
        objectives=[
            protocol.Objective(text="Describe the evidence", children=[protocol.Objective(text="Name two trials")]),
            protocol.Objective(text="Apply it in practice"),
        ],
        accreditation=[
            protocol.AccreditationStatement(
                profession="nurse", provider="Example Academy", credit_type="Nursing contact hours",
                max_credits=1.0, statement="Nurses: this activity is approved for 1.0 contact hour.",
            ),
            protocol.AccreditationStatement(
                profession="physician", provider="Example Academy", credit_type="AMA PRA Category 1 Credit",
                max_credits=0.25 * (1 + (n - 1) % 8), statement="Physicians: designated for AMA PRA Category 1 Credit.",
            ),
        ],
        assets=[
            protocol.Asset(kind="video", media_type="video/mp4", size=1_000_000, sha256=f"{n:064x}",
                           url=f"/api/v1/media/{n:064x}", title="Lecture video"),
        ],
    )
    fields.update(overrides)
    return protocol.Activity(**fields)


def fill_cache(services, activities, server_url: str = "http://127.0.0.1:9") -> None:
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


@pytest.fixture
def make_services(data_dir):
    from desktop.services import Services

    made = []

    def make(server_url: str | None = None):
        s = Services(Paths(data_dir), server_url=server_url)
        made.append(s)
        return s

    yield make
    from desktop.views.tasks import wait_for_tasks

    wait_for_tasks(30_000)
    for s in made:
        s.close()


@pytest.fixture
def credit_server(tmp_path):
    from creditserver.runner import serve_in_thread

    server = serve_in_thread(tmp_path / "server", demo=True)
    try:
        yield server
    finally:
        server.stop()
