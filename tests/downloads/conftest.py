"""Fixtures for the download tests: a signed-in client (behind `proxy` or not), fast retry
settings, and a check that the store holds only good files."""

from __future__ import annotations

import pytest

from desktop.sync.downloads import DownloadPolicy
from tests.support.media_publish import assert_store_verified, publish_activity

# Small backoff and timeouts so retries happen in tens of milliseconds.
FAST = dict(backoff_base_s=0.05, backoff_max_s=0.2, read_timeout_s=5.0, connect_timeout_s=2.0,
            disk_margin_bytes=0, progress_interval_s=0.0, db_interval_s=0.05)


def fast_policy(**overrides) -> DownloadPolicy:
    return DownloadPolicy(**{**FAST, **overrides})


VIDEO_SIZE = 1_000_000


@pytest.fixture
def published(server, tmp_path):
    """An activity whose video is VIDEO_SIZE bytes (random), with a transcript and a summary."""
    return publish_activity(server, tmp_path / "pub", "big-talk", video_size=VIDEO_SIZE)


@pytest.fixture(autouse=True)
def store_is_verified_at_the_end(data_dir):
    yield
    assert_store_verified(data_dir / "blobs")


@pytest.fixture
def client_via(make_services):
    """A signed-in, synced client whose server address is `url` (the proxy or the server)."""

    def make(url: str, **kwargs):
        services = make_services(url, **kwargs)
        services.sign_in("demo", "demo")
        services.sync()
        return services

    return make


class Recorder:
    """A listener that keeps every event (called from worker threads)."""

    def __init__(self, on_event=None):
        self.events = []
        self.on_event = on_event

    def __call__(self, event):
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def states(self, kind: str | None = None):
        return [(e.kind, e.state) for e in self.events if kind is None or e.kind == kind]

    def errors(self):
        return [e.error for e in self.events if e.error]


@pytest.fixture
def recorder():
    return Recorder()
