"""`make bench`: run every benchmark and print its figures. Nothing here asserts timings;
the normal test run stays deterministic on a noisy machine.

    python -m tests.bench            # all
    python -m tests.bench startup    # the ones whose module name contains "startup"
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    wanted = argv[1:]
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_")
    )
    failed = 0
    for name in names:
        if wanted and not any(w in name for w in wanted):
            continue
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"tests.bench.{name}").main()
        except Exception as exc:  # one broken bench should not hide the others' figures
            failed += 1
            print(f"{name} failed: {type(exc).__name__}: {exc}")
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
