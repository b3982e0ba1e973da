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

The PDF is rendered once (~50–120 ms of CPU; the fonts are parsed once per process,
certificate_fonts.py), after the certificate is issued, and kept in the certificate's row
(`Certificate.pdf`): fetching it is a read, so a thousand learners fetching at a deadline
cost I/O, not a thousand renders. The server's finisher
(creditserver/finishing.py) renders it just after the reply to POST /completions, with the
credential's proof, once the rush is answered. A PDF fetched before then is rendered by the
fetch when the server is quiet; during a rush (`CertificateFinisher.pdf_wait`) the fetch
is answered 503 `certificate-not-ready` with a Retry-After instead, so the rush's CPU is not
spent on renders the finisher will make anyway (the desktop fetches again then). A row, not a file in the data folder: the
PDF lives and dies with its certificate in one transaction, and several server processes
(or hosts) sharing one database all see it. A fetch that comes before the finisher got to
the certificate (or of one issued before PDFs were stored) renders it then and stores it;
two fetches racing keep the first one stored, so every fetch returns the same bytes. The
credential, likewise, is signed by whichever comes first, the finisher or a fetch
(creditserver/signing.py): no one is ever given an unsigned one.
"""

from __future__ import annotations

import re
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
from .problems import CERTIFICATE_NOT_READY, ProblemError
from .signing import credential_of

CERT_ID_PATTERN = r"^[0-9a-f]{32}$"


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


def _stored_pdf(db: Database, cert_id: str) -> bytes | None:
    with db.session() as s:
        return s.execute(select(Certificate.pdf).where(Certificate.id == cert_id)).scalar_one_or_none()


def rendered_pdf(db: Database, cert_id: str, base_url: str) -> bytes:
    """The certificate's PDF, rendered now (not stored: the caller stores it)."""
    with db.session() as s:
        cert = s.get(Certificate, cert_id)
        assert cert is not None  # certificates are never deleted but with their learner
        record = as_issued(s, cert)
    global _renders
    pdf = render_pdf(record, verification_url(base_url, record))
    _renders += 1
    return pdf


def render_and_store_pdf(db: Database, cert_id: str, base_url: str) -> bytes:
    """Render the certificate's PDF and store it unless another request stored one first;
    returns the stored PDF (so racing fetches return the same bytes)."""
    pdf = rendered_pdf(db, cert_id, base_url)
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


def _json_response(request: Request, cert: Certificate) -> Response:
    """The signed credential (one not signed yet is signed now: creditserver/signing.py)."""
    credential = credential_of(request.app.state.db, request.app.state.signing_key, cert)
    return Response(
        credential.encode("utf-8"),
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
        cert = _find(s, None, certificate_id)
    return _json_response(request, cert)


@router.get(
    "/certificates/{certificate_id}",
    responses={200: {"content": {"application/pdf": {}, "application/json": {}}}, **_404,
               503: {"model": Problem, "description": "The PDF is still being prepared (a rush): ask again after "
                                                      "Retry-After seconds."}},
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
        pdf = cert.pdf if format != "json" else None
        finishing = pdf is None and cert.pending_json is not None  # else issued before PDFs were stored
    if format == "json":
        return _json_response(request, cert)
    if pdf is None:
        # Only a certificate the finisher will render is left to it; one issued before PDFs
        # were stored is rendered now (no finisher ever picks it up).
        wait = request.app.state.finisher.pdf_wait(cert.id, cert.issued_at) if finishing else None
        if wait is not None:  # a rush: the finisher renders it (module docstring)
            raise ProblemError(
                503, "The certificate is still being prepared", type=CERTIFICATE_NOT_READY,
                detail=f"The server is busy; the certificate's PDF should be ready in about {wait} seconds "
                       "(an estimate). Ask again after Retry-After.", headers={"Retry-After": str(wait)})
        pdf = render_and_store_pdf(db, cert.id, public_base_url(request))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="certificate-{cert.id}.pdf"',
            "Cache-Control": "private, no-cache",
        },
    )
