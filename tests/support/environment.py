"""What every test runs inside: offscreen Qt, its own keyring, no machine policy, headless VLC.

The keyring is keyrings.alt's plaintext file backend, chosen through keyring's standard
PYTHON_KEYRING_BACKEND variable and kept in its own folder, away from the app's data dir,
so tests can check that no token ever lands under the data dir. HOME points there too, so
nothing a test runs (logs, platform folders) writes to the real home.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HEADLESS_VLC = "--intf=dummy --vout=dummy --aout=dummy --no-video-title-show"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
os.environ.setdefault("CME_OFFLINE_VLC_ARGS", HEADLESS_VLC)


@pytest.fixture(autouse=True)
def keyring_home(tmp_path_factory, monkeypatch) -> Path:
    """The folder holding this test's keyring file (a fresh one per test)."""
    import keyring.core

    home = tmp_path_factory.mktemp("keyring-home")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.setenv("HOME", str(home))
    keyring.core.init_backend()  # re-read PYTHON_KEYRING_BACKEND, drop any test's override
    return home


@pytest.fixture(autouse=True)
def no_machine_policy(tmp_path_factory, monkeypatch) -> Path:
    """Tests never read this machine's policy file: CME_OFFLINE_POLICY_FILE names an absent
    file (a policy test writes it), and CME_OFFLINE_MANAGED_PREFERENCES_DIR an absent folder."""
    path = tmp_path_factory.mktemp("policy") / "policy.toml"
    monkeypatch.setenv("CME_OFFLINE_POLICY_FILE", str(path))
    # nor a Mac's managed preferences (a configuration profile): an empty folder stands in
    monkeypatch.setenv("CME_OFFLINE_MANAGED_PREFERENCES_DIR", str(path.parent / "Managed Preferences"))
    return path


@pytest.fixture(autouse=True)
def headless_vlc(monkeypatch) -> None:
    """A player a test makes has no window and no sound (libvlc's dummy outputs)."""
    monkeypatch.setenv("CME_OFFLINE_VLC_ARGS", HEADLESS_VLC)


@pytest.fixture
def libvlc() -> None:
    """Skips the test when libvlc cannot be loaded here."""
    from desktop.media.player import probe_libvlc

    problem = probe_libvlc()
    if problem:
        pytest.skip(problem)
