"""Fixtures for the credit-server tests: an HTTP client on the demo server (`api`, `auth`),
and `credit_server`, the demo server plus an activity dated relative to today."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from creditserver.runner import RunningServer
from tests.support.activities import activity_doc


def client_for(server: RunningServer) -> httpx.Client:
    return httpx.Client(base_url=server.api_url, timeout=10)


@pytest.fixture
def api(server: RunningServer) -> Iterator[httpx.Client]:
    with client_for(server) as client:
        yield client


def sign_in(client: httpx.Client, username: str = "demo", password: str = "demo") -> dict[str, Any]:
    r = client.post("/auth/token", json={"username": username, "password": password, "device_name": "pytest"})
    assert r.status_code == 200, r.text
    return r.json()


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture
def auth(api: httpx.Client) -> dict[str, str]:
    return bearer(sign_in(api))


def write_folder(folder: Path, doc: dict[str, Any] | str, files: dict[str, bytes] | None = None) -> Path:
    """A publish folder: activity.json (a dict, or raw text) plus files."""
    folder.mkdir(parents=True, exist_ok=True)
    text = doc if isinstance(doc, str) else json.dumps(doc, indent=2)
    (folder / "activity.json").write_text(text, encoding="utf-8")
    default_files = {
        "talk.mp4": bytes(range(256)) * 40,
        "talk.vtt": b"WEBVTT\n\n00:00.000 --> 00:05.000\nHello.\n",
    }
    for name, data in (files if files is not None else default_files).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


CREDIT_ACTIVITY = "credit-test"


@pytest.fixture
def credit_server(start_server, tmp_path: Path) -> RunningServer:
    """A demo server (learners demo/demo: physician, pharm/demo: pharmacist) plus the demo
    activity republished as `credit-test` with dates relative to today (and a stand-in
    video, since it asks for 80% watched)."""
    running = start_server()
    running.publish(credit_test_folder(tmp_path / f"pub-{CREDIT_ACTIVITY}"), videos_as_is=True)
    return running


def credit_test_folder(folder: Path) -> Path:
    """The publish folder of `credit-test`: the demo activity with a stand-in video (bytes, not
    a video: publish it with `videos_as_is`)."""
    doc = activity_doc(CREDIT_ACTIVITY, assets=[{"path": "talk.mp4", "title": "Talk"}])
    return write_folder(folder, doc, files={"talk.mp4": bytes(range(256)) * 40})


@pytest.fixture
def credit_api(credit_server: RunningServer) -> Iterator[httpx.Client]:
    with client_for(credit_server) as client:
        yield client
