"""The public verification page: `GET /verify/{id}`, what a licensing board opens from the
URL or QR code printed on a certificate.

A board, an employer or a credentialing office has no account here, so the page needs no
sign-in; only the certificate's random 128-bit id finds it. It says what the certificate
certifies (the learner's name, the activity, the credit, the date, the accredited provider:
what the PDF shows, never the learner's username or email) and whether the signed credential
checks out: is its signature valid, and is the certificate still active (not revoked). The
signed credential itself is one link away (`/verify/{id}.json`, `?format=json`, or
`Accept: application/json`) for those who check it with their own tools.

Every check the page makes is behind one function, `certificate_check` (OB 3.0 proof and the
server's own revocation list, through status_lists.check_issued): the page only shows
its verdict. Everything shown is escaped (a learner's name is text, never markup) and the
page loads nothing: one inline stylesheet, allowed by its hash in the Content-Security-Policy.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from cmecore.credentials import FORM_UNKNOWN, CredentialCheck
from cmecore.protocol import API_PREFIX, CertificateRecord, Problem
from cmecore.rules.wording import credit_type_text

from .certificate_pdf import certificate_text
from .certificates import CERT_ID_PATTERN, VERIFY_PATH, CertId, as_issued, public_base_url, verification_url
from .db import Database
from .models import Certificate
from .problems import ProblemError
from .signing import credential_of
from .status_lists import check_issued

# ---------------------------------------------------------------- the check


def certificate_check(request: Request, certificate_id: str, credential_json: str) -> CredentialCheck:
    """The one place the verification page checks anything: the stored credential's form,
    its signature against this server's key, and its status in this server's own revocation
    list (status_lists.check_issued: read from the database, not fetched). Never raises for
    a malformed or tampered document: that is simply not valid."""
    try:
        doc = json.loads(credential_json)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return CredentialCheck(form=FORM_UNKNOWN, signature_valid=False,
                               reason="The stored credential cannot be read.")
    return check_issued(request.app.state.db, request.app.state.signing_key, certificate_id, doc)


# ---------------------------------------------------------------- the routes

router = APIRouter(tags=["verification"])

_JSON_TYPES = ("application/json", "application/ld+json", "application/vc+ld+json")


def wants_json(accept: str) -> bool:
    """Whether an Accept header prefers the credential's JSON to the HTML page (by q-value;
    a tie, or no preference, is the page)."""
    best_json = best_html = 0.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                q = float(value) if re.fullmatch(r"\s*(0(\.\d{0,3})?|1(\.0{0,3})?)\s*", value) else 0.0
        media = media.lower()
        if media in _JSON_TYPES:
            best_json = max(best_json, q)
        elif media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, q)
    return best_json > best_html


def _stored(request: Request, certificate_id: str) -> tuple[Certificate, CertificateRecord] | None:
    if not re.fullmatch(CERT_ID_PATTERN, certificate_id):
        return None
    db: Database = request.app.state.db
    with db.session() as s:
        cert = s.execute(select(Certificate).where(Certificate.id == certificate_id)).scalar_one_or_none()
        return None if cert is None else (cert, as_issued(s, cert))


def _credential(request: Request, cert: Certificate) -> str:
    """The signed credential (one not signed yet is signed now: creditserver/signing.py)."""
    return credential_of(request.app.state.db, request.app.state.signing_key, cert)


def _credential_response(request: Request, certificate_id: str) -> Response:
    found = _stored(request, certificate_id)
    if found is None:
        raise ProblemError(404, "No such certificate", detail="There is no certificate with this id.")
    return Response(_credential(request, found[0]).encode("utf-8"), media_type="application/json",
                    headers={"Cache-Control": "no-cache", "Vary": "Accept", "Access-Control-Allow-Origin": "*"})


_NOT_FOUND = {404: {"model": Problem, "description": "No such certificate (an HTML page, or a problem for JSON)."}}


# HEAD too (link checkers and the preview a phone's QR scanner shows ask with HEAD first),
# left out of the OpenAPI document, where it would repeat the GET's operation id.
@router.head(VERIFY_PATH + "/{certificate_id}.json", include_in_schema=False)
@router.get(VERIFY_PATH + "/{certificate_id}.json", responses={200: {"content": {"application/json": {}}}, **_NOT_FOUND})
def verify_json(certificate_id: CertId, request: Request) -> Response:
    """The certificate's signed credential, as stored at issue. No sign-in."""
    return _credential_response(request, certificate_id)


@router.head(VERIFY_PATH + "/{certificate_id}", include_in_schema=False)
@router.get(VERIFY_PATH + "/{certificate_id}", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}, "application/json": {}}}, **_NOT_FOUND})
def verify_page(
    certificate_id: CertId,
    request: Request,
    format: Annotated[str | None, Query(pattern="^(html|json)$")] = None,
) -> Response:
    """The public verification page of a certificate (HTML; no sign-in). `?format=json` or an
    Accept header that prefers JSON gives the signed credential instead."""
    if format == "json" or (format is None and wants_json(request.headers.get("accept", ""))):
        return _credential_response(request, certificate_id)
    found = _stored(request, certificate_id)
    if found is None:
        return _html(not_found_html(), 404)
    cert, record = found
    base = public_base_url(request)
    return _html(page_html(record, certificate_check(request, cert.id, _credential(request, cert)), base))


# ---------------------------------------------------------------- the page

STYLE = """
:root { color-scheme: light; }
body { margin: 0; background: #f4f5f7; color: #1b1b1b; font: 1.0625rem/1.55 system-ui, -apple-system,
       "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 44rem; margin: 2rem auto; padding: 1.5rem 2rem; background: #fff;
       border: 1px solid #d5d8de; border-radius: 6px; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; color: #1c3460; }
h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; color: #1c3460; }
.verdict { padding: .75rem 1rem; border-left: .4rem solid; font-weight: 600; }
.valid { background: #e8f5ec; border-color: #1e7a3c; }
.invalid { background: #fdecea; border-color: #b3261e; }
dl { display: grid; grid-template-columns: minmax(9rem, max-content) 1fr; gap: .35rem 1rem; margin: 0; }
dt { font-weight: 600; color: #454a54; }
dd { margin: 0; overflow-wrap: anywhere; }
a { color: #1a4fa0; }
a:focus { outline: 3px solid #f2b01e; outline-offset: 2px; }
.small { font-size: .9rem; color: #454a54; overflow-wrap: anywhere; }
footer { max-width: 44rem; margin: 0 auto 2rem; padding: 0 2rem; font-size: .85rem; color: #555; }
@media (max-width: 36rem) { main { margin: 0; border: 0; padding: 1rem; } dl { grid-template-columns: 1fr; }
                            dd { margin-bottom: .5rem; } }
""".strip()

_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")
HEADERS = {
    # Nothing but the inline stylesheet: no script, no image, no frame, no form.
    "Content-Security-Policy": f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # a revocation shows at the next look
    "Vary": "Accept",
}


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _document(title: str, main: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<main>\n{main}\n</main>\n"
        "<footer>Checked by the credit server that issued this certificate (CME Offline reference credit server)."
        "</footer>\n</body>\n</html>\n"
    )


def _rows(rows: list[tuple[str, str]]) -> str:
    return "<dl>\n" + "\n".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows if v) + "\n</dl>"


def verdict_text(check: CredentialCheck) -> tuple[bool, str, str, str]:
    """(valid, the verdict, the signature line, the status line): words, never colour alone."""
    if check.signature_valid:
        signature = "\u2713 Valid: signed by this server, unchanged since it was issued."
    else:
        signature = f"\u2717 Not valid. {check.reason}"
    if check.revoked:  # the reason, unless it is the signature's, said above
        status = f"\u2717 Revoked. {check.reason if check.signature_valid else ''}".strip()
    else:
        status = "\u2713 Active: no revocation is recorded for this certificate."
    valid = check.signature_valid and not check.revoked
    if valid:
        verdict = "\u2713 This certificate is valid."
    elif not check.signature_valid:
        verdict = "\u2717 This certificate could not be verified: its signature is not valid."
    else:
        verdict = "\u2717 This certificate has been revoked."
    return valid, verdict, signature, status


def page_html(record: CertificateRecord, check: CredentialCheck, base_url: str) -> str:
    """The verification page of a certificate (`base_url`: the server's public address)."""
    page_url = verification_url(base_url, record)
    t = certificate_text(record, page_url)
    valid, verdict, signature, status = verdict_text(check)
    facts = [
        ("Learner", t.learner),
        ("Activity", record.activity_title),
        ("Credit", t.credits),
        ("Credit type", credit_type_text(record.credit_type)),
        ("Completed on", record.completion_date.isoformat()),
        ("Format", record.format),
        ("Accredited provider", record.accredited_provider or ""),
        ("Provided by", " and ".join(record.providers)),
        ("UAN", record.uan or ""),  # pharmacists
        ("Certificate", record.id),
        ("Issued", record.issued_at.strftime("%Y-%m-%d")),
    ]
    checks = [("Signature", signature), ("Status", status), ("Credential form", check.form)]
    json_url, keys_url = f"{page_url}.json", f"{base_url}{API_PREFIX}/keys"
    main = (
        "<h1>Certificate verification</h1>\n"
        f'<p class="verdict {"valid" if valid else "invalid"}" role="status">{_e(verdict)}</p>\n'
        '<section aria-labelledby="certifies">\n<h2 id="certifies">What this certificate certifies</h2>\n'
        f"{_rows(facts)}\n</section>\n"
        '<section aria-labelledby="checks">\n<h2 id="checks">Checks</h2>\n'
        f"{_rows(checks)}\n</section>\n"
        '<section aria-labelledby="credential">\n<h2 id="credential">The signed credential</h2>\n'
        f'<p><a href="{_e(json_url)}" type="application/json">Download the signed credential (JSON)</a>, '
        "an Open Badges 3.0 credential, to check it with your own tools; the server's public key is at "
        f'<a href="{_e(keys_url)}">{_e(keys_url)}</a>.</p>\n'
        f'<p class="small">This page: {_e(page_url)}</p>\n</section>'
    )
    return _document(f"Certificate verification: {record.activity_title}", main)


def not_found_html() -> str:
    main = (
        "<h1>No such certificate</h1>\n"
        '<p class="verdict invalid" role="status">\u2717 There is no certificate with this id on this server.</p>\n'
        "<p>Check the address against the one printed on the certificate (32 letters and digits after "
        f"<code>{VERIFY_PATH}/</code>), or scan the certificate's QR code again.</p>"
    )
    return _document("No such certificate", main)
