"""The activity page's Files line follows its own activity's downloads and ignores the rest:
`downloads_changed` names the activities whose jobs changed, so a page showing one activity
re-reads its video forms only when that activity is among them. Real server, real
downloads, the real window; the forms are read through the real services (counted)."""

from __future__ import annotations

import pytest

from desktop.sync.downloads_data import JobInfo
from desktop.views.download_jobs import JobChanges
from desktop.views.main_window import MainWindow
from tests.support.activities import DEMO_ID
from tests.support.media_publish import publish_activity

OTHERS = [f"talk-{n}" for n in range(3)]


class CountedForms:
    """`DownloadsService.video_forms`, counted per activity and then run as it is."""

    def __init__(self, downloads):
        self.calls: list[str] = []
        self._read = downloads.video_forms
        downloads.video_forms = self

    def __call__(self, activity_id: str):
        self.calls.append(activity_id)
        return self._read(activity_id)


@pytest.fixture
def window_with_others(qtbot, server, make_services, tmp_path):
    """The real window, signed in and synced, with the demo and the OTHERS published beside it."""
    for n, activity_id in enumerate(OTHERS):
        publish_activity(server, tmp_path / activity_id, activity_id, video_size=50_000, seed=n + 2)
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    window = MainWindow(services)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.sync_finished, timeout=20_000):
        window.show()
    yield window
    window.close()


def test_other_activities_downloading_leave_the_page_alone_and_its_own_download_updates_it(qtbot, window_with_others):
    window = window_with_others
    page = window.activity_page
    window.open_activity(DEMO_ID)
    assert not any(f.on_machine for f in page.overview.forms)
    reads = CountedForms(window.services.downloads)
    announced = []
    window.events.downloads_changed.connect(lambda _source, ids: announced.append(ids))

    window.downloads_page.download_activities(OTHERS)
    qtbot.waitUntil(lambda: _all_done(window, OTHERS), timeout=60_000)
    qtbot.waitUntil(lambda: any(ids and "talk-2" in ids for ids in announced), timeout=10_000)
    assert announced and all(ids is not None and DEMO_ID not in ids for ids in announced)
    assert DEMO_ID not in reads.calls  # no re-read for the others' downloads

    window.downloads_page.download_activities([DEMO_ID])
    qtbot.waitUntil(lambda: any(f.on_machine for f in page.overview.forms), timeout=60_000)
    assert DEMO_ID in reads.calls  # its own download: read again, and the Files line says it is here


def _all_done(window, activity_ids) -> bool:
    rows = [r for r in window.downloads_page.model.rows() if r.activity_id in activity_ids]
    return bool(rows) and all(r.state == "done" for r in rows)


def test_a_file_two_activities_share_tells_both_and_progress_alone_tells_none():
    """JobChanges names what the jobs show, and adds what DownloadsService.take_files_changed
    says (the one place that knows which activities' files changed with no job to show it)."""
    def job(job_id, activity_id, sha, state, bytes_done=0):
        return JobInfo(job_id, activity_id, "video", sha, 100, bytes_done, state, 1, 0, None, None)

    sharing = {"shared": {"a", "b"}, "own": {"c"}}
    using = lambda shas: set().union(*(sharing[s] for s in shas))  # noqa: E731 (the catalog's answer)
    changes = JobChanges()
    assert changes.since_last_read([job(1, "a", "shared", "queued")], using) is None  # the first read: anything
    assert changes.since_last_read([job(1, "a", "shared", "running", 50)], using) == {"a", "b"}
    assert changes.since_last_read([job(1, "a", "shared", "running", 90)], using) == frozenset()  # bytes only
    # A form chosen for "c" before its job is queued, as the services tell it: no job moved.
    assert changes.since_last_read([job(1, "a", "shared", "running", 95)], using, {"c"}) == {"c"}
    assert changes.since_last_read([job(1, "a", "shared", "done", 100), job(2, "c", "own", "queued")],
                                   using) == {"a", "b", "c"}
    # A file that arrived (a pack, the shared folder) while a job moved: both are named.
    assert changes.since_last_read([job(1, "a", "shared", "done", 100), job(2, "c", "own", "running", 5)],
                                   using, {"d"}) == {"c", "d"}
    assert changes.since_last_read([job(1, "a", "shared", "done", 100)], using, None) is None
