"""The status bar's permanent line: online or not, last sync, who is signed in, downloads
and completions waiting, storage used; and, in red, the last sync problem.

Only text from a `Status` (Services.status) and what the window knows (a sync running,
this session's failure); the short form of a problem comes from views/text.short_error.

Online/offline follows the app's `connection_changed` at once (the last request to the
server, whoever made it; "Not yet contacted" before any request to the current server),
without waiting for the window to read a whole new Status; and
a failure to reach the server is not shown beside "● Online": once a request gets through
it is no longer true.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QLabel, QStatusBar

from desktop.errors import ServerUnreachable
from desktop.views.accessibility import announce
from desktop.views.events import AppEvents
from desktop.views.text import human_bytes, relative_time, short_error
from desktop.views.theme import set_tone


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


class StatusLine:
    def __init__(self, bar: QStatusBar, events: AppEvents | None = None):
        """`events`: whose `connection_changed` to follow (default: the bar's window's)."""
        bar.setAccessibleName("Status")
        bar.setSizeGripEnabled(True)

        def label(name: str, tip: str) -> QLabel:
            lab = QLabel(bar)
            lab.setAccessibleDescription(name)  # a screen reader reads the text itself
            lab.setToolTip(tip)
            return lab

        self.status_label = label("Status", "Connection · last sync · who is signed in · storage used")
        self.error_label = label("Sync problem", "The last sync problem")
        set_tone(self.error_label, "error")
        # Permanent widgets stay visible while a passing message (e.g. "Downloaded: …") shows.
        bar.addPermanentWidget(self.error_label, 1)
        bar.addPermanentWidget(self.status_label)
        self.shown: tuple | None = None  # the last show()'s Status and what the window said with it
        self.spoken: tuple | None = None  # what was last announced: connection, claims waiting, problem
        events = events if events is not None else AppEvents.of(bar)
        if events is not None:
            events.connection_changed.connect(self.show_connection)

    def show_connection(self, online: bool) -> None:
        """The server became reachable or not: redraw the last status with that alone changed."""
        if self.shown is not None:
            st, how = self.shown
            self.show(replace(st, online=online), **how)

    def show(self, st, *, syncing: bool, downloads_pending: int, session_error: str | None,
             session_exc: BaseException | None) -> None:
        self.shown = (st, {"syncing": syncing, "downloads_pending": downloads_pending,
                           "session_error": session_error, "session_exc": session_exc})
        if st.online is True and isinstance(session_exc, ServerUnreachable):
            session_error, session_exc = None, None  # a request got through since: no longer true
        parts = []
        if st.online is True:
            parts.append("● Online")
        elif st.online is False:
            parts.append("○ Offline")
        elif st.server_url is not None:  # no request to this server yet (since start, or since its address changed)
            parts.append("Not yet contacted")
        if syncing:
            parts.append("Syncing…")
        elif st.last_sync_at is None:
            parts.append("Not yet synced")
        else:
            parts.append(f"last synced {relative_time(st.last_sync_at)}")
        if st.server_url is None:
            parts.append("No server set")
        elif st.learner:
            parts.append(st.learner.display_name or st.learner.username)
        else:
            parts.append("Not signed in")
        if downloads_pending:
            parts.append(f"{plural(downloads_pending, 'download')} pending")
        if st.pending_completions:
            parts.append(f"{plural(st.pending_completions, 'completion')} waiting to sync")
        parts.append(f"{human_bytes(st.storage_bytes)} used")
        self.status_label.setText(" · ".join(parts))
        synced = f"Last synced {st.last_sync_at:%Y-%m-%d %H:%M} UTC" if st.last_sync_at else "Never synced"
        self.status_label.setToolTip(f"{synced}. Server: {st.server_url or 'none set'}.")
        error = session_error or st.last_error
        exc = session_exc if session_error else None
        code = None if session_error else st.last_error_code
        if st.online is True and not session_error and code == ServerUnreachable.code:
            error = None  # the stored "not reachable" is from before a request got through
        self.error_label.setText(f"⚠ {short_error(error, exc, code)}" if error else "")
        self.error_label.setToolTip(error or "No sync problem")
        self.error_label.setAccessibleDescription(error or "No sync problem")  # read when the label is empty
        self._announce(st, syncing, self.error_label.text())

    def _announce(self, st, syncing: bool, problem: str) -> None:
        """Say a change of connection, of claims waiting or of the problem shown (not the clock)."""
        spoken = (st.online, st.pending_completions, problem)
        if syncing or spoken == self.spoken:
            return
        first, self.spoken = self.spoken is None, spoken
        if not first:
            announce(self.status_label, problem or self.status_label.text(), urgent=bool(problem))

    def text(self) -> str:
        """The status bar as one line, as a user reads it."""
        error = self.error_label.text()
        return self.status_label.text() + (f" · {error}" if error else "")
