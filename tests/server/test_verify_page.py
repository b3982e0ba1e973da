"""Verification anyone can use (issue 13): the public page `/verify/{id}` that the URL and QR
code on a certificate lead to. A licensing board has no account here and no token: the
page answers without sign-in, says what the certificate certifies and whether its signature
and status are valid, gives the signed credential as JSON, and shows nothing the
certificate does not (no username, no licence number)."""

from __future__ import annotations

import json
import re

import httpx
import pypdfium2
import pytest
import zxingcpp

from cmecore.credentials import CredentialCheck as CertificateCheck
from cmecore.credentials import check_credential
from creditserver.cli import main as server_cli
from creditserver.models import Certificate
from creditserver.verify_page import verdict_text, wants_json
from tests.support.activities import activity_doc
from tests.support.servers import data_options

from .conftest import CREDIT_ACTIVITY, client_for
from .credit_support import claim_for, completion, post, publish, signed_in
from .test_certificate_contents import verification_url, words
from .test_certificates import pdf_text

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HOSTILE_NAME = '<script>alert("x")</script> Mallory & "Sons"'


def earn(api: httpx.Client, username: str = "demo", password: str = "demo", profession: str = "physician",
         **claim) -> tuple[dict, str]:
    auth = signed_in(api, username, password)
    [res] = post(api, auth, completion(CREDIT_ACTIVITY, claim=claim_for(profession, **claim)))
    assert res["status"] == "accepted", res["reason"]
    return auth, res["certificate_id"]


def record_of(api: httpx.Client, auth: dict, cert_id: str) -> dict:
    return next(c["certificate"] for c in api.get("/me/completions", headers=auth).json()["completions"]
                if c["certificate"]["id"] == cert_id)


def page_text(html: str) -> str:
    """The page's words without its markup (good enough for these pages: no script, no comments)."""
    return words(re.sub(r"<[^>]+>", " ", html))


def test_the_page_answers_without_sign_in_with_what_the_certificate_certifies(credit_server, credit_api):
    auth, cert_id = earn(credit_api, credits_claimed=0.25, attested_minutes=20)
    record = record_of(credit_api, auth, cert_id)

    r = httpx.get(f"{credit_server.url}/verify/{cert_id}", headers={"Accept": BROWSER_ACCEPT}, timeout=10)

    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    text = page_text(page)
    for fact in ("Dr. Dana Demo, MD", "Home Blood-Pressure Monitoring in Older Adults",
                 "0.25 AMA PRA Category 1 Credits\u2122 claimed", f"Completed on {record['completion_date']}",
                 f"Accredited provider {record['accredited_provider']}", f"Certificate {cert_id}"):
        assert fact in text, fact
    assert "Signature \u2713 Valid" in text and "Status \u2713 Active: no revocation is recorded" in text
    assert "\u2713 This certificate is valid." in text
    # Accessible: a language, one top heading, sections with headings; the verdict in words.
    assert '<html lang="en">' in page and page.count("<h1>") == 1 and page.count("<h2") == 3
    assert 'role="status"' in page
    # Loads nothing and runs nothing: the inline stylesheet alone, allowed by its hash.
    assert "<script" not in page and "src=" not in page
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "style-src 'sha256-" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    # Nothing the certificate does not show: not the username, nor the ids a claim carries.
    for private in ("ABIM-000000", "DEMO-0001"):
        assert private not in page, private
    assert f"{credit_server.url}/verify/{cert_id}.json" in page
    head = httpx.head(f"{credit_server.url}/verify/{cert_id}", timeout=10)  # a link checker, a QR scanner's preview
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/html") and head.content == b""


def test_a_learner_name_with_markup_is_shown_as_text(credit_server, credit_api):
    credit_server.add_learner("mallory-7731", "pw-long-enough", display_name=HOSTILE_NAME, degree="MD")
    _auth, cert_id = earn(credit_api, "mallory-7731", "pw-long-enough")

    page = httpx.get(f"{credit_server.url}/verify/{cert_id}", timeout=10).text

    assert "<script>" not in page and 'alert("x")' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Mallory &amp; &quot;Sons&quot;, MD" in page
    assert "mallory-7731" not in page  # the username is never shown


def test_a_tampered_stored_credential_shows_signature_not_valid(credit_server, credit_api):
    _auth, cert_id = earn(credit_api)
    assert credit_server.app.state.finisher.drain(timeout=60)  # signed and stored just after the answer
    with credit_server.app.state.db.session() as s:
        row = s.get(Certificate, cert_id)
        doc = json.loads(row.credential_json)
        doc["credentialSubject"]["creditsEarned"] = 50
        row.credential_json = json.dumps(doc)

    r = httpx.get(f"{credit_server.url}/verify/{cert_id}", timeout=10)

    assert r.status_code == 200
    text = page_text(r.text)
    assert "Signature \u2717 Not valid." in text
    assert "\u2717 This certificate could not be verified: its signature is not valid." in text
    assert "This certificate is valid" not in text and 'class="verdict invalid"' in r.text


def test_an_unknown_id_is_a_404_page(credit_server):
    for cert_id in ("0" * 32, "not-a-certificate", "A" * 32):
        r = httpx.get(f"{credit_server.url}/verify/{cert_id}", timeout=10)
        assert r.status_code == 404, cert_id
        assert r.headers["content-type"].startswith("text/html")
        assert "No such certificate" in r.text and '<html lang="en">' in r.text
    r = httpx.get(f"{credit_server.url}/verify/{'0' * 32}.json", timeout=10)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_the_json_variants_give_the_signed_credential(credit_server, credit_api):
    auth, cert_id = earn(credit_api)
    stored = credit_api.get(f"/certificates/{cert_id}.json", headers=auth).content
    key = credit_api.get("/keys").json()["keys"][0]["public_key"]
    page = f"{credit_server.url}/verify/{cert_id}"

    for url, headers in ((f"{page}.json", {}), (f"{page}?format=json", {}),
                         (page, {"Accept": "application/json"}),
                         (page, {"Accept": "text/html;q=0.5, application/ld+json"})):
        r = httpx.get(url, headers=headers, timeout=10)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json", (url, headers)
        assert r.content == stored
        assert check_credential(r.json(), [key]).signature_valid
    assert httpx.get(page, headers={"Accept": BROWSER_ACCEPT}, timeout=10).headers["content-type"].startswith(
        "text/html")
    assert httpx.get(f"{page}?format=html", headers={"Accept": "application/json"}, timeout=10).headers[
        "content-type"].startswith("text/html")


def test_a_revoked_certificate_shows_as_revoked_on_its_page(credit_server, credit_api):
    _auth, cert_id = earn(credit_api)
    page = f"{credit_server.url}/verify/{cert_id}"
    assert "\u2713 This certificate is valid." in page_text(httpx.get(page, timeout=10).text)

    assert server_cli(["revoke", *data_options(credit_server), cert_id]) == 0

    text = page_text(httpx.get(page, timeout=10).text)
    assert "\u2717 This certificate has been revoked." in text and "Status \u2717 Revoked" in text
    assert "Signature \u2713 Valid" in text  # genuine, but withdrawn by its issuer


def test_accept_header_negotiation():
    assert wants_json("application/json")
    assert wants_json("application/vc+ld+json, text/html;q=0.9")
    assert not wants_json("")
    assert not wants_json("*/*")
    assert not wants_json(BROWSER_ACCEPT)
    assert not wants_json("application/json;q=0.5, text/html")
    assert not wants_json("application/json;q=nonsense")


def test_the_verdict_is_said_in_words_for_each_outcome():
    ok = verdict_text(CertificateCheck("f", signature_valid=True, revoked=False, reason=""))
    revoked = verdict_text(CertificateCheck("f", signature_valid=True, revoked=True, reason="Revoked on 2026-12-01."))
    bad = verdict_text(CertificateCheck("f", signature_valid=False, revoked=False, reason="Changed."))
    assert ok[0] and "valid" in ok[1] and "Valid" in ok[2] and "Active" in ok[3]
    assert not revoked[0] and "revoked" in revoked[1] and "Revoked on 2026-12-01." in revoked[3]
    assert not bad[0] and "signature is not valid" in bad[1] and "Not valid. Changed." == bad[2][2:]


def qr_texts(pdf: bytes) -> list[str]:
    """The QR codes a PDF's first page shows, read from its pixels (rendered at 200 dpi)."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=200 / 72).to_pil()
    finally:
        document.close()
    return [found.text for found in zxingcpp.read_barcodes(image) if found.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("signatory", [True, False])
def test_the_pdf_prints_the_pages_absolute_url_and_its_qr_code_which_a_board_can_open(
        credit_server, credit_api, tmp_path, signatory):
    activity_id = CREDIT_ACTIVITY
    if not signatory:
        doc = activity_doc(activity_id := "unsigned")
        del doc["signatory"]
        publish(credit_server, tmp_path, doc)
    auth = signed_in(credit_api, "demo", "demo")
    [res] = post(credit_api, auth, completion(activity_id, claim=claim_for("physician")))
    cert_id = res["certificate_id"]
    pdf = credit_api.get(f"/certificates/{cert_id}", headers=auth).content

    url = f"{credit_server.url}/verify/{cert_id}"
    assert verification_url(pdf_text(pdf), cert_id) == url
    assert qr_texts(pdf) == [url]
    r = httpx.get(url, timeout=10)  # a licensing board: no account, no token
    assert r.status_code == 200 and "Dr. Dana Demo, MD" in r.text and "\u2713 This certificate is valid." in r.text


def test_the_qr_code_carries_the_servers_public_address(start_server, tmp_path):
    server = start_server(public_url="https://cme.example.org/")
    with client_for(server) as api:
        publish(server, tmp_path, activity_doc(CREDIT_ACTIVITY))
        auth, cert_id = earn(api)
        pdf = api.get(f"/certificates/{cert_id}", headers=auth).content
        page = api.get(f"{server.url}/verify/{cert_id}").text
    url = f"https://cme.example.org/verify/{cert_id}"
    assert verification_url(pdf_text(pdf), cert_id) == url
    assert qr_texts(pdf) == [url]
    # The page's own links use the public address too.
    assert f'href="{url}.json"' in page and 'href="https://cme.example.org/api/v1/keys"' in page
