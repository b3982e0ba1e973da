"""What a screen reader is given for labels does not depend on import order: the page
modules (imported here at collection, before any QApplication exists) install the
accessibility factory on import, which Qt ignores without an application; `ensure_app`
installs it once the application exists. Without that, every heading read as a plain
label and every label given a purpose read as that purpose (seen in the AT-SPI test when
its driver imported a page module before starting the app)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QLabel

from desktop.views.accessibility import make_heading
from desktop.views.main_window import ensure_app
from desktop.views.widgets import plain_label  # noqa: F401  (the import that installs the factory, too early)

pytestmark = pytest.mark.gui


def test_headings_and_labels_keep_their_roles_whatever_was_imported_first(qapp):
    assert ensure_app() is qapp
    heading = make_heading(QLabel("Highlights"))
    described = QLabel("Pass mark: 75%")
    described.setAccessibleName("Pass mark")
    assert QAccessible.queryAccessibleInterface(heading).role() == QAccessible.Role.Heading
    read = QAccessible.queryAccessibleInterface(described)
    assert read.text(QAccessible.Text.Name) == "Pass mark: 75%"
    assert read.text(QAccessible.Text.Description) == "Pass mark"
