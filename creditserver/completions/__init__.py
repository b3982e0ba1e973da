"""Earning credit: `POST /completions` (a batch) and `GET /me/completions`.

Each item of a batch is validated and judged on its own, so one malformed item is
rejected alone. The client's UUID is the idempotency key: the same id with the same
content answers `duplicate` with the stored result (same certificate); the same id with
other content is refused as a conflicting resubmission and logged. The server re-grades
every attempt against its own answer key for the version the learner took; a fail is
rejected and nothing is credited. An accepted item is passed and has a certificate.

The rules checked (DOMAIN.md): 1 disclosures acknowledged before starting; 3 availability
on the server-corrected clock (release, termination plus a grace for offline completions,
3 years past release or review); 4 attempts within the activity's policy, re-graded; 5 the
evaluation; 6 the claim (AMA PRA in 0.25 steps up to the maximum with attested time,
pharmacist NABP e-Profile ID and birth MMDD); 8 the reporting consent is stored per claim.
One credited completion per learner and activity.

Where each part lives:
- `judging`: the rules applied to one item (`judge`, `Rejected`, `CompletionSettings`);
- `issuing`: the certificate, its signed credential and the rows an accepted item leaves;
- `batch`: one batch in one transaction (idempotency, duplicates, the rejection log);
- `routes`: the two endpoints and the OpenAPI schema of the batch.
"""

from .batch import process_batch
from .judging import DEFAULT_GRACE_DAYS, CompletionSettings, Rejected, judge
from .routes import install_schemas, router

__all__ = ["DEFAULT_GRACE_DAYS", "CompletionSettings", "Rejected", "install_schemas", "judge", "process_batch", "router"]
