"""The log file rolls over at its size limit and keeps a bounded number of old files, as
the standard library's RotatingFileHandler would (the app's own handler avoids importing
logging.handlers before the first paint)."""

from __future__ import annotations

import logging

from desktop.logs import PrivateRotatingFileHandler


def test_the_log_rolls_over_at_its_limit_and_keeps_three_old_files(tmp_path):
    path = tmp_path / "cme-offline.log"
    handler = PrivateRotatingFileHandler(path, max_bytes=1_000, backups=3)
    logger = logging.getLogger("tests.log_rotation")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for i in range(200):
            logger.warning("line %03d %s", i, "x" * 40)
    finally:
        logger.removeHandler(handler)
        handler.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["cme-offline.log", "cme-offline.log.1", "cme-offline.log.2", "cme-offline.log.3"]
    assert all(p.stat().st_size < 1_000 for p in tmp_path.iterdir())
    assert "line 199" in path.read_text()  # the newest line is in the file itself
    assert "line 198" in path.read_text() or "line 198" in (tmp_path / "cme-offline.log.1").read_text()


def test_a_log_already_over_its_limit_rolls_over_at_the_first_line(tmp_path):
    path = tmp_path / "cme-offline.log"
    path.write_text("old\n" * 500)
    handler = PrivateRotatingFileHandler(path, max_bytes=1_000, backups=3)
    handler.emit(logging.makeLogRecord({"msg": "new", "levelno": logging.INFO, "levelname": "INFO"}))
    handler.close()
    assert path.read_text() == "new\n"
    assert (tmp_path / "cme-offline.log.1").read_text() == "old\n" * 500
