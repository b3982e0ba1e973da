"""The credit transcript a learner hands to a licensing board: their name with degree, each
credit's accredited provider and its credit type as it must be written (AMA PRA Category 1
Credit™), accepted totals, and pending claims listed too (real server on loopback)."""

from __future__ import annotations

import csv
import io

from pypdf import PdfReader

from tests.credit.conftest import claim


def pdf_text(path) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages)


def test_transcript_pdf_names_the_learner_with_degree_the_provider_and_the_ama_mark(learner, tmp_path):
    claim(learner)
    learner.sync()
    [row] = learner.my_credits().rows
    assert row.provider == "Northwind Institute for Continuing Education (fictional)"

    text = pdf_text(learner.export_credit_transcript(tmp_path / "t.pdf", fmt="pdf"))
    assert "Credit transcript" in text and "Dr. Dana Demo, MD" in text
    assert "0.5 AMA PRA Category 1 Credits\u2122" in text  # the total, with the AMA's mark
    assert "AMA PRA Category 1 Credit\u2122" in text.replace("Credits\u2122", "")  # the row's credit type
    assert "Northwind Institute for Continuing Education (fictional)" in text
    assert "Home Blood-Pressure Monitoring" in text and "Accepted" in text
    assert row.certificate_id[:16] in text.replace(" ", "")


def test_a_claim_waiting_to_sync_is_listed_with_its_provider_from_the_activity(learner, tmp_path):
    claim(learner)
    text = pdf_text(learner.export_credit_transcript(tmp_path / "t.pdf", fmt="pdf"))
    assert "Waiting to sync" in text and "Northwind Institute for Continuing Education (fictional)" in text
    rows = list(csv.DictReader(io.StringIO(
        learner.export_credit_transcript(tmp_path / "t.csv").read_text("utf-8-sig"))))
    assert rows[0]["provider"] == "Northwind Institute for Continuing Education (fictional)"
    assert rows[0]["credit_type"] == "AMA PRA Category 1 Credit"  # as the activity names it, for machines
