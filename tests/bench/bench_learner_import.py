"""Onboarding at provider scale: 50,000 learners imported from one CSV file.

Not collected by pytest (no `test_` prefix). Run it:

    .venv/bin/python -m tests.bench.bench_learner_import [ROWS]

Setup (not timed): a fresh SQLite data dir and a CSV of ROWS learners (50,000 by default),
every tenth a pharmacist with an NABP e-Profile ID and birth MMDD. Timed: `cme-credit-server
learner import` run in this process, from reading the file to the codes CSV written: every
row checked, stored, and given a one-time set-password code. Target (issue 12): 50,000 in
≤ 5 min; `learner add`, one Argon2id hash and one process start per learner, took 1.6 s each
(≈ 22 hours). With a ROWS other than 50,000 the 50,000 figure is extrapolated, and says so.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROWS = 50_000
TARGET_S = 300.0


def write_people(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["username", "display_name", "profession", "degree", "nabp_eprofile_id", "birth_mmdd"])
        for i in range(rows):
            if i % 10 == 0:
                writer.writerow([f"Learner{i:06d}", f"Pat Pharm {i}", "pharmacist", "PharmD", f"{1000000 + i}", "0315"])
            else:
                writer.writerow([f"Learner{i:06d}", f"Dr. Dana Demo {i}", "physician", "MD", "", ""])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    rows = int(args[0]) if args and args[0].isdigit() else ROWS
    from creditserver.cli import main as cli

    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        people = tmp / "people.csv"
        write_people(people, rows)
        out = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(out):
            code = cli(["learner", "import", "--data-dir", str(tmp / "server"), "--codes", str(tmp / "codes.csv"), str(people)])
        wall = time.perf_counter() - started
        issued = sum(1 for _ in (tmp / "codes.csv").open(encoding="utf-8")) - 1
        per_minute = issued / wall * 60
        at_target_rows = wall * ROWS / rows
        note = "" if rows == ROWS else f", extrapolated from {rows} rows"
        ok = code == 0 and issued == rows and at_target_rows <= TARGET_S
        print(
            f"learner import: {issued} of {rows} learners in {wall:.1f} s ({per_minute:,.0f} per minute); "
            f"{ROWS:,} would take {at_target_rows:.0f} s{note} "
            f"[target {ROWS:,} ≤ {TARGET_S / 60:g} min: {'met' if ok else 'not met'}]",
            flush=True,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
