"""My Credits as a file: CSV (for spreadsheets, licensing boards) or a simple PDF (fpdf2).

Pure: no SQL, no Qt, no HTTP. Accepted credits count in the totals; pending and rejected
claims are listed with their state so nothing is hidden.
"""

from __future__ import annotations

import csv
import io

from desktop.learning.records import MyCredits

COLUMNS = ["date", "activity_id", "title", "credit_type", "credits", "state", "reason", "certificate_id", "completion_id"]


def credits_csv(credits: MyCredits) -> bytes:
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for r in credits.rows:
        w.writerow([r.date.isoformat(), r.activity_id, _cell(r.title), _cell(r.credit_type), f"{r.credits:g}", r.state,
                    _cell(r.reason or ""), r.certificate_id or "", r.completion_id])
    return out.getvalue().encode("utf-8-sig")  # BOM: spreadsheets then read UTF-8 right


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in text that came from elsewhere."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def credits_pdf(credits: MyCredits, learner_name: str) -> bytes:
    from fpdf import FPDF  # start-up speed: fpdf loads only when a PDF is written

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"Credit transcript: {learner_name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    if credits.totals_all_time:
        pdf.cell(0, 6, "Accepted credits, all time:", new_x="LMARGIN", new_y="NEXT")
        for credit_type, total in sorted(credits.totals_all_time.items()):
            pdf.cell(0, 6, _latin1(f"  {total:g} {credit_type}"), new_x="LMARGIN", new_y="NEXT")
    for (credit_type, year), total in sorted(credits.totals.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
        pdf.cell(0, 6, _latin1(f"  {year}: {total:g} {credit_type}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "Date        Credits  Type / activity / state", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for r in credits.rows:
        line = f"{r.date.isoformat()}  {r.credits:>6g}  {r.credit_type}: {r.title} [{r.state}]"
        if r.reason:
            line += f" - {r.reason}"
        pdf.multi_cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    if not credits.rows:
        pdf.cell(0, 6, "No claims yet.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The core PDF fonts hold Latin-1 only; keep the rest readable rather than fail.
    text = text.replace("\u2122", "(TM)").replace("\u2013", "-").replace("\u2014", "-")
    return text.encode("latin-1", "replace").decode("latin-1")
