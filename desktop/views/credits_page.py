"""My credits: totals per credit type (this year and all time), every completion with its
state (waiting to sync / accepted / refused with the server's reason), the certificates
(open, save, print — offline, from the copy kept here), the credit transcript (CSV/PDF)
and checking a certificate file's signature.

Everything is the current learner's (`Services.my_credits`); the window refreshes the page
after each sync and when another learner becomes current.
"""

from __future__ import annotations

from datetime import date
from functools import partial

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import NotSignedIn, CmeError, SessionLocked
from desktop.views import certificate_actions
from desktop.views.certificate_buttons import CertificateButtons
from desktop.views.events import AppEvents
from desktop.views.widgets import plain_label, push_button
from cmecore.rules.wording import credits_text
from desktop.views.learning_text import locked_text, state_text, status_age_text
from desktop.views.row_model import RowTableModel
from desktop.views.tasks import run_task
from desktop.views.theme import tone_color

COLUMNS = ("Date", "Activity", "Credits", "Type", "Status")


class CreditsModel(RowTableModel):
    HEADERS = COLUMNS

    @property
    def rows(self) -> list:
        """CreditRow, newest first."""
        return self._rows

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            values = (f"{r.date:%d %b %Y}", r.title, credits_text(r.credits), r.credit_type,
                      state_text(r.state, r.reason, r.certificate_here))
            return values[col]
        if role == Qt.ItemDataRole.UserRole:  # sort keys
            return (r.date.isoformat(), r.title.lower(), r.credits, r.credit_type, r.state)[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 4 and r.state in ("rejected", "revoked"):
            return tone_color("error")
        return None


class CreditsPage(QWidget):
    refreshed = Signal()

    def __init__(self, services, parent=None, *, events: AppEvents | None = None):
        super().__init__(parent)
        self.services = services
        self.events = events if events is not None else AppEvents(self)
        # Everything here is the current learner's: redraw when the learner or their records change.
        self.events.learner_changed.connect(lambda _source: self.learner_changed())
        self.events.learning_changed.connect(lambda _source: self.refresh())
        self.credits = None
        self.last_verify = None  # the last "Verify a certificate file…" result, this learner's
        self._learner_turn = 0  # +1 on each change of learner: a late answer for the last one is dropped
        self.setAccessibleName("My credits")

        self.totals_label = plain_label("", self, name="Credit totals")
        self.status_label = plain_label("", self, name="How current the revocation status is")
        self.model = CreditsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move inside it)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleName("Completions")
        self.table.setToolTip("Your claims: waiting to sync, accepted (with a certificate), or refused with the reason")
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.certificate = CertificateButtons(self, lambda text: self.message.setText(text),
                                              what="the selected certificate",
                                              none_chosen="Choose an accepted completion first.")
        self.open_button, self.save_button, self.save_json_button, self.print_button = self.certificate.buttons
        self.table.doubleClicked.connect(lambda _i: self.certificate.open())
        button = partial(push_button, self)  # (text, tip, slot)
        self.csv_button = button("Export transcript (CSV)…", "Save every claim and the totals as a CSV file",
                                 lambda: self.export_transcript("csv"))
        self.pdf_button = button("Export transcript (PDF)…", "Save every claim and the totals as a PDF",
                                 lambda: self.export_transcript("pdf"))
        self.verify_button = button("Verify a certificate file…",
                                    "Check a signed certificate file (JSON) against the credit server's key, offline",
                                    self.verify_file)
        self.message = plain_label("", self, name="My credits message")

        other_row = QHBoxLayout()
        for b in (self.csv_button, self.pdf_button, self.verify_button):
            other_row.addWidget(b)
        other_row.addStretch(1)
        v = QVBoxLayout(self)
        v.addWidget(plain_label("My credits", self, name="My credits", heading=True, selectable=False))
        v.addWidget(self.totals_label)
        v.addWidget(self.table, 1)
        v.addWidget(self.status_label)
        v.addLayout(self.certificate.row)
        v.addLayout(other_row)
        v.addWidget(self.message)
        self.refresh()

    def set_services(self, services) -> None:
        self.services = services
        self.learner_changed()

    def learner_changed(self) -> None:
        """Another learner, or none (a switch, a sign-out, the idle lock): nothing of the last
        one's stays on screen (the message, a verify result, the selection), and an export or
        a check still running for them says nothing when it ends."""
        self._learner_turn += 1
        self.message.setText("")
        self.last_verify = None
        self.table.clearSelection()
        self.refresh()

    def _this_learners(self, show):
        """`show`, called only while the learner who asked is still the current one."""
        turn = self._learner_turn
        return lambda result: show(result) if turn == self._learner_turn else None

    # -------------------------------------------------------------- data

    def refresh(self) -> None:
        """Re-read the current learner's credits (offline)."""
        selected = self.selected_row()
        self.credits = None
        note = ""
        if self.services is not None:
            try:
                self.credits = self.services.my_credits()
            except CmeError as exc:
                note = ("Sign in to see your credits." if isinstance(exc, NotSignedIn)
                        and not isinstance(exc, SessionLocked) else locked_text(exc))
        self.model.set_rows(self.credits.rows if self.credits else [])
        if selected is not None:
            self.select_completion(selected.completion_id)  # the same claim stays selected
        self.totals_label.setText(self.totals_text() if self.credits else note)
        has_certificates = bool(self.credits and any(r.certificate_id for r in self.credits.rows))
        self.status_label.setText(status_age_text(self.credits.status_checked_at) if has_certificates else "")
        self.status_label.setVisible(has_certificates)
        signed_in = self.credits is not None
        for b in (self.csv_button, self.pdf_button):
            b.setEnabled(signed_in)
        self.verify_button.setEnabled(self.services is not None)
        self._selection_changed()
        self.refreshed.emit()

    def totals_text(self, today: date | None = None) -> str:
        c = self.credits
        year = (today or date.today()).year
        this_year = {t: v for (t, y), v in c.totals.items() if y == year}

        def line(totals: dict) -> str:
            return "; ".join(f"{credits_text(v)} {t}" for t, v in sorted(totals.items())) or "none yet"

        pending = sum(1 for r in c.rows if r.state == "pending")
        text = f"This year ({year}): {line(this_year)}\nAll time: {line(c.totals_all_time)}"
        if pending:
            text += f"\n{pending} claim{'s' if pending != 1 else ''} waiting to sync (not counted yet)"
        return text

    def selected_row(self):
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.rows[self.proxy.mapToSource(rows[0]).row()]

    def select_completion(self, completion_id: str) -> bool:
        for i, r in enumerate(self.model.rows):
            if r.completion_id == completion_id:
                self.table.selectRow(self.proxy.mapFromSource(self.model.index(i, 0)).row())
                return True
        return False

    def _selection_changed(self, *_args) -> None:
        row = self.selected_row()
        has_cert = bool(row and row.state in ("accepted", "revoked") and row.certificate_id)
        self.certificate.show(self.services, row.certificate_id if has_cert else None,
                              pdf_here=has_cert and row.certificate_here)

    # -------------------------------------------------------------- actions

    def export_transcript(self, fmt: str) -> None:
        label = "CSV (*.csv)" if fmt == "csv" else "PDF (*.pdf)"
        path = certificate_actions.ask_save_path(self, "Export your credit transcript", f"credit-transcript.{fmt}",
                                                 label)
        if not path:
            return
        if not path.lower().endswith(f".{fmt}"):
            path += f".{fmt}"
        services = self.services
        self.message.setText("Exporting…")
        run_task(self, lambda: services.export_credit_transcript(path, fmt),
                 self._this_learners(lambda p: self.message.setText(f"Saved your credit transcript to {p}.")),
                 self._this_learners(lambda exc: self.message.setText(f"Could not export: {locked_text(exc)}")))

    def verify_file(self) -> None:
        path = certificate_actions.ask_open_path(self, "Verify a signed certificate",
                                                 "Signed certificates (*.json);;All files (*)")
        if not path:
            return
        services = self.services
        self.message.setText("Checking…")

        def done(result) -> None:
            self.last_verify = result
            self.message.setText(("✓ " if result.valid else "✗ ") + result.message)

        run_task(self, lambda: services.verify_certificate_file(path), self._this_learners(done),
                 self._this_learners(lambda exc: self.message.setText(f"Could not check the file: {locked_text(exc)}")))
