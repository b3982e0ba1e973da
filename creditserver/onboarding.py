"""Onboarding many learners at once: `learner import FILE.csv` and one-time set-password codes.

`learner add` hashes a password with Argon2id (~70 ms of CPU, and the command starts in
about a second), so 50,000 learners one by one take most of a day; and a provider should
not be choosing and handing out learners' passwords at all. An import stores no password
(passwords.NO_PASSWORD: nothing signs in) and gives each learner a one-time code instead,
printed to a CSV the provider distributes. The learner sends the code with the password
they choose (`POST /auth/set-password`), then signs in as usual.

A code is 120 random bits, so a guess is hopeless and a fast hash is enough to keep it at
rest: only its SHA-256 is stored (models.SetPasswordCode). That is what lets 50,000 rows
import in seconds, where Argon2id in parallel processes would still take ~30 minutes of CPU.
A code works once and until it expires (14 days by default).

The CSV has a header row naming its columns: `username`, then the profile fields of
cmecore.profile.PROFILE_FIELDS by name (`display_name` may be headed `name`); the required
ones must be there, the others may be left out or empty. Every row is checked; the good
ones are imported together, and each bad one is reported with its row number, field and
rule. Usernames are normalised as `learner add` does (passwords.normalise_username).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from sqlalchemy import delete, insert, select, update

from cmecore.profile import PROFILE_FIELDS, USERNAME
from cmecore.protocol import LearnerProfile, Problem, SetPasswordRequest

from . import problems
from .auth import find_learner
from .db import Database
from .models import Learner, SetPasswordCode, utcnow
from .passwords import NO_PASSWORD, hash_password, normalise_username, password_problem
from .problems import ProblemError

DEFAULT_CODE_DAYS = 14
COLUMNS: tuple[str, ...] = (USERNAME.name, *(f.name for f in PROFILE_FIELDS))
REQUIRED_COLUMNS: tuple[str, ...] = (USERNAME.name, *(f.name for f in PROFILE_FIELDS if f.required))
COLUMN_ALIASES = {"name": "display_name"}
CODE_BYTES = 15  # 120 bits: 24 base32 letters and digits


class ImportRefused(ValueError):
    """The file as a whole cannot be imported (its header); the message says why."""


@dataclass(frozen=True)
class IssuedCode:
    username: str
    display_name: str
    code: str
    expires_at: datetime


@dataclass
class ImportResult:
    imported: list[IssuedCode] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one per bad field of a bad row: "row 7, birth_mmdd: …"
    bad_rows: int = 0


def new_code() -> str:
    """A one-time code as the learner types it: `ABCD-EFGH-…`, 6 groups of 4."""
    text = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def code_hash(code: str) -> str:
    """The SHA-256 kept of a code; case, spaces and dashes as typed do not matter."""
    plain = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(plain.encode("utf-8", "surrogatepass")).hexdigest()


def import_learners(db: Database, lines: Iterable[str], *, code_days: int = DEFAULT_CODE_DAYS) -> ImportResult:
    """Check every row of the CSV `lines`, import the good ones with a code each (one
    transaction), and report the bad ones. Raises ImportRefused if the header is unusable."""
    reader = csv.DictReader(lines, restkey="\0extra")
    header = _check_header(reader.fieldnames)
    result = ImportResult()
    now = utcnow()
    expires_at = now + timedelta(days=code_days)
    learners: list[dict] = []
    codes: list[dict] = []
    with db.session() as s:
        taken = _taken_usernames(s)
        seen: dict[str, int] = {}
        for number, row in enumerate(reader, start=2):  # as a spreadsheet numbers them: the header is row 1
            values = {header.get(k, k): v for k, v in row.items()}
            profile, problems_here = _check_row(number, values, taken, seen)
            if problems_here:
                result.problems += problems_here
                result.bad_rows += 1
                continue
            assert profile is not None
            seen[profile.username] = number
            code = new_code()
            learners.append({**profile.model_dump(mode="json"), "password_hash": NO_PASSWORD, "created_at": now})
            codes.append({"learner_id": profile.id, "code_hash": code_hash(code), "created_at": now, "expires_at": expires_at})
            result.imported.append(IssuedCode(profile.username, profile.display_name, code, expires_at))
        if learners:
            s.execute(insert(Learner), learners)
            s.execute(insert(SetPasswordCode), codes)
    return result


class UnknownLearner(ValueError):
    """No learner signs in under that username."""


def reissue_code(db: Database, username: str, *, code_days: int = DEFAULT_CODE_DAYS) -> IssuedCode:
    """A new one-time set-password code for the learner `username` (`learner code`): for one
    whose code was lost or expired, or who forgot their password. It replaces the learner's
    code, so an earlier one stops working; the password, if any, works until the code is used."""
    now = utcnow()
    expires_at = now + timedelta(days=code_days)
    code = new_code()
    with db.session() as s:
        learner = find_learner(s, username) if "\x00" not in username else None  # PostgreSQL refuses NUL
        if learner is None:
            raise UnknownLearner(f"there is no learner {normalise_username(username)!r} here")
        s.execute(delete(SetPasswordCode).where(SetPasswordCode.learner_id == learner.id))
        s.add(SetPasswordCode(learner_id=learner.id, code_hash=code_hash(code), created_at=now, expires_at=expires_at))
        return IssuedCode(learner.username, learner.display_name, code, expires_at)


def _check_header(fieldnames: Iterable[str] | None) -> dict[str, str]:
    """The header's columns mapped to field names; refused if one is unknown or a required one missing."""
    if not fieldnames:
        raise ImportRefused("the file is empty: the first line must name the columns, e.g. " + ",".join(COLUMNS))
    mapping = {name: COLUMN_ALIASES.get(name.strip().lower(), name.strip().lower()) for name in fieldnames}
    if len(set(mapping.values())) < len(fieldnames):
        raise ImportRefused("the header names a column twice (`name` is `display_name`)")
    unknown = [name for name, column in mapping.items() if column not in COLUMNS]
    if unknown:
        raise ImportRefused(f"unknown column {unknown[0]!r}: the columns are " + ", ".join(COLUMNS))
    missing = [c for c in REQUIRED_COLUMNS if c not in mapping.values()]
    if missing:
        raise ImportRefused(f"the header has no {missing[0]!r} column (required: {', '.join(REQUIRED_COLUMNS)})")
    return mapping


def _taken_usernames(s) -> set[str]:
    """Every username already here, as stored and normalised (older learners kept theirs as typed)."""
    stored = set(s.execute(select(Learner.username)).scalars())
    return stored | {normalise_username(u) for u in stored}


def _check_row(number: int, values: dict, taken: set[str], seen: dict[str, int]) -> tuple[LearnerProfile | None, list[str]]:
    """The row's learner profile, or what is wrong with it (one message per field)."""
    where = f"row {number}"
    if "\0extra" in values:
        return None, [f"{where}: has more cells than the header names"]
    if any(v is None for v in values.values()):
        return None, [f"{where}: has fewer cells than the header names"]
    found = [f"{where}, {name}: must not contain a NUL character" for name, v in values.items() if "\x00" in v]
    if found:
        return None, found
    username = normalise_username(values[USERNAME.name])
    fields = {f.name: (values.get(f.name) or "").strip() or f.default for f in PROFILE_FIELDS}
    empty = [USERNAME.name] * (not username) + [f.name for f in PROFILE_FIELDS if f.required and not fields[f.name]]
    if empty:
        return None, [f"{where}, {name}: must not be empty" for name in empty]
    fields["profession"] = fields["profession"].lower()
    if username in taken:
        return None, [f"{where}, username: {username!r} is already a learner here"]
    if username in seen:
        return None, [f"{where}, username: {username!r} is already on row {seen[username]}"]
    try:
        return LearnerProfile(id=uuid.uuid4().hex, username=username, **fields), []
    except ValidationError as exc:
        return None, [f"{where}, {_message(err)}" for err in exc.errors()]


_LABELS = {f.name: f.label for f in PROFILE_FIELDS}


def _message(err) -> str:
    """`field: rule` for one pydantic error, in words where the rule is a pattern."""
    loc = err.get("loc", ())
    name = str(loc[0]) if loc else "row"
    if err.get("type") == "string_pattern_mismatch" and name in _LABELS:
        return f"{name}: {err.get('input')!r} is not a valid {_LABELS[name]}"
    return f"{name}: {err['msg']}"


# ---------------------------------------------------------------- setting the password


router = APIRouter(tags=["auth"])

_CODE_REFUSED = "This code is wrong, already used or expired. Ask your provider for a new one."


@router.post("/auth/set-password", status_code=204, response_class=Response,
             responses={400: {"model": Problem, "description": "A bad code, or a password too short (problem+json)."}})
def set_password(body: SetPasswordRequest, request: Request) -> Response:
    """Set the password of a learner imported without one, with the one-time code the provider gave them.

    The code works once and until it expires; afterwards sign in with POST /auth/token."""
    if problem := password_problem(body.password):
        raise ProblemError(400, "The password is too short", type=problems.INVALID_REQUEST, detail=problem)
    db: Database = request.app.state.db
    hashed = code_hash(body.code)
    with db.session() as s:  # a cheap check first: a wrong code costs no Argon2id hash
        learner = find_learner(s, body.username) if "\x00" not in body.username else None  # PostgreSQL refuses NUL
        code = s.get(SetPasswordCode, learner.id) if learner is not None else None
        if code is None or code.code_hash != hashed or code.used_at is not None or code.expires_at <= utcnow():
            raise ProblemError(400, "The code is not valid", type=problems.INVALID_REQUEST, detail=_CODE_REFUSED)
        learner_id = learner.id
    password_hash = hash_password(body.password)
    with db.session() as s:  # claimed in one statement: two requests racing with one code, one wins
        now = utcnow()
        claimed = s.execute(
            update(SetPasswordCode)
            .where(SetPasswordCode.learner_id == learner_id, SetPasswordCode.code_hash == hashed,
                   SetPasswordCode.used_at.is_(None), SetPasswordCode.expires_at > now)
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            raise ProblemError(400, "The code is not valid", type=problems.INVALID_REQUEST, detail=_CODE_REFUSED)
        s.execute(update(Learner).where(Learner.id == learner_id).values(password_hash=password_hash)
                  .execution_options(synchronize_session=False))
    return Response(status_code=204)
