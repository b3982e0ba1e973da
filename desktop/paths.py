"""Where things live on disk, importable before anything heavy (start-up reads it first).

One data dir per OS user (platformdirs), overridable with `--data-dir` (tests, IT). It
holds the SQLite cache, the blob store, `settings.json` and logs — never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_path, user_log_path

APP_NAME = "CME Offline"


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
