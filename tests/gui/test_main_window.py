"""The main window as a learner sees it: cached library offline, sorting, the activity page."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt

from cmecore import protocol
from desktop.cache.learners import save_signed_in
from desktop.sync.credentials import TokenVault
from desktop.views.library_view import LibraryModel, LibraryView
from desktop.views.main_window import ACTIVITY, LIBRARY, SETTINGS, MainWindow
from tests.support.activities import make_activity
from tests.support.clients import dead_url, fill_cache


def _signed_in_physician(services, *, with_token: bool = True):
    profile = protocol.LearnerProfile(
        id="learner-1", username="drsmith", display_name="Dr Smith", profession="physician", degree="MD"
    )
    learner = save_signed_in(services.db, profile, services.server_url, datetime(2025, 1, 2))
    if with_token:
        TokenVault(services.server_url).store("drsmith", "r" * 32)
    return learner


def _acknowledged(services, activity_id: str, learner_id: str = "learner-1") -> None:
    """Rule 1: the learner acknowledged the disclosures (the Watch tab's content is unlocked)."""
    from desktop.cache.learning_store import acknowledge

    acknowledge(services.db, learner_id, activity_id, 1, datetime(2025, 1, 3), datetime(2025, 1, 3))


def _window(qtbot, services) -> MainWindow:
    window = MainWindow(services)
    qtbot.addWidget(window)
    return window


def test_opens_on_cached_library_when_the_server_is_down(qtbot, make_services):
    services = make_services(dead_url())
    fill_cache(services, [make_activity(1), make_activity(2), make_activity(3)], services.server_url)
    _signed_in_physician(services)

    window = _window(qtbot, services)
    with qtbot.waitSignal(window.sync_finished, timeout=20_000) as blocker:
        window.show()

    assert window.library.visible_titles() == ["Activity 1", "Activity 2", "Activity 3"]
    assert window.library.pages.currentWidget() is window.library.table
    assert type(blocker.args[0]).__name__ == "ServerUnreachable"
    qtbot.waitUntil(lambda: "○ Offline" in window.status_text())
    text = window.status_text()
    assert "Server not reachable" in text
    assert "Dr Smith" in text
    assert "last synced" in text
    assert "cannot be reached" in window.error_label.toolTip()
    assert window.sync_button.isEnabled()
    assert window.sign_in_dialog is None  # unreachable is not a reason to ask for the password
    # the physician's credit comes first in the credits column
    assert window.library.model.index(0, LibraryModel.CREDITS).data().startswith("0.25 AMA")


def test_empty_library_says_what_to_do(qtbot, make_services):
    services = make_services(dead_url())
    window = _window(qtbot, services)
    window.show()
    assert window.library.pages.currentWidget() is window.library.empty_label
    assert window.library.empty_label.text() == "No activities yet — sign in and sync"
    assert "Not yet synced" in window.status_text()
    assert "Not signed in" in window.status_text()


def test_sign_in_required_during_sync_opens_the_sign_in_dialog(qtbot, make_services):
    services = make_services(dead_url())
    fill_cache(services, [make_activity(1)], services.server_url)
    _signed_in_physician(services, with_token=False)  # no token in the keyring: sign-in has ended

    window = _window(qtbot, services)
    with qtbot.waitSignal(window.sync_finished, timeout=20_000):
        window.show()
    qtbot.waitUntil(lambda: window.sign_in_dialog is not None and window.sign_in_dialog.isVisible())
    assert "Sign-in required" in window.status_text()
    assert window.library.visible_titles() == ["Activity 1"]  # the cache is kept
    window.sign_in_dialog.reject()


def test_library_sorts_and_filters(qtbot):
    view = LibraryView()
    qtbot.addWidget(view)
    rows_source = [
        make_activity(1, title="Heart failure update", faculty=[protocol.Faculty(name="Zoe Ng")]),
        make_activity(2, title="Anticoagulation in AF", faculty=[protocol.Faculty(name="Ali Khan")]),
        make_activity(3, title="Asthma in children", faculty=[protocol.Faculty(name="Maria Ruiz")]),
    ]
    from desktop.cache.blobstore import LocalState
    from desktop.cache.library import CreditOffer, LibraryRow

    rows = [
        LibraryRow(
            id=a.id, title=a.title, faculty=a.faculty[0].name,
            credits=tuple(CreditOffer(s.profession, s.credit_type, s.max_credits, s.contact_hours)
                          for s in a.accreditation),
            release_date=a.release_date, termination_date=a.termination_date,
            media_state=[LocalState.absent, LocalState.present, LocalState.partial][i], media_bytes=0,
        )
        for i, a in enumerate(rows_source)
    ]
    view.set_rows(rows, "physician")
    view.show()

    assert view.visible_titles() == ["Anticoagulation in AF", "Asthma in children", "Heart failure update"]
    view.table.sortByColumn(LibraryModel.FACULTY, Qt.SortOrder.AscendingOrder)
    assert view.visible_titles() == ["Anticoagulation in AF", "Asthma in children", "Heart failure update"]
    view.table.sortByColumn(LibraryModel.RELEASED, Qt.SortOrder.DescendingOrder)
    assert view.visible_titles() == ["Asthma in children", "Anticoagulation in AF", "Heart failure update"]
    view.table.sortByColumn(LibraryModel.MEDIA, Qt.SortOrder.AscendingOrder)
    assert view.visible_titles()[0] == "Anticoagulation in AF"  # downloaded first
    media = [view.proxy.index(i, LibraryModel.MEDIA).data() for i in range(3)]
    assert media == ["● Downloaded", "◐ Partly downloaded", "○ Not downloaded"]

    qtbot.keyClicks(view.filter_edit, "asth")
    assert view.visible_titles() == ["Asthma in children"]
    assert view.count_label.text() == "1 of 3 shown"
    view.filter_edit.clear()
    qtbot.keyClicks(view.filter_edit, "khan")  # faculty matches too
    assert view.visible_titles() == ["Anticoagulation in AF"]

    with qtbot.waitSignal(view.open_activity) as opened:
        view.table.setFocus()
        view.table.setCurrentIndex(view.proxy.index(0, 0))
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert opened.args == ["act-002"]


def test_activity_page_shows_disclosures_and_physician_statement_first(qtbot, make_services):
    services = make_services(dead_url())
    fill_cache(services, [make_activity(1, title="Warfarin <b>reversal</b>")], services.server_url)
    _signed_in_physician(services)
    _acknowledged(services, "act-001")
    window = _window(qtbot, services)
    window.show()

    window.library.select_id("act-001")
    with qtbot.waitSignal(window.library.open_activity):
        qtbot.keyClick(window.library.table, Qt.Key.Key_Return)
    assert window.stack.currentIndex() == ACTIVITY
    page = window.activity_page
    assert page.title_label.text() == "Warfarin <b>reversal</b>"  # server text shown literally
    assert page.title_label.textFormat() == Qt.TextFormat.PlainText
    assert [page.tabs.tabText(i).replace("&&", "&") for i in range(page.tabs.count())] == [
        "Overview", "Watch", "Summaries", "Assessment", "Evaluation & credit"
    ]

    boxes = page.overview.statement_boxes
    assert boxes[0].property("profession") == "physician"
    assert boxes[0].title().startswith("Your credit — Physician")
    assert boxes[0].isVisibleTo(page)
    assert not boxes[1].isVisibleTo(page)  # other professions are collapsed
    page.overview.others_toggle.click()
    assert boxes[1].isVisibleTo(page)

    table = page.overview.disclosures_table
    cells = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]
    assert cells == [
        ["Faculty 1", "faculty", "Pharma Inc", "consulting", "Yes"],
        ["Pat Planner", "planner", "None", "none", "No"],
    ]
    tree = page.overview.objectives_tree
    assert tree.topLevelItem(0).text(0) == "Describe the evidence"
    assert tree.topLevelItem(0).child(0).text(0) == "Name two trials"

    qtbot.keyClick(page.back_button, Qt.Key.Key_Escape)
    assert window.stack.currentIndex() == LIBRARY


def test_sections_switch_with_ctrl_numbers(qtbot, make_services):
    services = make_services(dead_url())
    window = _window(qtbot, services)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentIndex() == SETTINGS
    assert window.nav.currentRow() == SETTINGS
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentIndex() == LIBRARY
