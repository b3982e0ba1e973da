"""Logging: a rotating file in the data dir, and nothing secret in it.

HTTP libraries are kept at WARNING: their INFO lines carry URLs and headers we do not
need, and no request of ours ever puts a token in a URL.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FILE = "cme-offline.log"


def setup_logging(log_dir: Path, *, verbose: bool = False) -> Path:
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.set_name("cme-offline-file")
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for old in [h for h in root.handlers if h.get_name() == "cme-offline-file"]:
        root.removeHandler(old)  # set up again (tests, demo restart): one file handler only
        old.close()
    root.addHandler(handler)
    for noisy in ("httpx", "httpcore", "uvicorn", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
