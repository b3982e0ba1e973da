"""The Save and Verify file dialogs open in the learner's Documents folder (their home when
there is none), not in the folder the app happened to be started from. The real Qt file
dialogs, offscreen: each is read while open, then cancelled."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog

from desktop.views import certificate_actions

pytestmark = pytest.mark.gui


@pytest.fixture
def started_elsewhere(tmp_path, monkeypatch) -> Path:
    """A learner whose home is `tmp_path/home`, the app started from another folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)  # user-dirs.dirs is read from there
    elsewhere = tmp_path / "started-here"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return home


def read_open_dialog(qtbot) -> dict:
    """What the next file dialog shows when it opens (its folder and the file name offered);
    it is then cancelled."""
    seen = {}

    def look():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(20, look)
            return
        seen["folder"] = Path(dialog.directory().absolutePath())
        seen["files"] = [Path(f) for f in dialog.selectedFiles()]
        dialog.reject()

    QTimer.singleShot(0, look)
    return seen


def test_save_opens_in_documents_with_the_suggested_name(qtbot, started_elsewhere):
    documents = started_elsewhere / "Documents"
    documents.mkdir()
    seen = read_open_dialog(qtbot)
    assert certificate_actions.ask_save_path(None, "Save the certificate", "certificate-1.pdf", "PDF (*.pdf)") == ""
    assert seen["folder"] == documents
    assert seen["files"] == [documents / "certificate-1.pdf"]


def test_verify_opens_in_documents_or_home_without_one(qtbot, started_elsewhere):
    seen = read_open_dialog(qtbot)
    assert certificate_actions.ask_open_path(None, "Verify a signed certificate", "Signed certificates (*.json)") == ""
    assert seen["folder"] == started_elsewhere  # no Documents folder: home
