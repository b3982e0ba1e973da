"""My credits, offline: the current learner's claims and totals, their certificates (PDF and
signed credential), exporting them, and checking a signed certificate against the server's
key and revocation lists kept on this computer (cmecore.credentials.check_credential).

A certificate its provider revoked (as the last revocation list fetched says) is listed as
"revoked" and no longer counts in the totals; MyCredits says when that list was fetched."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cmecore.private_files import open_private
from desktop.cache.credit_store import completion_rows, get_certificate
from desktop.cache.db import Database
from desktop.cache.server_state import signing_key
from desktop.cache.status_store import certificate_status, kept_status_lists
from desktop.errors import CERTIFICATE_NOT_HERE, RuleError
from desktop.learning.records import CreditRow, MyCredits, VerifyResult
from desktop.learning.transcript_export import credits_csv, credits_pdf
from desktop.services.account import AccountService
from desktop.services.connection import Connection

EXPORT_FORMATS = ("csv", "pdf")


class CreditsService:
    def __init__(self, db: Database, connection: Connection, account: AccountService):
        self.db = db
        self.connection = connection  # whose signing key checks certificates
        self.account = account

    def my_credits(self, year: int | None = None) -> MyCredits:
        """The current learner's claims: accepted ones count in the totals; pending and
        rejected are listed with their state (and the server's reason)."""
        learner = self.account.require_learner()
        rows, totals, all_time = [], {}, {}
        status = certificate_status(self.db, learner.id)
        checked = [st.status_checked_at for st in status.values() if st.status_checked_at is not None]
        for c in completion_rows(self.db, learner.id):
            day = c.completed_at_corrected.date()
            state, reason = c.state, c.reason
            cert = status.get(c.certificate_id or "")
            if state == "accepted" and cert is not None and cert.revoked:
                state, reason = "revoked", "The provider revoked this certificate."
            if state == "accepted":
                all_time[c.credit_type] = round(all_time.get(c.credit_type, 0.0) + c.credits, 2)
            if year is not None and day.year != year:
                continue
            rows.append(CreditRow(c.id, c.activity_id, c.title, day, c.credit_type, c.credits, state, reason,
                                  c.certificate_id, c.provider, c.certificate_here))
            if state == "accepted":
                key = (c.credit_type, day.year)
                totals[key] = round(totals.get(key, 0.0) + c.credits, 2)
        return MyCredits(rows, totals, all_time, min(checked) if checked else None)

    def certificate_pdf(self, certificate_id: str) -> bytes | None:
        """The cached PDF of one of the current learner's certificates, or None."""
        row = get_certificate(self.db, self.account.require_learner().id, certificate_id)
        return row.pdf if row else None

    def export_certificate(self, certificate_id: str, path) -> Path:
        """Write the certificate to `path`: the PDF, or the signed credential if `path` ends in .json."""
        row = get_certificate(self.db, self.account.require_learner().id, certificate_id)
        path = Path(path)
        if path.suffix.lower() == ".json":
            if row is None or row.credential is None:
                raise RuleError(CERTIFICATE_NOT_HERE, "certificate")
            data = json.dumps(row.credential, ensure_ascii=False, indent=2).encode("utf-8")
        else:
            if row is None or row.pdf is None:
                raise RuleError(CERTIFICATE_NOT_HERE, "certificate")
            data = row.pdf
        write_whole(path, data)
        return path

    def export_transcript(self, path, fmt: str = "csv") -> Path:
        """Write My Credits (every claim, its state, and the accepted totals) as CSV or PDF."""
        if fmt not in EXPORT_FORMATS:
            raise ValueError("fmt must be 'csv' or 'pdf'")
        learner = self.account.require_learner()
        credits = self.my_credits()
        data = credits_csv(credits) if fmt == "csv" else credits_pdf(credits, learner.display_name, learner.degree)
        path = Path(path)
        write_whole(path, data)
        return path

    def verify_certificate_file(self, path) -> VerifyResult:
        """Check a signed certificate (JSON credential file) offline against the server's key
        and the revocation lists kept here; the message says which form it is in and how old
        the revocation list is."""
        try:
            doc = json.loads(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            return VerifyResult(False, f"The file could not be read as a signed certificate ({exc}).")
        server = self.connection.server_url
        key = signing_key(self.db, server) if server else None
        if key is None:
            return VerifyResult(False, "This computer has no signing key from the credit server yet; sign in once, "
                                       "then check again.")
        # memory: PyLD (~170 modules, ~18 MB) loads only when a certificate is checked
        from cmecore.credentials import check_credential

        check = check_credential(doc, [key[1]], kept_status_lists(self.db, server))
        if not check.signature_valid:
            return VerifyResult(False, check.reason, check.form)
        return VerifyResult(check.valid, _verified_text(doc, check), check.form, check.revoked, check.status_checked_at)


def _verified_text(doc: dict, check) -> str:
    """What a valid signature certifies, in words, and what is known of its revocation."""
    subject = doc.get("credentialSubject") or {}
    what = (subject.get("achievement") or {}).get("name", "the activity")
    # memory: PyLD (~170 modules, ~18 MB) loads only when a certificate is checked
    from cmecore.credentials import FORM_LEGACY

    if check.form == FORM_LEGACY:
        credit_type, name = subject.get("creditType"), subject.get("name")
    else:
        achievement = subject.get("achievement") or {}
        credit_type = next((d.get("name") for d in achievement.get("resultDescription") or []), "credits")
        name = next((i.get("identityHash") for i in subject.get("identifier") or []
                     if i.get("identityType") == "name"), "the learner")
    if check.revoked:
        return f"Revoked: {what} for {name} was revoked by its provider (revocation list fetched " \
               f"{check.status_checked_at:%Y-%m-%d %H:%M} UTC). The signature itself is genuine."
    if check.revoked is False:
        status = f" Not revoked as of {check.status_checked_at:%Y-%m-%d %H:%M} UTC (the revocation list kept here)."
    else:
        status = f" {check.reason}" if check.reason else ""
    return (f"Valid: {subject.get('creditsEarned')} {credit_type} for {name}, {what}, signed by the credit server "
            f"({check.form}).{status}")


def write_whole(path: Path, data: bytes) -> None:
    """Write whole or not at all (a temporary file renamed into place), readable by its owner
    only: a certificate or a transcript carries the learner's name and licence numbers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
