"""The fuzz tests that need the network use the fault scenarios' proxy fixture."""

from tests.faults.conftest import proxy  # noqa: F401
