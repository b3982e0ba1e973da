"""Sending claims without being asked: at once when one is made, and as soon as the server
can be reached again after it could not.

A claim is a learner's finished work; it should not sit on this computer for the 15
minutes until the next timed sync, nor until someone presses "Sync now" after the network
came back. The courier is one background thread that sleeps until there is something to do:

- `deliver_soon()` (a claim was just written): send what is due now, unless the server
  is known to be unreachable (then the return of the server sends it).
- `online_changed(False)` (a request got no reply at all, sync/http.py): probe the server with a
  cheap request, first after `first_probe_s`, doubling up to `last_probe_s`, until one
  gets through. A probe that gets through flips the connection back online by itself
  (every request reports, sync/http.py), which is the next point.
- `online_changed(True)` after being offline, whoever's request found the server again:
  send every waiting claim, even those backing off after a failed try (`catch_up`).
- `fetch_later(seconds)` (the server is still preparing a certificate, a deadline rush):
  run one delivery (`fetch_waiting`, which fetches the missing certificates) no earlier than
  that, bounded by `longest_wait_s`, so the certificate arrives by itself, without waiting
  for the timed sync. An earlier one already set stands (it asks again, and sets the next).

What to call is given by the caller (services/syncing.py), so this module knows threads
and timing only. `stop()` ends the thread between two steps; a request under way runs to
its end (its own timeout) on a daemon thread that never keeps the process alive.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from desktop.errors import CmeError

log = logging.getLogger(__name__)

FIRST_PROBE_S = 5.0  # the first probe after a request failed on the network
LAST_PROBE_S = 60.0  # probes double up to this: the server is found within a minute of its return
CERTIFICATE_WAIT_S = 30.0  # a certificate being prepared, when the server gave no Retry-After
SHORTEST_CERTIFICATE_WAIT_S = 5.0  # never sooner: each try is a whole delivery (the learner's list, the PDFs)
LONGEST_WAIT_S = 600.0  # a longer Retry-After is waited this long (the timed sync also asks)


class Courier:
    def __init__(
        self,
        *,
        is_online: Callable[[], bool | None],
        probe: Callable[[], object],
        deliver_due: Callable[[], object],
        catch_up: Callable[[], object],
        fetch_waiting: Callable[[], object],
        first_probe_s: float | None = None,
        last_probe_s: float | None = None,
        longest_wait_s: float | None = None,
    ):
        self.is_online = is_online
        self.probe = probe
        self.deliver_due = deliver_due
        self.catch_up = catch_up
        self.first_probe_s = first_probe_s if first_probe_s is not None else FIRST_PROBE_S
        self.last_probe_s = max(self.first_probe_s, last_probe_s if last_probe_s is not None else LAST_PROBE_S)
        self.fetch_waiting = fetch_waiting
        self.longest_wait_s = longest_wait_s if longest_wait_s is not None else LONGEST_WAIT_S
        self.probes = 0  # probes made (for tests and diagnostics)
        self._later_at: float | None = None  # time.monotonic() of the fetch_later asked for
        self._wake = threading.Condition()
        self._stopping = False
        self._due = False  # a claim was written: send what is due
        self._back = False  # the server was found again: send everything waiting
        self._was_offline = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ told from outside (any thread)

    def start(self) -> None:
        if self._thread is None:
            self._was_offline = self.is_online() is False
            self._thread = threading.Thread(target=self._run, name="cme-courier", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 1.0) -> None:
        """End the thread; waits at most `timeout_s` for a step under way."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def deliver_soon(self) -> None:
        with self._wake:
            self._due = True
            self._wake.notify_all()

    def fetch_later(self, seconds: float | None) -> None:
        """Fetch the certificates being prepared no earlier than `seconds` from now (None: the
        server gave no Retry-After), at least SHORTEST_CERTIFICATE_WAIT_S and at most
        `longest_wait_s`; an earlier one already set stands."""
        asked = CERTIFICATE_WAIT_S if seconds is None else max(SHORTEST_CERTIFICATE_WAIT_S, seconds)
        wait = min(self.longest_wait_s, asked)
        at = time.monotonic() + wait
        with self._wake:
            if self._later_at is None or at < self._later_at:
                self._later_at = at
            self._wake.notify_all()

    def online_changed(self, online: bool) -> None:
        with self._wake:
            if not online:
                self._was_offline = True
            elif self._was_offline:
                self._was_offline = False
                self._back = True
            self._wake.notify_all()

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        delay = self.first_probe_s
        while True:
            with self._wake:
                while not self._has_work():
                    self._wake.wait(self._until_later())
                if self._stopping:
                    return
                online = self.is_online() is not False
                back, due, later = self._back, self._due, self._later_is_due()
                self._back = self._due = False
                if back or (later and online):  # either step below fetches the certificates too
                    self._later_at = None
            if back:
                delay = self.first_probe_s
                self._step("sending the waiting claims", self.catch_up)
            elif later and online:
                self._step("fetching the certificates being prepared", self.fetch_waiting)
            elif due and online:
                self._step("sending a new claim", self.deliver_due)
            elif self.is_online() is False:
                if self._wait_to_probe(delay):
                    return
                if self.is_online() is False:
                    self.probes += 1
                    if not self._step("probing the server", self.probe):
                        delay = min(delay * 2, self.last_probe_s)

    def _has_work(self) -> bool:
        return self._stopping or self._back or self._due or self.is_online() is False or self._later_is_due()

    def _later_is_due(self) -> bool:
        return self._later_at is not None and time.monotonic() >= self._later_at

    def _until_later(self) -> float | None:
        return None if self._later_at is None else max(0.0, self._later_at - time.monotonic())

    def _wait_to_probe(self, delay: float) -> bool:
        """Sleep `delay` unless told something first; True when told to stop."""
        with self._wake:
            self._wake.wait_for(lambda: self._stopping or self._back or self._due or self.is_online() is not False,
                                timeout=delay)
            return self._stopping

    def _step(self, what: str, call: Callable[[], object]) -> bool:
        """Run one step; False if it failed (a failure is the network's or the server's, and
        the connection state and the outbox already record it)."""
        try:
            call()
            return True
        except CmeError as exc:
            log.info("%s failed: %s", what, exc)
        except Exception:  # never let the thread die: the next step may work
            if not self._stopping:
                log.exception("%s failed", what)
        return False
