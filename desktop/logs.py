"""Logging: a rotating file, and nothing secret in it.

The file goes to the platform's log folder (`platformdirs.user_log_path`), or under the
data dir when `--data-dir` is given (tests, IT staging). HTTP libraries are kept at
WARNING: their INFO lines carry URLs and headers we do not need, and no request of ours
ever puts a token in a URL. As defence in depth a filter on the file handler redacts
anything shaped like a bearer token, a token field, a password field or the
`user:password@` part of an address before it is written. `redact` is the one redaction
function: the log file, `diagnostics`, the CLI's error lines and every message that quotes
an address go through it.

The file handler rotates by itself (a plain FileHandler plus the rename): the standard
library's logging.handlers brings socket, pickle and queue with it, ~4 ms before the GUI's
first paint for a feature the app does not use.
"""

from __future__ import annotations

import logging
import os
import re
from collections import deque
from pathlib import Path

from cmecore.private_files import open_private, private_dir

LOG_FILE = "cme-offline.log"
HANDLER_NAME = "cme-offline-file"
REDACTED = "[redacted]"

# Compiled on first use (re keeps them): nothing is logged before the first paint, and
# compiling the three is ~2 ms of it.
_PATTERNS = (
    # a user name and password inside an address: https://user:pass@host -> https://[redacted]@host
    (r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@\"'<>]+@", r"\1" + REDACTED + "@"),
    # Authorization: Bearer <token>
    (r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{6,}", r"\1 " + REDACTED),
    # refresh_token=..., "access_token": "...", password=..., passwd: ..., token=...
    (
        r"""(?ix)\b((?:refresh|access|id)?_?token|password|passwd|pwd|secret)(["']?\s*[=:]\s*["']?)"""
        r"""(?!\[redacted\])[^\s"'&,;)}\]]+""",
        r"\1\2" + REDACTED,
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = re.sub(pattern, replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and traceback) with secrets replaced by [redacted]."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw text
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class PrivateRotatingFileHandler(logging.FileHandler):
    """A log file that rolls over at `max_bytes` into `.1` … `.<backups>` (the oldest dropped),
    like logging.handlers.RotatingFileHandler; the file and each one a rotation starts are
    owner-only (0600 on POSIX): the log names learners and activities."""

    def __init__(self, filename: Path, *, max_bytes: int, backups: int, encoding: str = "utf-8"):
        super().__init__(filename, mode="a", encoding=encoding, delay=False)
        self.max_bytes, self.backups = max_bytes, backups

    def _open(self):
        fd = open_private(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.stream is not None and self.stream.seek(0, 2) + len(self.format(record)) + 1 >= self.max_bytes:
                self.doRollover()
            super().emit(record)
        except Exception:  # as every handler: a failing log line must not take the app down
            self.handleError(record)

    def doRollover(self) -> None:  # the standard library's name for it
        self.stream.close()
        self.stream = None
        for i in range(self.backups - 1, 0, -1):
            older = f"{self.baseFilename}.{i}"
            if os.path.exists(older):
                os.replace(older, f"{self.baseFilename}.{i + 1}")
        if os.path.exists(self.baseFilename):  # removed by hand meanwhile: nothing to keep
            os.replace(self.baseFilename, f"{self.baseFilename}.1")
        self.stream = self._open()


def setup_logging(log_dir: Path, *, verbose: bool = False) -> Path:
    private_dir(log_dir)
    path = log_dir / LOG_FILE
    handler = PrivateRotatingFileHandler(path, max_bytes=2_000_000, backups=3)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.set_name(HANDLER_NAME)
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)  # set up again (tests, demo restart): one file handler only
        old.close()
    root.addHandler(handler)
    for noisy in ("httpx", "httpcore", "uvicorn", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path


def current_log_file() -> Path | None:
    """The file the app is logging to now, if setup_logging ran in this process."""
    for h in logging.getLogger().handlers:
        if h.get_name() == HANDLER_NAME and isinstance(h, logging.FileHandler):
            return Path(h.baseFilename)
    return None


def tail(path: Path | None, lines: int = 200) -> list[str]:
    """The last `lines` lines of the log (redacted again), or [] if there is none."""
    if path is None:
        return []
    for h in logging.getLogger().handlers:
        if h.get_name() == HANDLER_NAME:
            h.flush()
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return [redact(line.rstrip("\n")) for line in deque(fh, maxlen=lines)]
    except OSError:
        return []
