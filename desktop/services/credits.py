"""My credits, offline: the current learner's claims and totals, their certificates (PDF and
signed credential), exporting them, and checking a signed certificate against the server's
key kept on this computer."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cmecore.private_files import open_private
from cmecore.signatures import verify_credential
from desktop.cache.credit_store import completion_rows, get_certificate
from desktop.cache.db import Database
from desktop.cache.server_state import signing_key
from desktop.errors import RuleError
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
        for c in completion_rows(self.db, learner.id):
            day = c.completed_at_corrected.date()
            if c.state == "accepted":
                all_time[c.credit_type] = round(all_time.get(c.credit_type, 0.0) + c.credits, 2)
            if year is not None and day.year != year:
                continue
            rows.append(CreditRow(c.id, c.activity_id, c.title, day, c.credit_type, c.credits, c.state, c.reason,
                                  c.certificate_id, c.provider))
            if c.state == "accepted":
                key = (c.credit_type, day.year)
                totals[key] = round(totals.get(key, 0.0) + c.credits, 2)
        return MyCredits(rows, totals, all_time)

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
                raise RuleError("This certificate's signed form is not on this computer yet; sync first.",
                                "certificate")
            data = json.dumps(row.credential, ensure_ascii=False, indent=2).encode("utf-8")
        else:
            if row is None or row.pdf is None:
                raise RuleError("This certificate is not on this computer yet; sync first.", "certificate")
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
        """Check a signed certificate (JSON credential file) offline against the server's key kept here."""
        try:
            doc = json.loads(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            return VerifyResult(False, f"The file could not be read as a signed certificate ({exc}).")
        server = self.connection.server_url
        key = signing_key(self.db, server) if server else None
        if key is None:
            return VerifyResult(False, "This computer has no signing key from the credit server yet; sign in once, "
                                       "then check again.")
        if not isinstance(doc, dict) or not verify_credential(doc, key[1]):
            return VerifyResult(False, "The signature does not match: this certificate was changed, or was not "
                                       "issued by this credit server.")
        subject = doc.get("credentialSubject") or {}
        what = subject.get("achievement", {}).get("name", "the activity")
        return VerifyResult(True, f"Valid: {subject.get('creditsEarned')} {subject.get('creditType')} for "
                                  f"{subject.get('name')}, {what}, signed by the credit server.")


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
