"""Certificate PDFs with fonts parsed once per process (creditserver/certificate_fonts.py):
the same bytes as fpdf2 makes parsing the fonts anew for each PDF, fonts still embedded as
subsets, text still extractable, and renders on several threads at once unharmed; and
certificates need no Pillow (the packaged app has none)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fontTools import ttLib
from pypdf import PdfReader

from cmecore.protocol import CPE_MONITOR_NOTE, CertificateRecord, Profession, Signatory
from creditserver.certificate_fonts import font_files
from creditserver.certificate_pdf import render_pdf

from .test_certificates import pdf_text

pytestmark = pytest.mark.skipif(not font_files(), reason="no Unicode TrueType font installed: core fonts only")

VERIFY = "https://cme.example.org/verify/" + "7" * 32
NAMES = {
    "plain": "Dana Demo",
    "Latin, accented": "Zoë Łukasiewicz-Nuñez Ștefănescu",  # cut from the template
    "Greek": "Αλέξανδρος Παπαδόπουλος",  # glyphs the template lacks: cut from the whole face
    "Cyrillic": "Дмитрий Иванов",
}


def record(name: str, profession: Profession = Profession.physician, statement: str | None = None) -> CertificateRecord:
    pharmacist = profession == Profession.pharmacist
    return CertificateRecord(
        id="7" * 32, completion_id=uuid.UUID(int=7), issued_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        learner_name=name, learner_degree="PharmD" if pharmacist else "MD", profession=profession,
        providers=["Northwind Institute (fictional)", "Lakeside Geriatrics Society (fictional)"],
        activity_id="fonts", activity_version=1, activity_title="Home Blood-Pressure Monitoring in Older Adults",
        completion_date=date(2026, 11, 2), credits_claimed=0.5,
        credit_type="ACPE contact hours" if pharmacist else "AMA PRA Category 1 Credit\u2122",
        contact_hours=0.5 if pharmacist else None, uan="0000-9999-26-001-H01-P" if pharmacist else None,
        cpe_monitor_note=CPE_MONITOR_NOTE if pharmacist else None, nabp_eprofile_id="1234567" if pharmacist else None,
        accredited_provider="Northwind Institute (fictional)",
        accreditation_statement=statement or "Northwind Institute is accredited by the ACCME to provide continuing "
                                              "medical education for physicians \u2013 \u201cjointly\u201d.",
        designation_statement="Northwind Institute designates this enduring material for a maximum of 0.5 "
                              "AMA PRA Category 1 Credits\u2122.",
        signatory=Signatory(name="Helena Marsh, MD", title="Director of Continuing Education"),
        pdf_url="/api/v1/certificates/" + "7" * 32, credential_url="/api/v1/certificates/" + "7" * 32 + ".json")


def without_dates(pdf: bytes) -> bytes:
    """The PDF less its creation date and the file id fpdf2 derives from it."""
    pdf = re.sub(rb"/CreationDate \([^)]*\)", b"", pdf)
    return re.sub(rb"/ID \[<[0-9A-F]+><[0-9A-F]+>\]", b"", pdf)


CASES = [pytest.param(record(name), id=label) for label, name in NAMES.items()] + [
    pytest.param(record("Pat Pharm", Profession.pharmacist), id="pharmacist (every style)"),
    pytest.param(record("Dana Demo", statement=" ".join(
        f"Sentence {i} of a long accreditation statement." for i in range(150))), id="two pages"),
]


@pytest.mark.parametrize("cert", CASES)
def test_a_certificate_is_byte_for_byte_what_fpdf2_makes_parsing_its_fonts_anew(cert):
    render_pdf(cert, VERIFY)  # the fonts parsed before, as in a server that has rendered others
    kept = render_pdf(cert, VERIFY)
    anew = render_pdf(cert, VERIFY, fonts_from_files=True)
    assert without_dates(kept) == without_dates(anew)


def test_every_font_the_page_uses_is_embedded_as_a_subset_and_the_text_extracts():
    name = NAMES["Latin, accented"]
    pdf = render_pdf(record(name), VERIFY)

    fonts = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]["/FontFile2"]
    assert len(fonts) >= 4  # serif and sans, bold and not
    for base_font, stream in fonts.items():
        assert re.fullmatch(r"/[A-Z]{6}\+\S+", base_font), base_font  # a subset's tag
        embedded = ttLib.TTFont(io.BytesIO(stream.get_data()))
        assert embedded["maxp"].numGlyphs < 120, base_font  # the glyphs used, not the face's thousands
    text = pdf_text(pdf)
    assert f"{name}, MD" in text and "0.5 AMA PRA Category 1 Credits\u2122 claimed" in text
    assert "\u201cjointly\u201d" in text


def test_certificates_rendered_on_several_threads_at_once_are_each_whole():
    certs = [record(name) for name in NAMES.values()] * 3
    alone = [without_dates(render_pdf(cert, VERIFY)) for cert in certs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = [without_dates(pdf) for pdf in pool.map(lambda c: render_pdf(c, VERIFY), certs)]
    assert together == alone


def test_a_certificate_renders_without_pillow_as_in_the_packaged_app():
    """packaging/cme-offline.spec leaves Pillow out; fpdf2 needs it only for images, so the
    QR code is drawn, not placed as a picture (its scan: tests/server/test_verify_page.py)."""
    script = ("import sys; sys.modules['PIL'] = None  # what the packaged app's excludes leave\n"
              "from tests.server.test_certificate_fonts import VERIFY, record\n"
              "from creditserver.certificate_pdf import render_pdf\n"
              "sys.stdout.buffer.write(render_pdf(record('Dana Demo'), VERIFY))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.startswith(b"%PDF-") and "Dana Demo, MD" in pdf_text(done.stdout)
    assert b"/Subtype /Image" not in done.stdout
