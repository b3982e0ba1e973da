"""Global search in the top bar: Ctrl+K, results grouped by activity with bold snippets and
times, Enter opening the activity (at that moment for a transcript hit), stale answers
dropped."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.views.main_window import ACTIVITY, MainWindow
from desktop.views.search_panel import HTML_ROLE, TIME_ROLE, format_time, snippet_html
from tests.support.activities import DEMO_ID


@pytest.fixture
def downloaded(make_services, server):
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    services.acknowledge_disclosures(DEMO_ID)  # rule 1: the content unlocks after the disclosures
    services.enqueue_downloads([DEMO_ID])
    assert services.run_downloads().ok  # transcripts and summaries get indexed on arrival
    return services


@pytest.fixture
def window(qtbot, downloaded):
    w = MainWindow(downloaded)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.sync_finished, timeout=20_000):
        w.show()
    with qtbot.waitActive(w):
        w.activateWindow()
    yield w
    w.close()


def _hits(panel):
    model = panel.popup.model
    out = []
    for g in range(model.rowCount()):
        group = model.index(g, 0)
        for r in range(model.rowCount(group)):
            out.append((group.data(), model.index(r, 0, group)))
    return out


def test_patina_finds_a_transcript_hit_and_enter_opens_the_activity_at_that_moment(qtbot, window, monkeypatch):
    panel = window.search_panel
    assert window.search_edit.isEnabled()
    opened_at = []
    # The Watch tab's open_at (the player engineer's) is stood in for, so this test checks
    # only that the search hands the moment over.
    monkeypatch.setattr(window.activity_page, "open_at", opened_at.append, raising=False)

    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.search_edit.hasFocus()
    with qtbot.waitSignal(panel.results_shown, timeout=5_000) as shown:
        qtbot.keyClicks(window.search_edit, "PATINA")
    assert shown.args[0] == "PATINA" and shown.args[1] >= 4
    assert panel.popup.isVisible()

    hits = _hits(panel)
    groups = {g for g, _ in hits}
    assert len(groups) == 1 and "PATINA" in next(iter(groups))  # grouped under the activity title
    transcript = [i for _, i in hits if i.data(TIME_ROLE) is not None]
    assert transcript, [i.data() for _, i in hits]
    assert re.match(r"\d:\d\d · ", transcript[0].data())  # the time as the transcript writes it (0:42)
    assert "<b>PATINA</b>" in transcript[0].data(HTML_ROLE)
    assert "[" not in transcript[0].data()  # markers are not shown as text
    panel.popup.tree.grab()  # the HTML delegate paints

    # Down until the first transcript hit, then Enter opens it there.
    while panel.current_index().data(TIME_ROLE) is None:
        qtbot.keyClick(window.search_edit, Qt.Key.Key_Down)
    want = panel.current_index().data(TIME_ROLE)
    with qtbot.waitSignal(panel.open_hit) as opened:
        qtbot.keyClick(window.search_edit, Qt.Key.Key_Return)
    assert opened.args == [DEMO_ID, want]
    assert window.stack.currentIndex() == ACTIVITY
    assert window.activity_page.detail.id == DEMO_ID
    assert opened_at == [want]
    assert not panel.popup.isVisible()


def test_ctrl_f_focuses_search_and_double_click_on_a_title_hit_opens_without_a_time(qtbot, window, monkeypatch):
    panel = window.search_panel
    opened_at = []
    monkeypatch.setattr(window.activity_page, "open_at", opened_at.append, raising=False)
    window.library.table.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search_edit.hasFocus()
    with qtbot.waitSignal(panel.results_shown, timeout=5_000):
        qtbot.keyClicks(window.search_edit, "older adults")
    title_hit = next(i for _, i in _hits(panel) if i.data(TIME_ROLE) is None)
    with qtbot.waitSignal(panel.open_hit) as opened:
        panel.popup.tree.doubleClicked.emit(title_hit)
    assert opened.args == [DEMO_ID, None]
    assert window.stack.currentIndex() == ACTIVITY
    assert opened_at == []


def test_stale_results_are_dropped_and_nothing_found_is_said(qtbot, window):
    panel = window.search_panel
    window.search_edit.setFocus()
    qtbot.keyClicks(window.search_edit, "PATINA")
    panel.search_now()  # an answer for "PATINA" is on its way…
    window.search_edit.setText("zzqqxx")  # …but the field moved on
    with qtbot.waitSignal(panel.results_shown, timeout=5_000) as shown:
        panel.search_now()
    assert shown.args == ["zzqqxx", 0]
    from desktop.views.tasks import wait_for_tasks

    assert wait_for_tasks(5_000)
    QApplication.processEvents()  # deliver any late "PATINA" outcome: it must be ignored
    assert panel.hits == []
    assert panel.popup.status.text() == "Nothing found for “zzqqxx”."
    window.search_edit.clear()
    assert not panel.popup.isVisible()


def test_each_hit_says_where_it_is_summaries_by_their_own_title(qtbot, window):
    """The catalog's two summaries arrive by download; each hit names its summary."""
    panel = window.search_panel
    # The window's start may re-index the activity on its worker (a better media length):
    # search once both summaries are in the index, as a learner would find them.
    qtbot.waitUntil(lambda: sum(h.kind == "summary" for h in window.services.search("PATINA")) == 2,
                    timeout=10_000)
    window.search_edit.setFocus()
    with qtbot.waitSignal(panel.results_shown, timeout=5_000):
        qtbot.keyClicks(window.search_edit, "PATINA")
    texts = [i.data() for _, i in _hits(panel)]
    assert any(t.startswith("Title — ") for t in texts), texts
    summaries = {t.split(" — ")[0] for t in texts if t.startswith("Summary")}
    # Named as the Summaries tab names them: by the heading each summary opens with.
    assert summaries == {f"Summary: {title}" for title, _ in window.services.summaries(DEMO_ID)} == {
        "Summary: Key clinical summary: measuring blood pressure at home",
        "Summary: Key clinical summary: what the (fictional) PATINA trial illustrates"}, texts
    assert any(re.match(r"\d:\d\d · ", t) for t in texts)  # transcript hits: their time
    # The place names the summary; the text after it does not say its title again.
    for t in texts:
        if t.startswith("Summary"):
            place, shown = t.split(" — ", 1)
            assert "Key clinical summary" not in shown, t
    for _, item in _hits(panel):
        bold = re.findall(r"<b>(.*?)</b>", item.data(HTML_ROLE))
        assert bold and {b.casefold() for b in bold} == {"patina"}, item.data(HTML_ROLE)


def test_snippet_markup_is_escaped_before_bolding():
    assert snippet_html("a <script>x</script> [hit] & b") == "a &lt;script&gt;x&lt;/script&gt; <b>hit</b> &amp; b"
    assert snippet_html("[open") == "<b>open</b>"
    # The transcript's format (cmecore's clock), one for the player, the transcript and search.
    assert format_time(0) == "0:00"
    assert format_time(75_500) == "1:15"
    assert format_time(3_725_000) == "1:02:05"
    assert format_time(None) == ""


@pytest.fixture
def locked_window(qtbot, downloaded):
    """Dana acknowledged and downloaded; Pat signs in on the same computer and has not."""
    downloaded.sign_in("pharm", "demo")
    w = MainWindow(downloaded)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.sync_finished, timeout=20_000):
        w.show()
    yield w
    w.close()


def test_before_the_disclosures_a_transcript_match_shows_no_text_and_says_when_it_opens(qtbot, locked_window):
    """Rule 1: Pat types a word from the talk; the result names the activity and says the
    content opens after the disclosures, with no snippet and no time; Enter opens the activity."""
    window = locked_window
    panel = window.search_panel
    window.search_edit.setFocus()
    with qtbot.waitSignal(panel.results_shown, timeout=5_000):
        qtbot.keyClicks(window.search_edit, "orthostatic")
    hits = _hits(panel)
    assert [i.data() for _, i in hits] == [
        "Not open yet — Found in its transcript or summaries, which open after you read and "
        "acknowledge the disclosures on the Overview tab."]
    (_, item), = hits
    shown = " ".join(str(item.data(role)) for role in (Qt.ItemDataRole.DisplayRole, HTML_ROLE,
                                                       Qt.ItemDataRole.AccessibleTextRole))
    assert "orthostatic" not in shown.casefold() and item.data(TIME_ROLE) is None
    panel.popup.tree.grab()  # the delegate paints it
    with qtbot.waitSignal(panel.open_hit) as opened:
        qtbot.keyClick(window.search_edit, Qt.Key.Key_Return)
    assert opened.args == [DEMO_ID, None]  # the activity, at its disclosures, not the moment


def test_every_result_row_is_tall_enough_for_its_wrapped_text(qtbot, window):
    """A result that wraps shows its last line: each row is as tall as its text laid out in
    the width the row paints it in (was: measured at 480 px, so the last line was cut)."""
    from PySide6.QtGui import QTextDocument
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

    panel = window.search_panel
    window.search_edit.setFocus()
    with qtbot.waitSignal(panel.results_shown, timeout=5_000):
        qtbot.keyClicks(window.search_edit, "orthostatic")
    tree = panel.popup.tree
    qtbot.waitUntil(lambda: tree.viewport().width() > 300)
    rows = [item for _, item in _hits(panel)]
    assert rows
    for index in rows:
        rect = tree.visualRect(index)
        opt = QStyleOptionViewItem()
        opt.initFrom(tree)
        opt.rect = rect
        text_width = tree.style().subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, tree).width()
        doc = QTextDocument()
        doc.setDefaultFont(tree.font())
        doc.setDocumentMargin(2)
        doc.setHtml(index.data(HTML_ROLE))
        doc.setTextWidth(text_width)
        assert rect.height() >= doc.size().height() - 1, (index.data(), rect.height(), doc.size().height())


def test_results_found_for_one_learner_are_gone_when_another_signs_in(qtbot, window):
    """Dana's results show her transcript; Pat signs in on the same computer: Ctrl+K shows
    none of them, and searching again shows Pat only where the content will open (rule 1)."""
    panel = window.search_panel
    window.search_edit.setFocus()
    with qtbot.waitSignal(panel.results_shown, timeout=5_000):
        qtbot.keyClicks(window.search_edit, "orthostatic")
    assert any(i.data(TIME_ROLE) is not None for _, i in _hits(panel))  # Dana's: the cue at 0:42

    window.services.sign_in("pharm", "demo")
    window.events.learner_changed.emit(None)  # as the sign-in dialog announces it
    assert not panel.popup.isVisible() and panel.hits == []
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert not panel.popup.isVisible() and panel.popup.model.rowCount() == 0
    with qtbot.waitSignal(panel.results_shown, timeout=5_000):
        qtbot.keyClick(window.search_edit, Qt.Key.Key_Return)  # Enter searches what the field holds
    texts = [i.data() for _, i in _hits(panel)]
    assert texts and all(t.startswith("Not open yet") for t in texts), texts
