"""Certificates: `GET /certificates/{id}` (PDF) and `GET /certificates/{id}.json` (signed credential).

The PDF is the learner's: only the learner who earned it can fetch it; anyone else gets the
same 404 as for an id that does not exist. The signed credential is public: a licensing
board checking a certificate has no account here, so it is found only by the certificate's
random 128-bit id, and carries nothing the certificate itself does not show. The PDF prints
(and QR-codes) the absolute URL of the certificate's public verification page
(`/verify/{id}`, creditserver.verify_page), which shows the facts, the checks and the credential.

The absolute URL starts with the server's public address (`create_app(public_url=...)`,
`--public-url`), which defaults to the address the request reached the server at. The PDF is
drawn (creditserver.certificate_pdf) from the record stored at issue time (rule 7);
certificates issued before records held the statements get them from the activity version
they were issued for.

The PDF is rendered once (~150 ms of CPU), when the certificate is issued, and kept in the
certificate's row (`Certificate.pdf`): fetching it is a read, so a thousand learners
fetching at a deadline cost I/O, not a thousand renders. It is rendered just after the
reply to POST /completions, on a thread of its own (PdfRenderer), so a batch of 500 is not
answered 75 s late and its client does not time out and resend it; while completions are
being processed in the same process it waits (10 s at most per PDF), so during a rush the
PDFs do not take the CPU the answers need. A row, not a file in the data
folder: the PDF lives and dies with its certificate in one transaction, and several server
processes (or hosts) sharing one database all see it. A certificate issued before PDFs
were stored is rendered at its first fetch and stored then; two fetches racing keep the
first one stored, so every fetch returns the same bytes. A fetch that comes before the
renderer thread got to the certificate (or after a restart lost its queue) renders it then,
in the same way.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cmecore.protocol import Activity, CertificateRecord, Problem, Profession
from cmecore.rules.claims import statement_for

from .auth import CurrentLearner
from .certificate_pdf import render_pdf
from .db import Database
from .models import ActivityRecord, ActivityVersion, Certificate, Completion, Learner
from .problems import ProblemError

CERT_ID_PATTERN = r"^[0-9a-f]{32}$"
RENDER_YIELD_S = 10.0  # the longest a PDF render waits for the completion batches in flight (PdfRenderer)
RENDER_QUIET_S = 0.5  # and how long none must have been in flight (a rush has gaps between batches)

log = logging.getLogger(__name__)


def public_base_url(request: Request) -> str:
    """The server's public address: the configured one, else the address this request reached."""
    configured = getattr(request.app.state, "public_url", None)
    return (configured or str(request.base_url)).rstrip("/")


VERIFY_PATH = "/verify"  # the public verification pages (creditserver.verify_page), outside API_PREFIX


def verification_url(base_url: str, record: CertificateRecord) -> str:
    """The absolute address of the certificate's public verification page, as printed (and
    QR-coded) on the certificate; `base_url`: the server's public address (public_base_url)."""
    return f"{base_url}{VERIFY_PATH}/{record.id}"


_renders = 0  # PDFs rendered by this process (renders_done)


def renders_done() -> int:
    """How many certificate PDFs this process has rendered (tests and benches: a fetch renders none)."""
    return _renders


def store_pdfs(db: Database, certificate_ids: list[str], base_url: str) -> int:
    """Render and store the PDF of each certificate in `certificate_ids` that has none yet
    (at issue: POST /completions); returns how many were rendered."""
    rendered = 0
    for cert_id in certificate_ids:
        if _stored_pdf(db, cert_id) is None:
            _render_and_store(db, cert_id, base_url)
            rendered += 1
    return rendered


class PdfRenderer:
    """Renders the PDFs of certificates just issued, one after another on a thread of its own
    that runs while there is work (so an idle server holds no thread for it).

    A render costs ~170 ms of CPU, some 40 times the completion that issued it, and the thread shares
    the process's interpreter with the requests: during a rush it waits while any completion
    batch is being processed in this process (`while_issuing`) or was in the last `quiet_s`,
    for at most `yield_s` before each render, so the rush is answered first and the PDFs
    follow when it eases (a fetch before then renders its PDF itself, as after a restart)."""

    def __init__(self, db: Database, yield_s: float = RENDER_YIELD_S, quiet_s: float = RENDER_QUIET_S) -> None:
        self._db = db
        self._yield_s = yield_s
        self._quiet_s = quiet_s
        self._last_issued = 0.0  # time.monotonic() when the last batch in flight ended
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._quiet = threading.Condition(self._lock)
        self._issuing = 0  # completion batches being processed now
        self._pending: deque[tuple[str, str]] = deque()
        self._thread: threading.Thread | None = None

    @contextmanager
    def while_issuing(self) -> Iterator[None]:
        """Around the processing of a completion batch: renders wait until none is left."""
        with self._lock:
            self._issuing += 1
        try:
            yield
        finally:
            with self._lock:
                self._issuing -= 1
                if not self._issuing:
                    self._last_issued = time.monotonic()
                    self._quiet.notify_all()

    def submit(self, certificate_ids: list[str], base_url: str) -> None:
        """Queue the certificates' PDFs for rendering; returns at once."""
        if not certificate_ids:
            return
        with self._lock:
            self._pending.extend((cert_id, base_url) for cert_id in certificate_ids)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="certificate-pdfs", daemon=True)
                self._thread.start()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued PDF is stored (tests, benches); False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: self._thread is None, timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Stop rendering (the server is stopping): what is still queued is dropped — each is
        rendered at its first fetch instead — and the one being rendered is let finish, so no
        render outlives the database. False if that one did not finish within `timeout`."""
        with self._lock:
            self._pending.clear()
            self._quiet.notify_all()
        return self.drain(timeout)

    def _wait_for_quiet(self) -> None:
        """Until no batch has been in flight for quiet_s, or yield_s passed (holding the lock)."""
        deadline = time.monotonic() + self._yield_s
        while self._pending and (now := time.monotonic()) < deadline:
            calm_in = self._quiet_s - (now - self._last_issued)
            if not self._issuing and calm_in <= 0:
                return
            self._quiet.wait(deadline - now if self._issuing else min(deadline - now, calm_in))

    def _run(self) -> None:
        while True:
            with self._lock:
                self._wait_for_quiet()
                if not self._pending:
                    self._thread = None
                    self._idle.notify_all()
                    return
                cert_id, base_url = self._pending.popleft()
            try:
                store_pdfs(self._db, [cert_id], base_url)
            except Exception:  # the thread must go on with the others; the first fetch renders this one
                log.exception("could not render the PDF of certificate %s", cert_id)


def _stored_pdf(db: Database, cert_id: str) -> bytes | None:
    with db.session() as s:
        return s.execute(select(Certificate.pdf).where(Certificate.id == cert_id)).scalar_one_or_none()


def _render_and_store(db: Database, cert_id: str, base_url: str) -> bytes:
    """Render the certificate's PDF and store it unless another request stored one first;
    returns the stored PDF (so racing fetches return the same bytes)."""
    with db.session() as s:
        cert = s.get(Certificate, cert_id)
        assert cert is not None  # certificates are never deleted but with their learner
        record = as_issued(s, cert)
    global _renders
    pdf = render_pdf(record, verification_url(base_url, record))
    _renders += 1
    with db.session() as s:
        s.execute(update(Certificate).where(Certificate.id == cert_id, Certificate.pdf.is_(None)).values(pdf=pdf))
    stored = _stored_pdf(db, cert_id)
    return stored if stored is not None else pdf


def as_issued(s: Session, cert: Certificate) -> CertificateRecord:
    """The certificate's record; one issued before records held the accreditation and credit
    designation statements, the degree and the NABP e-Profile ID gets them from the activity
    version it was issued for and from the completion's claim (never from anything newer)."""
    record = CertificateRecord.model_validate_json(cert.record_json)
    if record.designation_statement is not None:
        return record
    version = s.get(ActivityVersion, (record.activity_id, record.activity_version))
    text = version.json_text if version is not None else None
    if text is None:
        current = s.get(ActivityRecord, record.activity_id)
        text = current.json_text if current is not None and current.version == record.activity_version else None
    update: dict = {}
    if text is not None:
        act = Activity.model_validate_json(text)
        same_type = [st for st in act.accreditation if st.credit_type == record.credit_type]
        statement = statement_for(same_type or act.accreditation, record.profession)
        update.update(accreditation_statement=act.accreditation_statement, signatory=act.signatory)
        if statement is not None:
            update.update(designation_statement=statement.statement, accredited_provider=statement.provider)
    learner = s.get(Learner, cert.learner_id)
    if record.learner_degree is None and learner is not None:
        update["learner_degree"] = learner.degree
    completion = s.get(Completion, cert.completion_id)
    if record.profession == Profession.pharmacist and completion is not None:
        update["nabp_eprofile_id"] = completion.nabp_eprofile_id
    return record.model_copy(update=update)


router = APIRouter(tags=["certificates"])

_404 = {404: {"model": Problem, "description": "No such certificate (or not yours)."}, 401: {"model": Problem}}


def _find(s: Session, learner_id: str | None, certificate_id: str) -> Certificate:
    """The certificate; `learner_id` None: whoever holds the id. Else the same 404 as for no such id."""
    query = select(Certificate).where(Certificate.id == certificate_id)
    if learner_id is not None:
        query = query.where(Certificate.learner_id == learner_id)
    cert = s.execute(query).scalar_one_or_none() if re.fullmatch(CERT_ID_PATTERN, certificate_id) else None
    if cert is None:
        raise ProblemError(404, "No such certificate", detail="There is no certificate with this id for you.")
    return cert


def _json_response(cert: Certificate) -> Response:
    return Response(
        cert.credential_json.encode("utf-8"),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


CertId = Annotated[str, PathParam(description="32 lowercase hex digits; anything else is a 404")]


@router.get("/certificates/{certificate_id}.json", responses={
    200: {"content": {"application/json": {}}}, 404: {"model": Problem, "description": "No such certificate."}})
def get_certificate_json(certificate_id: CertId, request: Request) -> Response:
    """The certificate as a signed Open Badges 3.0 credential (cmecore.credentials.check_credential).

    No sign-in: this is the verification address printed on the certificate."""
    db: Database = request.app.state.db
    with db.session() as s:
        return _json_response(_find(s, None, certificate_id))


@router.get(
    "/certificates/{certificate_id}",
    responses={200: {"content": {"application/pdf": {}, "application/json": {}}}, **_404},
)
def get_certificate(
    certificate_id: CertId,
    request: Request,
    learner: CurrentLearner,
    format: Annotated[str, Query(pattern="^(pdf|json)$")] = "pdf",
) -> Response:
    """The certificate as a PDF (or, with `?format=json`, the signed credential)."""
    db: Database = request.app.state.db
    with db.session() as s:
        cert = _find(s, learner.id, certificate_id)
        if format == "json":
            return _json_response(cert)
        pdf = cert.pdf
    if pdf is None:  # issued before PDFs were stored: render it this once
        pdf = _render_and_store(db, cert.id, public_base_url(request))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="certificate-{cert.id}.pdf"',
            "Cache-Control": "private, no-cache",
        },
    )
