"""My Credits as a file: CSV (for spreadsheets, licensing boards) or a PDF (fpdf2) that a
board can read like the certificates: the learner's name with degree, each credit's
provider, and the credit type as it must be written (AMA PRA Category 1 Credit™).

Pure: no SQL, no Qt, no HTTP. Accepted credits count in the totals; pending and rejected
claims are listed with their state so nothing is hidden. The CSV keeps credit types exactly
as the activities name them, for machines to match on.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cmecore.rules.wording import credit_amount_text, credit_type_text, credits_text, learner_name_text
from desktop.learning.records import MyCredits

COLUMNS = ["date", "activity_id", "title", "credit_type", "credits", "state", "reason", "certificate_id", "completion_id",
           "provider"]


def credits_csv(credits: MyCredits) -> bytes:
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for r in credits.rows:
        w.writerow([r.date.isoformat(), r.activity_id, _cell(r.title), _cell(r.credit_type), f"{r.credits:g}", r.state,
                    _cell(r.reason or ""), r.certificate_id or "", r.completion_id, _cell(r.provider)])
    return out.getvalue().encode("utf-8-sig")  # BOM: spreadsheets then read UTF-8 right


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in text that came from elsewhere."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


STATES = {"accepted": "Accepted", "pending": "Waiting to sync", "rejected": "Refused", "revoked": "Revoked by the provider"}

# A Unicode font (Debian's fonts-dejavu-core) writes ™ and names in any script; without one
# the PDF core font Helvetica holds Latin-1 only.
_DEJAVU_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")


def _unicode_fonts() -> tuple[str, str] | None:
    """(regular, bold) DejaVu Sans files, or None."""
    for folder in _DEJAVU_DIRS:
        regular, bold = Path(folder) / "DejaVuSans.ttf", Path(folder) / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return str(regular), str(bold)
    return None


def credits_pdf(credits: MyCredits, learner_name: str, degree: str = "") -> bytes:
    from fpdf import FPDF  # start-up speed: fpdf loads only when a PDF is written
    from fpdf.fonts import FontFace  # start-up speed, as above

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(True, margin=15)
    fonts = _unicode_fonts()
    if fonts:
        pdf.add_font("body", "", fonts[0])
        pdf.add_font("body", "B", fonts[1])
        family, fix = "body", str
    else:
        family, fix = "helvetica", _latin1
    pdf.set_title("Credit transcript")
    pdf.add_page()

    def line(text: str, size: float, style: str = "", height: float = 6) -> None:
        pdf.set_font(family, style, size)
        pdf.multi_cell(0, height, fix(text), new_x="LMARGIN", new_y="NEXT")

    line("Credit transcript", 16, "B", 9)
    line(learner_name_text(learner_name, degree), 12, "B", 7)
    pdf.ln(2)
    if credits.totals_all_time:
        line("Accepted credits, all time:", 10, "B")
        for credit_type, total in sorted(credits.totals_all_time.items()):
            line(f"    {credit_amount_text(total, credit_type)}", 10)
    if credits.totals:
        line("Accepted credits by year:", 10, "B")
    for (credit_type, year), total in sorted(credits.totals.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
        line(f"    {year}: {credit_amount_text(total, credit_type)}", 10)
    pdf.ln(4)
    if not credits.rows:
        line("No claims yet.", 10)
        return bytes(pdf.output())
    pdf.set_font(family, "", 8.5)
    headings = ("Date", "Activity", "Provider", "Credits", "Credit type", "Status", "Certificate")
    with pdf.table(col_widths=(21, 66, 50, 16, 40, 42, 42), headings_style=FontFace(emphasis="BOLD"),
                   line_height=4.6, text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "LEFT", "LEFT", "LEFT")) as table:
        table.row([fix(h) for h in headings])
        for r in credits.rows:
            status = STATES.get(r.state, r.state) + (f": {r.reason}" if r.reason else "")
            table.row([fix(cell) for cell in (r.date.isoformat(), r.title, r.provider, credits_text(r.credits),
                                              credit_type_text(r.credit_type), status, r.certificate_id or "")])
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The core PDF fonts hold Latin-1 only; keep the rest readable rather than fail.
    text = text.replace("\u2122", "(TM)").replace("\u2013", "-").replace("\u2014", "-")
    return text.encode("latin-1", "replace").decode("latin-1")
