"""Tray notifications, for real: a certificate that arrives and a commitment reminder that
comes due are shown as tray messages when the desktop has a system tray (issue 9, items 5
and 10).

Offscreen Qt has no tray, so the other GUI tests see only the fallback (the status line:
tests/gui/test_status_and_delivery.py, test_time_and_reminders_gui.py). Here the app runs
on the xcb platform on a private Xvfb with a real XEmbed system tray host, Debian's
`trayer` (it owns the _NET_SYSTEM_TRAY_S0 selection Qt looks for), against the real
reference server; the window claims credit, the courier delivers it, the certificate
arrives and a reminder comes due (tests/gui/tray_check.py, in a subprocess: the platform
is chosen when Qt starts).

Deterministic on any developer's desktop: Qt prefers a D-Bus StatusNotifierItem tray (and
D-Bus notifications) when the session bus has an org.kde.StatusNotifierWatcher — as a
KDE or GNOME-with-AppIndicator session does. The app is therefore given a private
dbus-daemon session with no watcher on it, so Qt always takes the XEmbed tray of this
display and shows its own balloon message, a widget the check can read.

Needs the Debian packages trayer, xvfb and dbus-daemon (packaging/system-packages test).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.session_bus import session_bus, stop
from tests.support.xserver import xvfb

pytestmark = [pytest.mark.gui,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="an X11 tray host: Linux")]
ROOT = Path(__file__).resolve().parents[2]
CERTIFICATE = "1 claim accepted; the certificate is in My credits."


@pytest.fixture(scope="module")
def desktop_with_tray(tmp_path_factory) -> Iterator[dict[str, str]]:
    """A private Xvfb with trayer running on it and a private D-Bus session: the environment
    for the app."""
    missing = [tool for tool in ("Xvfb", "trayer", "dbus-daemon") if shutil.which(tool) is None]
    if missing:
        raise AssertionError(f"missing {missing}: run packaging/system-packages test")
    runtime = tmp_path_factory.mktemp("tray-runtime")
    tray = None
    with xvfb() as display, session_bus() as address:  # a bus with no StatusNotifierWatcher (see above)
        try:
            env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY",)}
            env.update({"DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address, "XDG_RUNTIME_DIR": str(runtime),
                        "NO_AT_BRIDGE": "1"})
            tray = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                                     "--height", "24"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            yield {**env, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT)}
        finally:
            stop(tray)


def run_check(env: dict[str, str], tmp_path: Path, server_url: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "tests.gui.tray_check", str(tmp_path / "data"), server_url],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, result.stdout[-2000:] + result.stderr[-4000:]
    return {**json.loads(lines[-1][len("RESULT "):]), "stderr": result.stderr[-3000:]}


def test_a_certificate_and_a_due_reminder_are_shown_as_tray_messages(desktop_with_tray, tmp_path, server):
    seen = run_check(desktop_with_tray, tmp_path, server.url)
    assert seen["platform"] == "xcb" and seen["tray_available"], seen

    # The claim was delivered and its certificate arrived: the tray says so, in a balloon.
    arrived = seen["certificate"]
    assert seen["certificates_in_cache"] == 1, seen
    assert arrived["notified"] == CERTIFICATE and arrived["tray_visible"], arrived
    assert ["Credit", CERTIFICATE] in arrived["balloons"], arrived
    assert arrived["status_message"] != CERTIFICATE, arrived  # the tray, not the fallback

    # Six weeks later the commitment reminder comes due: a tray message names the commitment.
    due = seen["reminder"]
    assert "you committed to “Ask for a 7-day home log”" in due["notified"], (due, seen["stderr"])
    balloon = next(b for b in due["balloons"] if b and b[0] == "Your commitments to change")
    assert balloon[1] == due["notified"], due
    assert due["status_message"] != due["notified"], due
