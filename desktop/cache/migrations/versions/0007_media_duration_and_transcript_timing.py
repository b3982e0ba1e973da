"""catalog: media duration, where a transcript's timings come from, when the evaluation opens

An untimed transcript was spread over a nominal 400 ms a word when it arrived before its
video, and the search index kept those times: search and player disagreed by minutes.
The catalog now carries each video's length (`assets.duration_ms`, read by the server at
publish), so a transcript has one timing whatever is downloaded first.

A transcript the server timed from the audio is marked `assets.timing = "audio"` (the
panel says so) with the provider's untimed text at `assets.source_sha256`.

An activity may let the evaluation be filled in before the post-test is passed
(`activities.evaluation_opens = "any_time"`); the default stays "after_test".

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timing", sa.String(length=10), nullable=False, server_default="file"))
        batch_op.add_column(sa.Column("source_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("duration_ms", sa.Integer(), nullable=True))
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("evaluation_opens", sa.String(length=20), nullable=False, server_default="after_test")
        )


def downgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("evaluation_opens")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("duration_ms")
        batch_op.drop_column("source_sha256")
        batch_op.drop_column("timing")
