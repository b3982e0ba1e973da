"""The certificate finisher: signs the credentials and renders the PDFs of the certificates
POST /completions stored unfinished (creditserver/signing.py), after the answer.

A rush is answered first: the finisher's thread waits while completion batches are being
processed in this process (`while_issuing`) or were in the last `quiet_s`, but a certificate
never waits for a quiet moment longer than `finish_within_s` after it was issued, so under
steady load it is finished all the same. Credentials are signed first (~2 ms of CPU each),
PDFs rendered after (~50–120 ms each): after a large rush every credential is signed within
seconds while the PDFs take minutes, and with more certificates issued than one core renders
the PDFs fall behind.

A PDF fetched before the finisher rendered it is rendered by the fetch when the server is
quiet (a learner alone gets it at once). While the finisher is busy (`pdf_wait`: batches in
flight, or a backlog it will not clear within `SOON_S`) the fetch is told to come back
instead (503 `certificate-not-ready` with Retry-After, creditserver/certificates.py): in a
deadline rush every desktop fetches its new certificates right after delivery, and
rendering them on the request path would spend the CPU the rush needs (~50 ms each).

Several processes share the database (`serve --workers`), so a certificate is claimed before
it is finished: an UPDATE that only matches a row still unfinished and claimed by nobody (or
by someone whose claim lapsed, `claim_s`, as a killed process's does), on SQLite and
PostgreSQL alike. A process finishes what it issued; at start, and every `claim_s` while it
runs, it also takes up any unfinished certificate nobody holds: those of a process that was
killed or stopped before it got to them. Whatever asks for a credential or a PDF before the
finisher got to it makes it then (signing.signed_credential_json, the PDF route), so nothing
ever waits on this thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update

from .certificates import rendered_pdf
from .db import Database
from .keys import ServerKey
from .models import Certificate
from .signing import Pending, sign_pending, signed_credential_json

FINISH_WITHIN_S = 30.0  # the longest a certificate waits for a quiet moment before it is finished anyway
QUIET_S = 0.5  # how long no batch must have been in flight (a rush has gaps between batches)
CLAIM_S = 60.0  # a finisher's claim on a certificate; one left by a killed process lapses then
SWEEP_S = CLAIM_S  # how often a running finisher looks for certificates nobody finishes
FAILED_PAUSE_S = 1.0  # after a step failed (the database restarting): no spinning, no flood of log lines
SOON_S = 2.0  # with no batch in flight, a backlog the finisher clears within this lets a fetch render its PDF
RENDER_S = 0.1  # one PDF's render time (s) until this process has measured its own
SIGN_S = 0.003  # one credential's signature (s)
LONGEST_WAIT_S = 600  # the longest Retry-After given for a PDF being prepared

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def claim(db: Database, certificate_id: str, claim_s: float = CLAIM_S) -> bool:
    """Take the certificate to finish it: True if it is unfinished and nobody else holds it."""
    now = _now()
    with db.session() as s:
        taken = s.execute(update(Certificate).where(
            Certificate.id == certificate_id, Certificate.pending_json.is_not(None),
            or_(Certificate.finishing_until.is_(None), Certificate.finishing_until < now),
        ).values(finishing_until=now + timedelta(seconds=claim_s)))
        return taken.rowcount == 1


def finish(db: Database, key: ServerKey, certificate_id: str, claim_s: float = CLAIM_S) -> bool:
    """Sign the certificate's credential and render its PDF, whichever is not made yet, then
    mark it finished. False: it was finished already, or another finisher holds it."""
    if not claim(db, certificate_id, claim_s):
        return False
    try:
        with db.session() as s:
            text, unsigned, unrendered = s.execute(
                select(Certificate.pending_json, Certificate.credential_json.is_(None), Certificate.pdf.is_(None))
                .where(Certificate.id == certificate_id)).one()
        pending = Pending.from_json(text)
        signed = sign_pending(key, pending) if unsigned else None
        pdf = rendered_pdf(db, certificate_id, pending.base_url) if unrendered else None
    except BaseException:
        with db.session() as s:  # let another finisher (or the next sweep) take it at once
            s.execute(update(Certificate).where(Certificate.id == certificate_id).values(finishing_until=None))
        raise
    with db.session() as s:  # one write; what a fetch stored meanwhile is kept
        s.execute(update(Certificate).where(Certificate.id == certificate_id).values(
            credential_json=func.coalesce(Certificate.credential_json, signed),
            pdf=func.coalesce(Certificate.pdf, pdf),
            pending_json=None, finishing_until=None))
    return True


def unfinished(db: Database, *, issued_before: datetime | None = None, limit: int | None = None) -> list[str]:
    """Certificates nobody is finishing (issued before `issued_before`), oldest first (the
    partial index ix_certificates_unfinished)."""
    now = _now()
    with db.session() as s:
        query = (select(Certificate.id).where(
            Certificate.pending_json.is_not(None),
            Certificate.issued_at < (issued_before or now),
            or_(Certificate.finishing_until.is_(None), Certificate.finishing_until < now),
        ).order_by(Certificate.issued_at))
        return list(s.execute(query.limit(limit) if limit else query).scalars())


class CertificateFinisher:
    """The finisher of one server process: a thread that runs from `start` to `close` and
    finishes the certificates submitted (those this process issued) and, every `sweep_s`,
    those nobody finishes (module docstring)."""

    def __init__(self, db: Database, key: ServerKey, *, finish_within_s: float = FINISH_WITHIN_S,
                 quiet_s: float = QUIET_S, claim_s: float = CLAIM_S, sweep_s: float = SWEEP_S) -> None:
        self._db = db
        self._key = key
        self._finish_within_s = finish_within_s
        self._quiet_s = quiet_s
        self._claim_s = claim_s
        self._sweep_s = sweep_s
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # work came, a batch ended, or closing
        self._idle = threading.Condition(self._lock)
        self._issuing = 0  # completion batches being processed now
        self._last_issued = 0.0  # time.monotonic() when the last batch in flight ended
        # (certificate id, when it is due at the latest): credentials to sign first (~2 ms
        # each), then certificates to finish (the PDF, ~50–120 ms), so a backlog of PDFs after
        # a rush does not keep the credentials unsigned.
        self._to_sign: deque[tuple[str, float]] = deque()
        self._queue: deque[tuple[str, float]] = deque()
        self._queued: set[str] = set()
        self._working = False
        self._closing = False
        self._next_sweep = 0.0  # at once: what a killed or stopped process left
        self._thread: threading.Thread | None = None
        self._render_s = RENDER_S  # a moving average of this finisher's finish steps (pdf_wait)
        self.finished = 0  # certificates this finisher finished (tests, benches)

    def start(self) -> CertificateFinisher:
        with self._lock:
            if self._thread is None and not self._closing:
                self._working = True  # its first sweep: drain() waits for it
                self._thread = threading.Thread(target=self._run, name="certificate-finisher", daemon=True)
                self._thread.start()
        return self

    @contextmanager
    def while_issuing(self) -> Iterator[None]:
        """Around the processing of a completion batch: finishing waits until none is left
        (or a certificate is due)."""
        with self._lock:
            self._issuing += 1
        try:
            yield
        finally:
            with self._lock:
                self._issuing -= 1
                if not self._issuing:
                    self._last_issued = time.monotonic()
                    self._changed.notify_all()

    def submit(self, certificate_ids: list[str]) -> None:
        """Queue certificates just issued; returns at once."""
        due = time.monotonic() + self._finish_within_s
        with self._lock:
            for cert_id in certificate_ids:
                if cert_id not in self._queued:
                    self._queued.add(cert_id)
                    self._to_sign.append((cert_id, due))
            self._changed.notify_all()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until everything queued is finished (tests, benches); False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._to_sign and not self._queue and not self._working, timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Stop (the server is stopping): what is still queued stays unfinished in the
        database, for the next start or the first fetch; the one being finished is let
        finish, so nothing outlives the database. False if it did not within `timeout`."""
        with self._lock:
            self._closing = True
            self._to_sign.clear()
            self._queue.clear()
            self._queued.clear()
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def pdf_wait(self, certificate_id: str, issued_at: datetime) -> int | None:
        """None when a fetch may render this certificate's PDF now: no batch is in flight
        and this finisher's backlog is cleared within SOON_S. Else the seconds (1 to
        LONGEST_WAIT_S) until the finisher will likely have rendered it: the work queued
        ahead of it at this process's measured pace (one not queued here, as another
        worker's, is taken to be behind a backlog like this one), and while batches are in
        flight at least until it is due (`finish_within_s` after `issued_at`), since the
        finisher waits for a quiet moment until then."""
        with self._lock:
            if self._closing or self._thread is None or not self._thread.is_alive():
                return None  # no finisher to wait for: the fetch renders it
            signing = len(self._to_sign) * SIGN_S
            backlog = signing + (len(self._to_sign) + len(self._queue)) * self._render_s
            if not self._issuing and backlog <= SOON_S:
                return None
            ahead = len(self._queue) + len(self._to_sign)
            if certificate_id in self._queued:
                ids = [cert_id for cert_id, _due in (*self._queue, *self._to_sign)]
                ahead = ids.index(certificate_id) if certificate_id in ids else 0
            wait = signing + (ahead + 1) * self._render_s
            if self._issuing:
                issued = issued_at if issued_at.tzinfo else issued_at.replace(tzinfo=UTC)
                due_in = (issued + timedelta(seconds=self._finish_within_s) - _now()).total_seconds()
                wait = max(wait, due_in)
        return max(1, min(LONGEST_WAIT_S, math.ceil(wait)))

    def _next(self) -> tuple[str, str] | None:
        """The next step, once it is quiet or its certificate is due (holding the lock):
        ("sweep", ""), ("sign", id) or ("finish", id); None: closing."""
        while not self._closing:
            now = time.monotonic()
            if now >= self._next_sweep:
                return "sweep", ""
            calm = not self._issuing and now - self._last_issued >= self._quiet_s
            for kind, queue in (("sign", self._to_sign), ("finish", self._queue)):
                if queue and (calm or now >= queue[0][1]):
                    cert_id, due = queue.popleft()
                    if kind == "sign":
                        self._queue.append((cert_id, due))  # then its PDF
                    else:
                        self._queued.discard(cert_id)
                    return kind, cert_id
            dues = [q[0][1] for q in (self._to_sign, self._queue) if q]
            if not dues:
                self._idle.notify_all()
            wake = min([*dues, self._next_sweep])
            if dues and not self._issuing:
                wake = min(wake, self._last_issued + self._quiet_s)
            self._changed.wait(max(0.0, wake - now))
        return None

    def _run(self) -> None:
        while True:
            with self._lock:
                self._working = False
                step = self._next()
                if step is None:
                    self._idle.notify_all()
                    return
                self._working = True
            kind, cert_id = step
            try:
                if kind == "sweep":
                    self._sweep()
                elif kind == "sign":
                    signed_credential_json(self._db, self._key, cert_id)
                else:
                    started = time.monotonic()
                    if finish(self._db, self._key, cert_id, self._claim_s):
                        self.finished += 1
                        with self._lock:  # the pace pdf_wait estimates with
                            self._render_s += 0.2 * (time.monotonic() - started - self._render_s)
            except Exception:  # the thread must go on with the others; a fetch or the next sweep makes this one
                log.exception("could not %s certificate %s", kind, cert_id)
                with self._lock:
                    if not self._closing:
                        self._changed.wait(FAILED_PAUSE_S)

    def _sweep(self) -> None:
        """Queue the unfinished certificates nobody holds: at start all of them, later
        those issued over `finish_within_s` ago (the process that issued a newer one finishes
        it). They wait for a quiet moment like any other (at most `finish_within_s`): after a
        crash in a rush the restarted workers answer the re-sent batches first."""
        with self._lock:  # the next sweep is set first: a failing query must not be asked again at once
            later = self._next_sweep > 0
            self._next_sweep = time.monotonic() + self._sweep_s
        found = unfinished(self._db, issued_before=_now() - timedelta(seconds=self._finish_within_s) if later else None)
        due = time.monotonic() + self._finish_within_s
        with self._lock:
            for cert_id in found:  # after what is queued: the queue stays in order of due time
                if cert_id not in self._queued:
                    self._queued.add(cert_id)
                    self._to_sign.append((cert_id, due))
