"""A certificate an accreditor accepts (rule 7, issue 9): for a physician, a pharmacist and a
nurse, the PDF carries every required field in the activity's own words, and its
verification URL is absolute and answers, without sign-in, with the certificate's public
verification page, which also gives the signed credential (tests/server/test_verify_page.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from cmecore.protocol import CPE_MONITOR_NOTE, AccreditationStatement
from cmecore.rules.claims import statement_for
from cmecore.credentials import check_credential
from creditserver.models import Certificate
from tests.support import ob3
from tests.support.activities import activity_doc

from .conftest import CREDIT_ACTIVITY, client_for
from .credit_support import claim_for, completion, post, publish, signed_in
from .test_certificates import pdf_text

NURSE = ("nina", "pw", "Nina Nurse", "RN, BSN")


def words(text: str) -> str:
    return " ".join(text.split())


def issue(server, api: httpx.Client, profession: str, activity_id: str = CREDIT_ACTIVITY) -> tuple[dict, str, str]:
    """Sign in the demo learner of `profession` (adding the nurse), earn a certificate;
    returns (auth headers, certificate id, PDF text)."""
    if profession == "nurse":
        username, password, name, degree = NURSE
        if api.post("/auth/token", json={"username": username, "password": password}).status_code != 200:
            server.add_learner(username, password, profession="nurse", display_name=name, degree=degree)
    else:
        username, password = {"physician": ("demo", "demo"), "pharmacist": ("pharm", "demo")}[profession]
    auth = signed_in(api, username, password)
    [res] = post(api, auth, completion(activity_id, claim=claim_for(profession)))
    assert res["status"] == "accepted", res["reason"]
    pdf = api.get(f"/certificates/{res['certificate_id']}", headers=auth)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    return auth, res["certificate_id"], pdf_text(pdf.content)


def verification_url(text: str, cert_id: str) -> str:
    [url] = [w for w in text.split() if w.startswith(("http://", "https://")) and cert_id in w]
    return url


REQUIRED = {
    "physician": ("Dr. Dana Demo, MD", "Certificate of Credit", "0.5 AMA PRA Category 1 Credits\u2122 claimed"),
    "pharmacist": ("Pat Pharm, PharmD", "Statement of Credit", "0.5 contact hours (0.05 CEU)",
                   "Credit type: ACPE contact hours", "Universal Activity Number (UAN) 0000-9999-26-001-H01-P", "NABP e-Profile ID 1234567",
                   CPE_MONITOR_NOTE),
    "nurse": ("Nina Nurse, RN, BSN", "Certificate of Participation", "0.5 contact hours", "Credit type: Participation"),
}


@pytest.mark.parametrize("profession", ["physician", "pharmacist", "nurse"])
def test_certificate_carries_every_field_an_accreditor_requires_in_the_activitys_own_words(
        credit_server, credit_api, profession):
    doc = activity_doc(CREDIT_ACTIVITY)
    statement = statement_for([AccreditationStatement.model_validate(s) for s in doc["accreditation"]], profession)
    _auth, cert_id, text = issue(credit_server, credit_api, profession)
    record = next(c["certificate"] for c in credit_api.get("/me/completions", headers=_auth).json()["completions"]
                  if c["certificate"]["id"] == cert_id)

    for field in REQUIRED[profession]:
        assert words(field) in text, field
    assert doc["title"] in text
    assert "Format: enduring material" in text and "has completed the enduring material" in text
    assert f"Completed on {record['completion_date']}" in text
    for provider in doc["providers"]:
        assert provider in text
    assert f"Accredited provider: {statement.provider}" in text
    assert words(doc["accreditation_statement"]) in text  # the activity's accreditation statement
    assert words(statement.statement) in text  # the credit designation statement for this profession
    for other in doc["accreditation"]:
        if other["statement"] != statement.statement:
            assert words(other["statement"]) not in text
    assert doc["signatory"]["name"] in text and doc["signatory"]["title"] in text
    if profession != "pharmacist":
        assert "UAN" not in text and "CPE Monitor transcript" not in text and "e-Profile ID 1" not in text
    assert f"Certificate {cert_id}" in text

    url = verification_url(text, cert_id)
    assert url == f"{credit_server.url}/verify/{cert_id}"
    page = httpx.get(url, timeout=10)  # a licensing board: no account, no token
    assert page.status_code == 200 and words(doc["title"]) in words(page.text)
    credential = httpx.get(url, headers={"Accept": "application/json"}, timeout=10)
    assert credential.status_code == 200 and credential.headers["content-type"] == "application/json"
    key = credit_api.get("/keys").json()["keys"][0]["public_key"]
    signed = credential.json()
    assert check_credential(signed, [key]).signature_valid
    ob3.assert_conformant(signed, base64.b64decode(key))  # OB 3.0 schema, and the proof checked independently
    assert signed["issuer"]["name"] == statement.provider  # the accredited provider of this credit, alone
    assert signed["credentialSubject"]["achievement"]["humanCode" if profession == "pharmacist" else "name"]
    assert cert_id.replace("-", "") in signed["id"].replace("-", "")


def test_the_verification_url_uses_the_servers_public_address_when_it_has_one(start_server, tmp_path):
    server = start_server(public_url="https://cme.example.org/")
    with client_for(server) as api:
        publish(server, tmp_path, activity_doc(CREDIT_ACTIVITY))
        _auth, cert_id, text = issue(server, api, "physician")
    assert verification_url(text, cert_id) == f"https://cme.example.org/verify/{cert_id}"


def test_no_signature_line_when_the_activity_names_no_signatory(credit_server, credit_api, tmp_path):
    doc = activity_doc("unsigned")
    del doc["signatory"]
    publish(credit_server, tmp_path, doc)
    _auth, cert_id, text = issue(credit_server, credit_api, "physician", "unsigned")
    assert "Helena Marsh" not in text and "Director of Continuing Education" not in text
    assert f"Certificate {cert_id}" in text and verification_url(text, cert_id)


def test_a_long_statement_is_printed_whole_never_cut_off(credit_server, credit_api, tmp_path):
    doc = activity_doc("long-statement")
    long = " ".join(f"Sentence {i} of a long accreditation statement that the provider insists on." for i in range(120))
    doc["accreditation_statement"] = long
    publish(credit_server, tmp_path, doc)
    _auth, cert_id, text = issue(credit_server, credit_api, "physician", "long-statement")
    assert long in text
    assert verification_url(text, cert_id)


def test_a_certificate_issued_before_records_held_the_statements_still_shows_them(credit_server, credit_api):
    auth, cert_id, _text = issue(credit_server, credit_api, "pharmacist")
    new_fields = ("learner_degree", "accredited_provider", "accreditation_statement", "designation_statement",
                  "nabp_eprofile_id", "signatory")
    with credit_server.app.state.db.session() as s:
        row = s.get(Certificate, cert_id)
        record = json.loads(row.record_json)
        row.record_json = json.dumps({k: v for k, v in record.items() if k not in new_fields})

    text = pdf_text(credit_api.get(f"/certificates/{cert_id}", headers=auth).content)
    doc = activity_doc(CREDIT_ACTIVITY)
    pharmacy = next(st for st in doc["accreditation"] if st["profession"] == "pharmacist")
    assert "Pat Pharm, PharmD" in text and "NABP e-Profile ID 1234567" in text
    assert words(pharmacy["statement"]) in text and words(doc["accreditation_statement"]) in text


def test_demo_activity_names_its_accreditation_statement_and_signatory():
    doc = json.loads((Path(__file__).parents[2] / "creditserver/demo/activity.json").read_text(encoding="utf-8"))
    assert "ACCME" in doc["accreditation_statement"]
    assert doc["signatory"]["name"]
