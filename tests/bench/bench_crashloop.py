"""Crash-loop bench: SIGKILL the headless `download` and `sync` commands many times at
random moments (seeded), then finish them and check everything (tests/faults/crashloop.py).

    .venv/bin/python -m tests.bench.bench_crashloop [--kills 200] [--seed 1]

Prints the kills, the problems found (target: 0) and the wall time; exits 1 on a problem.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=int(os.environ.get("CME_CRASHLOOP_KILLS", "200")))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quiet", action="store_true", help="no line per kill")
    args = parser.parse_args(argv if argv is not None else [])  # `python -m tests.bench` calls main()

    from tests.faults.crashloop import isolated_environment, run_crash_loop

    with tempfile.TemporaryDirectory(prefix="cme-crashloop-") as tmp:
        tmp = Path(tmp)
        os.environ.update(isolated_environment(tmp))
        import keyring.core

        keyring.core.init_backend()
        from creditserver.runner import serve_in_thread

        server = serve_in_thread(tmp / "server", demo=True)
        try:
            report = run_crash_loop(server, tmp / "loop", kills=args.kills, seed=args.seed,
                                    log=(lambda s: None) if args.quiet else (lambda s: print(s, flush=True)))
        finally:
            server.stop()
    print(f"crash loop (seed {args.seed}): {report.summary()}")
    print(f"kills: {report.kills}")
    print(f"problems: {len(report.problems)}")
    for text in report.problems[:20]:
        print(f"  - {text}")
    print(f"wall time: {report.wall_s:.1f} s")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
