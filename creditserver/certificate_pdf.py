"""A certificate as a PDF page an accreditor accepts (rule 7), drawn with fpdf2.

What it says comes only from the certificate record, which holds the activity's own words
as issued: the providers, the accreditation statement, the credit designation statement for
the learner's profession, the signatory. Nothing here invents a statement. `certificate_text`
decides what is said; `render_pdf` lays it out on one landscape page, centred vertically
inside a double frame, shrinking the type (and, for a very long statement, flowing onto a
second page) rather than cutting anything off. Beside the certificate id it prints a QR code
of the certificate's public verification page (segno), whose address is printed under it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cmecore.protocol import CertificateRecord, Profession, Signatory
from cmecore.rules.wording import contact_hours_text, credit_amount_text, credit_type_text, learner_name_text

# ---------------------------------------------------------------- what the certificate says


@dataclass(frozen=True)
class CertificateText:
    """Every line of a certificate, in reading order (pure: tests read it without a PDF)."""

    providers: tuple[str, ...]  # the header, one a line
    heading: str  # "Certificate of Credit", …
    learner: str  # name, degree
    completed: str  # "has completed the enduring material"
    activity_title: str
    facts: str  # completion date and format
    credits: str  # "0.25 AMA PRA Category 1 Credits™ claimed", "0.5 contact hours (0.05 CEU)"
    credit_type: str  # "" when `credits` already names it
    pharmacist_ids: str  # UAN and NABP e-Profile ID, pharmacists only
    accredited_provider: str  # "Accredited provider: …" ("" on certificates that do not record it)
    statements: tuple[tuple[str, str], ...]  # (label, the activity's own statement)
    note: str  # the CPE Monitor note, pharmacists only
    signatory: Signatory | None
    certificate: str  # id and issue date
    verify: str  # "Verify this certificate at <absolute URL of its verification page>"
    verify_url: str  # that URL alone (the QR code's text)


def certificate_text(cert: CertificateRecord, verify_url: str) -> CertificateText:
    pharmacist = cert.profession == Profession.pharmacist
    ama = "AMA PRA Category 1" in cert.credit_type
    if pharmacist:
        heading = "Statement of Credit"
        hours = cert.contact_hours if cert.contact_hours is not None else cert.credits_claimed
        credits, credit_type = contact_hours_text(hours), cert.credit_type
    elif ama or cert.contact_hours is None:
        heading = "Certificate of Credit"
        credits, credit_type = credit_amount_text(cert.credits_claimed, cert.credit_type) + " claimed", ""
    else:
        heading = "Certificate of Participation"
        credits, credit_type = f"{cert.contact_hours:g} contact hours", cert.credit_type
    ids = []
    if cert.uan:
        ids.append(f"ACPE Universal Activity Number (UAN) {cert.uan}")
    if cert.nabp_eprofile_id:
        ids.append(f"NABP e-Profile ID {cert.nabp_eprofile_id}")
    statements = []
    if cert.accreditation_statement:
        statements.append(("Accreditation", cert.accreditation_statement))
    if cert.designation_statement:
        statements.append(("Credit designation", cert.designation_statement))
    what = "enduring material" if cert.format == "enduring material" else cert.format
    return CertificateText(
        providers=tuple(cert.providers),
        heading=heading,
        learner=learner_name_text(cert.learner_name, cert.learner_degree),
        completed=f"has completed the {what}",
        activity_title=cert.activity_title,
        facts=f"Completed on {cert.completion_date.isoformat()}   \u00b7   Format: {cert.format}",
        credits=credits,
        credit_type=f"Credit type: {credit_type_text(credit_type)}" if credit_type else "",
        pharmacist_ids="   \u00b7   ".join(ids),
        accredited_provider=f"Accredited provider: {cert.accredited_provider}" if cert.accredited_provider else "",
        statements=tuple(statements),
        note=cert.cpe_monitor_note or "",
        signatory=cert.signatory,
        certificate=f"Certificate {cert.id}   \u00b7   issued {cert.issued_at.strftime('%Y-%m-%d')}",
        verify=f"Verify this certificate at {verify_url} (or scan the QR code)",
        verify_url=verify_url,
    )


# ---------------------------------------------------------------- layout

PT = 0.3528  # mm per point
NAVY = (28, 52, 96)
GOLD = (176, 141, 76)
INK = (25, 25, 25)
GREY = (95, 95, 95)
MIN_SCALE = 0.6


@dataclass(frozen=True)
class _Text:
    """A paragraph: family ('serif'|'sans'), style, size in points at scale 1."""

    text: str
    family: str
    style: str
    size: float
    color: tuple[int, int, int] = INK
    gap: float = 2.0  # mm after, at scale 1
    width: float = 0.0  # mm; 0: the whole content width
    align: str = "C"
    spacing: float = 0.0  # letter spacing in points
    balanced: bool = False  # wrapped lines of even length (no lone last word), for titles


@dataclass(frozen=True)
class _Rule:
    width: float
    gap: float = 4.0


QR_SIZE = 22.0  # mm, quiet zone included: a ~60-character URL's modules come out ~0.5 mm, which phones read

_QR_BORDER = 4  # modules of white around the code, as ISO/IEC 18004 asks


def qr_code(url: str) -> Any:
    """The QR code of `url` (a segno QRCode: `.matrix`, rows of modules, 1 dark), error
    correction level M."""
    import segno  # deferred: start-up speed; only certificate PDFs need it

    return segno.make(url, error="m", micro=False)


class _Page:
    """One certificate page being laid out: measures (dry run) or draws the same blocks."""

    def __init__(self, pdf: Any, fix: Callable[[str], str], families: dict[str, str]):
        self.pdf, self.fix, self.families = pdf, fix, families
        self.qr: tuple[Any, str] | None = None  # (qr_code, URL) of the verification page
        self.left = 26.0
        self.width = pdf.w - 2 * self.left
        self.top, self.bottom = 19.0, pdf.h - 19.0

    def text_height(self, block: _Text, scale: float, width: float) -> float:
        self._font(block, scale)
        height = self.pdf.multi_cell(width, block.size * scale * PT * 1.3, self.fix(block.text), align=block.align,
                                     dry_run=True, output="HEIGHT")
        return height + block.gap * scale

    def flow(self, blocks: list, scale: float, *, x: float, width: float, draw: bool, y: float = 0.0) -> float:
        """The height of `blocks` stacked in a column (drawn from `y` when `draw`)."""
        start = y
        for block in blocks:
            if isinstance(block, _Rule):
                if draw:
                    self.pdf.set_draw_color(*GOLD)
                    self.pdf.set_line_width(0.5)
                    mid = x + width / 2
                    self.pdf.line(mid - block.width / 2, y + 1, mid + block.width / 2, y + 1)
                y += 2 + block.gap * scale
                continue
            w = min(block.width or width, width)
            if block.balanced:
                w = self._balanced_width(block, scale, w)
            bx = x + (width - w) / 2
            if draw:
                self._font(block, scale)
                self.pdf.set_text_color(*block.color)
                self.pdf.set_xy(bx, y)
                self.pdf.multi_cell(w, block.size * scale * PT * 1.3, self.fix(block.text), align=block.align)
                y = self.pdf.get_y() + block.gap * scale  # where it ended, also on a next page
            else:
                y += self.text_height(block, scale, w)
        return y - start

    def _balanced_width(self, block: _Text, scale: float, width: float) -> float:
        """The narrowest width that still wraps `block` onto as few lines as `width` does."""
        def lines(w: float) -> int:
            self._font(block, scale)
            return len(self.pdf.multi_cell(w, 5, self.fix(block.text), dry_run=True, output="LINES"))

        target, low, high = lines(width), width / 2, width
        if target < 2:
            return width
        while high - low > 1:
            mid = (low + high) / 2
            low, high = (low, mid) if lines(mid) <= target else (mid, high)
        return high

    def _font(self, block: _Text, scale: float) -> None:
        self.pdf.set_font(self.families[block.family], block.style, block.size * scale)
        self.pdf.set_char_spacing(block.spacing * scale)

    def draw_qr(self, x: float, y: float) -> None:
        """The verification QR code, QR_SIZE square from (x, y) with its quiet zone, each run
        of dark modules in a row a filled rectangle, and a link to its URL over it. Drawn,
        not placed as an image: fpdf2 needs Pillow for images, which the packaged app leaves
        out (packaging/cme-offline.spec)."""
        if self.qr is None:
            return
        code, url = self.qr
        rows = [list(row) for row in code.matrix]
        module = QR_SIZE / (len(rows) + 2 * _QR_BORDER)
        self.pdf.set_fill_color(0, 0, 0)
        for r, row in enumerate(rows):
            c = 0
            while c < len(row):
                start = c
                while c < len(row) and row[c]:
                    c += 1
                if c > start:
                    self.pdf.rect(x + (_QR_BORDER + start) * module, y + (_QR_BORDER + r) * module,
                                  (c - start) * module, module, style="F")
                else:
                    c += 1
        self.pdf.link(x, y, QR_SIZE, QR_SIZE, url, alt_text=f"QR code of {url}")

    def frame(self) -> None:
        pdf = self.pdf
        pdf.set_draw_color(*NAVY)
        pdf.set_line_width(1.1)
        pdf.rect(7, 7, pdf.w - 14, pdf.h - 14)
        pdf.set_draw_color(*GOLD)
        pdf.set_line_width(0.35)
        pdf.rect(10.5, 10.5, pdf.w - 21, pdf.h - 21)


def _body(t: CertificateText) -> list:
    last = len(t.providers) - 1
    blocks: list = [_Text(name, "sans", "B", 10.5, NAVY, 4 if i == last else 1, spacing=0.4)
                    for i, name in enumerate(t.providers)]
    blocks += [
        _Text(t.heading, "serif", "B", 32, NAVY, 1),
        _Rule(70, 5),
        _Text("This certifies that", "serif", "I", 12, GREY, 2),
        _Text(t.learner, "serif", "B", 25, INK, 2),
        _Text(t.completed, "serif", "I", 12, GREY, 2),
        _Text(t.activity_title, "serif", "B", 15, NAVY, 3, width=205, balanced=True),
        _Text(t.facts, "sans", "", 10, GREY, 4),
        _Text(t.credits, "serif", "B", 17, NAVY, 1.5),
    ]
    if t.credit_type:
        blocks.append(_Text(t.credit_type, "sans", "", 10, GREY, 1.5))
    if t.pharmacist_ids:
        blocks.append(_Text(t.pharmacist_ids, "sans", "B", 10, INK, 1.5))
    if t.accredited_provider:
        blocks.append(_Text(t.accredited_provider, "sans", "", 10, GREY, 1.5))
    blocks.append(_Rule(40, 3))
    for label, statement in t.statements:
        blocks.append(_Text(label.upper(), "sans", "B", 7, NAVY, 0.6, width=215, align="L", spacing=0.6))
        blocks.append(_Text(statement, "sans", "", 8.2, INK, 2.2, width=215, align="J"))
    if t.note:
        blocks.append(_Text(t.note, "sans", "I", 8.2, GREY, 2.2, width=215, align="L"))
    return blocks


SIGNING_ROOM = 11.0  # mm above the signature line, at scale 1


def _signature(signatory: Signatory) -> list:
    blocks: list = [_Text(signatory.name, "serif", "B", 10.5, INK, 0.5)]
    if signatory.title:
        blocks.append(_Text(signatory.title, "sans", "", 8, GREY, 0))
    return blocks


def _layout(page: _Page, t: CertificateText, scale: float, draw: bool, y: float = 0.0) -> float:
    """Height of the whole certificate at `scale` (drawn from `y` when `draw`): the body, then
    the signature (left) beside the verification QR code over the certificate id (right), both
    standing on one baseline, or the QR code and id alone, centred; last the verification
    address on one line of its own."""
    start = y
    y += page.flow(_body(t), scale, x=page.left, width=page.width, draw=draw, y=y) + 3 * scale
    qr_h = QR_SIZE + 1.0
    if t.signatory is None:
        if draw:
            page.draw_qr(page.left + (page.width - QR_SIZE) / 2, y)
        y += qr_h + page.flow([_Text(t.certificate, "sans", "", 7.5, GREY, 1)], scale, x=page.left,
                              width=page.width, draw=draw, y=y + qr_h)
    else:
        column = page.width * 0.42
        right = page.left + page.width - column
        sig = SIGNING_ROOM * scale + 1.5 + page.flow(_signature(t.signatory), scale, x=page.left, width=column,
                                                       draw=False)
        ident = [_Text(t.certificate, "sans", "", 7.5, GREY, 0, align="R")]
        ident_h = page.flow(ident, scale, x=right, width=column, draw=False)
        row = max(sig, qr_h + ident_h)
        if draw:
            line_y = y + row - sig + SIGNING_ROOM * scale
            page.pdf.set_draw_color(*INK)
            page.pdf.set_line_width(0.3)
            page.pdf.line(page.left + column * 0.1, line_y, page.left + column * 0.9, line_y)
            page.flow(_signature(t.signatory), scale, x=page.left, width=column, draw=True, y=line_y + 1.5)
            page.draw_qr(right + column - QR_SIZE, y + row - ident_h - qr_h)
            page.flow(ident, scale, x=right, width=column, draw=True, y=y + row - ident_h)
        y += row + 3 * scale
    y += page.flow([_Text(t.verify, "sans", "", 7.5, GREY, 0)], scale, x=page.left, width=page.width, draw=draw, y=y)
    return y - start


def render_pdf(cert: CertificateRecord, verify_url: str, *, fonts_from_files: bool = False) -> bytes:
    """One landscape Letter page; `verify_url` is the absolute address of the certificate's
    public verification page (printed, and QR-coded). The fonts are the ones this process
    already parsed (creditserver.certificate_fonts); `fonts_from_files` has fpdf2 parse them
    from their files for this PDF alone, as it does by itself (tests compare the two)."""
    from fpdf import FPDF  # deferred: start-up speed; fpdf2 is slow to import and only certificate PDFs need it

    from . import certificate_fonts as fonts  # deferred: it imports fpdf2 and fontTools

    t = certificate_text(cert, verify_url)
    pdf = FPDF(orientation="landscape", unit="mm", format="Letter")
    pdf.set_title(f"{t.heading} - {cert.activity_title}")
    pdf.set_author(" and ".join(t.providers))
    pdf.set_creator("CME Offline reference credit server")
    # Dated when issued, not when drawn: every render of a certificate is the same bytes
    # (the finisher's and a fetch's alike; fpdf2's file id is a hash of the rest).
    pdf.set_creation_date(cert.issued_at)
    pdf.set_auto_page_break(False)
    faces = {}
    if fonts_from_files:
        for (family, style), path in fonts.font_files().items():
            pdf.add_font(family, style, path)
    else:
        faces = fonts.add_fonts(pdf)
    if fonts.font_files():
        page = _Page(pdf, str, {"serif": "serif", "sans": "sans"})
    else:
        page = _Page(pdf, fonts.latin1, {"serif": "times", "sans": "helvetica"})
    page.qr = (qr_code(verify_url), verify_url)
    pdf.add_page()
    page.frame()
    available = page.bottom - page.top
    scale = 1.0
    while (height := _layout(page, t, scale, draw=False)) > available and scale > MIN_SCALE:
        scale *= 0.93
    if height > available:  # a statement too long for one page even in small type: let it flow on
        pdf.set_margins(page.left, page.top)
        pdf.set_auto_page_break(True, margin=page.top)
    _layout(page, t, scale, draw=True, y=page.top + max(available - height, 0) / 2)
    fonts.attach_outlines(pdf, faces)
    return bytes(pdf.output())
