"""search index: the timing each indexed transcript was spread over

An untimed transcript indexed when it arrived before its video kept the nominal 400 ms a
word for good, while the player spread it over the real length: a search hit jumped to
the wrong minute. The index now records the timing it used per activity (which file;
for untimed text the catalog's video length, the length a player learnt, or the nominal
pace), so a better length known later rebuilds it once. Untimed transcripts indexed before
this have no record and are rebuilt at the next check (a sync at the latest).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transcript_timings",
        sa.Column("activity_id", sa.String(length=80), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("length_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("activity_id"),
    )


def downgrade() -> None:
    op.drop_table("transcript_timings")
