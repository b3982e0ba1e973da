"""Fixtures for the renditions tests: a signed-in client of the real reference server.

An activity whose video comes in three forms: tests/support/renditions.py
(`publish_with_renditions`), imported here too for the tests of this folder.
"""

from __future__ import annotations

import pytest

from tests.downloads.conftest import Recorder, fast_policy  # noqa: F401 (used by the tests here)
from tests.support.media_publish import assert_store_verified
from tests.support.renditions import publish_with_renditions  # noqa: F401 (used by the tests here)


@pytest.fixture
def client(server, make_services, data_dir):
    """A signed-in, synced client of `server`; `client(**kwargs)` passes kwargs to Services.
    At the end, every complete file in its store hashes to its name."""

    def make(**kwargs):
        services = make_services(server.url, **kwargs)
        services.sign_in("demo", "demo")
        services.sync()
        return services

    yield make
    assert_store_verified(data_dir / "blobs")
