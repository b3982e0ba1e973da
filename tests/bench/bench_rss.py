"""Memory while playing: the app (library, activity page, video + transcript panel) next
to a 30-line python-vlc + Qt player playing the same file (`make bench`; prints only).

Both run offscreen with libvlc's dummy outputs, play the demo video for a few seconds,
and report their resident set size (VmRSS) at that moment. Target (issue 15): ratio ≤ 1.3×,
median of 7 runs each, interleaved (`CME_OFFLINE_BENCH_RUNS=3` for a quicker look; the
output says how many).

Beside the totals, each process's RSS by part at that moment (from /proc/self/smaps:
libvlc and its plugins, Qt and PySide6, the Python interpreter, other shared libraries and
extension modules, the heap and anonymous memory); what each library the app loads costs
on its own (the bare player with it imported first, minus the bare player); the *floor*:
the bare player with every module the playing app has imported, nothing built (what the
app's choice of libraries costs before any page, model or cache of its own); and, from
one more app run under tracemalloc, the Python memory by the package that caused it (the
code of a module counts for the package whose import statement loaded it, not for the
import machinery).

Under the floor, the *Qt floor*: the bare player with only the Qt modules the app imported
and sqlite3 — what no choice of ours removes. The difference between the two floors is what
keeping the cache (SQLAlchemy), the protocol (pydantic) and the network (httpx, keyring) in
the GUI process costs: the measure for the "One process" decision in docs/architecture.md.

What the floor holds, and why (printed under it, `FLOOR_REASONS`): the app's own modules
that the scenario imported, and the third-party libraries kept in the GUI process by
choices this bench does not question — SQLAlchemy for the cache and pydantic for the
protocol and settings (the lead's decision for issue 15: the GUI process keeps both; no
separate ORM/network process this phase); httpx, truststore and keyring (on Linux with secretstorage, which brings cryptography)
because the window syncs once it opens (a learner is signed in and a server is set, as
here): the refresh token is read and the catalog fetched. Content packs' Ed25519 checks
are built on first use (`services.deployment`), so they are not in it.
markdown-it and nh3 render the summaries only once their tab is opened, so the playing
app holds neither (a reason is kept for them all the same). The refresh token is kept where
a user's app keeps it: no PYTHON_KEYRING_BACKEND; on Linux a real Secret Service
(gnome-keyring on a private session bus) when installed, else keyring's config file names
keyrings.alt's file store (the output says which). A third-party package the app
imports with no reason listed is printed as such, so a new resident library is seen.
Pages the scenario never opens (Downloads, My credits, Settings) are not built, so
neither they nor their modules are in the app or its floor; nor are the summaries read.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PLAY_MS = 4000
RUN_TIMEOUT_S = 600  # one program's run; the one under tracemalloc is the slow one
RUNS = int(os.environ.get("CME_OFFLINE_BENCH_RUNS", "7"))
TARGET = 1.3  # issue 15: the playing app within 1.3x the bare player
FLOOR_TARGET = 1.3  # and within 1.3x the floor (the bare player with the app's modules imported)
# What each library the GUI process loads costs on its own: imported into the bare player
# before it plays. The protocol's and the cache's models count with their library.
LIBRARIES = {
    "SQLAlchemy + the cache's models": ["desktop.cache.models"],
    "pydantic + the protocol": ["cmecore.protocol"],
    "httpx + truststore": ["httpx", "truststore"],
    "keyring": ["keyring"],
    "markdown-it + nh3": ["markdown_it", "nh3"],
    "PyLD + cryptography (credentials)": ["cmecore.credentials.check"],
}
# Why each third-party package the playing app imports is there: the floor holds them all.
FLOOR_REASONS = {
    "the cache (every read and write; kept in the GUI process by decision)": [
        "sqlalchemy"],
    "the protocol's and settings' models (kept in the GUI process by decision)": [
        "pydantic", "pydantic_core", "annotated_types", "typing_inspection", "typing_extensions"],
    "the sync the window starts once it opens (a learner signed in, a server set)": [
        "httpx", "httpcore", "h11", "anyio", "lazy_importer", "idna", "certifi", "truststore"],
    "the refresh token that sync reads (the OS keyring; on Linux the Secret Service over D-Bus, "
    "whose session secretstorage encrypts with cryptography)": [
        "keyring", "keyrings", "importlib_metadata", "more_itertools", "backports", "jaraco", "zipp",
        "secretstorage", "jeepney", "cryptography"],
    "the Summaries tab, once opened (not while only playing)": ["markdown_it", "mdurl", "nh3"],
    "where the data dir is": ["platformdirs"],
}
VIDEO = Path(__file__).parents[2] / "creditserver" / "demo" / "media" / "home-bp-monitoring.mp4"

# Appended to both programs: RSS by part from /proc/self/smaps, printed as `rss-part`.
RSS_PARTS = r"""
def rss_parts():
    parts, name = {}, "anonymous and heap"
    for line in open("/proc/self/smaps"):
        head = line.split()
        if not head:
            continue
        if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            path = head[5] if len(head) > 5 else ""
            name = ("libvlc and plugins" if "vlc" in path else
                    "Qt and PySide6" if ("Qt6" in path or "PySide6" in path or "shiboken" in path) else
                    "Python interpreter" if ("libpython" in path or "/bin/python" in path) else
                    "other libraries and extensions" if path.startswith("/") else "anonymous and heap")
        elif head[0] == "Rss:":
            parts[name] = parts.get(name, 0) + int(head[1])
    for name, kb in parts.items():
        print("rss-part", name.replace(" ", "_"), kb, flush=True)
    if __import__("tracemalloc").is_tracing():
        import tracemalloc
        by_package = {}
        for trace in tracemalloc.take_snapshot().traces:
            # the newest frame outside the import machinery: a module's code counts for its importer
            path = next((f.filename for f in reversed(trace.traceback) if not f.filename.startswith("<frozen")),
                        "<import machinery>")
            key = ("desktop" if "/desktop/" in path else "cmecore" if "/cmecore/" in path else
                   path.split("site-packages/")[1].split("/")[0].removesuffix(".py") if "site-packages/" in path else
                   "python: " + path.rsplit("/", 1)[-1])
            by_package[key] = by_package.get(key, 0) + trace.size
        for key, size in by_package.items():
            print("py-alloc", key.replace(" ", "_"), size // 1024, flush=True)
    print("modules", " ".join(sorted(sys.modules)), flush=True)
"""

BARE_PLAYER = RSS_PARTS + r"""
import importlib, sys, vlc
for name in sys.argv[3:]:  # a library's cost, or the floor: these modules imported first
    importlib.import_module(name)
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget, QVBoxLayout, QPushButton, QSlider
from PySide6.QtCore import Qt

app = QApplication(sys.argv)
window = QWidget()
layout = QVBoxLayout(window)
surface = QWidget(); layout.addWidget(surface)
slider = QSlider(Qt.Orientation.Horizontal); layout.addWidget(slider)
button = QPushButton("Pause"); layout.addWidget(button)
instance = vlc.Instance("--intf=dummy", "--vout=dummy", "--aout=dummy", "--no-video-title-show")
player = instance.media_player_new()
player.set_media(instance.media_new(sys.argv[1]))
button.clicked.connect(player.pause)
timer = QTimer(); timer.timeout.connect(lambda: slider.setValue(int(player.get_position() * 100))); timer.start(40)
window.resize(1000, 700); window.show()
player.play()
def report():
    rss = next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]
    print("rss-kb", rss, flush=True); rss_parts(); player.stop(); app.quit()
QTimer.singleShot(int(sys.argv[2]), report)
app.exec()
"""

APP_PLAYER = RSS_PARTS + r"""
import sys
from PySide6.QtCore import QTimer
from desktop.paths import Paths
from desktop.services import Services
from desktop.views.main_window import MainWindow, ensure_app
from desktop.views.tasks import wait_for_tasks

app = ensure_app()
services = Services(Paths(__import__("pathlib").Path(sys.argv[1])), server_url=sys.argv[3])
window = MainWindow(services)
window.resize(1000, 700); window.show()
activity = services.library_rows()[0].id
window.open_activity(activity)
page = window.activity_page
page.tabs.setCurrentIndex(1)  # Watch
QTimer.singleShot(300, page.watch_tab.play)
def report():
    rss = next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]
    print("rss-kb", rss, flush=True); rss_parts(); window.close(); app.quit()
QTimer.singleShot(int(sys.argv[2]), report)
app.exec()
window.shutdown(); wait_for_tasks(); services.close()
"""


def rss_kb(args: list[str], env: dict[str, str], parts: dict[str, int] | None = None,
           modules: list[str] | None = None) -> int:
    """The child's VmRSS in kB; its `rss-part` and `py-alloc` lines into `parts`, the
    modules it had imported into `modules`."""
    try:
        out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        stdout, stderr = out.stdout, out.stderr
    except subprocess.TimeoutExpired as exc:  # killed: what it printed before still counts
        stdout, stderr = (_text(exc.stdout), _text(exc.stderr) + f" [killed after {RUN_TIMEOUT_S} s]")
    total = None
    for line in stdout.splitlines():
        if line.startswith("rss-kb "):
            total = int(line.split()[1])
        elif line.startswith(("rss-part ", "py-alloc ")) and parts is not None:
            _, name, kb = line.split()
            parts[name.replace("_", " ")] = int(kb)
        elif line.startswith("modules ") and modules is not None:
            modules[:] = line.split()[1:]
    if total is None:
        raise RuntimeError(f"no RSS reported: {stdout[-500:]!r} {stderr[-2000:]!r}")
    return total


def _text(output) -> str:
    """A killed child's output as text (TimeoutExpired holds bytes even with text=True)."""
    return output.decode(errors="replace") if isinstance(output, bytes) else (output or "")


def floor_modules(app_modules: list[str]) -> list[str]:
    """What the playing app had imported, for the bare player to import: every module of
    ours and every third-party package (each brings the standard library it needs)."""
    import importlib.util

    def third_party(top: str) -> bool:
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            return False
        return bool(spec and spec.origin and "site-packages" in spec.origin)

    ours = [m for m in app_modules if m.split(".")[0] in ("desktop", "cmecore") and not m.endswith("__main__")]
    tops = {m.split(".")[0] for m in app_modules if "." not in m and not m.startswith("_")}
    return ours + sorted(t for t in tops - {"desktop", "cmecore", "vlc"} if not t.startswith(("PySide6", "shiboken"))
                         and third_party(t))


STORE_PROCESS = r"""
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
gui = sorted(m for m in ("PySide6", "vlc") if m in sys.modules)
if gui:  # then it is not the process it stands for: bench_rss.store_modules must leave out what brought them
    sys.exit(f"the store process imported {gui}")
print("rss-kb", next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1], flush=True)
"""


def store_modules(app_modules: list[str]) -> list[str]:
    """What a second process holding the cache, the protocol and the network would import:
    the floor's modules without the views, the player and Qt."""
    return [m for m in floor_modules(app_modules)
            if not m.startswith(("desktop.views", "desktop.media.qt_player", "desktop.media.player", "desktop.app"))]


def qt_floor_modules(app_modules: list[str]) -> list[str]:
    """The part of the floor no choice of ours can remove: the Qt modules the playing app
    imported and sqlite3 (what a GUI process would hold if the cache, the protocol and the
    network ran in another process)."""
    return [m for m in app_modules if m.startswith("PySide6.") and m.count(".") == 1] + ["sqlite3"]


def prepared_data_dir(root: Path, server) -> Path:
    """The demo activity signed in, synced, downloaded and its disclosures acknowledged."""
    from desktop.paths import Paths
    from desktop.services import Services

    data = root / "data"
    services = Services(Paths(data), server_url=server.url)
    services.sign_in("demo", "demo")
    services.sync()
    services.enqueue_downloads(None)
    services.run_downloads()
    services.acknowledge_disclosures(services.library_rows()[0].id)
    services.close()
    return data


def main() -> None:
    from creditserver.runner import serve_in_thread

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CME_OFFLINE_VLC_ARGS": "--vout=dummy --aout=dummy"}
    env.pop("PYTHON_KEYRING_BACKEND", None)  # the store a user's app chooses, not one named for it
    with tempfile.TemporaryDirectory() as tmp, user_keyring(Path(tmp) / "keyring") as (keyring_env, store):
        root = Path(tmp)
        env.update(keyring_env)
        os.environ.update(keyring_env)  # this process signs in, into the same store
        os.environ.pop("PYTHON_KEYRING_BACKEND", None)
        with serve_in_thread(root / "server", demo=True) as server:
            data = prepared_data_dir(root, server)
            bare_parts, app_parts, allocs, app_modules = {}, {}, {}, []
            bare_cmd = [sys.executable, "-c", BARE_PLAYER, str(VIDEO), str(PLAY_MS)]
            app_cmd = [sys.executable, "-c", APP_PLAYER, str(data), str(PLAY_MS), server.url]
            bare_runs, app_runs = [], []
            for _ in range(RUNS):  # interleaved, so machine noise hits both alike
                bare_runs.append(rss_kb(bare_cmd, env, bare_parts))
                app_runs.append(rss_kb(app_cmd, env, app_parts, app_modules))
            libraries = {name: rss_kb([*bare_cmd, *modules], env) for name, modules in LIBRARIES.items()}
            floor_parts = {}
            floor = rss_kb([*bare_cmd, *floor_modules(app_modules)], env, floor_parts)
            qt_floor = statistics.median(rss_kb([*bare_cmd, *qt_floor_modules(app_modules)], env) for _ in range(3))
            store_kb = statistics.median(rss_kb([sys.executable, "-c", STORE_PROCESS, *store_modules(app_modules)], env)
                                      for _ in range(3))
            try:
                rss_kb(app_cmd, {**env, "PYTHONTRACEMALLOC": "25"}, allocs)
            except RuntimeError as exc:  # tracemalloc slows the app ~10x: on a loaded machine it may not report
                print(f"the tracemalloc run reported nothing: {str(exc)[-300:]}", file=sys.stderr)
    bare, app = statistics.median(bare_runs), statistics.median(app_runs)
    ratio, floor_ratio, to_floor = app / bare, floor / bare, app / floor
    mb = 1024
    print(f"rss while playing ({PLAY_MS / 1000:.0f} s of the demo video, offscreen, dummy libvlc outputs; "
          f"median of {RUNS} runs each" + ("" if RUNS >= 7 else ", fewer than the 7 the target asks for") + ")")
    print(f"  30-line python-vlc + Qt player  {bare / mb:7.1f} MB  (min {min(bare_runs) / mb:.1f})")
    print(f"  cme-offline with transcript     {app / mb:7.1f} MB  (min {min(app_runs) / mb:.1f})")
    print(f"  floor: the bare player with the app's {len(app_modules)} modules imported, nothing built "
          f"{floor / mb:7.1f} MB  (the libraries the fixed choices keep in the GUI process: below)")
    print(f"  the refresh token's store: {store}")
    print(f"  P6 ratio {ratio:.2f}x   (target <= {TARGET}x: {met(ratio <= TARGET)})")
    print(f"  the floor's own ratio to the bare player {floor_ratio:.2f}x   (<= {TARGET}x: {met(floor_ratio <= TARGET)})")
    print(f"  the app to the floor {to_floor:.2f}x, +{(app - floor) / mb:.0f} MB of its own state   "
          f"(target <= {FLOOR_TARGET}x the floor: {met(to_floor <= FLOOR_TARGET)})")
    print(f"  the Qt floor: the bare player with the Qt modules the app uses ({', '.join(qt_floor_modules(app_modules))}) "
          f"{qt_floor / mb:.1f} MB = {qt_floor / bare:.2f}x the bare player (<= {TARGET}x: {met(qt_floor / bare <= TARGET)}); "
          f"the app {app / qt_floor:.2f}x it")
    held = floor - qt_floor
    gui_only = app - held
    print(f"  the libraries the app holds (floor - Qt floor): +{held / mb:.0f} MB. Moved to a second process (the "
          f"cache, protocol and network there; not built, docs/architecture.md \"One process\"), the GUI process "
          f"would hold ~{gui_only / mb:.0f} MB ({gui_only / bare:.2f}x, a lower bound) and that process, importing "
          f"them alone, {store_kb / mb:.0f} MB: together ~{(gui_only + store_kb) / mb:.0f} MB by RSS, "
          f"{(gui_only + store_kb) / bare:.2f}x the bare player (the interpreter's shared pages counted twice: "
          f"about what the one process holds, {ratio:.2f}x, not less). With the fixed libraries, 1.3x is out of "
          f"reach in one process or two: the floor ({floor_ratio:.2f}x) is the mark")
    print("  the floor's third-party packages, and why the GUI process holds them:")
    for line in floor_reasons(floor_modules(app_modules)):
        print(f"    {line}")
    print(f"  by part (MB)                    {'app':>7} {'floor':>7} {'bare':>7}")
    for name in sorted(app_parts.keys() | bare_parts.keys()):
        if name.startswith(("libvlc", "Qt", "Python", "other", "anonymous")):
            print(f"    {name:30}{app_parts.get(name, 0) / mb:7.1f} {floor_parts.get(name, 0) / mb:7.1f} "
                  f"{bare_parts.get(name, 0) / mb:7.1f}")
    print("  what each library costs on its own (the bare player with it imported, minus the bare player, MB):")
    for name, kb in libraries.items():
        print(f"    {name:40}{(kb - bare) / mb:+7.1f}")
    print("  the app's Python memory by the package that caused it (one run under tracemalloc, MB):"
          + ("" if allocs else " not measured: that run reported nothing (see stderr)"))
    py = sorted(((k, v) for k, v in allocs.items() if not k.startswith(("libvlc", "Qt", "Python", "other",
                                                                         "anonymous"))), key=lambda kv: -kv[1])
    for name, kb in py[:14]:
        print(f"    {name:40}{kb / mb:7.1f}")


@contextmanager
def user_keyring(home: Path) -> Iterator[tuple[dict[str, str], str]]:
    """The keyring a user's app finds: on Linux with gnome-keyring installed, a real Secret
    Service (what a desktop session has); else keyring's config file naming keyrings.alt's
    file store (the app loads it alone, as it would a Secret Service). Yields the environment
    to give every process and a line saying which."""
    from tests.support import secret_service

    if sys.platform == "linux" and secret_service.available() is None:
        with secret_service.secret_service(home) as service_env:
            yield service_env, "the Secret Service (gnome-keyring on a private session bus), as on a Linux desktop"
        return
    config = home / "config" / "python_keyring"
    config.mkdir(parents=True)
    (config / "keyringrc.cfg").write_text("[backend]\ndefault-keyring = keyrings.alt.file.PlaintextKeyring\n")
    why = secret_service.available() if sys.platform == "linux" else "not Linux"
    yield ({"XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data")},
           f"keyrings.alt's file store named in keyring's config file (no Secret Service: {why})")


def floor_reasons(modules: list[str]) -> list[str]:
    """One line per reason in FLOOR_REASONS with the packages of `modules` it covers, and
    one for any third-party package no reason covers."""
    tops = {m.split(".")[0] for m in modules} - {"desktop", "cmecore"}
    lines = []
    for reason, packages in FLOOR_REASONS.items():
        held = [p for p in packages if p in tops]
        if held:
            lines.append(f"{', '.join(held)}: {reason}")
        tops -= set(packages)
    if tops:
        lines.append(f"{', '.join(sorted(tops))}: NO REASON RECORDED (bench_rss.FLOOR_REASONS): look at why it is loaded")
    return lines


def met(ok: bool) -> str:
    return "met" if ok else "not met"


if __name__ == "__main__":
    main()
