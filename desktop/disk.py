"""Facts about the disk the views show or check: free space where the app keeps its data,
and whether a file the user named is there. Plain Python (no Qt), so the views ask through
Services and never touch the file system themselves."""

from __future__ import annotations

import shutil
from pathlib import Path


def free_bytes(path: Path) -> int | None:
    """Free bytes on the disk holding `path` (None when the system cannot say)."""
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def is_file(path: str | Path) -> bool:
    """True if `path` names an existing regular file."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):  # a name the system cannot use is not a file
        return False
