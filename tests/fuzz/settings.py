"""Hypothesis settings for the fuzz tests: bounded and deterministic for CI, bigger for the bench.

    CME_FUZZ_PROFILE=bench .venv/bin/pytest -q -p no:cacheprovider tests/fuzz   # 3,000 examples each

Applied per test (not `load_profile`), so other tests' hypothesis settings are untouched.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, derandomize=True, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])
settings.register_profile("cme-fuzz-ci", max_examples=150, **_COMMON)
settings.register_profile("cme-fuzz-bench", max_examples=3000, **_COMMON)

FUZZ = settings.get_profile("cme-fuzz-bench" if os.environ.get("CME_FUZZ_PROFILE") == "bench" else "cme-fuzz-ci")
