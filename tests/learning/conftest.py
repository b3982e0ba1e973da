"""Pure rule tests: no server, no SQLite, no Qt. The demo activity's rules as protocol models."""

from __future__ import annotations

import pytest

from cmecore import protocol
from tests.support.activities import demo_doc


@pytest.fixture
def demo() -> protocol.Activity:
    return protocol.Activity.model_validate({"version": 1, **demo_doc()})
