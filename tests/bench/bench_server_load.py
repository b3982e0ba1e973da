"""The credit server at provider scale (issue 12): a deadline rush of N learners on loopback.

Not collected by pytest (no `test_` prefix). Run it:

    .venv/bin/python -m tests.bench.bench_server_load [--quick] [--learners 50,200,500]
        [--db sqlite,postgresql] [--workers 1,2] [--one-address] [--profile] [--no-floor]
        [--patient-sign-in] [--finish-wait S] [--no-certificates]

The scenario (tests/support/server_load.py): N learners each sign in, fetch the catalog twice
and post a batch of 5 completions, every 10th batch sent twice at the same moment; then
every batch is sent again; then, a step after the re-send (so the steps before it and their
figures are as before; `--no-certificates` leaves it out), each learner fetches its new
certificates as the desktop's sync does right after delivery: GET /me/completions, each
PDF and signed credential, and a PDF the server answers 503 `certificate-not-ready` again
after its Retry-After, until every PDF is in hand. N = 50, 200, 500 (`--quick`: 50), on SQLite and on PostgreSQL (a
private, durable cluster started and stopped here: tests/support/postgres.py), with 1 and 2
server processes (`--workers`; rows say "not available" while `serve` has no such option).
Each run gets a new data folder and database and a server process of its own.

Printed per run: completions/s (the first deliveries ÷ the wall time of the completions
step, doubled batches counted once), sign-ins/s (a learner whose sign-in failed tries once
more after the others), p50/p99 per request kind (of the requests answered), errors (transport
failures, 5xx, any other unexpected status; a 503 certificate-not-ready is not one), false refusals (a valid completion, first sent,
doubled or re-sent, answered other than accepted/duplicate with its certificate id), the
count check (every completion stored exactly once, with the certificate its answers named)
and the CPU seconds of the server processes and of this load generator, which share the
machine. Target (issue 12, N = 500, PostgreSQL, 2 workers): 0 errors, 0 false refusals,
exactly once, completion POST p99 ≤ 5 s, ≥ 300 completions/s. Anchor: one process on main
before issue 12, ~115 completions/s and ~20 sign-ins/s. The correctness figures must hold on
every row.

Why the target is or is not met: each row prints the server's CPU per completion (its CPU
seconds in the completions step ÷ completions delivered; less disturbed by the other work on
a shared machine than the rates) and this load generator's, which runs on the same cores, so
the cores ÷ their sum bounds the rate here. The certificates step prints its
p50/p99 per learner (until all 5 PDFs were in hand, waits included), how many PDF fetches
were told to wait (503) and how many learners waited, and the server's CPU in that step.
The answer comes before the certificate is
finished (its credential signed, its PDF rendered: the server's finisher does that after
the rush), so each row also prints how long after the last POST answer (the re-send's) every
certificate was signed and rendered, and the server's CPU in that time per certificate: what
the provider pays on top of the answers. With `--profile`, where the server's CPU went
(py-spy samples of the thread holding each process's GIL, by part: canonicalisation,
signing, PDF, database, pydantic, HTTP, the completion rules; tests/support/cpu_profile.py).
After each PostgreSQL row, unless `--no-floor`, the *floor*: the same scenario against a
server on the same stack (uvicorn workers, FastAPI, SQLAlchemy, psycopg, the same database)
whose completion only reads the batch, stores one row per item and answers
(tests/support/floor_server.py): the part of the server's CPU per completion that any server
on this stack needs; the rest is the credit server's own work.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

LEARNERS = (50, 200, 500)
QUICK_LEARNERS = (50,)
BACKENDS = ("sqlite", "postgresql")
WORKERS = (1, 2)
TARGET = {"learners": 500, "backend": "postgresql", "workers": 2}
TARGET_P99_S = 5.0
TARGET_PER_S = 300.0
ANCHOR_PER_S = 115
ANCHOR_SIGN_INS_PER_S = 20
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
CERTIFICATE_KINDS = ("my completions", "certificate PDF", "credential")  # printed by certificates_step


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def _names(text: str) -> tuple[str, ...]:
    names = tuple(text.split(","))
    if unknown := [n for n in names if n not in BACKENDS]:
        raise argparse.ArgumentTypeError(f"unknown database {unknown[0]!r} (sqlite, postgresql)")
    return names


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench_server_load", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="N = 50 only")
    p.add_argument("--learners", type=_numbers, default=LEARNERS, metavar="N,N", help="default 50,200,500")
    p.add_argument("--db", type=_names, default=BACKENDS, metavar="sqlite,postgresql")
    p.add_argument("--workers", type=_numbers, default=WORKERS, metavar="1,2")
    p.add_argument("--one-address", action="store_true",
                   help="every learner from 127.0.0.1 (no X-Forwarded-For): the sign-in throttle sees one address")
    p.add_argument("--profile", action="store_true",
                   help="sample the server with py-spy during the completions step and print where its CPU went")
    p.add_argument("--patient-sign-in", action="store_true",
                   help="a failed sign-in's second try waits up to 600 s (a loaded machine: the completions are still measured)")
    p.add_argument("--finish-wait", type=float, default=1200.0, metavar="S",
                   help="how long to wait after the last answer for every certificate to be finished (default 1200 s)")
    p.add_argument("--no-floor", dest="floor", action="store_false",
                   help="skip the floor server after each PostgreSQL row")
    p.add_argument("--no-certificates", dest="certificates", action="store_false",
                   help="leave out the certificates step after the re-send (the learners fetching their PDFs)")
    args = p.parse_args(argv)
    if args.quick:
        args.learners = QUICK_LEARNERS
    return args


def main(argv: list[str] | None = None) -> int:
    from tests.support.server_load import DOUBLED_EVERY  # deferred: the scenario imports the server and httpx

    args = parse(argv or [])
    print(
        f"N learners sign in, fetch the catalog twice, post 5 completions (every {DOUBLED_EVERY}th batch twice at once), then "
        f"re-send every batch; loopback, one server process tree and this load generator on a shared machine "
        f"(figures are noisy). Anchor, one process on main before issue 12: ~{ANCHOR_PER_S} completions/s, "
        f"~{ANCHOR_SIGN_INS_PER_S} sign-ins/s.",
        flush=True,
    )
    failed = 0
    for backend in args.db:
        failed += run_backend(backend, args)
    return 1 if failed else 0


def run_backend(backend: str, args: argparse.Namespace) -> int:
    """Every row of one database; the number that failed to run."""
    from tests.support.postgres import PostgresUnavailable, PrivateCluster  # deferred: as in main

    cluster = None
    if backend == "postgresql":
        try:
            cluster = PrivateCluster(durable=True, max_connections=300)
        except PostgresUnavailable as exc:
            print(f"PostgreSQL: not available ({exc})", flush=True)
            return 0
    failed = 0
    try:
        for workers in args.workers:
            for learners in args.learners:
                failed += run_row(backend, workers, learners, cluster, args)
                if cluster is not None and args.floor:
                    failed += run_floor_row(workers, learners, cluster, args.profile)
    finally:
        if cluster is not None:
            cluster.stop()
    return failed


def run_row(backend: str, workers: int, learners: int, cluster, args: argparse.Namespace) -> int:
    from tests.support.server_load import WorkersUnavailable, run_once  # deferred: as in main

    label = f"{LABELS[backend]}, {workers} worker{'s' if workers > 1 else ''}, N={learners}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        url = cluster.new_database() if cluster is not None else None
        run = run_once(tmp / "server", url, learners, workers=workers, one_address=args.one_address,
                       profile=args.profile, patient_sign_in=args.patient_sign_in, finish_wait_s=args.finish_wait,
                       fetch_certificates=args.certificates)
    except WorkersUnavailable:
        target = " [issue 12 target: not measured]" if is_target(backend, workers, learners) else ""
        print(f"{label}: not available (serve has no --workers){target}", flush=True)
        return 0
    except Exception as exc:  # one broken row should not hide the others' figures
        print(f"{label}: failed: {type(exc).__name__}: {exc}", flush=True)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    figures, correctness = describe(run)
    print(f"{label}: {figures}\n    {correctness} {verdict(run, backend, workers, learners)}", flush=True)
    print(f"    {cpu_split(run.outcome)}", flush=True)
    if "certificates" in run.outcome.step_s:
        print(f"    {certificates_step(run.outcome)}", flush=True)
    if run.finishing is not None:
        print(f"    {run.finishing.summary()}", flush=True)
    return 0


def run_floor_row(workers: int, learners: int, cluster, profile: bool) -> int:
    """The floor server (module docstring) on a new database of `cluster`: its rate and CPU."""
    from tests.support.server_load import run_floor  # deferred: as in main

    label = f"  floor (uvicorn + FastAPI + PostgreSQL, completion = store the rows), {workers} worker" \
            f"{'s' if workers > 1 else ''}, N={learners}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    try:
        o = run_floor(tmp / "floor", cluster.new_database(), learners, workers=workers, profile=profile)
    except Exception as exc:
        print(f"{label}: failed: {type(exc).__name__}: {exc}", flush=True)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    wall = o.step_s.get("completion POST", 0.0)
    rate = o.delivered_first / wall if wall else 0.0
    p99 = o.percentile_ms("completion POST", 0.99)
    print(f"{label}: {rate:.0f} completions/s, POST p99 {_ms(p99)}, errors {o.error_count}; {cpu_split(o)}",
          flush=True)
    return 0


def cpu_split(o) -> str:
    """The server's CPU per completion, and by part when the run was profiled."""
    per = o.cpu_ms_per_completion()
    if per is None:
        return "server CPU per completion: –"
    cores = os.cpu_count() or 1
    client = o.client_cpu_s.get("completion POST", 0.0) * 1000 / o.delivered_first
    text = (f"CPU per completion while answering: server {per:.1f} ms, load generator {client:.1f} ms (so {cores} cores fully used: "
            f"at most {cores * 1000 / (per + client):.0f} completions/s)")
    total = sum(o.profile.values())
    if total:
        parts = ", ".join(f"{part} {per * n / total:.1f}" for part, n in o.profile.most_common())
        text += f"; by part, ms: {parts} ({total:,} py-spy samples)"
    return text


def certificates_step(o) -> str:
    """The learners fetching their certificates after the re-send (module docstring)."""
    per = sorted(o.certificates_step_s)
    p50 = statistics.median(per) * 1000 if per else None
    p99 = statistics.quantiles(per, n=100, method="inclusive")[98] * 1000 if len(per) > 1 else p50
    cpu = o.server_cpu_s.get("certificates", 0.0)
    pdf = o.latencies["certificate PDF"]
    waits = sorted(o.retry_after_s)
    told = f" (Retry-After median {statistics.median(waits):.0f} s, at most {waits[-1]:.0f} s)" if waits else ""
    return (f"certificates step: {o.certificates_fetched} of {o.delivered_first} PDFs in hand in "
            f"{o.step_s['certificates']:.1f} s; per learner p50/p99 {_ms(p50)}/{_ms(p99)} (waits included); "
            f"{o.not_ready} of {len(pdf)} PDF fetches answered 503 not ready (not errors){told}, {o.learners_waited} of "
            f"{len(per)} learners waited; request p50/p99: PDF {_ms(o.percentile_ms('certificate PDF', 0.5))}/"
            f"{_ms(o.percentile_ms('certificate PDF', 0.99))}, credential {_ms(o.percentile_ms('credential', 0.5))}/"
            f"{_ms(o.percentile_ms('credential', 0.99))}; server CPU in the step {cpu:.1f} s; "
            f"machine load average {os.getloadavg()[0]:.1f} at its end")


def describe(run) -> tuple[str, str]:
    """(the speeds and CPU, the correctness figures) of one run."""
    o = run.outcome
    steps = o.step_s
    kinds = ", ".join(f"{kind} {_ms(o.percentile_ms(kind, 0.5))}/{_ms(o.percentile_ms(kind, 0.99))}"
                      for kind in o.latencies if kind not in CERTIFICATE_KINDS)
    errors = ", ".join(f"{n} {kind}" for kind, n in sorted(o.errors.items())) or "none"
    examples = f"; e.g. {o.examples[0]!r}" if o.examples else ""
    first = o.learners - o.signed_in_again
    if o.delivered_first:
        rate = f"{o.delivered_first:,} completions in {steps['completion POST']:.2f} s = {run.completions_per_s:.0f}/s"
    else:
        rate = "no completions sent (no sign-in succeeded, even at the second try)"
    return (
        f"{rate}; "
        f"{first} of {o.learners} signed in at the first try in {steps['sign-in']:.2f} s = {first / steps['sign-in']:.0f}/s"
        f"{_again(o)}; "
        f"re-send {steps.get('re-send', 0):.2f} s; p50/p99 {kinds}; CPU s: server {run.server_cpu_s:.1f}, "
        f"load generator {run.client_cpu_s:.1f}; machine load average {run.machine_load:.1f} at the start",
        f"errors {o.error_count} ({errors}); false refusals {o.false_refusals}; {run.check.summary()}{examples}",
    )


def _again(o) -> str:
    if not o.signed_in_again:
        return ""
    return (f" ({o.signed_in_again} failed and tried again, {o.signed_in_at_second_try} of them signed in, "
            f"{o.step_s['sign-in again']:.2f} s more)")


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def is_target(backend: str, workers: int, learners: int) -> bool:
    return {"learners": learners, "backend": backend, "workers": workers} == TARGET


def verdict(run, backend: str, workers: int, learners: int) -> str:
    correct = "met" if run.correct else "not met"
    if not is_target(backend, workers, learners):
        return f"[0 errors, 0 false refusals, exactly once: {correct}]"
    p99_ms = run.outcome.percentile_ms("completion POST", 0.99)
    p99 = p99_ms / 1000 if p99_ms is not None else float("inf")
    missed = [what for what, ok in (
        ("correctness", run.correct), (f"p99 {_ms(p99_ms)}" if p99_ms is not None else "no POST answered", p99 <= TARGET_P99_S),
        (f"{run.completions_per_s:.0f}/s", run.completions_per_s >= TARGET_PER_S)) if not ok]
    # Every batch is sent at the same moment: the last answers come when all the work is done,
    # so the p99 is about the step's wall time, and p99 ≤ 5 s needs the rate below.
    burst = run.outcome.delivered_first / TARGET_P99_S
    return (f"[issue 12 target: 0 errors, 0 false refusals, exactly once, completion POST p99 ≤ {TARGET_P99_S:g} s, "
            f"≥ {TARGET_PER_S:g} completions/s: {'met' if not missed else 'not met (' + ', '.join(missed) + ')'}; "
            f"all {learners} batches arrive at once, so p99 ≤ {TARGET_P99_S:g} s needs ≈ {burst:.0f} completions/s]")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
