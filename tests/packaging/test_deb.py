"""The Linux package end to end: build the .deb, unpack it, run what was installed.

Builds with packaging/build's own functions (PyInstaller one-folder app, then the .deb;
the app is reused when its inputs did not change, so `packaging/build` followed by the
tests builds once). Unpacks with `dpkg -x` into a scratch folder, never system-wide, and
runs the installed binary there: `--version`, the libvlc check, headless commands against
a demo credit server, and the GUI's demo for a few seconds.

Keyring: the installed app carries keyring's real backends only (no keyrings.alt), and a
CI machine has no Secret Service. So the test first checks that `login` fails with the
app's one-line keyring message, then gives the app a keyring the way an admin of a
headless machine could: keyring's own config file (`keyringrc.cfg` with `keyring-path`)
naming a small plaintext backend that lives in the test's folder, not in the package.

Slow (about two minutes when the app must be built) but part of the default run.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import time
import tomllib
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.xserver import xvfb

ROOT = Path(__file__).resolve().parents[2]
SIZE_LIMIT = 200 * 1000 * 1000  # bytes installed under /opt/cme-offline

if shutil.which("dpkg-deb") is None:
    pytest.skip("dpkg-deb is not installed: the .deb can only be built on Debian/Ubuntu", allow_module_level=True)

pytestmark = pytest.mark.slow

# Never inside an installed app: test and dev packages (top-level module names).
FORBIDDEN_MODULES = {
    "pytest", "_pytest", "pytestqt", "hypothesis", "keyrings", "av", "pypdf", "IPython",
    "PyInstaller", "pip", "setuptools", "tests", "pyflakes", "tkinter",
}
# Qt pieces PySide6-Essentials has but the app must not carry.
FORBIDDEN_QT = ("Qt6WebEngine", "Qt6Qml", "Qt6Quick", "Qt6Multimedia", "Qt6Network", "Qt6Pdf", "Qt6Wayland")

PLAINTEXT_KEYRING = '''
"""Test-only keyring backend for the installed app (loaded through keyringrc.cfg)."""
import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class PlainFileKeyring(KeyringBackend):
    priority = 1

    def _path(self):
        return Path(os.environ["CME_TEST_KEYRING_FILE"])

    def _load(self):
        path = self._path()
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service, username):
        return self._load().get(f"{service}\\0{username}")

    def set_password(self, service, username, password):
        data = self._load()
        data[f"{service}\\0{username}"] = password
        self._path().write_text(json.dumps(data))

    def delete_password(self, service, username):
        data = self._load()
        if data.pop(f"{service}\\0{username}", None) is None:
            raise PasswordDeleteError(username)
        self._path().write_text(json.dumps(data))
'''


def load_build_module():
    loader = importlib.machinery.SourceFileLoader("cme_packaging_build", str(ROOT / "packaging" / "build"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def build():
    return load_build_module()


@pytest.fixture(scope="session")
def deb(build) -> Path:
    started = time.monotonic()
    path = build.build_deb()
    print(f"\n.deb ready in {time.monotonic() - started:.0f} s: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return path


@pytest.fixture(scope="session")
def scratch_root(deb, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("deb-root")
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


@pytest.fixture(scope="session")
def app(scratch_root) -> Path:
    """The installed executable (/opt/cme-offline/cme-offline inside the scratch root)."""
    exe = scratch_root / "opt/cme-offline/cme-offline"
    assert exe.is_file() and os.access(exe, os.X_OK)
    return exe


@pytest.fixture
def app_env(tmp_path) -> dict[str, str]:
    """A clean environment: own HOME and XDG folders, no test keyring variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON_KEYRING", "XDG_", "QT_", "CME_"))}
    home = tmp_path / "home"
    for sub in ("config", "data", "cache", "runtime"):
        (home / sub).mkdir(parents=True)
    (home / "runtime").chmod(0o700)
    env.update(
        HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"), XDG_RUNTIME_DIR=str(home / "runtime"),
        DBUS_SESSION_BUS_ADDRESS="disabled:",  # no Secret Service even on a developer's desktop
    )
    return env


def run(app: Path, *args: str, env: dict, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(app), *args], input=stdin, capture_output=True, text=True, env=env, timeout=timeout, check=False,
    )


def project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


# ---------------------------------------------------------------- the package itself

def test_control_fields(deb):
    fields = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout
    control = dict(line.split(": ", 1) for line in fields.splitlines() if ": " in line and not line.startswith(" "))
    assert control["Package"] == "cme-offline"
    assert control["Version"] == project_version()
    depends = [d.strip().split(" ")[0] for d in control["Depends"].split(",")]
    for needed in ("libvlc5", "vlc-plugin-base", "vlc-plugin-video-output", "libegl1", "libgl1", "libxcb-cursor0", "libfontconfig1", "libc6"):
        assert needed in depends, f"{needed} missing from Depends: {control['Depends']}"
    print(f"\nDepends: {control['Depends']}")


def test_layout(deb, scratch_root):
    link = scratch_root / "usr/bin/cme-offline"
    assert link.is_symlink() and os.readlink(link) == "/opt/cme-offline/cme-offline"
    desktop = (scratch_root / "usr/share/applications/cme-offline.desktop").read_text()
    assert "Exec=/usr/bin/cme-offline" in desktop and "Icon=cme-offline" in desktop
    assert (scratch_root / "usr/share/icons/hicolor/scalable/apps/cme-offline.svg").is_file()
    assert (scratch_root / "usr/share/icons/hicolor/256x256/apps/cme-offline.png").is_file()
    assert (scratch_root / "etc/cme-offline").is_dir()  # the machine policy folder
    assert (scratch_root / "opt/cme-offline/_internal/desktop/cache/migrations/env.py").is_file()
    server_migrations = scratch_root / "opt/cme-offline/_internal/creditserver/migrations"  # the demo server's
    assert (server_migrations / "env.py").is_file() and (server_migrations / "versions/0001_server_tables.py").is_file()
    assert (scratch_root / "opt/cme-offline/_internal/creditserver/demo/activity.json").is_file()


def test_size_and_contents(build, scratch_root):
    opt = scratch_root / "opt/cme-offline"
    size = build.tree_size(opt)
    print(f"\ninstalled size: {size / 1e6:.1f} MB (limit {SIZE_LIMIT / 1e6:.0f} MB)")
    assert size <= SIZE_LIMIT

    names = {p.name for p in opt.rglob("*")}
    top = {p.name.split(".")[0] for p in (opt / "_internal").iterdir()}
    assert not (top & FORBIDDEN_MODULES), f"test/dev packages on disk: {top & FORBIDDEN_MODULES}"
    qt = [n for n in names if n.startswith(FORBIDDEN_QT) or n.startswith(tuple("lib" + q for q in FORBIDDEN_QT))]
    assert not qt, f"unused Qt modules bundled: {qt}"
    assert not [n for n in names if n.startswith(("libvlc.so", "libvlccore.so"))], "Linux uses the system libvlc"

    modules = frozen_module_names(opt / "cme-offline")
    assert "desktop.app" in modules and "creditserver.runner" in modules and "uvicorn" in modules
    bad = sorted(m for m in modules if m.split(".")[0] in FORBIDDEN_MODULES)
    assert not bad, f"test/dev modules frozen into the app: {bad[:20]}"


def frozen_module_names(executable: Path) -> set[str]:
    """Module names inside the executable's PYZ archive (PyInstaller's own readers)."""
    from PyInstaller.archive.readers import CArchiveReader, ZlibArchiveReader

    carchive = CArchiveReader(str(executable))
    names: set[str] = set()
    for name, (*_, typecode) in carchive.toc.items():
        if typecode == "z":  # the PYZ
            pyz = ZlibArchiveReader(str(executable), carchive._start_offset + carchive.toc[name][0])
            names |= set(pyz.toc)
    return names


def test_every_library_resolves(build, scratch_root):
    report = build.library_report(scratch_root / "opt/cme-offline")
    assert report["unresolved"] == {}


# ---------------------------------------------------------------- the installed program

def test_version(app, app_env):
    result = run(app, "--version", env=app_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"cme-offline {project_version()}"


def test_libvlc_comes_from_the_system(app, app_env):
    result = run(app, env={**app_env, "CME_OFFLINE_CHECK_VLC": "1"})
    report = json.loads(result.stdout.strip().splitlines()[-1])
    system_vlc = "libvlc.so.5" in subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    if not system_vlc:
        assert result.returncode == 1 and "libvlc5 vlc-plugin-base" in report["problem"]
        pytest.skip("no system libvlc here: the missing-VLC message was checked instead")
    assert result.returncode == 0, report
    assert report["ok"] and report["version"].startswith("3.")
    assert report["bundled"] is False
    assert not str(report["library"]).startswith(str(app.parent))


def test_headless_commands_against_a_demo_server(app, app_env, tmp_path):
    from creditserver.runner import serve_in_thread

    data = tmp_path / "data"
    with serve_in_thread(tmp_path / "server", demo=True) as server:
        url = server.url
        common = ("--data-dir", str(data))

        # Offline read with a server named: works without a keyring or a sign-in.
        result = run(app, "status", "--json", "--server", url, *common, env=app_env)
        assert result.returncode == 0, result.stderr
        status = json.loads(result.stdout)
        assert status["server"] == url and status["learner"] is None and status["activities"] == []

        # No keyring on this machine: one clear line, no traceback.
        result = run(app, "login", "--server", url, "--username", "demo", "--password-stdin", *common,
                     env=app_env, stdin="demo\n")
        assert result.returncode == 1
        assert "keyring" in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        result = run(app, "sync", "--server", url, *common, env=app_env)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr

        # A keyring configured the way a headless machine's admin would (keyringrc.cfg).
        backend_dir = tmp_path / "keyring-backend"
        backend_dir.mkdir()
        (backend_dir / "cme_test_keyring.py").write_text(PLAINTEXT_KEYRING)
        config_dir = Path(app_env["XDG_CONFIG_HOME"]) / "python_keyring"
        config_dir.mkdir(parents=True)
        (config_dir / "keyringrc.cfg").write_text(
            f"[backend]\ndefault-keyring = cme_test_keyring.PlainFileKeyring\nkeyring-path = {backend_dir}\n"
        )
        env = {**app_env, "CME_TEST_KEYRING_FILE": str(tmp_path / "secrets.json")}

        result = run(app, "login", "--server", url, "--username", "demo", "--password-stdin", *common,
                     env=env, stdin="demo\n")
        assert result.returncode == 0, result.stderr
        result = run(app, "sync", "--json", *common, env=env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout.strip().splitlines()[-1])["ok"] is True
        result = run(app, "download", "--all", "--json", *common, env=env)
        assert result.returncode == 0, result.stderr + result.stdout[-2000:]
        result = run(app, "status", "--json", *common, env=env)
        status = json.loads(result.stdout)
        assert status["learner"]["username"] == "demo"
        assert [a["state"] for a in status["activities"]] and status["storage_bytes"] > 0
        result = run(app, "search", "blood pressure", "--json", *common, env=env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout), "the FTS5 search found nothing in the installed app"
        result = run(app, "logout", *common, env=env)
        assert result.returncode == 0, result.stderr
        assert json.loads((tmp_path / "secrets.json").read_text()) == {}


@pytest.mark.parametrize("platform", ["xcb", "offscreen"])
def test_gui_demo_starts_and_stays_up(app, app_env, tmp_path, platform):
    """The installed GUI opens the built-in demo (Qt plugins, in-process server, sync)."""
    env = {**app_env, "QT_QPA_PLATFORM": platform}
    x_server = ExitStack()
    if platform == "xcb":
        env["DISPLAY"] = x_server.enter_context(xvfb())
    data = tmp_path / "data"
    proc = subprocess.Popen([str(app), "--demo", "--data-dir", str(data)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        synced = False
        while time.monotonic() < deadline and proc.poll() is None and not synced:
            time.sleep(0.5)
            synced = _demo_synced(data)
        alive = proc.poll() is None
        time.sleep(1.0 if alive else 0)
        alive = alive and proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
        x_server.close()
    assert alive, f"the GUI exited with {proc.returncode}:\n{output[-3000:]}"
    assert synced, "the demo never synced its catalog"
    assert "Traceback" not in output, output[-3000:]
    log = (data / "logs" / "cme-offline.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def _demo_synced(data: Path) -> bool:
    import sqlite3

    db = data / "demo" / "client" / "cache.sqlite3"
    if not db.exists():
        return False
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM activities").fetchone()[0] > 0
    except sqlite3.Error:
        return False
