"""Where things live on disk, importable before anything heavy (start-up reads it first).

One data dir per OS user (platformdirs), overridable with `--data-dir` (tests, IT). It
holds the SQLite cache, the blob store, `settings.json` and logs — never a secret, but
learners' records: `Paths.make_private` closes it (0700 on POSIX, cmecore.private_files)
before anything is written, and every file the app writes there is created 0600.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_path, user_log_path

from cmecore.private_files import close_file, private_dir

APP_NAME = "CME Offline"
# What the app itself keeps at the top of its data dir (closed by Paths.make_private).
APP_FOLDERS = ("blobs", "logs", "demo")
APP_FILE_PREFIXES = ("cache.sqlite3", "settings.json", ".settings-", "window.ini", "cme-offline.lock")


def default_data_dir() -> Path:
    return user_data_path(APP_NAME, appauthor=False)


def default_log_dir() -> Path:
    """The platform's per-user log folder (e.g. ~/.local/state/CME Offline/log on Linux)."""
    return user_log_path(APP_NAME, appauthor=False)


@dataclass(frozen=True)
class Paths:
    data_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "cache.sqlite3"

    @property
    def blobs(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def settings(self) -> Path:
        return self.data_dir / "settings.json"

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    def make_private(self) -> None:
        """Create the data dir owner-only, and close what an older version left open in it:
        the app's own top-level files (the cache, its WAL, SHM and backups, settings, window
        prefs, the lock) and folders (blobs, logs, demo); files deeper down sit behind those
        closed folders. Anything else (a `--data-dir` that holds other files) is left alone."""
        private_dir(self.data_dir)
        for entry in self.data_dir.iterdir():
            if entry.is_symlink():
                continue
            if entry.is_dir() and entry.name in APP_FOLDERS:
                private_dir(entry)
            elif entry.is_file() and entry.name.startswith(APP_FILE_PREFIXES):
                close_file(entry)
