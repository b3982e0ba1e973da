"""`jsonld.canonize` keeps the scoped contexts pyld processes (jsonld._Processor), which cut a
credential's canonicalisation to about a quarter: its N-Quads must be those of plain pyld,
byte for byte, for every document, in any order: randomised credentials of the shape the
server issues and of others, the status list credential, proof options, and the W3C
vc-di-eddsa test vectors. A wrong cache entry would sign (or verify) other statements than
the document's."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyld import jsonld as pyld

from cmecore.credentials.jsonld import CREDENTIALS_V2, OB_V3P0, PINNED, Loader, canonize
from cmecore.credentials.openbadge import OB_SCHEMA_URL, identity_hash
from cmecore.credentials.status_list import status_entry, status_list_credential
from tests.support import ob3

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "vc-di-eddsa"
DID = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
amount = st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda v: round(v, 2))
iri_tail = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)


def plain_pyld(doc: dict) -> str:
    """pyld's own normalize, with no cache of ours, over the same pinned contexts."""
    return pyld.normalize(doc, {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": PINNED})


@st.composite
def profiles(draw) -> dict:
    out = {"id": DID, "type": ["Profile"], "name": draw(text.filter(bool))}
    if draw(st.booleans()):
        out["url"] = "https://" + draw(iri_tail) + ".example.org"
    if draw(st.booleans()):
        out["description"] = draw(text)
    return out


@st.composite
def credentials(draw) -> dict:
    """Credentials as openbadge.open_badge_credential builds them, with each optional part
    present or not, any text, and now and then a field moved, dropped or of another type."""
    urn = "urn:cme-offline:activity:" + draw(iri_tail) + ":v" + str(draw(st.integers(1, 99)))
    issuer = draw(profiles())
    kinds = draw(st.lists(st.sampled_from(["credits", "contact-hours", "other"]), min_size=1, max_size=3, unique=True))
    descriptions = [{"id": f"{urn}:result:{k}", "type": ["ResultDescription"], "name": draw(text.filter(bool)),
                     "resultType": draw(st.sampled_from(["ext:CmeCredits", "ext:ContactHours", "GradePointAverage"]))}
                    for k in kinds]
    results = [{"type": ["Result"], "resultDescription": f"{urn}:result:{k}", "value": f"{draw(amount):g}"} for k in kinds]
    salt = draw(st.text("0123456789abcdef", min_size=0, max_size=32))
    identifiers = [{"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": draw(text)},
                   {"type": "IdentityObject", "identityType": "systemId", "hashed": True,
                    "identityHash": identity_hash(draw(text), salt), "salt": salt}]
    if draw(st.booleans()):
        identifiers.append({"type": "IdentityObject", "identityType": "ext:NabpEprofileId", "hashed": False,
                            "identityHash": str(draw(st.integers(1, 9_999_999)))})
    achievement = {"id": urn, "type": ["Achievement"], "achievementType": "CertificateOfCompletion",
                   "name": draw(text.filter(bool)), "description": draw(text), "criteria": {"narrative": draw(text)},
                   "creditsAvailable": draw(amount), "creator": draw(profiles()), "resultDescription": descriptions,
                   "tag": draw(st.lists(text, max_size=2)), "version": str(draw(st.integers(1, 99)))}
    if draw(st.booleans()):
        achievement["humanCode"] = draw(text)
    subject = {"type": ["AchievementSubject"], "identifier": draw(st.permutations(identifiers)),
               "role": draw(st.sampled_from(["physician", "nurse", "pharmacist", "other"])),
               "activityEndDate": "2026-12-0" + str(draw(st.integers(1, 9))) + "T10:00:00Z",
               "creditsEarned": draw(amount), "result": results, "achievement": achievement}
    when = "2026-12-01T0" + str(draw(st.integers(0, 9))) + ":00:00Z"
    doc = {"@context": [CREDENTIALS_V2, OB_V3P0], "id": "urn:uuid:7a1c3e3c-7b3e-4f7e-9a57-" + f"{draw(st.integers(0, 10**12)):012d}",
           "type": ["VerifiableCredential", "OpenBadgeCredential"], "name": draw(text.filter(bool)), "issuer": issuer,
           "validFrom": when, "awardedDate": when, "credentialSubject": subject,
           "credentialSchema": [{"id": OB_SCHEMA_URL, "type": "JsonSchema"}]}
    if draw(st.booleans()):
        doc["description"] = draw(text)
    if draw(st.booleans()):
        doc["credentialStatus"] = status_entry("https://cme.example.org/api/v1/status/" + str(draw(st.integers(0, 3))),
                                               draw(st.integers(0, 131_071)))
    # Other shapes: a node without its type (no type-scoped context), an unknown key (dropped),
    # a type the contexts give another scoped context, a number where text was, a context of its own.
    change = draw(st.sampled_from(["none", "untyped", "unknown key", "other type", "number", "inline context"]))
    if change == "untyped":
        del draw(st.sampled_from([achievement, subject, issuer, descriptions[0], results[0]]))["type"]
    elif change == "unknown key":
        draw(st.sampled_from([doc, achievement, subject]))["notInAnyContext"] = draw(text)
    elif change == "other type":
        subject["type"] = draw(st.sampled_from([["Profile"], ["Achievement"], ["AchievementSubject", "Profile"]]))
    elif change == "number":
        achievement["version"] = draw(st.integers(0, 10))
    elif change == "inline context":  # a context written in the document (never kept: not pinned)
        node = draw(st.sampled_from([subject, achievement, results[0]]))
        node["@context"] = {"extraTerm": "https://example.org/terms#" + draw(iri_tail)}
        node["extraTerm"] = draw(text)
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(credentials(), min_size=1, max_size=3))
def test_canonical_n_quads_equal_plain_pylds_for_any_credential_in_any_order(docs):
    ours = [canonize(doc) for doc in docs]
    assert ours == [plain_pyld(doc) for doc in docs]
    assert ours[0] == ob3.rdfc(docs[0])  # and the independent check's, over the context files on disk


def test_status_lists_proof_options_and_the_w3c_vectors_canonicalise_as_plain_pyld():
    lst = status_list_credential("https://cme.example.org/api/v1/status/0", DID, "2026-12-01T00:00:00Z", [0, 7, 9])
    options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-12-01T00:00:00Z",
               "verificationMethod": DID + "#" + DID[len("did:key:"):], "proofPurpose": "assertionMethod",
               "@context": [CREDENTIALS_V2, OB_V3P0]}
    for doc in (lst, options, {**options, "@context": lst["@context"]}):
        assert canonize(doc) == plain_pyld(doc)
    # The vectors need the W3C examples context, which a test loader adds (not pinned: pyld
    # caches nothing of it, and neither do we); after many cached credentials they still
    # canonicalise to the published text.
    loader = Loader({"https://www.w3.org/ns/credentials/examples/v2":
                     json.loads((VECTORS / "examples-v2.jsonld").read_text("utf-8"))})
    for doc_file, canonical_file in (("unsigned.json", "canonDocDataInt.txt"),
                                     ("proofConfigDataInt.json", "proofCanonDataInt.txt")):
        doc = json.loads((VECTORS / doc_file).read_text("utf-8"))
        assert canonize(doc, loader) == (VECTORS / canonical_file).read_text("utf-8").strip() + "\n"
