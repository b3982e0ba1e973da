"""The library marks activities that are over (rule 3, server-corrected clock) and will not
download them; the Overview's disclosure table (rule 1) wraps long company lists and
relationships instead of cutting them off. Real server over loopback, real SQLite."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.errors import RuleError
from desktop.views.library_view import LibraryModel
from tests.credit.conftest import sql
from tests.gui.test_learning_gui import make_window, open_activity, signed_in
from tests.server.credit_support import publish
from tests.support.activities import DEMO_ID, activity_doc, demo_doc

pytestmark = pytest.mark.gui

TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000
COMPANIES = ("Acme Cuff Devices, Contoso Pharmaceuticals, Fabrikam Biologics, Northwind Diagnostics, "
             "Tailspin Therapeutics, Woodgrove Medical (all fictional)")
NATURE = ("advisory board; consulting fees; speakers' bureau; research funding paid to the institution; "
          "travel support for two congress presentations")


def test_rule3_the_library_marks_an_expired_activity_and_will_not_download_it(qtbot, server, make_services):
    services = signed_in(make_services(server.url))
    window = make_window(qtbot, services)  # its start-up sync learns the server's clock…
    sql(services, "UPDATE sync_state SET clock_offset_ms = ?", TEN_YEARS_MS)  # …which says it is later
    window.reload_library()
    library = window.library
    model = library.model
    row = next(i for i in range(model.rowCount()) if model.row_at(i).id == DEMO_ID)
    expires = model.index(row, LibraryModel.EXPIRES)
    assert expires.data() == "Expired"
    assert "can no longer be started" in expires.data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(row, LibraryModel.TITLE).data(Qt.ItemDataRole.AccessibleDescriptionRole).startswith(
        "Expired: ")
    assert library.select_id(DEMO_ID)
    library.table.selectRow(library.table.currentIndex().row())
    assert not library.download_button.isEnabled()
    assert library.download_button.toolTip().startswith("Not downloaded: ")


def test_rule1_long_disclosures_wrap_without_sideways_scrolling(qtbot, server, make_services, tmp_path):
    doc = activity_doc("long-disclosures")
    doc["disclosures"] = [dict(demo_doc()["disclosures"][0], company=COMPANIES, nature=NATURE),
                          *demo_doc()["disclosures"][1:]]
    publish(server, tmp_path, doc)
    services = signed_in(make_services(server.url))
    window = make_window(qtbot, services)
    window.resize(1024, 700)
    page = open_activity(window, "long-disclosures")
    table = page.overview.disclosures_table
    qtbot.waitUntil(table.isVisible)
    header = table.horizontalHeader()
    assert header.length() <= table.viewport().width()  # every column within the visible width
    assert not table.horizontalScrollBar().isVisible()
    line = table.fontMetrics().height()
    assert table.rowHeight(0) >= 2 * line  # the long company list and relationships wrap
    assert table.rowHeight(1) < 2 * line  # short rows stay one line
    assert table.height() >= sum(table.rowHeight(r) for r in range(table.rowCount()))  # every row shown


def test_rule3_an_expired_activitys_page_offers_no_download_the_service_would_refuse(qtbot, server, make_services):
    services = signed_in(make_services(server.url))
    window = make_window(qtbot, services)
    sql(services, "UPDATE sync_state SET clock_offset_ms = ?", TEN_YEARS_MS)  # the server says it is later
    page = open_activity(window, DEMO_ID)
    with pytest.raises(RuleError) as refused:  # the service's refusal stays…
        services.enqueue_downloads([DEMO_ID])
    assert refused.value.code == "availability"
    for button in (page.overview.download_button, page.watch_tab.video_column.download_button):
        assert not button.isEnabled()  # …and the buttons no longer offer what it refuses
        assert button.toolTip().startswith("Not downloaded: ")
        assert button.accessibleDescription() == button.toolTip()
    assert not page.watch_tab.video_column.download_pending()  # refused, not "being handled"
