"""What changed, announced once, for every page to hear.

Anki's model (OpChanges + one hook): whatever records a change — a write the learner
asked for, a sync, a sign-in, the download queue — announces it here once, and each page
subscribes and decides for itself whether to redraw. No one fans changes out by hand and
no page reaches into another.

The signals carry the object that made the change (or None), so a page that has already
redrawn for its own change can let the announcement pass.

    catalog_changed    activities or their files changed (a sync brought news, a video
                       was removed, a content pack was imported)
    learner_changed    who is signed in or current changed (sign-in, sign-out, switch,
                       idle sign-out, another server or Services)
    learning_changed   the current learner's records changed (acknowledgement, attempt,
                       evaluation, claim, or a sync delivered claims and certificates)
    downloads_changed  the download queue changed (jobs added, paused, resumed, finished);
                       a second argument names the activities whose jobs or forms changed
                       (a frozenset; None: any may have), so a page showing one activity
                       re-reads only when it is among them
    connection_changed the credit server became reachable (True) or not (False), as the
                       last request to it showed, whoever made it (carries the bool, not a
                       source: the connection is nobody's doing)

Every signal is emitted on the GUI thread. `AppEvents.of(widget)` finds a window's events
for a part built before it could be handed them (the status bar).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget


class AppEvents(QObject):
    catalog_changed = Signal(object)  # the source (the widget that made the change) or None
    learner_changed = Signal(object)
    learning_changed = Signal(object)
    downloads_changed = Signal(object, object)  # the source, the activity ids changed (None: any)
    connection_changed = Signal(bool)  # online

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.setObjectName("app-events")

    @staticmethod
    def of(widget: QWidget) -> AppEvents | None:
        """The events of `widget`'s window (None if its window has none)."""
        return widget.window().findChild(AppEvents, "app-events", Qt.FindChildOption.FindDirectChildrenOnly)
