"""withdrawn activities remembered; the next catalog sync is a full one

A content pack made before an activity was withdrawn used to bring it back, and the next
(delta) sync never said otherwise. The cache now keeps the ids the server withdrew, with
the catalog revision it learnt that at, and refuses them from older packs.

Caches from before kept no withdrawals, so the catalog cursor and ETag are cleared: the
next sync fetches the whole catalog, which lists every withdrawn id (and removes any
withdrawn activity an older pack had put back).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "withdrawn_activities",
        sa.Column("activity_id", sa.String(length=80), nullable=False),
        sa.Column("known_at_revision", sa.Integer(), nullable=False),
        sa.Column("learnt_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("activity_id"),
    )
    op.execute("UPDATE sync_state SET catalog_cursor = NULL, catalog_etag = NULL")


def downgrade() -> None:
    op.drop_table("withdrawn_activities")
