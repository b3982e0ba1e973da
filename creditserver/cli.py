"""`cme-credit-server`: serve, publish, withdraw, and manage learners.

    cme-credit-server --host 127.0.0.1 --port 8765 --data-dir DIR [--demo] [--database-url URL] [--public-url URL] \\
        [--workers N] [--threads N]   (several processes; docs/deployment.md "Running the server")
        [--media-base-url URL [--media-secret-file FILE] | --media-accel-prefix PATH] [--media-group NAME]
    cme-credit-server publish --data-dir DIR [--allow-expired] [--videos-as-is] FOLDER   (each video's small and
        audio renditions are made, or reused; a plain-text transcript is timed from the video's audio)
    cme-credit-server withdraw --data-dir DIR ACTIVITY_ID
    cme-credit-server learner add --data-dir DIR --username U --password-stdin \\
        --profession P --display-name N [--degree D] [--nabp-eprofile-id ID] [--birth-mmdd MMDD]
    cme-credit-server learner import --data-dir DIR --codes CODES.csv [--code-days 14] FILE.csv
    cme-credit-server learner code --data-dir DIR [--code-days 14] USERNAME   (a new set-password code)
    cme-credit-server prune --data-dir DIR [--rejection-days 90] [--sent-statement-days 30]   (also at every start)
    cme-credit-server report --data-dir DIR [--json | --csv] [--since YYYY-MM-DD] [--until YYYY-MM-DD]
        [--pars FILE.txt] [--cpe-monitor FILE.csv]   (the accreditors' files: docs/reporting.md)
    cme-credit-server migrate --data-dir DIR [--database-url URL]   (upgrade the database in place)
    cme-credit-server lrs status|retry [--all] --data-dir DIR   (xAPI statements for the LRS: the queue)
    serve … --lrs-url URL --lrs-auth-file FILE [--lrs-send attempts,watched]   (report completions to an LRS)

`--database-url` may be left out for the environment variable CME_DATABASE_URL, which `ps`
does not show to other users as it does a command line (a PostgreSQL password).

Every command creates the database if it is new (empty); on one whose schema is behind, it
refuses and names the `migrate` command to run (creditserver/schema.py).

Exit codes: 0 done, 2 refused (bad input; one line on stderr says why), 1 other failure.
`learner import` imports the good rows even when some are bad; then it says so on stderr,
one line per bad row, and exits 2. `report --pars/--cpe-monitor` likewise writes the
complete records, names each one it refused on stderr, and then exits 2.

Each command imports only the server modules it uses, inside its function: `report`
needs no FastAPI and `--help` no SQLAlchemy, and FastAPI alone costs about 0.3 s.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import os
import sys
from datetime import date
from pathlib import Path

from cmecore.private_files import open_private
from cmecore.profile import PROFESSION, PROFILE_FIELDS, profile_values
from cmecore.protocol import Profession

from .cli_serve import DATABASE_URL_ENV, EXIT_REFUSED, PROG, refuse, run_serve, serve_options

_refuse = refuse


def _common(p: argparse.ArgumentParser, *, top: bool) -> None:
    default = None if top else argparse.SUPPRESS
    p.add_argument("--data-dir", type=Path, default=default, help="where the database and media store live")
    p.add_argument(
        "--database-url",
        default=default,
        help="SQLAlchemy URL (default: SQLite at DATA_DIR/server.sqlite3), e.g. postgresql+psycopg://…",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="The CME Offline reference credit server.")
    _common(parser, top=True)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    parser.add_argument("--demo", action="store_true", help="load the demo activity and learners (idempotent)")
    parser.add_argument("--access-ttl", type=int, default=900, metavar="SECONDS", help="access token lifetime (1-86400)")
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=16 * 1024 * 1024,
        metavar="BYTES",
        help="refuse request bodies larger than this with 413, unread (default 16 MiB)",
    )
    parser.add_argument(
        "--completion-grace-days",
        type=int,
        default=30,
        metavar="DAYS",
        help="accept completions finished before an activity's termination date for this many days after it (default 30)",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the address learners reach this server at, for certificates' verification links "
             "(default: the address each request came to), e.g. https://cme.example.org",
    )
    _retention_days(parser, top=True)
    serve_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("publish", help="publish (or update) an activity from a folder")
    _common(p, top=False)
    p.add_argument("folder", type=Path, help="folder with activity.json and its files")
    p.add_argument(
        "--allow-expired",
        action="store_true",
        help="publish even though the activity's termination date (or 3-year enduring period) has passed",
    )
    p.add_argument(
        "--videos-as-is",
        action="store_true",
        help="publish each video as given: not checked by decoding it, and no small or audio-only renditions",
    )

    p = sub.add_parser("withdraw", help="withdraw an activity from the catalog")
    _common(p, top=False)
    p.add_argument("activity_id")

    p = sub.add_parser("revoke", help="revoke a certificate: its credential shows as revoked from the next "
                                      "fetch of its status list")
    _common(p, top=False)
    p.add_argument("certificate_id", metavar="CERT_ID", help="the certificate's id (32 hex digits)")

    p = sub.add_parser("learner", help="manage learners")
    learner_sub = p.add_subparsers(dest="learner_command", metavar="ACTION", required=True)
    a = learner_sub.add_parser("add", help="add a learner")
    _common(a, top=False)
    a.add_argument("--username", required=True)
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    _profile_options(a)

    i = learner_sub.add_parser(
        "import", help="add learners from a CSV file, each with a one-time code to set their password")
    _common(i, top=False)
    i.add_argument("file", type=Path, metavar="FILE.csv",
                   help="a header row (username, display_name or name, profession, and any of degree, board_id, "
                        "licence_state, licence_number, nabp_eprofile_id, birth_mmdd), then one row per learner")
    i.add_argument("--codes", type=Path, required=True, metavar="CODES.csv",
                   help="a new file to write each learner's one-time set-password code to (readable by you only)")
    i.add_argument("--code-days", type=int, default=14, metavar="DAYS", help="how long the codes work (default 14)")

    c = learner_sub.add_parser(
        "code", help="give a learner a new one-time code to set their password (their earlier code stops working)")
    _common(c, top=False)
    c.add_argument("username")
    c.add_argument("--code-days", type=int, default=14, metavar="DAYS", help="how long the code works (default 14)")

    p = sub.add_parser("prune", help="delete expired tokens, old rejection records and xAPI statements sent long ago "
                                     "(also done at every start)")
    _common(p, top=False)
    _retention_days(p, top=False)

    p = sub.add_parser("report", help="accepted completions with the fields PARS and CPE Monitor reporting need")
    _common(p, top=False)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", dest="format", action="store_const", const="json", help="a JSON array")
    fmt.add_argument("--csv", dest="format", action="store_const", const="csv", help="CSV with a header row")
    p.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="only completions on or after this date")
    p.add_argument("--until", type=_date, metavar="YYYY-MM-DD", help="only completions on or before this date")
    p.add_argument("--pars", type=Path, metavar="FILE.txt",
                   help="write consenting physicians' AMA PRA credit as ACCME PARS's tab-delimited learner file")
    p.add_argument("--cpe-monitor", type=Path, metavar="FILE.csv",
                   help="write consenting pharmacists' ACPE credit with the fields NABP CPE Monitor takes")

    p = sub.add_parser("lrs", help="the xAPI statements queued for the learning record store")
    lrs_sub = p.add_subparsers(dest="lrs_command", metavar="ACTION", required=True)
    _common(lrs_sub.add_parser("status", help="how many statements are queued, sent and refused, and why"), top=False)
    r = lrs_sub.add_parser("retry", help="queue the refused statements again (after fixing the LRS settings)")
    _common(r, top=False)
    r.add_argument("--all", action="store_true", help="sent ones too (the LRS keeps one copy of each)")

    p = sub.add_parser("migrate", help="upgrade the database's tables in place to this version's (back it up first)")
    _common(p, top=False)
    return parser


def _retention_days(parser: argparse.ArgumentParser, *, top: bool) -> None:
    parser.add_argument("--rejection-days", type=int, default=90 if top else argparse.SUPPRESS, metavar="DAYS",
                        help="keep records of refused completions this many days (default 90)")
    parser.add_argument("--sent-statement-days", type=int, default=30 if top else argparse.SUPPRESS, metavar="DAYS",
                        help="keep xAPI statements the LRS took this many days (default 30)")


def _profile_options(parser: argparse.ArgumentParser) -> None:
    """`--display-name`, `--profession`, `--degree`, `--board-id` …: one per profile field."""
    for field in PROFILE_FIELDS:
        choices = [p.value for p in Profession] if field is PROFESSION else None
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            required=field.required,
            default=None if field.required else field.default,
            choices=choices,
            help=field.label,
        )


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _open(args):
    """The database (created if new; SchemaBehind if it needs `migrate`) and the media store."""
    from .db import Database  # deferred: see the module docstring
    from .media import MediaStore  # deferred: see the module docstring
    from .schema import prepare_database  # deferred: see the module docstring

    prepare_database(args.data_dir, args.database_url, upgrade_existing=False)
    return Database(args.data_dir, args.database_url), MediaStore(args.data_dir / "media")


def _publish(args) -> int:
    from .publish import PublishError, publish_folder  # deferred: see the module docstring

    db, store = _open(args)
    try:
        result = publish_folder(db, store, args.folder, allow_expired=args.allow_expired,
                                videos_as_is=args.videos_as_is)
    except PublishError as exc:
        return _refuse(str(exc))
    finally:
        db.dispose()
    for video in result.videos:
        for line in video.summary():
            print(line)
    for timing in result.transcripts:
        if timing.timed:
            print(timing.summary())
        for warning in timing.warnings():
            print(f"warning: {warning}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.changed:
        print(f"published {result.activity_id} version {result.version} (catalog revision {result.revision})")
    else:
        print(f"unchanged: {result.activity_id} version {result.version} is already published")
    return 0


def _withdraw(args) -> int:
    from .publish import UnknownActivity, withdraw  # deferred: see the module docstring

    db, _store = _open(args)
    try:
        result = withdraw(db, args.activity_id)
    except UnknownActivity as exc:
        return _refuse(str(exc))
    finally:
        db.dispose()
    verb = "withdrew" if result.changed else "already withdrawn:"
    print(f"{verb} {result.activity_id} (catalog revision {result.revision})")
    return 0


def _revoke(args) -> int:
    from .status_lists import NoSuchCertificate, revoke  # deferred: see the module docstring

    db, _store = _open(args)
    try:
        result = revoke(db, args.certificate_id.strip().lower())
    except NoSuchCertificate:
        return _refuse(f"there is no certificate {args.certificate_id!r} on this server; "
                       "the id is the 32 hex digits in the certificate's verification address")
    finally:
        db.dispose()
    when = result.revoked_at.strftime("%Y-%m-%d %H:%M UTC")
    print(f"{'already revoked' if result.already else 'revoked'}: {result.certificate_id} (since {when})")
    if not result.in_credential:
        print("note: this certificate was issued before revocation lists; its signed credential names no list, "
              "so only this server's own pages show it revoked", file=sys.stderr)
    return 0


def _learner(args) -> int:
    return {"import": _learner_import, "code": _learner_code}.get(args.learner_command, _learner_add)(args)


def _learner_code(args) -> int:
    from .onboarding import UnknownLearner, reissue_code  # deferred: see the module docstring

    if problem := _code_days_problem(args.code_days):
        return _refuse(problem)
    db, _store = _open(args)
    try:
        issued = reissue_code(db, args.username, code_days=args.code_days)
    except UnknownLearner as exc:
        return _refuse(str(exc))
    finally:
        db.dispose()
    print(f"{issued.username} ({issued.display_name}): set-password code {issued.code}, "
          f"valid until {issued.expires_at.strftime('%Y-%m-%dT%H:%M:%SZ')}; an earlier code no longer works")
    return 0


def _code_days_problem(days: int) -> str | None:
    return None if 1 <= days <= 365 else f"--code-days: must be between 1 and 365 days (got {days})"


def _learner_add(args) -> int:
    from pydantic import ValidationError  # deferred: see the module docstring

    from .auth import LearnerExists, NewLearner, add_learner  # deferred: see the module docstring
    from .passwords import password_problem  # deferred: see the module docstring
    from .publish import format_validation_error  # deferred: see the module docstring

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
    if problem := password_problem(password):
        return _refuse(problem)
    new = NewLearner(username=args.username, password=password, **profile_values(args))
    db, _store = _open(args)
    try:
        with db.session() as s:
            profile = add_learner(s, new)
    except ValidationError as exc:
        return _refuse(format_validation_error(exc, prefix="learner"))
    except LearnerExists as exc:
        return _refuse(str(exc))
    finally:
        db.dispose()
    print(f"added learner {profile.username} ({profile.profession.value}), id {profile.id}")
    return 0


def _learner_import(args) -> int:
    from .onboarding import ImportRefused, import_learners  # deferred: see the module docstring

    if problem := _code_days_problem(args.code_days):
        return _refuse(problem)
    try:
        source = args.file.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        return _refuse(f"cannot read {args.file}: {exc.strerror or exc}")
    try:  # made before importing, so codes are never issued with nowhere to write them
        out = os.fdopen(open_private(args.codes, os.O_WRONLY | os.O_CREAT | os.O_EXCL), "w", encoding="utf-8", newline="")
    except FileExistsError:
        source.close()
        return _refuse(f"--codes: {args.codes} already exists; give a new file (its codes would be lost)")
    except OSError as exc:
        source.close()
        return _refuse(f"--codes: cannot create {args.codes}: {exc.strerror or exc}")
    db, _store = _open(args)
    try:
        with source:
            result = import_learners(db, source, code_days=args.code_days)
    except (ImportRefused, UnicodeDecodeError, csv.Error) as exc:
        out.close()
        args.codes.unlink()
        return _refuse(f"{args.file}: {exc}")
    finally:
        db.dispose()
    with out:
        writer = csv.writer(out)
        writer.writerow(["username", "display_name", "code", "expires_at"])
        for issued in result.imported:
            writer.writerow([issued.username, issued.display_name, issued.code, issued.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")])
    for problem in result.problems:
        print(f"{args.file}: {problem}", file=sys.stderr)
    print(f"imported {len(result.imported)} learners; their set-password codes are in {args.codes}")
    if result.problems:
        print(f"{PROG}: {result.bad_rows} rows not imported (see above); fix them and import those rows again",
              file=sys.stderr)
        return EXIT_REFUSED
    return 0


def _prune(args) -> int:
    from .housekeeping import check_rejection_days, check_sent_statement_days, prune  # deferred: see the module docstring

    try:
        check_rejection_days(args.rejection_days)
        check_sent_statement_days(args.sent_statement_days)
    except ValueError as exc:
        return _refuse(str(exc))
    db, _store = _open(args)
    try:
        print(prune(db, rejection_days=args.rejection_days, sent_statement_days=args.sent_statement_days).summary())
    finally:
        db.dispose()
    return 0


def _report(args) -> int:
    from .report import build_report, to_csv, to_json, to_text  # deferred: see the module docstring
    from .report_files import CPE_MONITOR, PARS, write_report_file  # deferred: see the module docstring

    if args.since and args.until and args.until < args.since:
        return _refuse(f"--until {args.until} is before --since {args.since}")
    db, _store = _open(args)
    try:
        rows = build_report(db, since=args.since, until=args.until)
    finally:
        db.dispose()
    files = [(fmt, path) for fmt, path in ((PARS, args.pars), (CPE_MONITOR, args.cpe_monitor)) if path]
    if args.format or not files:
        render = {"json": to_json, "csv": to_csv}.get(args.format or "", to_text)
        sys.stdout.write(render(rows))
        if args.format == "json":
            sys.stdout.write("\n")
    refused = 0
    for fmt, path in files:
        try:
            written = write_report_file(fmt, rows, path)
        except OSError as exc:
            return _refuse(f"--{fmt.target.lower().replace(' ', '-')}: cannot write {path}: {exc.strerror or exc}")
        for refusal in written.refused:
            print(f"{PROG}: {refusal.message(fmt.target)}", file=sys.stderr)
        for row in written.late:
            print(f"{PROG}: {fmt.target}: late: {row.username}, activity {row.activity_id}, completed "
                  f"{row.completion_date}, was due by {row.report_by} (60 days); written anyway", file=sys.stderr)
        print(written.summary())
        refused += len(written.refused)
    if refused:
        return _refuse(f"refused {refused} of the records (see above): complete those and write the file again; "
                       "the others are in it")
    return 0


def _lrs(args) -> int:
    from .lrs import queue_status, requeue  # deferred: see the module docstring

    db, _store = _open(args)
    try:
        if args.lrs_command == "retry":
            print(f"queued {requeue(db, include_sent=args.all)} statements again")
        status = queue_status(db)
    finally:
        db.dispose()
    print(status.summary())
    for statement_id, state, reason in status.problems:
        print(f"  {statement_id} ({state}): {reason}")
    return 0


def _migrate(args) -> int:
    from .schema import migrate  # deferred: see the module docstring

    before, after = migrate(args.data_dir, args.database_url)
    if before == after:
        print(f"the database is already at schema {after}")
    else:
        print(f"upgraded the database from {_schema_name(before)} to schema {after}")
    return 0


def _schema_name(revision: str | None) -> str:
    return {None: "empty", "": "before migrations"}.get(revision, f"schema {revision}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "data_dir", None) is None:
        parser.error("--data-dir is required")
    if getattr(args, "database_url", None) is None:  # kept off the command line, where `ps` shows it
        args.database_url = os.environ.get(DATABASE_URL_ENV) or None
    from .schema import SchemaMismatch  # deferred: see the module docstring (after --help)

    command = {"publish": _publish, "withdraw": _withdraw, "learner": _learner, "report": _report,
               "migrate": _migrate, "prune": _prune, "revoke": _revoke, "lrs": _lrs}.get(args.command, run_serve)
    try:
        return command(args)
    except SchemaMismatch as exc:  # the database needs `migrate`, or a newer server
        return _refuse(str(exc))


if __name__ == "__main__":
    sys.exit(main())
