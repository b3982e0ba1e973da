"""The local cache's tables, as typed SQLAlchemy 2 models.

Catalog data (activities and everything they hold) is shared by every learner on the
machine; learner rows hold profiles only — never a token. The schema is owned by Alembic
(`desktop/cache/migrations`): change these models only together with a new migration.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from cmecore import profile


class Base(DeclarativeBase):
    pass


class Activity(Base):
    __tablename__ = "activities"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    highlights: Mapped[list] = mapped_column(JSON, default=list)
    format: Mapped[str] = mapped_column(String(500), default="enduring material")
    audience: Mapped[str] = mapped_column(String(500), default="")
    release_date: Mapped[date] = mapped_column(Date)
    review_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    termination_date: Mapped[date] = mapped_column(Date)
    estimated_minutes: Mapped[int] = mapped_column(Integer, default=0)
    providers: Mapped[list] = mapped_column(JSON, default=list)
    commercial_support: Mapped[str] = mapped_column(Text, default="")
    off_label_statement: Mapped[str] = mapped_column(Text, default="")
    transcript_machine_generated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Assessment, evaluation and participation rules are read whole by `learning`;
    # kept as the validated protocol JSON rather than spread over tables.
    assessment: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    evaluation: Mapped[list] = mapped_column(JSON, default=list)
    evaluation_opens: Mapped[str] = mapped_column(String(20), default="after_test")
    min_watched_share: Mapped[float] = mapped_column(Float, default=0.0)
    synced_at: Mapped[datetime] = mapped_column(DateTime)

    faculty: Mapped[list[Faculty]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="Faculty.position"
    )
    disclosures: Mapped[list[Disclosure]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="Disclosure.position"
    )
    objectives: Mapped[list[Objective]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="Objective.position"
    )
    accreditation: Mapped[list[AccreditationStatement]] = relationship(
        back_populates="activity",
        cascade="all, delete-orphan",
        order_by="AccreditationStatement.position",
    )
    assets: Mapped[list[Asset]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="Asset.position"
    )


class Faculty(Base):
    __tablename__ = "faculty"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    credentials: Mapped[str] = mapped_column(String(500), default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    affiliation: Mapped[str] = mapped_column(String(500), default="")
    bio: Mapped[str] = mapped_column(Text, default="")

    activity: Mapped[Activity] = relationship(back_populates="faculty")


class Disclosure(Base):
    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    person: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(500))
    company: Mapped[str] = mapped_column(String(500))
    nature: Mapped[str] = mapped_column(String(500))
    mitigated: Mapped[bool] = mapped_column(Boolean, default=True)

    activity: Mapped[Activity] = relationship(back_populates="disclosures")


class Objective(Base):
    __tablename__ = "objectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("objectives.id", ondelete="CASCADE"), nullable=True
    )
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    activity: Mapped[Activity] = relationship(back_populates="objectives")
    parent: Mapped[Objective | None] = relationship(remote_side="Objective.id")


class AccreditationStatement(Base):
    __tablename__ = "accreditation_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    profession: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str] = mapped_column(String(500))
    credit_type: Mapped[str] = mapped_column(String(500))
    max_credits: Mapped[float] = mapped_column(Float)
    statement: Mapped[str] = mapped_column(Text)
    uan: Mapped[str | None] = mapped_column(String(40), nullable=True)
    activity_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    contact_hours: Mapped[float | None] = mapped_column(Float, nullable=True)

    activity: Mapped[Activity] = relationship(back_populates="accreditation")


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(String(500), default="")
    language: Mapped[str] = mapped_column(String(20), default="en")
    timed: Mapped[bool] = mapped_column(Boolean, default=False)
    timing: Mapped[str] = mapped_column(String(10), default="file")
    source_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Video: the original's picture size and bitrate (schema 0013), when the server read them.
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bitrate: Mapped[int | None] = mapped_column(Integer, nullable=True)

    activity: Mapped[Activity] = relationship(back_populates="assets")
    renditions: Mapped[list[AssetRendition]] = relationship(
        back_populates="asset", cascade="all, delete-orphan", order_by="AssetRendition.position"
    )


class AssetRendition(Base):
    """Another form of a video asset the catalog lists (small, audio): its own blob (schema 0013)."""

    __tablename__ = "asset_renditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # cmecore.protocol.RenditionKind
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bitrate: Mapped[int | None] = mapped_column(Integer, nullable=True)

    asset: Mapped[Asset] = relationship(back_populates="renditions")


class VideoChoice(Base):
    """Which form of an activity's video is wanted on this machine (schema 0013).

    `quality` is a cmecore.renditions.Quality; `replaces` the quality of the form a switch
    removes once the wanted one is verified (None: no switch under way). Machine-wide, like
    the blob store: every learner here plays the same file.
    """

    __tablename__ = "video_choices"

    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True)
    quality: Mapped[str] = mapped_column(String(10))
    replaces: Mapped[str | None] = mapped_column(String(10), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Learner(Base):
    """A learner who signed in on this machine: profile only, the token is in the keyring."""

    __tablename__ = "learners"

    # The profile columns take their lengths from cmecore.profile, as the server's do.
    # nabp_eprofile_id was declared String(20) by migration 0001 and is String(12) now, the
    # protocol's limit: SQLite does not enforce VARCHAR lengths, so the stored schema needs
    # no migration (an autogenerate that proposes altering this column can drop the change).
    id: Mapped[str] = mapped_column(String(profile.LEARNER_ID.max_length), primary_key=True)
    server_url: Mapped[str] = mapped_column(String(2048))
    username: Mapped[str] = mapped_column(String(profile.USERNAME.max_length))
    display_name: Mapped[str] = mapped_column(String(profile.DISPLAY_NAME.max_length))
    profession: Mapped[str] = mapped_column(String(profile.PROFESSION.max_length))
    degree: Mapped[str] = mapped_column(String(profile.DEGREE.max_length), default="")
    board_id: Mapped[str | None] = mapped_column(String(profile.BOARD_ID.max_length), nullable=True)
    licence_state: Mapped[str | None] = mapped_column(String(profile.LICENCE_STATE.max_length), nullable=True)
    licence_number: Mapped[str | None] = mapped_column(String(profile.LICENCE_NUMBER.max_length), nullable=True)
    nabp_eprofile_id: Mapped[str | None] = mapped_column(String(profile.NABP_EPROFILE_ID.max_length), nullable=True)
    birth_mmdd: Mapped[str | None] = mapped_column(String(profile.BIRTH_MMDD.max_length), nullable=True)
    signed_in: Mapped[bool] = mapped_column(Boolean, default=False)
    # Proved who they are in this session (signed in, or gave their password to switch or
    # unlock): the current learner. At most one per server; see cache/learners.py.
    unlocked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Wrong passwords in a row at the offline check, and until when that check is held back.
    failed_proofs: Mapped[int] = mapped_column(Integer, default=0)
    proofs_held_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class SyncState(Base):
    """One row per credit server: where the catalog sync stands and how the clocks differ."""

    __tablename__ = "sync_state"

    server_url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    catalog_cursor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    catalog_etag: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the failure's machine-readable code (desktop/errors.py), decided on instead of the text;
    # None before a failure, after a success, and in rows stored before schema 0005
    last_error_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # server time minus local time, in milliseconds, from the last response's Date header
    clock_offset_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the key that signs this server's certificate credentials (from sign-in), for offline checks
    signing_key_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signing_public_key: Mapped[str | None] = mapped_column(String(200), nullable=True)


class WithdrawnActivity(Base):
    """An activity the server said it withdrew (a catalog's `withdrawn` list), kept after its
    row is deleted so a content pack made before the withdrawal cannot bring it back. The row
    goes when the server publishes the activity again (a catalog or a newer pack holds it)."""

    __tablename__ = "withdrawn_activities"

    activity_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    # the catalog cursor of the reply that said so: a pack issued at this revision or before is older
    known_at_revision: Mapped[int] = mapped_column(Integer)
    learnt_at: Mapped[datetime] = mapped_column(DateTime)


class DownloadJob(Base):
    """One asset to fetch into the blob store; the queue survives restarts and crashes."""

    __tablename__ = "download_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Video: the form this blob is (cmecore.renditions.Quality, schema 0013); None otherwise.
    quality: Mapped[str | None] = mapped_column(String(10), nullable=True)
    url: Mapped[str] = mapped_column(String(2048))
    size: Mapped[int] = mapped_column(Integer)
    # 0 transcripts and summaries (small, fetched first), 1 video
    priority: Mapped[int] = mapped_column(Integer, default=1)
    # queued | running | paused | done | failed | cancelled
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    bytes_done: Mapped[int] = mapped_column(Integer, default=0)
    etag: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class WatchProgress(Base):
    """Where a learner stopped in an activity's video and which parts they really watched."""

    __tablename__ = "watch_progress"

    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    activity_id: Mapped[str] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    position_ms: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    # [[start_ms, end_ms], …], sorted and merged: the share watched is their total length
    watched: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class TranscriptTiming(Base):
    """The timing the search index holds for an activity's transcript: which file, and what
    an untimed one was spread over. Compared with what is known now, it says when the index
    must be rebuilt (desktop/services/transcripts.py)."""

    __tablename__ = "transcript_timings"

    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    basis: Mapped[str] = mapped_column(String(10))  # file | catalog | played | nominal
    length_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)  # catalog, played: the length used


# ---------------------------------------------------------------- learner records
# Records of what a learner did never hang off the catalog by foreign key: a withdrawn
# activity must not take a learner's attempts, claims or certificates with it.


class DisclosureAck(Base):
    """Rule 1: when the learner acknowledged an activity's disclosures (content unlocks)."""

    __tablename__ = "disclosure_acks"

    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    activity_version: Mapped[int] = mapped_column(Integer)
    acknowledged_at: Mapped[datetime] = mapped_column(DateTime)  # local clock, UTC
    acknowledged_at_corrected: Mapped[datetime] = mapped_column(DateTime)  # server-corrected, UTC


class Attempt(Base):
    """One try at an activity's post-test. Every attempt is kept, never overwritten (rule 4)."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("learner_id", "activity_id", "number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID, sent to the server
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[str] = mapped_column(String(80), index=True)
    activity_version: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … per learner and activity
    # question id -> option ids in the order shown (shuffled per attempt when the activity says so)
    option_order: Mapped[dict] = mapped_column(JSON, default=dict)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # question id -> chosen option ids
    current_question: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    local_score: Mapped[float | None] = mapped_column(Float, nullable=True)  # percent, provisional
    local_passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class EvaluationRecord(Base):
    """Rule 5: the learner's evaluation of an activity, saved as it is filled in."""

    __tablename__ = "evaluations"

    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    # {"ratings": {qid: int}, "texts": {qid: str}, "commitments": [str], "reminder_weeks": int | None}
    responses: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The commitment-to-change reminder (set on submission when one was asked for): when it
    # is due, when the learner was told, when they marked it done. Device clock, naive UTC.
    reminder_due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reminder_notified_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reminder_done_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class TimeSpent(Base):
    """The time a learner really spent on an activity (playing or answering, wall time)."""

    __tablename__ = "time_spent"

    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    spent_ms: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Completion(Base):
    """A claim of credit (rule 6) and what the server said of it. The payload is immutable."""

    __tablename__ = "completions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID: the idempotency key
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[str] = mapped_column(String(80), index=True)
    activity_version: Mapped[int] = mapped_column(Integer)
    activity_title: Mapped[str] = mapped_column(String(500))  # kept for My Credits after withdrawal
    payload: Mapped[dict] = mapped_column(JSON)  # the protocol CompletionIn, exactly as sent
    created_at: Mapped[datetime] = mapped_column(DateTime)
    completed_at_corrected: Mapped[datetime] = mapped_column(DateTime)
    credit_type: Mapped[str] = mapped_column(String(500))
    credits_claimed: Mapped[float] = mapped_column(Float)
    # pending (waiting to sync) | accepted | rejected
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    server_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    certificate_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class OutboxItem(Base):
    """A completion waiting for delivery; written in the same transaction as the claim."""

    __tablename__ = "outbox"

    completion_id: Mapped[str] = mapped_column(
        ForeignKey("completions.id", ondelete="CASCADE"), primary_key=True
    )
    learner_id: Mapped[str] = mapped_column(String(64), index=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Certificate(Base):
    """A learner's certificate, kept for offline opening, printing and verification (rule 7)."""

    __tablename__ = "certificates"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    completion_id: Mapped[str] = mapped_column(String(36), index=True)
    record: Mapped[dict] = mapped_column(JSON)  # protocol CertificateRecord
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    credential: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the signed JSON form
    verified: Mapped[bool] = mapped_column(Boolean, default=False)  # signature checked offline
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    # The last offline check (cmecore.credentials.check_credential), from schema 0012: the
    # credential's form, whether the revocation list kept here says revoked (None: not known)
    # and when that list was fetched.
    form: Mapped[str | None] = mapped_column(String(60), nullable=True)
    revoked: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    status_checked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class StatusList(Base):
    """A credit server's revocation list (a signed BitstringStatusListCredential) as last
    fetched, so certificates are checked offline against it and say how old it is."""

    __tablename__ = "status_lists"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)  # as credentials name it
    server_url: Mapped[str] = mapped_column(String(2048), index=True)
    credential: Mapped[dict] = mapped_column(JSON)
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
