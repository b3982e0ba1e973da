"""Composition root: read the command line, build the services, start the GUI or a command.

Heavy modules (Qt widgets, httpx, the demo server) are imported only on the paths that
need them, so both `cme-offline status` and the GUI's first paint stay quick.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from desktop import __version__


def build_parser() -> argparse.ArgumentParser:
    from desktop import cli

    def common(default):
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--data-dir", type=Path, default=default, help="where the cache and downloads live")
        parser.add_argument("--server", default=default, help="credit server address, e.g. https://cme.example.org")
        parser.add_argument("--verbose", action="store_true", default=default or False, help="log more detail")
        return parser

    parser = argparse.ArgumentParser(
        prog="cme-offline", parents=[common(None)],
        description="Take accredited CME/CE sessions offline. Without a command, opens the app.",
    )
    parser.add_argument("--demo", action="store_true", help="open the built-in demo (no account needed)")
    parser.add_argument("--version", action="version", version=f"cme-offline {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    # Subcommands accept the same options after their name; SUPPRESS keeps them from
    # overwriting values given before the command.
    cli.add_commands(sub, common(argparse.SUPPRESS))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    data_dir = (args.data_dir or _default_data_dir()).expanduser().resolve()

    from desktop.logs import setup_logging

    setup_logging(data_dir / "logs", verbose=args.verbose)
    if getattr(args, "command", None) is not None:
        from desktop import cli

        return cli.run(args, lambda: _services(data_dir, args.server))
    return _run_gui(data_dir, args)


def _default_data_dir() -> Path:
    from desktop.config import default_data_dir

    return default_data_dir()


def _services(data_dir: Path, server_url: str | None):
    from desktop.paths import Paths
    from desktop.services import Services

    return Services(Paths(data_dir), server_url=server_url)


def _run_gui(data_dir: Path, args) -> int:
    _prefer_xwayland()
    from desktop.views.main_window import run_gui

    started = []

    def launch_demo():
        from desktop.demo import start_demo

        demo = start_demo(data_dir)
        started.append(demo)
        return demo.services

    try:
        if args.demo:
            return run_gui(launch_demo(), demo=True)
        # Paint the cached library straight away (stdlib sqlite3 only); the services
        # (SQLAlchemy, a migration if one is due, settings) open on a worker meanwhile.
        return run_gui(
            open_services=lambda: _services(data_dir, args.server),
            first_paint=_first_paint(data_dir),
            demo_launcher=launch_demo,
        )
    finally:
        for demo in started:
            demo.stop()


def _first_paint(data_dir: Path):
    from desktop.cache.blobstore import BlobStore
    from desktop.cache.library_snapshot import read_first_paint
    from desktop.paths import Paths

    paths = Paths(data_dir)
    return read_first_paint(paths.database, BlobStore(paths.blobs))


def _prefer_xwayland() -> None:
    # libvlc 3 cannot embed video in a Wayland surface; XWayland can. Must run before
    # the QApplication exists.
    wayland = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("XDG_SESSION_TYPE") == "wayland"
    if wayland and sys.platform.startswith("linux") and "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "xcb"


if __name__ == "__main__":
    sys.exit(main())
