"""At 1024×700 (issue 9, "a window that fits") nothing the learner needs is cut off while
there is room for it: the library's titles and its Credits column, the transcript's find box, the welcome
dialog's address field beside its label. Offscreen: these are widths, not pixels."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from PySide6.QtWidgets import QStyleOptionViewItem

from desktop.views.library_view import ID_ROLE, LibraryModel
from desktop.views.welcome_dialog import WelcomeDialog
from tests.gui.test_learning_gui import make_window, signed_in
from tests.player.demo_media import SERVER_URL, install_demo
from tests.support.activities import DEMO_ID

pytestmark = pytest.mark.gui


def test_the_library_shows_every_credit_at_1024(qtbot, server, make_services):
    window = make_window(qtbot, signed_in(make_services(server.url)))
    window.resize(1024, 700)
    library = window.library
    qtbot.waitUntil(lambda: library.table.isVisible() and library.model.rowCount() > 0)
    model, table = library.model, library.table
    row = next(i for i in range(model.rowCount()) if model.row_at(i).id == DEMO_ID)
    credits = model.index(row, LibraryModel.CREDITS)
    fm = table.fontMetrics()
    needed = fm.horizontalAdvance(credits.data())
    lines = 1 if table.columnWidth(LibraryModel.CREDITS) >= needed + 8 else 2  # not "0.5 AMA · 0.…"
    if lines == 2:  # the row wraps between credits: two lines tall, each credit whole
        assert table.wordWrap() and table.rowHeight(row) >= 2 * fm.height()
        assert table.columnWidth(LibraryModel.CREDITS) * 2 >= needed + 16
    assert table.columnWidth(LibraryModel.TITLE) >= 150  # the title keeps room too
    for c in model.row_at(row).credits:  # and every credit is in the tooltip and description
        assert c.label in credits.data(Qt.ItemDataRole.ToolTipRole)
        assert c.label in credits.data(Qt.ItemDataRole.AccessibleDescriptionRole)


@pytest.mark.usefixtures("libvlc")
def test_the_transcript_find_box_shows_its_placeholder_at_1024(qtbot, make_services):
    services = make_services(SERVER_URL)
    activity_id = install_demo(services)
    window = make_window(qtbot, services)
    window.resize(1024, 700)
    page = window.activity_page
    with qtbot.waitSignal(page.watch_tab.transcript_shown, timeout=5_000):
        window.open_activity(activity_id)
    page.tabs.setCurrentWidget(page.watch_tab)
    panel = page.watch_tab.transcript_panel
    qtbot.waitUntil(panel.find_edit.isVisible)
    try:
        find = panel.find_edit
        assert find.width() >= find.fontMetrics().horizontalAdvance(find.placeholderText()) + 20  # not "Fi…"
        for button in (panel.smaller_button, panel.larger_button):
            assert button.isVisible() and button.width() >= button.sizeHint().width()
    finally:
        page.watch_tab.shutdown()


def test_the_welcome_dialogs_address_label_sits_on_its_field(qtbot, make_services):
    dialog = WelcomeDialog(make_services(), demo_launcher=lambda: None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    label, field = dialog.server_label, dialog.server_edit
    label_bottom = label.mapTo(dialog, label.rect().bottomLeft()).y()
    field_top = field.mapTo(dialog, field.rect().topLeft()).y()
    assert 0 <= field_top - label_bottom <= 8  # no wide gap between "Server address" and its field
    assert label.buddy() is field


def _needed_height(table, row: int, column: int) -> int:
    """The height Qt's own delegate needs to draw that cell whole at its column's width."""
    index = table.model().index(row, column)
    option = QStyleOptionViewItem()
    table.initViewItemOption(option)
    option.rect = table.visualRect(index)
    return table.itemDelegateForIndex(index).sizeHint(option, index).height()


def test_the_library_shows_whole_titles_and_credits_at_1024(qtbot, server, make_services):
    """The demo's title (78 characters) wraps within its row instead of ending in "…", and
    the credits beside it stay whole; at a wide window the rows take fewer lines."""
    window = make_window(qtbot, signed_in(make_services(server.url)))
    library = window.library
    table = library.table
    qtbot.waitUntil(lambda: table.isVisible() and library.model.rowCount() > 0)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024 and table.viewport().width() < 900)
    row = next(i for i in range(table.model().rowCount())
               if table.model().index(i, LibraryModel.TITLE).data(ID_ROLE) == DEMO_ID)
    title = table.model().index(row, LibraryModel.TITLE).data()
    fm = table.fontMetrics()
    assert fm.horizontalAdvance(title) > table.columnWidth(LibraryModel.TITLE)  # it does need to wrap here
    assert table.wordWrap()
    for column in (LibraryModel.TITLE, LibraryModel.CREDITS):
        assert _needed_height(table, row, column) <= table.rowHeight(row), column
    assert table.columnWidth(LibraryModel.TITLE) >= table.viewport().width() // 4  # the widest column share

    window.resize(1800, 900)  # room to spare: fewer lines, the title still whole
    qtbot.waitUntil(lambda: table.viewport().width() > 1400)
    assert _needed_height(table, row, LibraryModel.TITLE) <= table.rowHeight(row)
    assert table.rowHeight(row) < 3 * fm.height()
