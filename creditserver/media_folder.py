"""Who may read the media store: the server's own user (the default), or a static server's group too.

A static server (nginx) runs as its own user and must read the files it sends
(media_links.py). `--media-group NAME` shares the store with group NAME: its folders become
2750 (setgid, so whatever is added later belongs to the group), its files 0640, and the data
folder 0710 — the group may pass through it to `media/`, but neither list it nor open
anything else there (the database, keys and secrets stay 0600).

The store's folder carries the setting: once shared, every process that writes into it (the
`publish` command as much as the server) keeps new files shared, so the option is given once,
on `serve`. Without it nothing is opened: a new store is owner-only, as the database is. To
close a shared store again: `chmod -R g-rwxs DATA_DIR/media`, then start the server.

POSIX only: on Windows a static server gets access with an ACL the operator sets.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from cmecore.private_files import POSIX, private_dir

SHARED_DIR = 0o2750
SHARED_FILE = 0o640
PASSABLE_DATA_DIR = 0o710


def share_with_group(root: Path, group: str) -> None:
    """Make the store at `root` (and the data folder it sits in) readable by `group`.

    ValueError naming `--media-group` when the group does not exist or this user may not
    give files to it (it must be one of the user's groups, unless the server runs as root)."""
    if not POSIX:
        raise ValueError("--media-group: only on Linux and other POSIX systems; on Windows give the static "
                         "server's account read access to the media folder")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    try:
        shutil.chown(root.parent, group=group)
        for folder, _dirs, files in os.walk(root):
            shutil.chown(folder, group=group)
            os.chmod(folder, SHARED_DIR)
            for name in files:
                shutil.chown(os.path.join(folder, name), group=group)
                os.chmod(os.path.join(folder, name), SHARED_FILE)
    except LookupError:
        raise ValueError(f"--media-group: there is no group named {group!r} on this computer") from None
    except PermissionError:
        raise ValueError(
            f"--media-group: this user may not give files to the group {group!r}; make the server's user a "
            f"member (usermod -aG {group} USER), then start the server again") from None
    os.chmod(root.parent, PASSABLE_DATA_DIR)


def is_shared(root: Path) -> bool:
    """Whether the store at `root` was shared with a group (setgid and group-readable)."""
    try:
        mode = stat.S_IMODE(Path(root).stat().st_mode)
    except FileNotFoundError:
        return False
    return POSIX and mode & (stat.S_ISGID | stat.S_IRGRP) == stat.S_ISGID | stat.S_IRGRP


def open_store_folder(root: Path) -> bool:
    """Create the store's folder if missing; close it to its owner unless it is shared.
    Returns whether it is shared (then new folders and files get the shared modes)."""
    if is_shared(root):
        return True
    private_dir(root)
    return False


def store_subfolder(path: Path, shared: bool) -> None:
    """A folder inside the store (`ab/`), with the store's modes."""
    if not shared:
        private_dir(path)
        return
    try:
        path.mkdir(mode=SHARED_DIR)
    except FileExistsError:
        return
    os.chmod(path, SHARED_DIR)  # the umask may have taken the group's bits; setgid gave it the group


def close_data_dir(data_dir: Path) -> None:
    """The data folder owner-only, or 0710 when its media store is shared (the group passes
    through to `media/` and sees nothing else)."""
    if is_shared(Path(data_dir) / "media"):
        os.chmod(data_dir, PASSABLE_DATA_DIR)
    else:
        private_dir(data_dir)
