"""video renditions: the other forms of each video the catalog lists, and the one wanted here

A catalog from a server with renditions (issue 14) lists, for each video asset, its other
forms (small, audio) with their own blobs; the cache keeps them (`asset_renditions`) and
the original's picture size and bitrate on the asset. `video_choices` records per activity
which form this machine wants (a quality) and, during a switch, the one to remove once the
new form is verified. A download job says which form its blob is (`quality`).

Rows cached before keep working: no renditions (the original is the only form), no choice
(the settings' quality applies), jobs without a quality (a video job there is the original).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("height", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("bitrate", sa.Integer(), nullable=True))
    op.create_table(
        "asset_renditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("bitrate", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_asset_renditions_asset_id", "asset_renditions", ["asset_id"])
    op.create_index("ix_asset_renditions_sha256", "asset_renditions", ["sha256"])
    op.create_table(
        "video_choices",
        sa.Column("activity_id", sa.String(length=80), nullable=False),
        sa.Column("quality", sa.String(length=10), nullable=False),
        sa.Column("replaces", sa.String(length=10), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("activity_id"),
    )
    with op.batch_alter_table("download_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quality", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("download_jobs", schema=None) as batch_op:
        batch_op.drop_column("quality")
    op.drop_table("video_choices")
    op.drop_index("ix_asset_renditions_sha256", table_name="asset_renditions")
    op.drop_index("ix_asset_renditions_asset_id", table_name="asset_renditions")
    op.drop_table("asset_renditions")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("bitrate")
        batch_op.drop_column("height")
        batch_op.drop_column("width")
