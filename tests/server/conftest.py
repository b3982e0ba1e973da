"""Fixtures for the credit-server tests: a real server on loopback over real SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from creditserver.runner import RunningServer, serve_in_thread


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[RunningServer]:
    with serve_in_thread(tmp_path / "server", demo=True) as running:
        yield running


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[RunningServer]:
    with serve_in_thread(tmp_path / "server") as running:
        running.add_learner("alice", "correct horse", profession="nurse", display_name="Alice Nurse", degree="RN")
        yield running


def client_for(server: RunningServer) -> httpx.Client:
    return httpx.Client(base_url=server.api_url, timeout=10)


@pytest.fixture
def api(demo_server: RunningServer) -> Iterator[httpx.Client]:
    with client_for(demo_server) as client:
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


def minimal_activity(activity_id: str = "test-activity", **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": activity_id,
        "title": "A test activity",
        "release_date": "2026-01-01",
        "termination_date": "2027-01-01",
        "providers": ["Test Provider"],
        "accreditation": [
            {
                "profession": "nurse",
                "provider": "Test Provider",
                "credit_type": "Participation",
                "max_credits": 0.25,
                "contact_hours": 0.25,
                "statement": "A statement of participation for 0.25 contact hours.",
            }
        ],
        "assets": [
            {"path": "talk.mp4", "title": "Talk"},
            {"path": "talk.vtt", "kind": "transcript"},
        ],
    }
    doc.update(overrides)
    return doc


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
def credit_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A demo server (learners demo/demo: physician, pharm/demo: pharmacist) plus the demo
    activity republished as `credit-test` with dates relative to today."""
    from .credit_support import activity_doc, publish

    with serve_in_thread(tmp_path / "server", demo=True) as running:
        publish(running, tmp_path, activity_doc(CREDIT_ACTIVITY))
        yield running


@pytest.fixture
def credit_api(credit_server: RunningServer) -> Iterator[httpx.Client]:
    with client_for(credit_server) as client:
        yield client
