"""Certificates as standard, portable credentials: Open Badges 3.0 with a W3C Data
Integrity proof (eddsa-rdfc-2022), revocable through a Bitstring Status List.

Pure (no Qt, no FastAPI, no SQL). The credit server builds (openbadge), signs
(eddsa_rdfc) and publishes status lists (status_list); every reader checks with
`check_credential` (check), offline, against the server keys and the status list it kept.
JSON-LD contexts are pinned in the package (jsonld, contexts/), never fetched.
"""

from .check import FORM_LEGACY, FORM_OB3, FORM_UNKNOWN, CredentialCheck, StatusList, check_credential

__all__ = ["FORM_LEGACY", "FORM_OB3", "FORM_UNKNOWN", "CredentialCheck", "StatusList", "check_credential"]
