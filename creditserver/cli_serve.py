"""`cme-credit-server` serving: the top-level options that configure `serve` (processes,
threads, media from a static server, reporting to an LRS) and the command itself. The rest
of the command line is in cli.py; the names every command shares are here (cli.py imports
this module, never the other way round).

Imports of the server's heavier modules are deferred to the function that needs them, so
`cme-credit-server --help` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROG = "cme-credit-server"
DATABASE_URL_ENV = "CME_DATABASE_URL"  # --database-url's default
EXIT_REFUSED = 2


def refuse(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return EXIT_REFUSED


def serve_options(parser: argparse.ArgumentParser) -> None:
    """The serve options beyond the basics: processes and threads, media, LRS."""
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="server processes sharing the port (default 1; about one per CPU core)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="requests each process works on at once (default 4); each gets a database connection")
    _media_options(parser)
    _lrs_options(parser)


def _media_options(parser: argparse.ArgumentParser) -> None:
    """serve: a static server sends the media bytes once the app has said yes (media_links.py)."""
    parser.add_argument("--media-base-url", metavar="URL",
                        help="answer media requests with a short-lived signed link (nginx secure_link) under this "
                             "static server or CDN address, e.g. https://media.example.org/cme-media")
    parser.add_argument("--media-secret-file", type=Path, metavar="FILE",
                        help="the secret the signed links and nginx share (default: made in DATA_DIR/media-link-secret)")
    parser.add_argument("--media-link-ttl", type=int, default=300, metavar="SECONDS",
                        help="how long a signed link works (default 300)")
    parser.add_argument("--media-accel-prefix", metavar="PATH",
                        help="nginx in front sends the files: answer with X-Accel-Redirect to PATH/ab/<sha256>, "
                             "e.g. /cme-media-internal/")
    parser.add_argument("--media-group", metavar="NAME",
                        help="let this group (the static server's) read the media store: files 0640, folders 2750 "
                             "(default: owner only)")


def _lrs_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lrs-url", metavar="URL",
                        help="report each accepted completion as xAPI statements to this learning record store "
                             "(its xAPI endpoint, e.g. https://lrs.example.org/xAPI); needs --public-url")
    parser.add_argument("--lrs-auth-file", type=Path, metavar="FILE",
                        help="the LRS's basic-auth credentials: one line user:password in a file only you can read")
    parser.add_argument("--lrs-send", metavar="KINDS",
                        help="also send these, comma-separated: attempts (each post-test attempt), "
                             "watched (the share of the video watched)")



def run_serve(args) -> int:
    from .app import DEFAULT_THREADS  # deferred: see the module docstring
    from .lrs import lrs_config  # deferred: see the module docstring
    from .serving import MAX_WORKERS, ServeSettings, media_settings, prepare, serve  # deferred: see the module docstring

    if not 0 <= args.port <= 65535:
        return refuse(f"--port: must be between 0 and 65535 (got {args.port})")
    if not 1 <= args.workers <= MAX_WORKERS:
        return refuse(f"--workers: must be between 1 and {MAX_WORKERS} (got {args.workers})")
    settings = ServeSettings(
        data_dir=str(args.data_dir.resolve()), database_url=args.database_url, access_ttl_s=args.access_ttl,
        completion_grace_days=args.completion_grace_days, public_url=args.public_url,
        max_body_bytes=args.max_body_bytes, rejection_days=args.rejection_days,
        sent_statement_days=args.sent_statement_days,
        threads=DEFAULT_THREADS if args.threads is None else args.threads,
        media=media_settings(_media_delivery(args)),
        lrs={"url": args.lrs_url, "auth_file": None if args.lrs_auth_file is None else str(args.lrs_auth_file),
             "send": args.lrs_send},
    )
    try:
        lrs = lrs_config(args.lrs_url, args.lrs_auth_file, args.lrs_send, args.public_url)
        prepare(settings, demo=args.demo)
    except ValueError as exc:  # a setting out of range: check_settings names it
        return refuse(str(exc))
    workers = f" with {args.workers} workers" if args.workers > 1 else ""
    print(f"{PROG}: serving on http://{args.host}:{args.port}{workers} (API docs at /docs)", file=sys.stderr)
    if args.media_base_url:
        secret = args.media_secret_file or args.data_dir / "media-link-secret"
        print(f"{PROG}: media are sent by {args.media_base_url} through signed links; nginx's secure_link_md5 "
              f"needs the secret in {secret}", file=sys.stderr)
    if lrs is not None:
        print(f"{PROG}: reporting completions to the LRS at {lrs.url}; {_lrs_queue_summary(args)}", file=sys.stderr)
    serve(settings, host=args.host, port=args.port, workers=args.workers)
    return 0



def _lrs_queue_summary(args) -> str:
    from .db import Database  # deferred: see the module docstring
    from .lrs import queue_status  # deferred: see the module docstring

    db = Database(args.data_dir, args.database_url)
    try:
        return queue_status(db).summary()
    finally:
        db.dispose()



def _media_delivery(args):
    from .media_links import MediaDelivery  # deferred: see the module docstring

    return MediaDelivery(base_url=args.media_base_url, secret_file=args.media_secret_file,
                         link_ttl_s=args.media_link_ttl, accel_prefix=args.media_accel_prefix, group=args.media_group)
