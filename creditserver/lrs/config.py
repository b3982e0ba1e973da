"""Where the statements go and with which credentials: `--lrs-url`, `--lrs-auth-file`,
`--lrs-send`, checked before the server starts.

The LRS's password never appears on a command line (where `ps` shows it to every user of
the machine) nor inside the address: it is read from a file only its owner can read, one
line `user:password` (HTTP basic authentication, which every LRS offers). Learners'
records travel only over https, or plain http to this machine itself.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cmecore.addresses import is_loopback

from .statements import XapiReporting


@dataclass(frozen=True)
class LrsConfig:
    """A configured learning record store. `url` is its xAPI endpoint (statements are PUT to
    `url + "/statements"`). The timings are the sender's: how often it looks for new
    statements while idle, and the wait after a failure, doubling from `retry_min_s` to
    `retry_max_s` while the LRS stays down (tests shorten them)."""

    url: str
    username: str
    password: str
    reporting: XapiReporting
    poll_s: float = 5.0
    retry_min_s: float = 5.0
    retry_max_s: float = 300.0

    def __repr__(self) -> str:  # never the password, in a log or a traceback
        return f"LrsConfig(url={self.url!r}, username={self.username!r}, send={sorted(self.reporting.send)})"


def lrs_config(url: str | None, auth_file: Path | None, send: str | None, public_url: str | None) -> LrsConfig | None:
    """The LRS configuration from serve's options, or None when `--lrs-url` is not given.
    Raises ValueError naming the option when something is wrong."""
    if url is None:
        if auth_file is not None or send:
            raise ValueError("--lrs-auth-file and --lrs-send need --lrs-url (the LRS's xAPI address)")
        return None
    if auth_file is None:
        raise ValueError("--lrs-url needs --lrs-auth-file: a file readable by you only holding one line user:password")
    if public_url is None:
        raise ValueError("--lrs-url needs --public-url: statements name learners and activities under this "
                         "server's public address, which must stay the same for an LRS's records to add up")
    username, password = read_auth_file(auth_file)
    kinds = frozenset(k.strip() for k in (send or "").split(",") if k.strip())
    return LrsConfig(check_lrs_url(url), username, password, XapiReporting(public_url, kinds))


def check_lrs_url(url: str) -> str:
    """The LRS's xAPI endpoint without a trailing slash; ValueError naming --lrs-url unless it
    is https (or http to this machine), with no user or password inside."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--lrs-url: must be an https:// address such as https://lrs.example.org/xAPI (got {url!r})")
    if parts.username is not None or parts.password is not None:
        raise ValueError("--lrs-url: put the user and password in --lrs-auth-file, not in the address")
    if parts.query or parts.fragment:
        raise ValueError(f"--lrs-url: the xAPI endpoint takes no query or fragment (got {url!r})")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError("--lrs-url: learners' records travel only over https:// (plain http only to this machine)")
    return url.rstrip("/")


def read_auth_file(path: Path) -> tuple[str, str]:
    """(user, password) from the first non-empty line `user:password` of a file that only its
    owner can read (on POSIX: no group or other permission bits, like ssh's keys)."""
    try:
        if sys.platform != "win32":
            mode = os.stat(path).st_mode & 0o777
            if mode & 0o077:
                raise ValueError(
                    f"--lrs-auth-file: {path} can be read by others (mode {mode:o}); run: chmod 600 {path}"
                )
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"--lrs-auth-file: cannot read {path}: {exc.strerror or exc}") from None
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    user, sep, password = line.partition(":")
    if not sep or not user or not password:
        raise ValueError(f"--lrs-auth-file: {path} must hold one line user:password")
    return user, password

