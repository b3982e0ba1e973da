"""Entry points: the first-paint benchmark hook, the demo from the welcome dialog, settings,
and the accessibility rule (every control named and explained)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QSpinBox,
    QTabBar,
    QTabWidget,
)

from desktop.config import Paths
from desktop.services import Services
from desktop.views.main_window import MainWindow
from tests.support.activities import make_activity
from tests.support.clients import dead_url, fill_cache

ROOT = Path(__file__).resolve().parents[2]


def test_bench_first_paint_prints_and_quits(make_services, data_dir):
    services = make_services(None)
    fill_cache(services, [make_activity(i) for i in range(1, 21)])
    services.close()
    env = dict(os.environ, CME_OFFLINE_BENCH_FIRST_PAINT="1", CME_OFFLINE_T0=repr(time.time()),
               QT_QPA_PLATFORM="offscreen")
    code = (
        "import sys; from pathlib import Path\n"
        "from desktop.config import Paths\nfrom desktop.services import Services\n"
        "from desktop.views.main_window import run_gui\n"
        f"s = Services(Paths(Path({str(data_dir)!r})))\n"
        "try:\n    sys.exit(run_gui(s))\nfinally:\n    s.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("first-paint-ms ")]
    assert len(lines) == 1, done.stdout
    ms = float(lines[0].split()[1])
    assert 0 < ms < 60_000


def test_welcome_dialog_starts_the_demo_and_swaps_to_it(qtbot, make_services, server, tmp_path):
    first = make_services(None)
    demo_services = []

    def demo_launcher():  # what app.py provides: a new, signed-in, synced Services
        s = Services(Paths(tmp_path / "demo-data"), server_url=server.url)
        demo_services.append(s)
        s.sign_in("demo", "demo")
        s.sync()
        return s

    window = MainWindow(first, demo_launcher=demo_launcher)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.welcome_dialog is not None and window.welcome_dialog.isVisible())
    with qtbot.waitSignal(window.services_changed, timeout=30_000):
        window.welcome_dialog.demo_button.click()
        assert window.welcome_dialog.demo_button.text() == "Starting the demo…"
    try:
        assert window.services is demo_services[0]
        assert window.windowTitle() == "CME Offline — demo"
        assert window.library.visible_titles()
        assert "Not signed in" not in window.status_text()
    finally:
        window.close()
        for s in window.owned_services:
            s.close()


def test_settings_save_interval_and_reject_a_bad_address(qtbot, make_services):
    services = make_services(dead_url())
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    window.show_section(3)
    page = window.settings_page
    assert page.learner_label.text() == "Not signed in"
    assert not page.sign_out_button.isEnabled()

    page.interval_spin.setValue(30)
    page.save_button.click()
    assert page.connection_message.text() == "Saved."
    assert services.settings.sync_interval_minutes == 30
    assert window.sync_timer.interval() == 30 * 60_000

    page.server_edit.setText("ftp://nope")
    page.save_button.click()
    assert "not valid" in page.connection_message.text()
    page.ca_edit.setText(str(Path("/nonexistent/ca.pem")))
    page.server_edit.setText(services.server_url)
    page.save_button.click()
    assert "does not exist" in page.connection_message.text()


def _acknowledged_learner(services, activity_id: str) -> None:
    """A signed-in learner who acknowledged the disclosures (rule 1), so the activity's tabs load."""
    from datetime import datetime

    from cmecore import protocol
    from desktop.cache.learners import save_signed_in
    from desktop.cache.learning_store import acknowledge

    profile = protocol.LearnerProfile(id="learner-1", username="drsmith", display_name="Dr Smith",
                                      profession="physician")
    save_signed_in(services.db, profile, services.server_url, datetime(2025, 1, 2))
    acknowledge(services.db, "learner-1", activity_id, 1, datetime(2025, 1, 3), datetime(2025, 1, 3))


def test_every_control_has_an_accessible_name_and_tooltip(qtbot, make_services):
    services = make_services(dead_url())
    fill_cache(services, [make_activity(1)], services.server_url)
    _acknowledged_learner(services, "act-001")
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    window.open_activity("act-001")
    sign_in = window.open_sign_in()
    welcome = window.open_welcome()
    try:
        for top in (window, sign_in, welcome):
            missing = _unexplained_controls(top)
            assert not missing, missing
    finally:
        sign_in.reject()
        welcome.reject()


def _unexplained_controls(top) -> list[str]:
    kinds = (QAbstractButton, QLineEdit, QSpinBox, QAbstractItemView, QTabWidget)
    return [
        f"{type(w).__name__} {w.objectName() or getattr(w, 'text', lambda: '')()!r} in {type(w.parent()).__name__}"
        for w in top.findChildren(QWidget_)
        if isinstance(w, kinds) and not isinstance(w, QHeaderView)
        and not w.objectName().startswith("qt_")
        and not isinstance(w.parent(), (QLineEdit, QTabBar))  # Qt's own clear/scroll buttons
        and (not w.accessibleName() or not w.toolTip())
    ]


from PySide6.QtWidgets import QWidget as QWidget_  # noqa: E402
