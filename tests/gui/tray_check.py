"""Run by tests/gui/test_tray.py in a subprocess on a real X server with a system tray.

The main window on the xcb platform, signed in on the real reference server at SERVER_URL
and ready to claim the demo activity. It waits for the tray (the test's tray host may
still be starting), claims credit through the Credit tab (the courier sends the claim
at once; the certificate arrives with the server's answer), then lets a commitment
reminder come due (a ReminderWatch whose clock is six weeks on, as at a later start).
After each it reads what is on screen: the tray's balloon message (the widget Qt shows
on X11 when no notification daemon is used) and the status bar. Prints one JSON line.

    python -m tests.gui.tray_check DATA_DIR SERVER_URL
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PySide6.QtWidgets import QApplication, QLabel, QSystemTrayIcon

from tests.gui.picture_check import wait_until  # runs the event loop meanwhile, up to 20 s


def balloons() -> list[list[str]]:
    """The text of each tray balloon message on screen (Qt's QBalloonTip: title, then message)."""
    return [[label.text() for label in widget.findChildren(QLabel) if label.text()]
            for widget in QApplication.topLevelWidgets()
            if widget.metaObject().className() == "QBalloonTip" and widget.isVisible()]


def seen(window, told: list[str]) -> dict:
    return {"notified": told[-1] if told else None, "balloons": balloons(),
            "status_message": window.statusBar().currentMessage(),
            "tray_visible": window.tray is not None and window.tray.isVisible()}


def main(data_dir: Path, server_url: str) -> dict:
    from desktop.config import Paths
    from desktop.services import Services
    from desktop.views.activity.page import CREDIT_TAB
    from desktop.views.main_window import MainWindow, end_session, ensure_app
    from desktop.views.reminder_watch import ReminderWatch
    from tests.credit.conftest import ready_to_claim
    from tests.gui.test_learning_gui import signed_in
    from tests.support.activities import DEMO_ID

    app = ensure_app()
    result: dict = {"platform": app.platformName(),
                    "tray_available": wait_until(QSystemTrayIcon.isSystemTrayAvailable)}
    services = signed_in(Services(Paths(data_dir), server_url=server_url))
    ready_to_claim(services)  # the evaluation asks for a reminder about one commitment in 6 weeks
    window = MainWindow(services)
    told: list[str] = []
    window.notified.connect(told.append)
    synced: list = []
    window.sync_finished.connect(synced.append)
    window.resize(1100, 750)
    window.show()
    try:
        assert wait_until(lambda: bool(synced)), "the start-up sync did not finish"
        window.open_activity(DEMO_ID)
        page = window.activity_page
        page.tabs.setCurrentIndex(CREDIT_TAB)
        claim = page.credit_tab.claim
        assert wait_until(lambda: claim.claim_button.isVisible())
        claim.attest_check.setChecked(True)
        claim.minutes_spin.setValue(30)
        claim.claim_button.click()
        wait_until(lambda: any("accepted" in text for text in told) and balloons())
        result["certificate"] = seen(window, told)
        result["certificates_in_cache"] = len([r for r in services.my_credits().rows if r.state == "accepted"])

        later = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(weeks=6, minutes=1)
        watch = ReminderWatch(window, lambda: window.services, window.events, window.notify, clock=lambda: later)
        wait_until(lambda: any("committed to" in text for text in told)
                   and any("committed to" in " ".join(b) for b in balloons()))
        watch.timer.stop()
        result["reminder"] = seen(window, told)
    finally:
        window.close()
        end_session(window)
        services.close()
    return result


if __name__ == "__main__":
    print("RESULT " + json.dumps(main(Path(sys.argv[1]), sys.argv[2])), flush=True)
