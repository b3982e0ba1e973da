"""Headless commands on the same services as the GUI (for IT, scripts and tests).

Each command prints what it did, or one line saying why it failed, and exits non-zero
on failure: 1 for a failure the user can act on, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cmecore.transcripts.cues import clock
from desktop.errors import CmeError, ConfigError
from desktop.logs import redact

if TYPE_CHECKING:  # the GUI builds this parser before its first paint; keep this module's imports cheap
    from desktop.services import Services

EXIT_FAILED = 1
EXIT_USAGE = 2


def add_commands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    login = sub.add_parser("login", parents=[common], help="sign in and keep the token in the OS keyring")
    login.add_argument("--username", required=True)
    login.add_argument(
        "--password-stdin", action="store_true", required=True,
        help="read the password from standard input (never from the command line)",
    )
    login.set_defaults(command=cmd_login)

    logout = sub.add_parser("logout", parents=[common], help="sign out and remove the token")
    logout.set_defaults(command=cmd_logout)

    sync = sub.add_parser("sync", parents=[common], help="refresh the catalog and send finished activities")
    sync.add_argument("--json", action="store_true", help="print the result as JSON")
    sync.set_defaults(command=cmd_sync)

    credits = sub.add_parser("credits", parents=[common], help="my credits: claims, their state and totals (offline)")
    credits.add_argument("--year", type=int, help="only this year's claims and totals")
    credits.add_argument("--json", action="store_true", help="print as JSON")
    credits.set_defaults(command=cmd_credits)

    status = sub.add_parser("status", parents=[common], help="what is on this machine (offline)")
    status.add_argument("--json", action="store_true", help="print as JSON")
    status.set_defaults(command=cmd_status)

    download = sub.add_parser(
        "download", parents=[common],
        help="download activities' video, transcript and summaries for offline use (blocks until done)",
    )
    download.add_argument("--all", action="store_true", help="every activity in the library")
    download.add_argument("activity_ids", nargs="*", metavar="ACTIVITY_ID", help="activities to download")
    download.add_argument("--json", action="store_true", help="print JSON lines: progress events, then a summary")
    download.add_argument("--quality", choices=("best", "small", "audio"),
                          help="the form of each video: best (the original), small, or audio only "
                               "(default: the settings' quality; the machine policy's maximum applies)")
    download.set_defaults(command=cmd_download)

    search = sub.add_parser("search", parents=[common], help="search cached titles, summaries and transcripts (offline)")
    search.add_argument("query", metavar="QUERY", help="words to find; the last may be a prefix")
    search.add_argument("--limit", type=int, default=50, help="at most this many hits (default 50)")
    search.add_argument("--json", action="store_true", help="print as JSON")
    search.set_defaults(command=cmd_search)

    diagnostics = sub.add_parser("diagnostics", parents=[common],
                                 help="what the help desk needs: versions, paths, policy, settings, sync, last log lines")
    diagnostics.add_argument("--json", action="store_true", help="print as JSON")
    diagnostics.set_defaults(command=cmd_diagnostics)

    prefetch = sub.add_parser(
        "prefetch", parents=[common],
        help="IT: fill a shared content folder with activities' files (resumable, verified; quiet unless it fails)",
    )
    prefetch.add_argument("--into", type=Path, required=True, metavar="DIR", help="the shared content folder")
    prefetch.add_argument("--all", action="store_true", help="every activity in the catalog")
    prefetch.add_argument("activity_ids", nargs="*", metavar="ACTIVITY_ID", help="activities to fetch")
    add_quality_option(prefetch)
    prefetch.set_defaults(command=cmd_prefetch)

    pack = sub.add_parser("pack", help="content packs: activities and their media in one file, for offline machines")
    pack_sub = pack.add_subparsers(title="pack commands", metavar="PACK_COMMAND", required=True)
    export = pack_sub.add_parser("export", parents=[common], help="write a pack (needs the server and a sign-in)")
    export.add_argument("activity_ids", nargs="+", metavar="ACTIVITY_ID")
    export.add_argument("--out", type=Path, required=True, metavar="FILE", help="the pack file to write")
    add_quality_option(export)
    export.set_defaults(command=cmd_pack_export)
    imp = pack_sub.add_parser("import", parents=[common], help="check a pack whole and add it (works offline)")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.set_defaults(command=cmd_pack_import)


def add_quality_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quality", action="append", type=quality_list, metavar="best|small|audio",
        help="the forms of each video to carry (repeat, or a comma list: small,audio); "
             "default: the machine policy's default, else its maximum, else best",
    )


def quality_list(text: str) -> list:
    """`small,audio` -> [Quality.small, Quality.audio]; an unknown name is a usage error."""
    from cmecore.renditions import Quality  # start-up speed: the GUI builds this parser before its first paint

    try:
        return [Quality(word.strip().lower()) for word in text.split(",") if word.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a video quality: use best, small or audio (or a comma list of them)") from None


def chosen_qualities(args: argparse.Namespace) -> list:
    return [q for group in args.quality or [] for q in group]


def run(args: argparse.Namespace, make_services: Callable[[], Services]) -> int:
    try:
        services = make_services()
    except ConfigError as exc:  # e.g. a server address that is not http(s)
        return fail(str(exc), EXIT_USAGE)
    except CmeError as exc:  # e.g. a cache written by a newer CME Offline
        return fail(str(exc))
    try:
        return args.command(args, services)
    except CmeError as exc:
        return fail(str(exc))
    finally:
        services.close()


def fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"cme-offline: {redact(message)}", file=sys.stderr)
    return code


def cmd_login(args, services: Services) -> int:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        return fail("no password on standard input", EXIT_USAGE)
    if args.server:
        services.config.set_server_url(args.server)  # remembered for the next commands
    learner = services.account.sign_in(args.username, password)
    print(f"Signed in as {learner.display_name} ({learner.profession}) on {services.config.server_url}")
    return 0


def cmd_logout(args, services: Services) -> int:
    learner = services.account.sign_out()
    print(f"Signed out {learner.username}" if learner else "No one was signed in")
    return 0


def cmd_sync(args, services: Services) -> int:
    """Catalog, then completions. Rejected claims are an outcome (printed, exit 0); exit 1
    only when something could not be done (catalog or delivery failed; items are kept)."""
    try:
        report = services.syncing.sync()
    except CmeError as exc:
        delivered = getattr(exc, "completions", None)
        if delivered is not None and not args.json:
            _print_completions(delivered)
        raise
    done = report.completions
    if args.json:
        print(json.dumps({
            "ok": not _delivery_failed(report),
            "not_modified": report.not_modified,
            "changed": report.changed,
            "synced_at": _iso(report.synced_at),
            "completions": (
                {"accepted": done.accepted, "duplicate": done.duplicate, "rejected": done.rejected,
                 "remaining": done.remaining, "errors": done.errors, "notes": done.notes}
                if done is not None else None
            ),
            "completions_error": report.completions_error,
        }))
    else:
        if report.not_modified:
            print("Catalog is up to date")
        else:
            print(f"Catalog synced: {report.changed} activities changed")
        if done is not None:
            _print_completions(done)
    if report.completions_error:
        return fail(f"completions were not sent: {report.completions_error}")
    if _delivery_failed(report):
        return fail(f"some completions were not sent and are kept for the next sync: {done.errors[0]}")
    return 0


def _delivery_failed(report) -> bool:
    return bool(report.completions_error) or bool(report.completions and report.completions.errors)


def _print_completions(done) -> None:
    if done.delivered or done.remaining or done.errors:
        line = f"Completions: {done.accepted} accepted"
        if done.duplicate:
            line += f" ({done.duplicate} already received)"
        line += f", {done.rejected} rejected, {done.remaining} waiting"
        print(line)
    if done.rejected:
        print("  Rejected claims are listed, with the server's reason, by `cme-offline credits`.")
    for note in done.notes:
        print(f"  {note}")


def cmd_credits(args, services: Services) -> int:
    credits = services.credits.my_credits(year=args.year)
    if args.json:
        print(json.dumps({
            "learner": services.account.current_learner().username,
            "rows": [
                {"completion_id": r.completion_id, "activity_id": r.activity_id, "title": r.title,
                 "date": r.date.isoformat(), "credit_type": r.credit_type, "credits": r.credits, "state": r.state,
                 "reason": r.reason, "certificate_id": r.certificate_id}
                for r in credits.rows
            ],
            "totals": [
                {"credit_type": t, "year": y, "credits": v} for (t, y), v in sorted(credits.totals.items())
            ],
            "totals_all_time": credits.totals_all_time,
            "pending": services.syncing.pending_completions_count(learner_only=True),
        }, indent=2))
        return 0
    if not credits.rows:
        print("No claims yet.")
    for r in credits.rows:
        line = f"  {r.date.isoformat()}  {r.credits:>5g} {r.credit_type}  [{r.state}]  {r.title}"
        print(line)
        if r.reason:
            print(f"      {r.reason}")
    for (credit_type, year), total in sorted(credits.totals.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
        print(f"Total {year}: {total:g} {credit_type}")
    return 0


def cmd_status(args, services: Services) -> int:
    status = services.syncing.status()
    rows = services.library.library_rows()
    assets = services.library.assets()
    data = {
        "server": status.server_url,
        "learner": (
            {
                "id": status.learner.id,
                "username": status.learner.username,
                "display_name": status.learner.display_name,
                "profession": status.learner.profession,
            }
            if status.learner else None
        ),
        "last_sync_at": _iso(status.last_sync_at),
        "last_error": status.last_error,
        "clock_offset_ms": status.clock_offset_ms,
        "storage_bytes": status.storage_bytes,
        "pending_completions": status.pending_completions,
        "activities": [
            {
                "id": row.id,
                "title": row.title,
                "release_date": row.release_date.isoformat(),
                "termination_date": row.termination_date.isoformat(),
                "state": row.media_state.value,
                "assets": [
                    {
                        "kind": a.kind,
                        "title": a.title,
                        "media_type": a.media_type,
                        "size": a.size,
                        "sha256": a.sha256,
                        "state": a.state.value,
                    }
                    for a in assets.get(row.id, [])
                ],
            }
            for row in rows
        ],
    }
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"Server:    {data['server'] or '(none set)'}")
    print(f"Learner:   {status.learner.display_name if status.learner else '(not signed in)'}")
    print(f"Last sync: {data['last_sync_at'] or 'never'}" + (f"  ({status.last_error})" if status.last_error else ""))
    if status.pending_completions:
        print(f"Waiting:   {status.pending_completions} completion(s) to send at the next sync")
    for activity in data["activities"]:
        print(f"  [{activity['state']:>7}] {activity['id']}: {activity['title']}")
    return 0


def cmd_search(args, services: Services) -> int:
    hits = services.library.search(args.query, limit=args.limit)
    if args.json:
        print(json.dumps([
            {"activity_id": h.activity_id, "kind": h.kind, "time_ms": h.time_ms, "snippet": h.snippet}
            for h in hits
        ], indent=2))
        return 0
    if not hits:
        print(f"No matches for {args.query!r}")
    for h in hits:
        where = clock(h.time_ms) if h.time_ms is not None else f"{h.kind}: {h.label}" if h.label else h.kind
        print(f"  {h.activity_id} [{where}] {h.snippet}")
    return 0


def cmd_download(args, services: Services) -> int:
    if bool(args.all) == bool(args.activity_ids):
        return fail("give either --all or one or more activity ids", EXIT_USAGE)
    from cmecore.renditions import Quality  # start-up speed: the GUI builds this parser before its first paint

    downloads = services.downloads
    downloads.enqueue(None if args.all else args.activity_ids, Quality(args.quality) if args.quality else None)
    printer = _DownloadPrinter(args.json, sys.stdout.isatty())
    stop = threading.Event()
    outcome: dict = {}

    def work():
        try:
            outcome["summary"] = downloads.run(printer, stop)
        except BaseException as exc:  # handed to the main thread below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="cme-download-cli", daemon=True)
    worker.start()
    told = False
    try:
        while worker.is_alive():
            worker.join(0.2)
            queue = downloads.queue
            if not told and queue.waiting.is_set():
                told = True
                print(f"cme-offline: {queue.waiting_message} Waiting (Ctrl+C stops; the queue is kept).",
                      file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        stop.set()  # stop after the current chunk; everything received is kept
        worker.join()
    printer.finish()
    if "error" in outcome:
        raise outcome["error"]
    summary = outcome["summary"]
    if args.json:
        print(json.dumps({"event": "summary", **summary.as_dict()}), flush=True)
    else:
        print(
            f"Downloaded {summary.done} file(s), {_size(summary.bytes_fetched)} received"
            + (f"; {summary.failed} failed" if summary.failed else "")
        )
    if summary.failures:
        first = summary.failures[0]
        more = f" (and {summary.failed - 1} more)" if summary.failed > 1 else ""
        return fail(f"the {first.kind} of {first.activity_id} could not be downloaded{more}: {first.error}")
    if summary.stopped:
        return fail("downloads stopped before finishing; run the command again to resume")
    waiting = summary.remaining + summary.paused
    if waiting:
        return fail(f"{waiting} file(s) are paused or still waiting; resume them and run the command again")
    return 0


class _DownloadPrinter:
    """The download listener for the CLI: JSON lines, a one-line bar on a TTY, or plain lines."""

    def __init__(self, as_json: bool, tty: bool):
        self.as_json = as_json
        self.tty = tty
        self.lock = threading.Lock()
        self.jobs: dict[int, tuple[int, int, float, str]] = {}  # id -> bytes_done, size, speed, state
        self.drawn = False

    def __call__(self, event) -> None:
        with self.lock:
            if self.as_json:
                print(json.dumps({"event": "progress", **event.as_dict()}), flush=True)
                return
            self.jobs[event.job_id] = (event.bytes_done, event.size, event.speed_bps, event.state)
            label = f"{event.kind} of {event.activity_id}"
            if event.state in ("done", "failed", "cancelled", "paused") or event.error:
                if self.drawn:
                    sys.stdout.write("\r\x1b[K")
                    self.drawn = False
                what = event.state if not (event.state == "queued" and event.error) else "retrying"
                line = f"  {what:<9} {label}"
                if event.error:
                    line += f": {event.error}"
                print(line, flush=True)
            if self.tty:
                self._draw(label)

    def _draw(self, label: str) -> None:
        done = sum(j[0] for j in self.jobs.values())
        total = sum(j[1] for j in self.jobs.values()) or 1
        speed = sum(j[2] for j in self.jobs.values() if j[3] == "running")
        share = min(1.0, done / total)
        bar = "#" * int(share * 24)
        eta = f" ETA {int((total - done) / speed)}s" if speed > 0 else ""
        line = f"[{bar:<24}] {share:4.0%} {_size(done)}/{_size(total)} {_size(int(speed))}/s{eta}  {label}"
        sys.stdout.write("\r\x1b[K" + line[:120])
        sys.stdout.flush()
        self.drawn = True

    def finish(self) -> None:
        with self.lock:
            if self.drawn:
                sys.stdout.write("\n")
                sys.stdout.flush()
                self.drawn = False


def _size(n: int) -> str:
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def cmd_diagnostics(args, services: Services) -> int:
    from desktop.diagnostics import as_json, as_text  # start-up speed: the GUI imports this module before its first paint

    data = services.diagnostics()
    print(as_json(data) if args.json else as_text(data), end="" if not args.json else "\n")
    return 0


def cmd_prefetch(args, services: Services) -> int:
    """Quiet on success (a scheduled task); one line per failed file on stderr, exit 1."""
    if bool(args.all) == bool(args.activity_ids):
        return fail("give either --all or one or more activity ids", EXIT_USAGE)
    report = services.deployment.prefetch(args.into, None if args.all else args.activity_ids,
                                          qualities=chosen_qualities(args))
    for f in report.failures:
        form = f"{f.form.value}, " if f.form is not None else ""
        print(f"cme-offline: prefetch: the {f.kind} of {f.activity_id} ({form}{f.sha256[:12]}…) failed: {f.error}",
              file=sys.stderr)
    return EXIT_FAILED if report.failures else 0


def cmd_pack_export(args, services: Services) -> int:
    report = services.deployment.export_pack(args.activity_ids, args.out, qualities=chosen_qualities(args))
    print(f"Wrote {report.path}: {len(report.activity_ids)} activities, {report.blobs} files, {_size(report.bytes)} "
          f"(videos: {', '.join(q.value for q in report.qualities)})")
    return 0


def cmd_pack_import(args, services: Services) -> int:
    report = services.deployment.import_pack(args.file)
    line = f"Imported {len(report.activity_ids)} activities, {report.blobs_added} new files"
    if report.blobs_present:
        line += f" ({report.blobs_present} already here)"
    if report.video_forms:
        line += f"; videos: {', '.join(q.value for q in report.video_forms)}"
    print(line)
    if report.kept_newer or report.withdrawn:
        print(f"  {report.summary}")
    if report.kept_newer:
        print(f"  Kept the newer version already here of: {', '.join(report.kept_newer)}")
    if report.withdrawn:
        print(f"  Not added, withdrawn by the provider after the pack was made: {', '.join(report.withdrawn)}")
    for note in report.policy_notes:
        print(f"  {note}")
    return 0
