"""Several learners on one workstation: a learner button in the status bar.

Its menu lists the learners signed in on this computer (`Services.learners`), the current
one ticked; choosing another asks for that learner's password (switch_dialog.py) and, on
proof, makes them current without signing anyone out. A learner whose sign-in is no longer
kept gets the sign-in dialog with their username filled in. "Sign in as another learner…" opens the sign-in
dialog; the first learner stays signed in. A switch is announced as `learner_changed` on
the app's events; every learner-scoped view redraws itself.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from desktop.views.events import AppEvents
from desktop.views.text import profession_name


class LearnerButton(QToolButton):
    about_to_switch = Signal()  # before another learner becomes current (save the player's place)
    switched = Signal(object)  # LearnerInfo now current
    sign_in_requested = Signal(str, str)  # username ("" for a new learner), message

    def __init__(self, services, parent: QWidget | None = None, *, events: AppEvents | None = None):
        super().__init__(parent)
        self.services = services
        self.events = events if events is not None else AppEvents(self)
        self.events.learner_changed.connect(lambda _source: self.refresh())
        self.setText("Switch learner")
        self.setAccessibleName("Switch learner")
        self.setToolTip("Learners signed in on this computer: switch to another, or sign in as another learner "
                        "(no one is signed out)")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_ = QMenu(self)
        self.menu_.setAccessibleName("Learners")
        self.menu_.setToolTipsVisible(True)
        self.menu_.aboutToShow.connect(self.rebuild)
        self.setMenu(self.menu_)
        self.switch_dialog = None
        self.refresh()

    def set_services(self, services) -> None:
        self.services = services
        self.refresh()

    def refresh(self) -> None:
        learner = self.services.current_learner() if self.services is not None else None
        name = (learner.display_name or learner.username) if learner else "no one"
        self.setAccessibleDescription(f"Current learner: {name}")
        self.setToolTip(f"Signed in now: {name}. Switch to another learner signed in on this computer, or sign in "
                        "as another learner (no one is signed out)")

    def rebuild(self) -> list[QAction]:
        """Fill the menu (also called by tests); returns the switch actions."""
        menu = self.menu_
        menu.clear()
        actions = []
        learners = self.services.learners() if self.services is not None else []
        current = self.services.current_learner() if self.services is not None else None
        for learner in learners:
            name = learner.display_name or learner.username
            extra = profession_name(learner.profession)
            is_current = current is not None and learner.id == current.id
            action = QAction(f"{name} ({extra})" if extra else name, menu)
            action.setCheckable(True)
            action.setChecked(is_current)
            action.setToolTip("The current learner" if is_current else f"Switch to {name}")
            action.setData(learner.id)
            action.triggered.connect(lambda _=False, lr=learner: self.switch_to(lr))
            menu.addAction(action)
            actions.append(action)
        if not learners:
            none = menu.addAction("No one is signed in on this computer")
            none.setEnabled(False)
        menu.addSeparator()
        self.sign_in_action = menu.addAction("Sign in as another learner…")
        self.sign_in_action.setToolTip("Sign in someone else; the learners above stay signed in")
        self.sign_in_action.triggered.connect(lambda: self.sign_in_requested.emit("", ""))
        return actions

    def switch_to(self, learner) -> None:
        """Ask for `learner`'s password (the switch dialog); they become current only on proof."""
        current = self.services.current_learner()
        if self.switch_dialog is not None or (current is not None and current.id == learner.id):
            return
        self.about_to_switch.emit()
        self.open_proof(learner.id, locked=False)

    def open_proof(self, learner_id: str | None, *, locked: bool):
        """The dialog that takes a learner's password (to switch, or to continue after the lock)."""
        from desktop.views.switch_dialog import SwitchLearnerDialog  # start-up: only when someone switches

        if self.switch_dialog is not None:
            self.switch_dialog.raise_()
            return self.switch_dialog
        dialog = SwitchLearnerDialog(self.services, self.window(), learner_id=learner_id, locked=locked)
        dialog.switched.connect(self._switched)
        dialog.sign_in_requested.connect(self.sign_in_requested)
        dialog.finished.connect(self._proof_closed)
        self.switch_dialog = dialog
        dialog.open()
        return dialog

    def _switched(self, info) -> None:
        self.switched.emit(info)
        self.events.learner_changed.emit(self)

    def _proof_closed(self) -> None:
        if self.switch_dialog is not None:
            self.switch_dialog.deleteLater()
        self.switch_dialog = None
        self.refresh()
