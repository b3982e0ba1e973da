"""Shared fixtures: a real credit server on loopback, real SQLite files, a real keyring.

The keyring is keyrings.alt's plaintext file backend, chosen through keyring's standard
PYTHON_KEYRING_BACKEND variable and kept in its own folder, away from the app's data dir,
so tests can check that no token ever lands under the data dir.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"


@pytest.fixture(autouse=True)
def keyring_home(tmp_path_factory, monkeypatch) -> Path:
    import keyring.core

    home = tmp_path_factory.mktemp("keyring-home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    keyring.core.init_backend()  # re-read PYTHON_KEYRING_BACKEND, drop any test's override
    return home


@pytest.fixture(autouse=True)
def no_machine_policy(tmp_path_factory, monkeypatch) -> Path:
    """Tests never read this machine's policy file: CME_OFFLINE_POLICY_FILE names an absent
    file (a policy test writes it)."""
    path = tmp_path_factory.mktemp("policy") / "policy.toml"
    monkeypatch.setenv("CME_OFFLINE_POLICY_FILE", str(path))
    return path


@pytest.fixture
def data_dir(tmp_path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def server(tmp_path_factory):
    from creditserver.runner import serve_in_thread

    running = serve_in_thread(tmp_path_factory.mktemp("server"), demo=True)
    yield running
    running.stop()


@pytest.fixture
def make_services(data_dir):
    """Build Services on the test's data dir; every one made is closed at teardown."""
    from desktop.config import Paths
    from desktop.services import Services

    made = []

    def make(server_url: str | None = None, **kwargs):
        services = Services(Paths(data_dir), server_url=server_url, **kwargs)
        made.append(services)
        return services

    yield make
    for services in made:
        services.close()


@pytest.fixture
def fault_proxy(server):
    from tests.support.fault_proxy import FaultProxy

    proxy = FaultProxy(server.url)
    yield proxy
    proxy.stop()
