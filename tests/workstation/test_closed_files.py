"""On a shared workstation another OS account must not read a learner's records: with the
usual umask (022) every folder the app or the server keeps data in is 0700 and every file
0600 (issue 11, item 2). POSIX only: on Windows the per-user folder's ACL does this."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from desktop.config import Paths
from desktop.logs import setup_logging
from tests.support.activities import DEMO_ID
from tests.support.cli import run_cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX; Windows keeps the per-user ACL")


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def open_modes(root: Path) -> list[str]:
    """Every folder under `root` (itself included) that is not 0700 and file that is not 0600."""
    wrong = []
    for folder, dirs, files in os.walk(root):
        for path, want in [(Path(folder), 0o700)] + [(Path(folder) / f, 0o600) for f in files]:
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            if mode != want:
                wrong.append(f"{path.relative_to(root.parent)}: {mode:o}")
    return wrong


def files_under(root: Path) -> set[str]:
    return {str(Path(folder, f).relative_to(root)) for folder, _dirs, files in os.walk(root) for f in files}


def test_a_real_run_leaves_only_owner_only_files(umask_022, start_server, data_dir, tmp_path, monkeypatch, capsys):
    server = start_server()
    d = ["--data-dir", str(data_dir)]
    code, _, err = run_cli(monkeypatch, capsys, "login", *d, "--server", server.url, "--username", "demo",
                           "--password-stdin", stdin="demo\n")
    assert code == 0, err
    for command in (["sync"], ["download", DEMO_ID], ["diagnostics"], ["status"]):
        code, _, err = run_cli(monkeypatch, capsys, *command, *d)
        assert code == 0, (command, err)

    written = files_under(data_dir)
    assert {"cache.sqlite3", "settings.json", "logs/cme-offline.log", "blobs/.downloads.lock"} <= written
    assert sum(1 for name in written if name.startswith("blobs/") and len(Path(name).name) == 64) == 4
    assert open_modes(data_dir) == []

    server.stop()  # its WAL is checkpointed away at close; look while it is there too
    assert "server.sqlite3" in files_under(server.data_dir)
    assert any(name.startswith("media/") for name in files_under(server.data_dir))
    assert open_modes(server.data_dir) == []


def test_a_live_database_keeps_its_wal_and_shm_closed(umask_022, make_services, data_dir, server):
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    assert {"cache.sqlite3-wal", "cache.sqlite3-shm"} <= files_under(data_dir)
    assert open_modes(data_dir) == []
    assert {"server.sqlite3-wal", "server.sqlite3-shm"} <= files_under(server.data_dir)
    assert open_modes(server.data_dir) == []


def test_exports_and_rotated_logs_are_owner_only(umask_022, make_services, data_dir, server, tmp_path):
    import logging

    log_dir = tmp_path / "platform-log-dir" / "CME Offline" / "log"
    setup_logging(log_dir)
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "cme-offline-file")
    logging.getLogger("desktop.test").warning("before rotation")
    handler.doRollover()
    logging.getLogger("desktop.test").warning("after rotation")
    assert {"cme-offline.log", "cme-offline.log.1"} <= files_under(log_dir)
    assert open_modes(log_dir) == []

    services = make_services(server.url)
    services.sign_in("demo", "demo")
    exports = tmp_path / "exports"
    exports.mkdir()
    services.credits.export_transcript(exports / "credits.csv", "csv")
    assert stat.S_IMODE((exports / "credits.csv").stat().st_mode) == 0o600


def test_a_data_dir_an_older_version_left_open_is_closed(umask_022, make_services, data_dir):
    (data_dir / "settings.json").write_text("{}")
    (data_dir / "logs").mkdir()
    (data_dir / "logs" / "cme-offline.log").write_text("old\n")
    (data_dir / "notes.txt").write_text("not the app's")
    os.chmod(data_dir, 0o755)
    make_services()
    assert stat.S_IMODE((data_dir / "notes.txt").stat().st_mode) == 0o644  # not the app's to change
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "settings.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / "logs").stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "cache.sqlite3").stat().st_mode) == 0o600


def test_the_shared_content_folder_stays_readable_to_every_user(umask_022, make_services, server, tmp_path):
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    shared = tmp_path / "shared"
    report = services.deployment.prefetch(shared, [DEMO_ID])
    assert report.ok and report.fetched == 4
    modes = {stat.S_IMODE(p.stat().st_mode) for p in shared.rglob("*") if p.is_file() and len(p.name) == 64}
    assert modes == {0o644}


def test_paths_make_private_creates_the_dir(umask_022, tmp_path):
    paths = Paths(tmp_path / "new" / "CME Offline")
    paths.make_private()
    assert stat.S_IMODE(paths.data_dir.stat().st_mode) == 0o700


def test_the_window_prefs_and_the_instance_lock_are_owner_only(umask_022, qtbot, tmp_path):
    from desktop.views.single_instance import LOCK_FILE, InstanceLock
    from desktop.views.window_prefs import PREFS_FILE, WindowPrefs

    data_dir = tmp_path / "gui-data"
    instance = InstanceLock(data_dir)
    assert instance.acquire()
    try:
        prefs = WindowPrefs(data_dir)
        prefs.theme = "dark"
        del prefs  # QSettings writes window.ini (Qt's atomic rewrite) when it goes
        assert {LOCK_FILE, PREFS_FILE} <= files_under(data_dir)
        assert "theme" in (data_dir / PREFS_FILE).read_text()
        assert open_modes(data_dir) == []
    finally:
        instance.release()
