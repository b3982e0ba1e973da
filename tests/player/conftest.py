"""Player tests: real libvlc with dummy outputs, real SQLite, offscreen Qt."""

from __future__ import annotations

import os

import pytest

from tests.player.demo_media import HEADLESS_VLC

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CME_OFFLINE_VLC_ARGS", HEADLESS_VLC)


@pytest.fixture(autouse=True)
def headless_vlc(monkeypatch):
    monkeypatch.setenv("CME_OFFLINE_VLC_ARGS", HEADLESS_VLC)


@pytest.fixture
def libvlc():
    from desktop.media.player import probe_libvlc

    problem = probe_libvlc()
    if problem:
        pytest.skip(problem)
