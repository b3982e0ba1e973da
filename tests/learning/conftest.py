"""Pure rule tests: no server, no SQLite, no Qt. The demo activity's rules as protocol models."""

from __future__ import annotations

import json

import pytest

from creditserver.demo import DEMO_FOLDER
from cmecore import protocol

CORRECT = {"q1": ["b"], "q2": ["a", "b", "d"], "q3": ["c"], "q4": ["b"], "q5": ["a"]}


def demo_doc() -> dict:
    doc = json.loads((DEMO_FOLDER / "activity.json").read_text(encoding="utf-8"))
    doc["assets"] = []
    doc.setdefault("version", 1)
    return doc


@pytest.fixture
def demo() -> protocol.Activity:
    return protocol.Activity.model_validate(demo_doc())
