"""Certificates (rule 7): the PDF, the signed Open Badges credential, the key, and privacy."""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import stat

import httpx
import pytest
from pypdf import PdfReader

from cmecore.credentials import FORM_LEGACY, FORM_OB3, check_credential, multikey
from cmecore.signatures import canonical_json, sign_credential
from creditserver.keys import load_or_create_key
from cmecore.protocol import CPE_MONITOR_NOTE, SigningKeys, TokenResponse

from tests.support import ob3

from .conftest import CREDIT_ACTIVITY, client_for, sign_in
from .credit_support import claim_for, completion, post, signed_in


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def physician_cert(credit_api):
    auth = signed_in(credit_api, "demo")
    [res] = post(credit_api, auth, completion(CREDIT_ACTIVITY, claim=claim_for("physician", credits_claimed=0.25, attested_minutes=20)))
    assert res["status"] == "accepted", res["reason"]
    return auth, res["certificate_id"]


@pytest.fixture
def pharmacist_cert(credit_api):
    auth = signed_in(credit_api, "pharm")
    [res] = post(credit_api, auth, completion(CREDIT_ACTIVITY, profession="pharmacist"))
    assert res["status"] == "accepted", res["reason"]
    return auth, res["certificate_id"]


def test_physician_pdf_shows_name_providers_title_format_date_and_credits_claimed_rule_7(credit_api, physician_cert):
    auth, cert_id = physician_cert
    r = credit_api.get(f"/certificates/{cert_id}", headers=auth)

    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    text = pdf_text(r.content)
    record = credit_api.get("/me/completions", headers=auth).json()["completions"][0]["certificate"]
    assert "Dr. Dana Demo" in text
    assert "Northwind Institute for Continuing Education (fictional)" in text
    assert "Lakeside Geriatrics Society (fictional)" in text
    assert "Home Blood-Pressure Monitoring in Older Adults" in text
    assert "enduring material" in text
    assert record["completion_date"] in text
    assert "0.25 AMA PRA Category 1 Credits\u2122 claimed" in text  # claimed, not the 0.5 maximum
    # 0.5 appears only where the activity's designation statement names its maximum.
    assert text.count("0.5 AMA") == text.count("maximum of 0.5 AMA") == 1
    assert "UAN" not in text and "CPE Monitor" not in text


def test_pharmacist_pdf_carries_the_uan_and_says_cpe_monitor_holds_the_record_rule_7(credit_api, pharmacist_cert):
    auth, cert_id = pharmacist_cert
    text = pdf_text(credit_api.get(f"/certificates/{cert_id}", headers=auth).content)

    assert "Pat Pharm" in text
    assert "0000-9999-26-001-H01-P" in text
    assert "0.5 contact hours" in text and "0.05 CEU" in text
    assert " ".join(CPE_MONITOR_NOTE.split()) in text
    [mine] = credit_api.get("/me/completions", headers=auth).json()["completions"]
    assert mine["certificate"]["uan"] == "0000-9999-26-001-H01-P"
    assert mine["certificate"]["cpe_monitor_note"] == CPE_MONITOR_NOTE


def test_another_learner_cannot_fetch_or_list_a_certificate_learner_privacy(credit_server, credit_api, physician_cert):
    _auth, cert_id = physician_cert
    credit_server.add_learner("bob", "pw", profession="physician", display_name="Dr. Bob")
    bob = signed_in(credit_api, "bob", "pw")

    for path in (f"/certificates/{cert_id}", f"/certificates/{cert_id}?format=json"):
        r = credit_api.get(path, headers=bob)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
    assert credit_api.get("/me/completions", headers=bob).json() == {"completions": []}
    # Same answer as for a certificate that does not exist.
    assert credit_api.get(f"/certificates/{'0' * 32}", headers=bob).json() == credit_api.get(
        f"/certificates/{cert_id}", headers=bob).json()
    assert credit_api.get(f"/certificates/{cert_id}").status_code == 401


def test_the_signed_credential_is_public_by_its_id_for_verification(credit_api, physician_cert):
    """The verification URL printed on the certificate: a board has no account here. Only the
    random 128-bit id finds it; an id that does not exist is a 404."""
    auth, cert_id = physician_cert
    mine = credit_api.get(f"/certificates/{cert_id}.json", headers=auth)
    anyone = credit_api.get(f"/certificates/{cert_id}.json")
    assert anyone.status_code == 200 and anyone.content == mine.content
    assert credit_api.get(f"/certificates/{'0' * 32}.json").status_code == 404


def _name(doc: dict) -> str:
    return next(i["identityHash"] for i in doc["credentialSubject"]["identifier"] if i["identityType"] == "name")


def test_signed_credential_verifies_with_the_published_key_and_fails_after_tampering(credit_api, physician_cert):
    auth, cert_id = physician_cert
    keys = SigningKeys.model_validate_json(credit_api.get("/keys").content)  # no sign-in needed
    [key] = keys.keys
    doc = credit_api.get(f"/certificates/{cert_id}.json", headers=auth).json()

    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert doc["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    subject = doc["credentialSubject"]
    assert _name(doc) == "Dr. Dana Demo" and subject["creditsEarned"] == 0.25
    assert subject["achievement"]["name"].startswith("Home Blood-Pressure Monitoring")
    assert subject["activityEndDate"].endswith("Z") and doc["validFrom"].endswith("Z")
    [proof] = doc["proof"]
    raw = base64.b64decode(key.public_key)
    assert proof["cryptosuite"] == "eddsa-rdfc-2022" and proof["proofValue"].startswith("z")
    assert proof["verificationMethod"] == multikey.verification_method(raw)
    assert doc["issuer"]["id"] == multikey.did_key(raw)  # the proof's controller is the issuer
    check = check_credential(doc, [key.public_key])
    assert check.form == FORM_OB3 and check.signature_valid, check.reason
    ob3.assert_conformant(doc, raw)  # OB 3.0 schema, and the proof checked independently
    assert ob3.schema_errors({**doc, "proof": doc["proof"][0]})  # the schema does bite: proof must be an array

    def rename(d):
        next(i for i in d["credentialSubject"]["identifier"] if i["identityType"] == "name")["identityHash"] = "Dr. M"

    for mutate in (
        lambda d: d["credentialSubject"].__setitem__("creditsEarned", 0.5),
        rename,
        lambda d: d["credentialSubject"]["result"][0].__setitem__("value", "5"),
        lambda d: d["proof"][0].__setitem__("created", "2020-01-01T00:00:00Z"),
        lambda d: d.__setitem__("extra", True),  # no context defines it: it would not be signed
        lambda d: d.pop("proof"),
    ):
        tampered = copy.deepcopy(doc)
        mutate(tampered)
        assert not check_credential(tampered, [key.public_key]).signature_valid
    other = base64.b64encode(bytes(32)).decode()
    assert not check_credential(doc, [other]).signature_valid
    assert not check_credential(doc, ["not base64!"]).signature_valid
    # Key order and whitespace do not matter: the proof covers the RDF statements.
    reordered = json.loads(json.dumps(doc, indent=3, sort_keys=False))
    assert check_credential(dict(reversed(list(reordered.items()))), [key.public_key]).signature_valid


def test_a_credential_in_the_old_form_still_verifies_and_says_which_form_it_is(tmp_path):
    """Certificates issued before issue 13 carry the home-made proof; they keep verifying."""
    key = load_or_create_key(tmp_path)
    legacy = sign_credential({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                              "credentialSubject": {"name": "Dr. Dana Demo"}},
                             key.private_key, key.key_id, "2026-01-01T00:00:00Z")
    check = check_credential(legacy, [key.public_key_b64])
    assert check.form == FORM_LEGACY and check.signature_valid and check.revoked is None
    legacy["credentialSubject"]["name"] = "Dr. Mallory"
    assert not check_credential(legacy, [key.public_key_b64]).signature_valid


def test_json_query_form_is_the_same_credential(credit_api, physician_cert):
    auth, cert_id = physician_cert
    a = credit_api.get(f"/certificates/{cert_id}.json", headers=auth)
    b = credit_api.get(f"/certificates/{cert_id}", params={"format": "json"}, headers=auth)
    assert a.status_code == b.status_code == 200
    assert a.content == b.content and a.headers["content-type"] == "application/json"


def test_pharmacist_credential_carries_uan_and_note_rule_7(credit_api, pharmacist_cert):
    auth, cert_id = pharmacist_cert
    doc = credit_api.get(f"/certificates/{cert_id}.json", headers=auth).json()
    assert doc["credentialSubject"]["achievement"]["humanCode"] == "0000-9999-26-001-H01-P"
    assert doc["description"] == CPE_MONITOR_NOTE
    key = credit_api.get("/keys").json()["keys"][0]["public_key"]
    assert check_credential(doc, [key]).signature_valid
    ob3.assert_conformant(doc, base64.b64decode(key))


def test_sign_in_reply_carries_the_signing_key(credit_api):
    tokens = TokenResponse.model_validate(sign_in(credit_api, "demo", "demo"))
    [key] = credit_api.get("/keys").json()["keys"]
    assert (tokens.server_public_key, tokens.key_id) == (key["public_key"], key["key_id"])


def test_key_is_made_once_kept_private_and_survives_a_restart(start_server):
    server = start_server(demo=False)
    with client_for(server) as api:
        first = api.get("/keys").json()
    server.stop()
    path = server.data_dir / "signing-key.pem"
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with client_for(start_server(again=server, demo=False)) as api:
        assert api.get("/keys").json() == first


def test_canonical_json_is_sorted_compact_utf8():
    doc = {"b": 1.0, "a": [0.25, True, None], "é": "ü™"}
    assert canonical_json(doc) == '{"a":[0.25,true,null],"b":1,"é":"ü™"}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_malformed_certificate_ids_are_404_and_the_openapi_document_lists_the_batch(credit_api):
    auth = signed_in(credit_api, "demo")
    for bad in ("nope", "..%2f..%2fetc", "A" * 32):
        assert credit_api.get(f"/certificates/{bad}", headers=auth).status_code == 404
        assert credit_api.get(f"/certificates/{bad}.json", headers=auth).status_code == 404
    schema = httpx.get(str(credit_api.base_url).removesuffix("/api/v1/") + "/openapi.json").json()
    body = schema["paths"]["/api/v1/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CompletionBatch"}
    assert "CompletionIn" in schema["components"]["schemas"]
