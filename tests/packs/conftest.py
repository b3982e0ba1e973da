"""Fixtures for content packs: a pack exported from the real server, and a fresh client."""

from __future__ import annotations

import pytest

from tests.support.activities import DEMO_ID
from tests.support.media_publish import publish_activity


@pytest.fixture
def exported(server, make_services, tmp_path):
    """(pack path, Published, the server's public key): exported by a signed-in client."""
    pub = publish_activity(server, tmp_path / "pub", "talk-a", video_size=200_000)
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    report = services.export_pack(["talk-a", DEMO_ID], tmp_path / "out" / "pack.zip")
    key = server.app.state.signing_key.public_key_b64
    return report.path, pub, key


@pytest.fixture
def fresh(make_services, tmp_path):
    """`fresh(name="fresh", **kwargs)`: Services on a new data dir of that name (closed at teardown)."""

    def make(name: str = "fresh", **kwargs):
        return make_services(kwargs.pop("server_url", None), at=tmp_path / name, **kwargs)

    return make
