"""Fixtures the cache tests share."""

from __future__ import annotations

import pytest

from desktop.cache.db import open_database


@pytest.fixture
def db(tmp_path):
    """A fresh cache file at the newest schema."""
    database = open_database(tmp_path / "cache.sqlite3")
    yield database
    database.close()
