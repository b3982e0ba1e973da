"""Global search: the top bar's field and a results popup grouped by activity.

Typing starts a search 200 ms after the last key, on the task pool (`Services.search`);
an answer to an older query than the field now holds is dropped. Results are a tree:
one item per activity, its hits below it, each with where it is ("Title", "Description",
"Summary: <its title>", the time in the video for a transcript hit, or "Not open yet" for
a transcript or summary the learner may not read before the disclosures) and its snippet
(the matched words in bold: the text is HTML-escaped first, then the cache's `[`/`]`
markers become <b>). Near spellings of a typed word come after exact matches and say so
in their tooltip. Enter or double-click opens the activity —
at that moment for a transcript hit. Up/Down move through the results while the cursor
stays in the field; Esc closes the popup. The highlighted result is the tree's selection,
and a screen reader is told the result count and each result the arrows reach (announce):
the focus never leaves the field.
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, QPoint, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QPalette, QStandardItem, QStandardItemModel, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QLabel,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from cmecore.transcripts.cues import clock
from desktop.errors import ContentLocked
from desktop.views.accessibility import announce
from desktop.views.tasks import run_task

log = logging.getLogger(__name__)

DEBOUNCE_MS = 200
MIN_CHARS = 2
SNIPPET_OPEN, SNIPPET_CLOSE = "[", "]"  # desktop.cache.search's markers (views do not import the cache)

ACTIVITY_ROLE = Qt.ItemDataRole.UserRole + 20
TIME_ROLE = Qt.ItemDataRole.UserRole + 21
HTML_ROLE = Qt.ItemDataRole.UserRole + 22
KIND_ROLE = Qt.ItemDataRole.UserRole + 23

# ContentLocked.code (services/library.py KIND_LOCKED): a transcript or summary match the learner
# may not read yet (rule 1); its snippet is the sentence saying when it opens, never the text.
KIND_LABELS = {"title": "Title", "description": "Description", "summary": "Summary", "transcript": "Transcript",
               ContentLocked.code: "Not open yet"}


def hit_place(hit) -> str:
    """Where in the activity a hit is: "Title", "Description", "Summary: <its title>", or
    the time in the video for a transcript hit."""
    if hit.kind == "transcript" and hit.time_ms is not None:
        return format_time(hit.time_ms)
    label = KIND_LABELS.get(hit.kind, hit.kind.capitalize())
    return f"{label}: {hit.label}" if hit.kind == "summary" and hit.label else label


def format_time(ms: int | None) -> str:
    """A transcript hit's start as the transcript writes it (m:ss; `clock`); "" for none."""
    return "" if ms is None else clock(ms)


def snippet_html(snippet: str) -> str:
    """Escape the text, then turn the match markers into bold (never trust the text)."""
    escaped = html.escape(snippet, quote=False)
    out, depth = [], 0
    for ch in escaped:
        if ch == SNIPPET_OPEN and depth == 0:
            out.append("<b>")
            depth = 1
        elif ch == SNIPPET_CLOSE and depth == 1:
            out.append("</b>")
            depth = 0
        else:
            out.append(ch)
    if depth:
        out.append("</b>")
    return "".join(out).replace("\n", " ")


def snippet_plain(snippet: str) -> str:
    return snippet.replace(SNIPPET_OPEN, "").replace(SNIPPET_CLOSE, "").replace("\n", " ")


class HtmlDelegate(QStyledItemDelegate):
    """Paints an item's HTML_ROLE (escaped text + <b>) as rich text; else the default."""

    def _document(self, option, index) -> QTextDocument | None:
        markup = index.data(HTML_ROLE)
        if markup is None:
            return None
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(2)
        doc.setHtml(markup)
        width = option.rect.width() if option.rect.width() > 0 else 480
        doc.setTextWidth(width)
        return doc

    def paint(self, painter, option, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        doc = self._document(opt, index)
        if doc is None:
            super().paint(painter, option, index)
            return
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        opt.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        doc.setTextWidth(text_rect.width())
        ctx = QAbstractTextDocumentLayout.PaintContext()
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        ctx.palette.setColor(QPalette.ColorRole.Text, opt.palette.color(role))
        painter.save()
        painter.translate(text_rect.topLeft())
        painter.setClipRect(QRectF(0, 0, text_rect.width(), text_rect.height()))
        doc.documentLayout().draw(painter, ctx)
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        doc = self._document(opt, index)
        if doc is None:
            return super().sizeHint(option, index)
        doc.setTextWidth(self._text_width(opt, index))  # wrap as paint will, or a last line is cut
        return QSize(int(doc.idealWidth()), int(doc.size().height()))

    @staticmethod
    def _text_width(opt: QStyleOptionViewItem, index) -> int:
        """The width paint lays the text out in: the tree's row, less its indentation and the
        style's text margins (a tree asks sizeHint without the row's rectangle)."""
        view = opt.widget
        if not isinstance(view, QTreeView):
            return opt.rect.width() if opt.rect.width() > 0 else 480
        depth, parent = 0, index.parent()
        while parent.isValid():
            depth, parent = depth + 1, parent.parent()
        row = QStyleOptionViewItem(opt)
        row.rect = QRect(0, 0, view.viewport().width() - depth * view.indentation(), 1000)
        return view.style().subElementRect(QStyle.SubElement.SE_ItemViewItemText, row, view).width()


class SearchPopup(QFrame):
    """The results list under the search field; never takes the keyboard focus."""

    activated = Signal(QModelIndex)

    def __init__(self, parent: QWidget):
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Search results")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.model = QStandardItemModel(self)
        self.tree = QTreeView(self)
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setItemsExpandable(False)
        self.tree.setUniformRowHeights(False)
        self.tree.setWordWrap(True)
        self.tree.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setAccessibleName("Search results")
        self.tree.setToolTip("Enter or double-click opens the activity (at that moment for transcript hits)")
        self.tree.setItemDelegate(HtmlDelegate(self.tree))
        self.tree.doubleClicked.connect(self.activated)
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setAccessibleName("Search status")
        self.status.setToolTip("How many results were found")
        v = QVBoxLayout(self)
        v.setContentsMargins(2, 2, 2, 2)
        v.addWidget(self.tree, 1)
        v.addWidget(self.status)


class SearchPanel(QObject):
    """Drives the top bar's QLineEdit: debounced background search, results popup, open."""

    open_hit = Signal(str, object)  # activity id, time in ms (None: not a transcript hit)
    results_shown = Signal(str, int)  # the query, how many hits

    def __init__(self, services, edit: QLineEdit, parent: QWidget, events=None):
        super().__init__(parent)
        self.services = services
        self.edit = edit
        self._generation = 0
        self._shown_query: str | None = None
        self.hits: list = []
        edit.setEnabled(True)
        edit.setClearButtonEnabled(True)
        edit.setToolTip("Search titles, summaries and transcripts (Ctrl+K or Ctrl+F); Enter opens the result")
        self.popup = SearchPopup(parent)
        self.popup.activated.connect(self._open_index)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.search_now)
        edit.textEdited.connect(self._typed)
        edit.textChanged.connect(self._changed)
        edit.installEventFilter(self)
        if events is not None:  # another learner: what the last one found is theirs (rule 1)
            events.learner_changed.connect(lambda _source: self.forget_results())

    def set_services(self, services) -> None:
        self.services = services
        self._generation += 1
        self.hide_popup()

    def forget_results(self) -> None:
        """Drop the results shown and any search on its way: they were found for the learner
        who was current then, whose acknowledged disclosures opened transcripts to them."""
        self.timer.stop()
        self._generation += 1
        self._clear()
        self.hide_popup()

    # -------------------------------------------------------------- focus

    def focus(self) -> None:
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()
        if self.model_has_results():
            self.show_popup()

    # -------------------------------------------------------------- searching

    def _typed(self, _text: str) -> None:
        self.timer.start()

    def _changed(self, text: str) -> None:
        if not text.strip():
            self.timer.stop()
            self._generation += 1
            self._clear()
            self.hide_popup()

    def search_now(self) -> None:
        self.timer.stop()
        query = self.edit.text().strip()
        self._generation += 1
        generation = self._generation
        if len(query) < MIN_CHARS:
            self._clear()
            self.hide_popup()
            return
        services = self.services
        run_task(
            self.edit,
            lambda: services.search(query),
            lambda hits: self._results(generation, query, hits),
            lambda exc: self._failed(generation, query, exc),
        )

    def _results(self, generation: int, query: str, hits) -> None:
        if generation != self._generation:
            return  # the field changed since: a newer search is on its way
        self.hits = list(hits)
        self._fill(query, self.hits)
        self.results_shown.emit(query, len(self.hits))

    def _failed(self, generation: int, query: str, exc: BaseException) -> None:
        if generation != self._generation:
            return
        log.warning("search for %r failed: %s", query, exc)
        self.hits = []
        self._fill(query, [])
        self.popup.status.setText("The search failed. Try other words.")
        self.results_shown.emit(query, 0)

    def _clear(self) -> None:
        self.hits = []
        self._shown_query = None
        self.popup.model.clear()

    def _fill(self, query: str, hits) -> None:
        model = self.popup.model
        model.clear()
        self._shown_query = query
        groups: dict[str, QStandardItem] = {}
        for hit in hits:
            group = groups.get(hit.activity_id)
            if group is None:
                group = QStandardItem(hit.activity_title)
                font = group.font()
                font.setBold(True)
                group.setFont(font)
                group.setData(f"<b>{html.escape(hit.activity_title)}</b>", HTML_ROLE)  # wraps, never "…"
                group.setData(hit.activity_id, ACTIVITY_ROLE)
                group.setData(None, TIME_ROLE)
                group.setToolTip(f"Open “{hit.activity_title}”")
                group.setAccessibleText(f"Activity: {hit.activity_title}")
                model.appendRow(group)
                groups[hit.activity_id] = group
            when = format_time(hit.time_ms) if hit.kind == "transcript" else ""
            place = hit_place(hit)
            prefix = f"{place} · " if when else f"{place} — "
            item = QStandardItem(prefix + snippet_plain(hit.snippet))
            item.setData(f"<span>{html.escape(prefix)}</span>{snippet_html(hit.snippet)}", HTML_ROLE)
            item.setData(hit.activity_id, ACTIVITY_ROLE)
            item.setData(hit.time_ms if hit.kind == "transcript" else None, TIME_ROLE)
            item.setData(hit.kind, KIND_ROLE)
            similar = " (a similar spelling of what you typed)" if hit.near else ""
            item.setToolTip(
                f"Transcript at {when}{similar} — Enter opens the video there" if when
                else "Enter opens the activity, where its disclosures are" if hit.kind == ContentLocked.code
                else f"{place}{similar} — Enter opens the activity"
            )
            item.setAccessibleText(f"{place}{similar}: {snippet_plain(hit.snippet)}")
            group.appendRow(item)
        tree = self.popup.tree
        tree.expandAll()
        n_acts = len(groups)
        if hits:
            self.popup.status.setText(
                f"{len(hits)} result{'s' * (len(hits) != 1)} in {n_acts} activit{'y' if n_acts == 1 else 'ies'}"
            )
            first = model.index(0, 0)
            first_hit = model.index(0, 0, first) if model.rowCount(first) else first
            self._highlight(first_hit)
        else:
            self.popup.status.setText(f"Nothing found for “{query}”.")
        self.show_popup()
        announce(self.popup.status, self.popup.status.text())  # the popup never takes the focus

    def model_has_results(self) -> bool:
        return self._shown_query is not None

    # -------------------------------------------------------------- popup

    def show_popup(self) -> None:
        edit = self.edit
        width = max(edit.width(), 480)
        pos = edit.mapToGlobal(QPoint(edit.width() - width, edit.height()))
        screen = edit.screen().availableGeometry() if edit.screen() is not None else None
        if screen is not None and pos.x() < screen.left():
            pos.setX(screen.left())
        self.popup.setGeometry(pos.x(), pos.y(), width, 360)
        self.popup.show()
        self.popup.raise_()
        self.popup.tree.doItemsLayout()  # rows' heights for the width they now have (they wrap)

    def hide_popup(self) -> None:
        self.popup.hide()

    def current_index(self) -> QModelIndex:
        """The highlighted result: the tree's selection, not its current index (Qt tells
        screen readers a view's current item is focused, and the focus is in the field)."""
        selected = self.popup.tree.selectionModel().selectedIndexes()
        return selected[0] if selected else QModelIndex()

    def _highlight(self, index: QModelIndex) -> None:
        tree = self.popup.tree
        tree.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        tree.scrollTo(index)

    def _move(self, step: int) -> None:
        tree = self.popup.tree
        if not self.popup.model.rowCount():
            return
        if not self.popup.isVisible():
            self.show_popup()
        current = self.current_index()
        nxt = tree.indexBelow(current) if step > 0 else tree.indexAbove(current)
        if not current.isValid():
            nxt = self.popup.model.index(0, 0)
        if nxt.isValid():
            self._highlight(nxt)
            # The cursor stays in the field: say the result the arrow moved to.
            announce(tree, nxt.data(Qt.ItemDataRole.AccessibleTextRole) or nxt.data())

    def open_current(self) -> bool:
        if self.timer.isActive() or (self.edit.text().strip() and self._shown_query != self.edit.text().strip()):
            self.search_now()  # Enter before the results came: search now; Enter again opens
            return False
        return self._open_index(self.current_index())

    def _open_index(self, index: QModelIndex) -> bool:
        if not index.isValid():
            return False
        activity_id = index.data(ACTIVITY_ROLE)
        time_ms = index.data(TIME_ROLE)
        if activity_id is None:
            return False
        self.hide_popup()
        self.open_hit.emit(activity_id, time_ms)
        return True

    def eventFilter(self, obj, event) -> bool:
        if obj is self.edit:
            etype = event.type()
            if etype == QEvent.Type.KeyPress:
                key = event.key()
                if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                    self._move(1 if key == Qt.Key.Key_Down else -1)
                    return True
                if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                    self.open_current()
                    return True
                if key == Qt.Key.Key_Escape and self.popup.isVisible():
                    self.hide_popup()
                    return True
            elif etype == QEvent.Type.FocusOut:
                QTimer.singleShot(150, self._hide_if_unfocused)
        return False

    def _hide_if_unfocused(self) -> None:
        if not self.edit.hasFocus() and not self.popup.underMouse():
            self.hide_popup()
