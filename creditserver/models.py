"""The server's tables (SQLAlchemy 2 typed ORM).

The server keeps no state outside these tables and the media store, so several
processes can share one PostgreSQL database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cmecore import profile


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend (SQLite too)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class CatalogState(Base):
    """One row: the catalog revision, bumped by each publish or withdrawal."""

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class ActivityRecord(Base):
    """An activity as published: its JSON text is stored and served verbatim."""

    __tablename__ = "activities"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer, index=True)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    json_text: Mapped[str] = mapped_column(Text)
    # SHA-256 of the canonical JSON without `version`: republishing the same content is a no-op.
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MediaObject(Base):
    """A file in the content-addressed media store."""

    __tablename__ = "media"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)  # up to 50 GiB
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _sized(field: profile.ProfileField) -> String:
    """A column for a learner profile field, as long as cmecore.profile allows."""
    return String(field.max_length)


class Learner(Base):
    """A learner and their profile (the fields of cmecore.profile.LEARNER_FIELDS)."""

    __tablename__ = "learners"

    id: Mapped[str] = mapped_column(_sized(profile.LEARNER_ID), primary_key=True)
    username: Mapped[str] = mapped_column(_sized(profile.USERNAME), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    display_name: Mapped[str] = mapped_column(_sized(profile.DISPLAY_NAME))
    profession: Mapped[str] = mapped_column(_sized(profile.PROFESSION))
    degree: Mapped[str] = mapped_column(_sized(profile.DEGREE), default="")
    board_id: Mapped[str | None] = mapped_column(_sized(profile.BOARD_ID), default=None)
    licence_state: Mapped[str | None] = mapped_column(_sized(profile.LICENCE_STATE), default=None)
    licence_number: Mapped[str | None] = mapped_column(_sized(profile.LICENCE_NUMBER), default=None)
    nabp_eprofile_id: Mapped[str | None] = mapped_column(_sized(profile.NABP_EPROFILE_ID), default=None)
    birth_mmdd: Mapped[str | None] = mapped_column(_sized(profile.BIRTH_MMDD), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SetPasswordCode(Base):
    """A one-time code with which an imported learner sets their password (onboarding.py).

    Only the code's SHA-256 is kept (the code is 128 random bits, so a fast hash is enough);
    it works once (`used_at`) and until `expires_at`. One per learner: a new one replaces it."""

    __tablename__ = "set_password_codes"

    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    device_name: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AccessToken(Base):
    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    refresh_id: Mapped[int] = mapped_column(ForeignKey("refresh_tokens.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


# ---------------------------------------------------------------- earning credit
# Added after the first release (create_all added them to existing databases then; a
# database from before them gains them in migration 0001).


class ActivityVersion(Base):
    """Every published version of an activity, kept so a completion of an older version is
    re-graded against that version's answer key. (Versions published before this table
    existed are read from `activities` while they are current.)"""

    __tablename__ = "activity_versions"

    activity_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    json_text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Completion(Base):
    """An accepted (re-graded, passed, credited) completion with its claim.

    The primary key is the client's UUID (the idempotency key). One credited completion
    per learner and activity: a second one is refused, so two devices cannot double-credit.
    """

    __tablename__ = "completions"
    __table_args__ = (UniqueConstraint("learner_id", "activity_id", name="uq_completion_learner_activity"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[str] = mapped_column(String(80), index=True)
    activity_version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical CompletionIn
    body_json: Mapped[str] = mapped_column(Text)  # the canonical CompletionIn as received
    result_json: Mapped[str] = mapped_column(Text)  # the CompletionResult given (without index)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    disclosures_acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at_corrected: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    watched_share: Mapped[float] = mapped_column(Float)
    server_score: Mapped[float | None] = mapped_column(Float, default=None)
    passed: Mapped[bool] = mapped_column(Boolean)
    # the claim (rule 6) and the reporting consent (rule 8), with the ids it carries (cmecore.profile.CLAIM_IDS)
    profession: Mapped[str] = mapped_column(_sized(profile.PROFESSION))
    credit_type: Mapped[str] = mapped_column(String(500))
    credits_claimed: Mapped[float] = mapped_column(Float)
    attested_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    reporting_consent: Mapped[bool] = mapped_column(Boolean)
    nabp_eprofile_id: Mapped[str | None] = mapped_column(_sized(profile.NABP_EPROFILE_ID), default=None)
    birth_mmdd: Mapped[str | None] = mapped_column(_sized(profile.BIRTH_MMDD), default=None)
    board_id: Mapped[str | None] = mapped_column(_sized(profile.BOARD_ID), default=None)
    licence_state: Mapped[str | None] = mapped_column(_sized(profile.LICENCE_STATE), default=None)
    licence_number: Mapped[str | None] = mapped_column(_sized(profile.LICENCE_NUMBER), default=None)


class CompletionAttempt(Base):
    """Every post-test attempt of a completion, as submitted, with the server's grade (rule 4)."""

    __tablename__ = "completion_attempts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    completion_id: Mapped[str] = mapped_column(ForeignKey("completions.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answers_json: Mapped[str] = mapped_column(Text)
    local_score: Mapped[float] = mapped_column(Float)
    local_passed: Mapped[bool] = mapped_column(Boolean)
    server_score: Mapped[float | None] = mapped_column(Float, default=None)  # None: no post-test
    server_passed: Mapped[bool | None] = mapped_column(Boolean, default=None)


class CompletionEvaluation(Base):
    """The learner's evaluation of the activity (rule 5)."""

    __tablename__ = "completion_evaluations"

    completion_id: Mapped[str] = mapped_column(ForeignKey("completions.id", ondelete="CASCADE"), primary_key=True)
    ratings_json: Mapped[str] = mapped_column(Text)
    texts_json: Mapped[str] = mapped_column(Text)
    commitments_json: Mapped[str] = mapped_column(Text)
    reminder_weeks: Mapped[int | None] = mapped_column(Integer, default=None)


class Certificate(Base):
    """A certificate as issued (rule 7): a snapshot that later activity changes do not touch."""

    __tablename__ = "certificates"
    # The finisher's question "which are not finished?" reads only these rows (migration 0005).
    __table_args__ = (Index("ix_certificates_unfinished", "issued_at", sqlite_where=text("pending_json IS NOT NULL"),
                            postgresql_where=text("pending_json IS NOT NULL")),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    completion_id: Mapped[str] = mapped_column(ForeignKey("completions.id", ondelete="CASCADE"), unique=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    record_json: Mapped[str] = mapped_column(Text)  # protocol.CertificateRecord
    # The signed OpenBadgeCredential. None: accepted, not yet signed (creditserver/finishing.py
    # signs it after the answer, or whoever asks for it first); never shown unsigned.
    credential_json: Mapped[str | None] = mapped_column(Text, default=None)
    completion_date: Mapped[date] = mapped_column(Date)
    # The PDF as rendered at issue (certificates.py): fetching it is a read, not a render.
    # None: issued before PDFs were stored; rendered at its first fetch and stored then.
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    # What finishing needs while the credential or the PDF is still to be made (finishing.py:
    # the unsigned credential, its proof's time, the server's public address); None once both are.
    pending_json: Mapped[str | None] = mapped_column(Text, default=None, deferred=True)
    # A finisher working on it until then (another skips it); None: nobody is.
    finishing_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CompletionRejection(Base):
    """A log of refused items (conflicting resubmissions, failed checks), for the provider."""

    __tablename__ = "completion_rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    completion_id: Mapped[str | None] = mapped_column(String(36), default=None, index=True)
    reason_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)  # at most 500 characters
    body_json: Mapped[str] = mapped_column(Text)  # empty: the body is no longer kept (older rows: the item)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignInFailures(Base):
    """Failed sign-ins per username and per client address (throttle.py).

    Kept here, not in the process, so every server process sharing the database sees the
    same counts and a restart does not forgive an attacker. `key` is a SHA-256 of
    "user:<normalised username>" or "address:<client address>": no typed-in username is stored.
    """

    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CredentialStatusEntry(Base):
    """A certificate's bit in the revocation lists (W3C Bitstring Status List; the server's
    creditserver/status_lists.py). `position` is taken once, at issue, and never given to
    another certificate: list number `position // LIST_BITS`, bit `position % LIST_BITS`.
    No foreign key, so the position stays taken after its certificate is deleted."""

    __tablename__ = "credential_status"
    __table_args__ = {"sqlite_autoincrement": True}

    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    certificate_id: Mapped[str] = mapped_column(String(32), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class XapiOutboxItem(Base):
    """An xAPI statement on its way to the provider's learning record store (creditserver/lrs).

    Written in the transaction that accepts the completion, so a statement exists exactly
    when its completion does; a background sender delivers it and marks it `sent`. `state`:
    queued (waiting or being retried after `next_try_at`), sent, refused (the LRS turned it
    down; `last_error` says why). A sender claims a row by setting `lease_owner` and
    `lease_until`; a lease that ran out (a process died) lets another sender take it."""

    __tablename__ = "xapi_outbox"

    statement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    completion_id: Mapped[str] = mapped_column(ForeignKey("completions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # completed, passed, failed, progressed
    statement_json: Mapped[str] = mapped_column(Text)  # sent verbatim, every time
    state: Mapped[str] = mapped_column(String(10), default="queued")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(32), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)  # at most 500 characters

    __table_args__ = (Index("ix_xapi_outbox_state_next_try_at", "state", "next_try_at"),)
