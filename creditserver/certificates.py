"""Certificates: `GET /certificates/{id}` (PDF) and `GET /certificates/{id}.json` (signed credential).

Only the learner who earned a certificate can fetch it; anyone else gets the same 404 as
for an id that does not exist. The PDF is drawn with fpdf2 from the record stored at
issue time (rule 7: name, provider(s), title, format, completion date, credits claimed
with their type, and for pharmacists the UAN and the CPE Monitor note).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy import select

from cmecore.protocol import CertificateRecord, Problem, Profession

from .auth import CurrentLearner
from .db import Database
from .models import Certificate
from .problems import ProblemError

CERT_ID_PATTERN = r"^[0-9a-f]{32}$"

# A Unicode TrueType font if the system has one (names in any script); otherwise the PDF
# core font Helvetica, which covers Latin-1 only: other characters are transliterated.
_UNICODE_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/arial.ttf",
)


@lru_cache(maxsize=1)
def _unicode_font() -> str | None:
    for candidate in _UNICODE_FONTS:
        if Path(candidate).is_file():
            return candidate
    return None


_LATIN1_SWAPS = {"\u2122": "(TM)", "\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'",
                 "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u00a0": " ", "\u0141": "L", "\u0142": "l",
                 "\u0110": "D", "\u0111": "d", "\u0152": "OE", "\u0153": "oe", "\u0131": "i"}


def _latin1(text: str) -> str:
    out = []
    for ch in text:
        ch = _LATIN1_SWAPS.get(ch, ch)
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


def _credits_line(cert: CertificateRecord) -> str:
    if cert.profession == Profession.pharmacist:
        hours = cert.contact_hours if cert.contact_hours is not None else cert.credits_claimed
        return f"{hours:g} contact hours ({hours / 10:g} CEU) - {cert.credit_type}"
    if cert.contact_hours is not None and "AMA PRA" not in cert.credit_type:
        return f"{cert.contact_hours:g} contact hours - statement of participation ({cert.credit_type})"
    unit = "Credit" if cert.credits_claimed == 1 else "Credits"
    label = cert.credit_type.removesuffix(" Credit").removesuffix(" Credits")
    return f"{cert.credits_claimed:g} {label} {unit}\u2122 claimed" if "AMA PRA" in cert.credit_type else f"{cert.credits_claimed:g} {cert.credit_type} claimed"


def render_pdf(cert: CertificateRecord) -> bytes:
    from fpdf import FPDF  # deferred: start-up speed; fpdf2 is slow to import and only certificate PDFs need it

    pdf = FPDF(orientation="landscape", unit="mm", format="Letter")
    pdf.set_title(f"Certificate - {cert.activity_title}")
    pdf.set_author(" and ".join(cert.providers))
    pdf.set_creator("CME Offline reference credit server")
    pdf.set_auto_page_break(auto=True, margin=15)
    font = _unicode_font()
    if font:
        pdf.add_font("cert", "", font)
        family = "cert"
        fix = str
    else:
        family = "helvetica"
        fix = _latin1
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def line(text: str, size: float, gap: float = 2.0) -> None:
        pdf.set_font(family, size=size)
        pdf.multi_cell(width, size * 0.5, fix(text), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    is_pharm = cert.profession == Profession.pharmacist
    title = "Statement of Credit (receipt)" if is_pharm else (
        "Certificate of Participation" if cert.contact_hours is not None and "AMA PRA" not in cert.credit_type
        else "Certificate of Credit")
    pdf.ln(8)
    line(title, 24, 6)
    line("This certifies that", 12)
    line(cert.learner_name, 20, 4)
    line("has completed the enduring material" if cert.format == "enduring material" else f"has completed the {cert.format}", 12)
    line(cert.activity_title, 16, 4)
    line(f"Format: {cert.format}", 11)
    line(f"Completion date: {cert.completion_date.isoformat()}", 11)
    line(_credits_line(cert), 13, 4)
    if cert.uan:
        line(f"ACPE Universal Activity Number (UAN): {cert.uan}", 11)
    line("Provided by " + " and ".join(cert.providers), 11, 4)
    if cert.cpe_monitor_note:
        line(cert.cpe_monitor_note, 10, 4)
    line(f"Certificate {cert.id} - issued {cert.issued_at.strftime('%Y-%m-%d')} - "
         f"verify the signed copy at {cert.credential_url}", 8)
    return bytes(pdf.output())


router = APIRouter(tags=["certificates"])

_404 = {404: {"model": Problem, "description": "No such certificate (or not yours)."}, 401: {"model": Problem}}


def _load(request: Request, learner_id: str, certificate_id: str) -> Certificate:
    if not re.fullmatch(CERT_ID_PATTERN, certificate_id):
        raise ProblemError(404, "No such certificate", detail="There is no certificate with this id for you.")
    db: Database = request.app.state.db
    with db.session() as s:
        cert = s.execute(
            select(Certificate).where(Certificate.id == certificate_id, Certificate.learner_id == learner_id)
        ).scalar_one_or_none()
    if cert is None:
        raise ProblemError(404, "No such certificate", detail="There is no certificate with this id for you.")
    return cert


def _json_response(cert: Certificate) -> Response:
    return Response(
        cert.credential_json.encode("utf-8"),
        media_type="application/json",
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )


CertId = Annotated[str, PathParam(description="32 lowercase hex digits; anything else is a 404")]


@router.get("/certificates/{certificate_id}.json", responses={200: {"content": {"application/json": {}}}, **_404})
def get_certificate_json(certificate_id: CertId, request: Request, learner: CurrentLearner) -> Response:
    """The certificate as a signed Open Badges 3.0 credential (verify with cmecore.signatures)."""
    return _json_response(_load(request, learner.id, certificate_id))


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
    cert = _load(request, learner.id, certificate_id)
    if format == "json":
        return _json_response(cert)
    record = CertificateRecord.model_validate_json(cert.record_json)
    return Response(
        render_pdf(record),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="certificate-{cert.id}.pdf"',
            "Cache-Control": "private, no-cache",
        },
    )
