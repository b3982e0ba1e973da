"""One running app per data dir: a second launch on the same data dir brings the first
window forward and exits, instead of opening a second window on the same cache.

Two processes on one cache would race each other's writer, downloads and sync. The owner
holds a QLockFile in the data dir; QLockFile sees through a lock left by a process that
was killed (its PID is gone) and takes it over, so a crash never blocks the next start.
The owner listens on a local channel whose address is derived from the data dir (hashed,
short, per OS user): a Unix socket in the user's private runtime folder, or a named pipe
on Windows. A launch that cannot take the lock connects, sends one request line (`raise`
and its command line, for the log), waits for the answer and exits 0. Another data dir
has another lock and another address: its own app.

The channel is the standard library's (multiprocessing.connection, bytes only, nothing
unpickled) rather than QtNetwork's QLocalServer: the installed app leaves QtNetwork out
(packaging/cme-offline.spec). Its listener runs on a daemon thread and hands each request
to the GUI thread through a queued signal. The owner starts listening after its first
paint (multiprocessing.connection and the socket layer are ~3 ms of start-up a first
window does not need); a launch meanwhile retries until it answers (ANSWER_TIMEOUT_S).
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QLockFile, QObject, QTimer, Signal

from cmecore.private_files import close_file
from desktop.paths import Paths
from desktop.views import qt_source_reads  # noqa: F401 - Qt's import hook without its source cache

if TYPE_CHECKING:
    from multiprocessing.connection import Connection, Listener

log = logging.getLogger(__name__)

LOCK_FILE = "cme-offline.lock"
RAISE = b"raise"
RAISED = b"raised"
MAX_REQUEST = 64 * 1024
RETRY_S = 0.1
LISTEN_AT_THE_LATEST_MS = 2_000  # listen_after_paint: if no paint came by then (hidden, minimised), listen anyway
ANSWER_TIMEOUT_S = 5.0  # the owner may still be starting: it listens right after its first paint
FAMILY = "AF_PIPE" if sys.platform == "win32" else "AF_UNIX"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def server_name(data_dir: Path) -> str:
    """The channel's name for `data_dir`: the same for every launch by this OS user on this
    folder, different for another folder or user; short enough for a Unix socket path."""
    import hashlib  # start-up speed: OpenSSL's hashlib (~2.5 ms) is needed only once the window has painted

    digest = hashlib.sha256(f"{_user()}\0{Path(data_dir).resolve()}".encode()).hexdigest()[:16]
    return f"cme-offline-{digest}"


def channel_address(data_dir: Path) -> str:
    """Where the owner of `data_dir` listens: a named pipe (Windows) or a socket file in a
    folder only this user can enter (XDG_RUNTIME_DIR, else a 0700 folder in the temp dir)."""
    name = server_name(data_dir)
    if FAMILY == "AF_PIPE":
        return rf"\\.\pipe\{name}"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK):
        folder = Path(runtime)
    else:
        folder = Path(tempfile.gettempdir()) / f"cme-offline-{_user()}"
        folder.mkdir(mode=0o700, exist_ok=True)
        if folder.stat().st_uid != os.getuid() or folder.stat().st_mode & 0o077:
            raise OSError(f"{folder} is not this user's private folder")
    return str(folder / f"{name}.sock")


def lock_owner_pid(data_dir: Path) -> int | None:
    """The PID the lock file in `data_dir` names (None: no lock, or unreadable)."""
    info = QLockFile(str(Path(data_dir) / LOCK_FILE)).getLockInfo()  # PySide6: (pid, hostname, appname)
    values = info if isinstance(info, tuple) else (info,)
    pid = next((v for v in values if isinstance(v, int) and not isinstance(v, bool)), 0)
    return pid or None


class InstanceLock(QObject):
    """This process's claim on a data dir: `acquire()` once, then `listen()` and `answer_with(handler)`."""

    requested = Signal(list)  # a later launch's command line (delivered on the GUI thread)

    def __init__(self, data_dir: Path):
        super().__init__()
        self.data_dir = Path(data_dir)
        self._lock: QLockFile | None = None
        self._listener: Listener | None = None
        self._on_request: Callable[[list[str]], None] | None = None
        self._early: list[list[str]] = []  # requests that came before a window could answer them
        self._painted_widget: QObject | None = None  # listen_after_paint: listening once it has painted
        self.requested.connect(self._deliver)

    def acquire(self) -> bool:
        """Take the data dir; False when a live process holds it.

        A data dir where no lock can be written (read-only, odd file system) is not refused:
        the app runs without the guard and says so in the log.
        """
        Paths(self.data_dir).make_private()
        lock = QLockFile(str(self.data_dir / LOCK_FILE))
        lock.setStaleLockTime(0)  # never stale by age: only a dead owner frees it
        if lock.tryLock(0):
            close_file(self.data_dir / LOCK_FILE)  # Qt creates it with the umask's mode
            self._lock = lock
            return True
        if lock.error() == QLockFile.LockError.LockFailedError:
            return False
        log.warning("no single-instance lock in %s (%s); running without it", self.data_dir, lock.error().name)
        return True

    def owner_pid(self) -> int | None:
        """The PID written in the lock file by its holder (for a message), if readable."""
        return lock_owner_pid(self.data_dir)

    def listen(self) -> None:
        """Answer later launches from now on (on a daemon thread); only while the lock is ours."""
        if self._lock is None:
            return
        from multiprocessing.connection import Listener  # start-up speed: after the first paint

        try:
            address = channel_address(self.data_dir)
            if FAMILY == "AF_UNIX" and os.path.exists(address):
                os.unlink(address)  # left by a killed owner: the lock is ours now, so the socket is too
            self._listener = Listener(address, family=FAMILY)
        except OSError as exc:
            log.warning("later launches cannot reach this window: %s", exc)
            return
        threading.Thread(target=self._serve, args=(self._listener,), name="cme-single-instance",
                         daemon=True).start()

    def listen_after_paint(self, widget: QObject) -> None:
        """`listen()` once `widget` has painted for the first time (or after
        LISTEN_AT_THE_LATEST_MS): the window comes first, a launch meanwhile retries."""
        self._painted_widget = widget
        widget.installEventFilter(self)
        QTimer.singleShot(LISTEN_AT_THE_LATEST_MS, self._listen_once)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if obj is self._painted_widget and event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self._listen_once)  # after this paint has finished
        return False

    def _listen_once(self) -> None:
        if self._painted_widget is None:
            return
        self._painted_widget.removeEventFilter(self)
        self._painted_widget = None
        self.listen()

    def answer_with(self, on_request: Callable[[list[str]], None]) -> None:
        """From now on `on_request(argv)` handles later launches (and any that came before), on the GUI thread."""
        self._on_request = on_request
        early, self._early = self._early, []
        for argv in early:
            on_request(argv)

    def _serve(self, listener: Listener) -> None:  # on the listener thread
        while True:
            try:
                conn = listener.accept()
            except OSError:  # closed at exit
                return
            try:
                self._answer(conn)
            except (OSError, EOFError) as exc:
                log.info("a later launch went away mid-request: %s", exc)
            finally:
                conn.close()

    def _answer(self, conn: Connection) -> None:
        if not conn.poll(ANSWER_TIMEOUT_S):
            return
        words = conn.recv_bytes(MAX_REQUEST).decode("utf-8", "replace").split("\0")
        if words[0] != RAISE.decode():
            return
        log.info("another launch on this data dir asked for this window (%s)", " ".join(words[1:]) or "no arguments")
        conn.send_bytes(RAISED)
        self.requested.emit(words[1:])

    def _deliver(self, argv: list) -> None:  # on the GUI thread
        if self._on_request is None:
            self._early.append(list(argv))
        else:
            self._on_request(list(argv))

    def release(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            try:
                listener.close()  # removes the socket file
            except OSError:
                pass
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None


def ask_owner_to_raise(data_dir: Path, argv: list[str], timeout_s: float = ANSWER_TIMEOUT_S) -> bool:
    """Ask the app that holds `data_dir` to bring its window forward; True once it answered.

    Retries while the owner is still starting (its lock taken, its listener not yet up).
    """
    try:
        address = channel_address(data_dir)
    except OSError as exc:
        log.warning("cannot reach the running app: %s", exc)
        return False
    from multiprocessing.connection import Client  # start-up speed: the owner's first paint needs none of it

    request = "\0".join([RAISE.decode(), *argv]).encode()
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn = Client(address, family=FAMILY)
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(RETRY_S)
            continue
        try:
            conn.send_bytes(request)
            left = max(deadline - time.monotonic(), RETRY_S)
            return conn.poll(left) and conn.recv_bytes(MAX_REQUEST) == RAISED
        except (OSError, EOFError):
            return False
        finally:
            conn.close()
