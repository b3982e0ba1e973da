"""Light and dark are readable: text 4.5:1 on what it is drawn on, and the outline of an
empty check box, a radio button or a text field 3:1 against the window (WCAG 1.4.3, 1.4.11).

The first test computes the contrast from the palette roles Fusion draws with; the second
renders the real Settings page in the dark and light and measures the pixels of its check
box and its fields."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QLineEdit, QRadioButton, QStyle, QStyleOptionButton

from desktop.views.main_window import SETTINGS, MainWindow
from desktop.views.theme import (
    contrast,
    dark_palette,
    fusion_outlines,
    outlined_palette,
    light_palette,
)
from tests.support.clients import dead_url

Role = QPalette.ColorRole
TEXT_ON = [  # (text, what it is drawn on)
    (Role.Text, Role.Base), (Role.Text, Role.AlternateBase), (Role.WindowText, Role.Window),
    (Role.ButtonText, Role.Button), (Role.PlaceholderText, Role.Base), (Role.HighlightedText, Role.Highlight),
    (Role.Link, Role.Base), (Role.Link, Role.Window), (Role.ToolTipText, Role.ToolTipBase),
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_and_control_outlines_contrast_in_light_and_dark(qapp, scheme):
    palette = dark_palette() if scheme == "dark" else light_palette()
    for ink, ground in TEXT_ON:
        ratio = contrast(palette.color(ink), palette.color(ground))
        assert ratio >= 4.5, (scheme, ink.name, ground.name, round(ratio, 2))
    # The focus ring is drawn in the highlight colour on the window.
    assert contrast(palette.color(Role.Highlight), palette.color(Role.Window)) >= 3.0
    # Fusion outlines an empty check box, a radio or a field from its palette's Window colour.
    window, base = palette.color(Role.Window), palette.color(Role.Base)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive, QPalette.ColorGroup.Disabled):
        for outline in fusion_outlines(outlined_palette(palette).color(group, Role.Window)):
            assert contrast(outline, window) >= 3.0, (scheme, group.name, outline.name())
            assert contrast(outline, base) >= 3.0, (scheme, group.name, outline.name())


def _indicator_contrast(button, element) -> float:
    """The highest contrast of a pixel of `button`'s indicator against the window beside it."""
    option = QStyleOptionButton()
    option.initFrom(button)
    box: QRect = button.style().subElementRect(element, option, button)
    # Drawn by its parent, as on screen (a grab of the button alone would fill its own Window).
    image = button.parentWidget().grab(button.geometry()).toImage()
    ground = image.pixelColor(image.width() - 2, image.height() // 2)  # beside the text
    assert contrast(ground, QGuiApplication.palette().color(Role.Window)) < 1.1  # the page's colours
    pixels = [image.pixelColor(x, y) for x in range(box.left(), box.right() + 1)
              for y in range(box.top(), box.bottom() + 1)]
    return max(contrast(p, ground) for p in pixels)


def test_empty_check_boxes_and_fields_show_their_outline_in_the_dark(qtbot, make_services, theme):
    window = MainWindow(make_services(dead_url()))
    qtbot.addWidget(window)
    window.show()
    window.show_section(SETTINGS)
    page = window.settings_page
    boxes = [b for b in page.findChildren(QCheckBox) if b.text()]
    assert boxes, "the Settings page has check boxes"
    fields = [f for f in page.findChildren(QLineEdit) if f.hasFrame() and f.isVisible()]
    assert fields, "the Settings page has text fields"
    radio = QRadioButton("Small", page)  # as in the change-video-quality dialog
    radio.setChecked(False)
    for scheme in ("dark", "light"):
        theme.apply(scheme)
        for box in boxes:
            box.setChecked(False)
            box.clearFocus()
            ratio = _indicator_contrast(box, QStyle.SubElement.SE_CheckBoxIndicator)
            assert ratio >= 3.0, (scheme, box.text(), round(ratio, 2))
        ratio = _indicator_contrast(radio, QStyle.SubElement.SE_RadioButtonIndicator)
        assert ratio >= 3.0, (scheme, "radio", round(ratio, 2))
        for field in fields:  # the top edge of a text field is its outline
            image = field.parentWidget().grab(field.geometry().adjusted(0, -4, 0, 0)).toImage()
            ground = image.pixelColor(image.width() // 2, 0)  # just above the field
            edge = max((image.pixelColor(x, y) for x in range(6, image.width() - 6) for y in (4, 5)),
                       key=lambda p: contrast(p, ground))
            assert contrast(edge, ground) >= 3.0, (scheme, field.accessibleName(), round(contrast(edge, ground), 2))
    # A switch back to the system's colours keeps the outlines drawn from its palette.
    theme.apply("system")
    assert QApplication.palette(boxes[0]).color(Role.Window) != QGuiApplication.palette().color(Role.Window)
