"""The Downloads page's table model: one row per download job (a plain record, no widget
per row), updated in place from the runner's progress events; the Asset column says which
form of a video a job fetches ("Video · Small", "Audio only")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Qt

from cmecore.renditions import QUALITY_LABELS
from desktop.cache.job_state import MOVING_JOB_STATES
from desktop.views.download_widgets import FRACTION_ROLE, format_eta, format_speed
from desktop.views.row_model import RowTableModel
from desktop.views.text import human_bytes

ACTIVE = MOVING_JOB_STATES  # jobs that will still move without the learner's help
UNFINISHED = ("queued", "running", "paused", "failed")
RESTARTABLE = ("paused", "failed", "cancelled")
KIND_NAMES = {"video": "Video", "transcript": "Transcript", "summary": "Summary"}
STATE_NAMES = {
    "queued": "Queued", "running": "Downloading", "paused": "Paused", "done": "Downloaded",
    "failed": "Failed", "cancelled": "Cancelled",
}
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 10


@dataclass
class JobRow:
    id: int
    activity_id: str
    title: str
    kind: str
    size: int
    bytes_done: int
    state: str
    error: str | None
    speed_bps: float = 0.0
    eta_s: float | None = None
    quality: str | None = None  # the form of a video this job fetches (a Quality)

    @property
    def fraction(self) -> float:
        if self.state == "done":
            return 1.0
        return min(1.0, self.bytes_done / self.size) if self.size > 0 else 0.0


class DownloadsModel(RowTableModel):
    ACTIVITY, ASSET, PROGRESS, BYTES, SPEED, ETA, STATE, ERROR = range(8)
    HEADERS = ("Activity", "Asset", "Progress", "Bytes", "Speed", "Time left", "State", "Error")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[JobRow] = []
        self._by_id: dict[int, int] = {}

    # -------------------------------------------------------------- updates

    def set_jobs(self, jobs, titles: dict[str, str]) -> None:
        """Replace every row (JobInfo records); speed and ETA of running jobs are kept."""
        old = {r.id: r for r in self._rows}
        rows = []
        for j in jobs:
            prev = old.get(j.id)
            running = j.state == "running" and prev is not None
            rows.append(JobRow(
                j.id, j.activity_id, titles.get(j.activity_id, j.activity_id), j.kind, j.size,
                max(j.bytes_done, prev.bytes_done) if running else j.bytes_done, j.state, j.error,
                prev.speed_bps if running else 0.0, prev.eta_s if running else None, j.quality,
            ))
        self.beginResetModel()
        self._rows = rows
        self._by_id = {r.id: i for i, r in enumerate(rows)}
        self.endResetModel()

    def apply_event(self, event) -> bool:
        """Update a row from a DownloadEvent; False if the job is not listed yet."""
        i = self._by_id.get(event.job_id)
        if i is None:
            return False
        r = self._rows[i]
        r.bytes_done, r.size, r.state = event.bytes_done, event.size, event.state
        r.speed_bps = event.speed_bps if event.state == "running" else 0.0
        r.eta_s = event.eta_s if event.state == "running" else None
        r.error = event.error
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.HEADERS) - 1))
        return True

    # -------------------------------------------------------------- queries

    def rows(self) -> list[JobRow]:
        return list(self._rows)

    def row_of(self, job_id: int) -> int | None:
        return self._by_id.get(job_id)

    def active_count(self) -> int:
        return sum(r.state in ACTIVE for r in self._rows)

    def unfinished_for(self, activity_id: str) -> int:
        """Jobs of this activity not done yet (paused and failed ones included)."""
        return sum(r.state in UNFINISHED for r in self._rows if r.activity_id == activity_id)

    def progress_by_activity(self) -> dict[str, tuple[int, int]]:
        """Activities with unfinished jobs -> (bytes received, bytes wanted) over those jobs."""
        out: dict[str, tuple[int, int]] = {}
        for r in self._rows:
            if r.state in ("queued", "running", "paused"):
                done, size = out.get(r.activity_id, (0, 0))
                out[r.activity_id] = (done + r.bytes_done, size + r.size)
        return out

    # -------------------------------------------------------------- model API

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col)
        if role == Qt.ItemDataRole.AccessibleTextRole:  # an empty Error cell is read as "No error", not as nothing
            return self._display(r, col) or ("No error" if col == self.ERROR else "—")
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.ERROR:
                return r.error or "No problem"
            if col == self.PROGRESS:
                return f"{r.fraction:.0%} of {human_bytes(r.size)}"
            return self._display(r, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.BYTES, self.SPEED, self.ETA):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == JOB_ID_ROLE:
            return r.id
        if role == FRACTION_ROLE:
            return r.fraction
        return None

    def _display(self, r: JobRow, col: int) -> str:
        if col == self.ACTIVITY:
            return r.title
        if col == self.ASSET:
            return asset_text(r.kind, r.quality)
        if col == self.PROGRESS:
            return f"{r.fraction:.0%}"
        if col == self.BYTES:
            done = r.size if r.state == "done" else r.bytes_done
            return f"{human_bytes(done)} / {human_bytes(r.size)}"
        if col == self.SPEED:
            return format_speed(r.speed_bps) if r.state == "running" else "—"
        if col == self.ETA:
            return format_eta(r.eta_s) if r.state == "running" else "—"
        if col == self.STATE:
            return STATE_NAMES.get(r.state, r.state)
        if col == self.ERROR:
            return r.error or ""
        return ""


def asset_text(kind: str, quality: str | None) -> str:
    """"Transcript", "Video" (the original), "Video · Small", or "Audio only" (the video's sound alone)."""
    name = KIND_NAMES.get(kind, kind.capitalize())
    if quality not in QUALITY_LABELS or quality == "best":
        return name
    return QUALITY_LABELS[quality] if quality == "audio" else f"{name} · {QUALITY_LABELS[quality]}"


def summary_text(rows: list[JobRow]) -> str:
    """The line under the jobs: how many are active (and how much is left), paused, failed."""
    active = [r for r in rows if r.state in ACTIVE]
    paused = sum(r.state == "paused" for r in rows)
    failed = sum(r.state == "failed" for r in rows)
    if not rows:
        return "Nothing to download. Use “Download” in the library, or “Download all”."
    if not active and not paused and not failed:
        return "All downloads finished."
    left = sum(max(0, r.size - r.bytes_done) for r in active)
    parts = [f"{len(active)} active ({human_bytes(left)} to go)"] if active else []
    if paused:
        parts.append(f"{paused} paused")
    if failed:
        parts.append(f"{failed} failed")
    return " · ".join(parts)


class JobChanges:
    """Which activities' downloads changed between two reads of the job list: those whose jobs
    (id, file, state, form; not the bytes received) differ, every activity a changed file
    serves (a file two activities share has one job, under one of them), and those whose files
    the services say changed (`files_changed`, DownloadsService.take_files_changed: a file
    arrived, a form chosen, switched or removed, also by an action that failed part way)."""

    def __init__(self) -> None:
        self._marks: dict[str, frozenset] | None = None  # None: nothing read yet (or other services)

    def forget(self) -> None:
        """Everything may have changed (new services): the next read says None."""
        self._marks = None

    def since_last_read(self, jobs, activities_using: Callable[[set[str]], set[str]],
                        files_changed: set[str] | None = frozenset()) -> frozenset[str] | None:
        """The activities changed since the last call (None: any may have)."""
        marks: dict[str, set] = {}
        for j in jobs:
            marks.setdefault(j.activity_id, set()).add((j.id, j.sha256, j.state, j.quality))
        now = {a: frozenset(v) for a, v in marks.items()}
        before, self._marks = self._marks, now
        if before is None or files_changed is None:
            return None
        empty: frozenset = frozenset()
        moved = {mark for a in now.keys() | before.keys() for mark in now.get(a, empty) ^ before.get(a, empty)}
        if not moved:
            return frozenset(files_changed)
        changed = {a for a in now.keys() | before.keys() if now.get(a) != before.get(a)}
        return frozenset(files_changed | changed | activities_using({sha for _id, sha, _state, _form in moved}))
