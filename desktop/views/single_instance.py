"""One running app per data dir: a second launch on the same data dir brings the first
window forward and exits, instead of opening a second window on the same cache.

Two processes on one cache would race each other's writer, downloads and sync. The owner
holds a QLockFile in the data dir; QLockFile sees through a lock left by a process that
was killed (its PID is gone) and takes it over, so a crash never blocks the next start.
The owner listens on a QLocalServer whose name is derived from the data dir (hashed,
short, per OS user; only this user may connect). A launch that cannot take the lock
connects, sends one request line (`raise`, with its command line for the log), waits for
the answer and exits 0. Another data dir has another lock and another name: its own app.

Threading: everything here runs on the GUI thread (the server answers from the event loop).
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QThread
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

LOCK_FILE = "cme-offline.lock"
RAISE = b"raise"
RAISED = b"raised\n"
RETRY_MS = 100
ANSWER_TIMEOUT_MS = 5_000  # the owner may still be starting: its server listens right after the QApplication exists


def server_name(data_dir: Path) -> str:
    """The local server's name for `data_dir`: the same for every launch by this OS user on
    this folder, different for another folder or user; short enough for a Unix socket path."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    digest = hashlib.sha256(f"{user}\0{Path(data_dir).resolve()}".encode()).hexdigest()[:16]
    return f"cme-offline-{digest}"


def lock_owner_pid(data_dir: Path) -> int | None:
    """The PID the lock file in `data_dir` names (None: no lock, or unreadable)."""
    info = QLockFile(str(Path(data_dir) / LOCK_FILE)).getLockInfo()  # PySide6: (pid, hostname, appname)
    values = info if isinstance(info, tuple) else (info,)
    pid = next((v for v in values if isinstance(v, int) and not isinstance(v, bool)), 0)
    return pid or None


class InstanceLock(QObject):
    """This process's claim on a data dir: `acquire()` once, then `listen(bring_forward)`."""

    def __init__(self, data_dir: Path):
        super().__init__()
        self.data_dir = Path(data_dir)
        self.name = server_name(self.data_dir)
        self._lock: QLockFile | None = None
        self._server: QLocalServer | None = None
        self._on_request: Callable[[list[str]], None] | None = None
        self._early: list[list[str]] = []  # requests that came before a window could answer them

    def acquire(self) -> bool:
        """Take the data dir; False when a live process holds it.

        A data dir where no lock can be written (read-only, odd file system) is not refused:
        the app runs without the guard and says so in the log.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lock = QLockFile(str(self.data_dir / LOCK_FILE))
        lock.setStaleLockTime(0)  # never stale by age: only a dead owner frees it
        if lock.tryLock(0):
            self._lock = lock
            return True
        if lock.error() == QLockFile.LockError.LockFailedError:
            return False
        log.warning("no single-instance lock in %s (%s); running without it", self.data_dir, lock.error().name)
        return True

    def owner_pid(self) -> int | None:
        """The PID written in the lock file by its holder (for a message), if readable."""
        return lock_owner_pid(self.data_dir)

    def listen(self, on_request: Callable[[list[str]], None] | None = None) -> None:
        """Answer later launches; `on_request(argv)` runs for each (set it, or later with `answer_with`)."""
        if self._lock is None:
            return
        self._on_request = on_request
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        QLocalServer.removeServer(self.name)  # a socket file left by a killed owner (we hold the lock now)
        if not server.listen(self.name):
            log.warning("single-instance server %s did not start: %s", self.name, server.errorString())
            return
        server.newConnection.connect(self._accept)
        self._server = server

    def answer_with(self, on_request: Callable[[list[str]], None]) -> None:
        """From now on `on_request(argv)` handles later launches (and any that came before)."""
        self._on_request = on_request
        early, self._early = self._early, []
        for argv in early:
            on_request(argv)

    def _accept(self) -> None:
        while self._server is not None and self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        words = bytes(socket.readLine().data()).decode("utf-8", "replace").strip().split("\0")
        if words[0] != RAISE.decode():
            socket.disconnectFromServer()
            return
        argv = words[1:]
        log.info("another launch on this data dir asked for this window (%s)", " ".join(argv) or "no arguments")
        socket.write(RAISED)
        socket.flush()
        if self._on_request is None:
            self._early.append(argv)
        else:
            self._on_request(argv)

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None


def ask_owner_to_raise(data_dir: Path, argv: list[str], timeout_ms: int = ANSWER_TIMEOUT_MS) -> bool:
    """Ask the app that holds `data_dir` to bring its window forward; True once it answered.

    Retries while the owner is still starting (its lock taken, its server not yet listening).
    """
    name = server_name(data_dir)
    line = "\0".join([RAISE.decode(), *argv]).replace("\n", " ").encode() + b"\n"
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        socket = QLocalSocket()
        socket.connectToServer(name)
        if socket.waitForConnected(RETRY_MS):
            socket.write(line)
            socket.flush()
            left_ms = max(int((deadline - time.monotonic()) * 1000), RETRY_MS)
            answered = socket.waitForReadyRead(left_ms) and bytes(socket.readLine().data()) == RAISED
            socket.disconnectFromServer()
            return answered
        socket.abort()
        if time.monotonic() >= deadline:
            return False
        QThread.msleep(RETRY_MS)
