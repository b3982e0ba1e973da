"""Composition root: read the command line, build the services, start the GUI or a command.

Heavy modules (Qt widgets, httpx, the demo server) are imported only on the paths that
need them, so both `cme-offline status` and the GUI's first paint stay quick.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from pathlib import Path

from desktop import __version__
from desktop.cache.blobstore import BlobStore
from desktop.cache.library_snapshot import read_first_paint
from desktop.errors import BadServerAddress
from desktop.logs import redact, setup_logging
from desktop.paths import Paths, default_data_dir, default_log_dir
from desktop.policy import load_policy
from desktop.views.startup import collector_paused, mark  # stdlib only: the start-up path's helpers


def build_parser(*, commands: bool = True) -> argparse.ArgumentParser:
    """The command line; with `commands=False` the window's options alone, no --help (see
    `parse_command_line`)."""
    def common(default):
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--data-dir", type=Path, default=default, help="where the cache and downloads live")
        parser.add_argument("--server", default=default, help="credit server address, e.g. https://cme.example.org")
        parser.add_argument("--verbose", action="store_true", default=default or False, help="log more detail")
        return parser

    parser = argparse.ArgumentParser(
        prog="cme-offline", parents=[common(None)], add_help=commands, exit_on_error=commands,
        description="Take accredited CME/CE sessions offline. Without a command, opens the app.",
    )
    parser.add_argument("--demo", action="store_true", help="open the built-in demo (no account needed)")
    parser.add_argument("--version", action="version", version=f"cme-offline {__version__}")
    if not commands:
        return parser
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    # Subcommands accept the same options after their name; SUPPRESS keeps them from
    # overwriting values given before the command.
    from desktop import cli  # start-up speed: the commands (and json) are not loaded to open the window

    cli.add_commands(sub, common(argparse.SUPPRESS))
    return parser


def parse_command_line(argv: list[str] | None) -> argparse.Namespace:
    """The parsed command line. Opening the window (no command named, no --help) needs only
    the window's options: every command's parser (~20 of them) is ~7 ms before the first
    paint, so the full parser is built only when something is left over (a command, --help,
    a mistake it must explain)."""
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        window_args, rest = build_parser(commands=False).parse_known_args(words)
    except argparse.ArgumentError:  # e.g. --data-dir without a folder: the full parser says so
        rest = words
    return build_parser().parse_args(words) if rest else window_args


def main(argv: list[str] | None = None) -> int:
    with collector_paused():  # until the window is up (run_gui), or a command starts
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    mark("python and the app's first modules")
    args = parse_command_line(argv)
    # Machine policy first (tomllib; pydantic only if the file sets something). Its one
    # log line about a bad file is written once logging is set up below.
    held = _HoldLogs()
    logging.getLogger("desktop.policy").addHandler(held)
    try:
        policy = load_policy()
    finally:
        logging.getLogger("desktop.policy").removeHandler(held)
    data_dir = (args.data_dir or policy.storage_dir() or default_data_dir()).expanduser().resolve()

    # The log goes to the platform's log folder; with --data-dir (tests, IT staging) under it.
    setup_logging(data_dir / "logs" if args.data_dir else default_log_dir(), verbose=args.verbose)
    held.replay()
    mark("command line, policy and log")
    if args.server and policy.is_set("server_url"):
        from desktop.config import normalise_server_url  # start-up speed: desktop.config loads pydantic

        try:
            same = normalise_server_url(args.server) == policy.get("server_url")
        except BadServerAddress:
            same = False
        if not same:
            print(f"cme-offline: --server {redact(args.server)} is ignored: the machine policy "
                  f"({policy.sources['server_url']}) sets the server to {policy.get('server_url')}", file=sys.stderr)
        args.server = None
    if args.demo and policy.get("demo_allowed") is False:
        print(f"cme-offline: the demo is turned off by your organisation's policy ({policy.sources['demo_allowed']})",
              file=sys.stderr)
        return 1
    if getattr(args, "command", None) is not None:
        gc.enable()  # paused for the window's start-up only
        from desktop import cli  # start-up speed: loaded with the full parser that named the command

        return cli.run(args, lambda: _services(data_dir, args.server, policy))
    return _run_gui(data_dir, args, policy)


class _HoldLogs:
    """Keeps records logged before the log file exists, to write them once it does."""

    level = 0

    def __init__(self):
        self.records = []

    def handle(self, record) -> None:
        self.records.append(record)

    def replay(self) -> None:
        for record in self.records:
            logging.getLogger(record.name).handle(record)
        self.records.clear()


def _services(data_dir: Path, server_url: str | None, policy=None):
    from desktop.services import Services  # start-up speed: SQLAlchemy and httpx load after the first paint

    return Services(Paths(data_dir), server_url=server_url, policy=policy)


def _run_gui(data_dir: Path, args, policy=None) -> int:
    _prefer_xwayland()
    from desktop.views.single_instance import InstanceLock  # start-up speed: Qt is loaded for the GUI only

    instance = InstanceLock(data_dir)
    if not instance.acquire():
        return _hand_over_to_owner(instance, data_dir)
    mark("QtCore and the one-instance lock")
    from desktop.demo import DemoLauncher, demo_client_dir  # start-up speed: for the GUI only, like Qt
    from desktop.views.main_window import run_gui  # start-up speed: loaded after the lock is ours

    mark("QtWidgets and the window's modules")

    demo_allowed = policy is None or policy.get("demo_allowed") is not False
    launcher = DemoLauncher(data_dir) if (args.demo or demo_allowed) else None
    try:
        if args.demo:
            # The window first (the demo's cached library, if any), then the server, the
            # sign-in and the first sync, each shown in the window as it happens.
            code = run_gui(demo=True, demo_launcher=launcher, first_paint=_first_paint(demo_client_dir(data_dir)),
                           data_dir=data_dir, instance=instance)
        else:
            # Paint the cached library straight away (stdlib sqlite3 only); the services
            # (SQLAlchemy, a migration if one is due, settings) open on a worker meanwhile.
            code = run_gui(
                open_services=lambda: _services(data_dir, args.server, policy),
                first_paint=_first_paint(data_dir),
                demo_launcher=launcher,
                data_dir=data_dir,
                instance=instance,
            )
    finally:
        if launcher is not None:
            launcher.stop()
        instance.release()
    _end_process(code)
    return code  # not reached


def _end_process(code: int) -> None:
    """The window is closed, its writes flushed, its cache and the demo server closed:
    end the process now. Work still on the task pool (a sync waiting on the network, the
    demo still starting) must not hold the exit (Qt's pool would wait for it at teardown),
    and it writes nothing a cut-off transaction would not roll back; the interpreter's
    own teardown (Qt, SQLAlchemy, FastAPI objects) is half a second that nobody needs."""
    from desktop.views.tasks import wait_for_tasks  # start-up speed: loaded with the GUI anyway

    if not wait_for_tasks(0, writes=False):
        logging.getLogger(__name__).info("ending with background work still running")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _hand_over_to_owner(instance, data_dir: Path) -> int:
    """Another process runs on this data dir: bring its window forward and leave (0), or
    say plainly that it does not answer (1)."""
    from desktop.views.single_instance import ask_owner_to_raise  # start-up speed: Qt for the GUI only

    if ask_owner_to_raise(data_dir, sys.argv[1:]):
        logging.getLogger(__name__).info("CME Offline already runs on %s: its window was brought forward", data_dir)
        return 0
    pid = instance.owner_pid()
    print(f"cme-offline: CME Offline is already running on {data_dir}"
          + (f" (process {pid})" if pid else "") + " but did not answer. Close it, or end that process.",
          file=sys.stderr)
    return 1


def _first_paint(data_dir: Path):
    paths = Paths(data_dir)
    snapshot = read_first_paint(paths.database, BlobStore(paths.blobs))
    mark("cached library read (sqlite3)")
    return snapshot


def _prefer_xwayland() -> None:
    # libvlc 3 cannot embed video in a Wayland surface; XWayland can. Must run before
    # the QApplication exists.
    wayland = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("XDG_SESSION_TYPE") == "wayland"
    if wayland and sys.platform.startswith("linux") and "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "xcb"


if __name__ == "__main__":
    sys.exit(main())
