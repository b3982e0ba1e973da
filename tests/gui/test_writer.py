"""One writer for every write to the local store from the GUI: one at a time, in the order
asked, off the GUI thread; at close the Watch tab's last place is written after the writes
already waiting and before the cache closes."""

from __future__ import annotations

import logging
import threading

import pytest
from PySide6.QtWidgets import QWidget

from desktop.config import Paths
from desktop.errors import RuleError
from desktop.services import Services
from desktop.views.activity.page import WATCH_TAB
from desktop.views.main_window import MainWindow, end_session
from desktop.views.tasks import discard_writes, pending_writes, run_task, run_write, wait_for_writes
from tests.player.demo_media import SERVER_URL, install_demo

pytestmark = pytest.mark.gui


def recorder(log: list, name: str, gate: threading.Event | None = None):
    """A write that notes its name, its thread and how many writes were running with it."""
    running = []

    def write():
        running.append(name)
        if gate is not None:
            assert gate.wait(10)
        log.append((name, threading.current_thread() is threading.main_thread(), len(running)))
        running.remove(name)
        return name

    return write


def test_writes_from_every_widget_run_one_at_a_time_in_the_order_asked(qtbot):
    assessment, credit = QWidget(), QWidget()
    qtbot.addWidget(assessment)
    qtbot.addWidget(credit)
    gate, ran, delivered = threading.Event(), [], []
    run_write(assessment, recorder(ran, "answer 1", gate), delivered.append)
    run_write(credit, recorder(ran, "evaluation draft"), delivered.append)
    run_write(assessment, recorder(ran, "answer 2"), delivered.append)
    assert pending_writes() == 3 and pending_writes(assessment) == 2 and pending_writes(credit) == 1
    assert ran == []  # the first holds the writer; the others wait behind it
    gate.set()
    qtbot.waitUntil(lambda: len(delivered) == 3, timeout=10_000)
    assert [name for name, _gui, _n in ran] == ["answer 1", "evaluation draft", "answer 2"]
    assert delivered == ["answer 1", "evaluation draft", "answer 2"]
    assert not any(on_gui for _name, on_gui, _n in ran)  # never on the GUI thread
    assert all(n == 1 for _name, _gui, n in ran)  # never two at once
    assert pending_writes() == 0


def test_a_widget_that_moves_on_drops_only_its_own_writes_not_yet_started(qtbot):
    old_activity, other = QWidget(), QWidget()
    qtbot.addWidget(old_activity)
    qtbot.addWidget(other)
    began, gate, ran, delivered = threading.Event(), threading.Event(), [], []

    def running_write():
        began.set()
        assert gate.wait(10)
        return "running"

    run_write(old_activity, running_write, delivered.append)
    qtbot.waitUntil(began.is_set, timeout=10_000)
    run_write(old_activity, recorder(ran, "not started"), delivered.append)
    run_write(other, recorder(ran, "another widget's"), delivered.append)
    assert discard_writes(old_activity) == 1
    assert pending_writes(old_activity) == 1  # the running one finishes
    gate.set()
    qtbot.waitUntil(lambda: len(delivered) == 2, timeout=10_000)
    assert delivered == ["running", "another widget's"]
    assert [name for name, _gui, _n in ran] == ["another widget's"]
    assert pending_writes() == 0


def test_at_close_the_last_place_is_written_after_the_waiting_writes_and_before_the_cache_closes(
    qtbot, tmp_path, monkeypatch
):
    from desktop.media.player import probe_libvlc

    if probe_libvlc():
        pytest.skip(probe_libvlc())
    services = Services(Paths(tmp_path / "data"), server_url=SERVER_URL)
    activity_id = install_demo(services)
    order = []
    save, close = services.save_watch_progress, services.close

    def recording_save(activity, position_ms, *rest):
        order.append(("save", position_ms, threading.current_thread() is threading.main_thread()))
        return save(activity, position_ms, *rest)

    def recording_close():
        order.append(("close", pending_writes(), threading.current_thread() is threading.main_thread()))
        close()

    monkeypatch.setattr(services, "save_watch_progress", recording_save)
    monkeypatch.setattr(services, "close", recording_close)
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.owned_services.append(services)  # end_session closes it, as run_gui does
    window.show()
    window.open_activity(activity_id)
    tab = window.activity_page.watch_tab
    window.activity_page.tabs.setCurrentIndex(WATCH_TAB)
    tab.player.set_rate(2.0)
    with qtbot.waitSignal(tab.player.playing_changed, timeout=5_000):
        tab.play()
    qtbot.waitUntil(lambda: tab.player.position_ms() >= 1_500, timeout=5_000)

    gate = threading.Event()
    run_write(None, lambda: gate.wait(10) and order.append(("earlier write", None, False)))
    window.close()  # pauses and queues the last place behind the earlier write
    last = tab.place.queued
    assert last is not None and last.position_ms >= 1_500
    assert ("earlier write", None, False) not in order
    gate.set()
    end_session(window)

    names = [name for name, *_ in order]
    assert names[-1] == "close" and order[-1][1] == 0  # nothing left to write when the cache closes
    after = names.index("earlier write")
    saves = [o for o in order[after:] if o[0] == "save"]
    assert saves and saves[-1][1] == last.position_ms  # the last place, after the earlier write
    assert not any(on_gui for name, _pos, on_gui in order if name == "save")  # off the GUI thread
    reopened = Services(Paths(tmp_path / "data"), server_url=SERVER_URL)
    try:
        assert reopened.watch_progress(activity_id).position_ms == last.position_ms
    finally:
        reopened.close()


def test_a_failure_from_the_error_tree_is_reported_any_other_exception_is_logged_as_a_bug(qtbot, caplog):
    owner = QWidget()
    qtbot.addWidget(owner)
    seen = []

    def raising(exc):
        def fn():
            raise exc
        return fn

    with caplog.at_level(logging.ERROR, logger="desktop.views.tasks"):
        for exc in (RuleError("Not now.", "attempt"), ValueError("a bug, not a message for the learner")):
            task = run_task(owner, raising(exc), None, seen.append)
            qtbot.waitUntil(lambda task=task: task.delivered, timeout=5_000)
    assert [type(e) for e in seen] == [RuleError, ValueError]  # both reach the view's on_error
    bugs = [r for r in caplog.records if r.getMessage() == "background task raised"]
    assert [r.exc_info[0] for r in bugs] == [ValueError]
