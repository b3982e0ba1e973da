"""Certificates rendered once; one-time set-password codes for imported learners.

A certificate's PDF was rendered on every fetch (~150 ms of CPU each); it is now rendered
once after issue and kept with the certificate (`certificates.pdf`, NULL for certificates
issued before: rendered at their first fetch, then kept). Learners imported from a CSV
have no password; `set_password_codes` holds a hash of each one's one-time code.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Each step only where missing, like 0001: a database a test rebuilt "from before
    # migrations" out of a newer one may hold them already.
    inspector = sa.inspect(op.get_bind())
    if "pdf" not in {c["name"] for c in inspector.get_columns("certificates")}:
        with op.batch_alter_table("certificates", schema=None) as batch_op:
            batch_op.add_column(sa.Column("pdf", sa.LargeBinary(), nullable=True))
    if inspector.has_table("set_password_codes"):
        return
    op.create_table(
        "set_password_codes",
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("learner_id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_set_password_codes_expires_at", "set_password_codes", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_set_password_codes_expires_at", table_name="set_password_codes")
    op.drop_table("set_password_codes")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_column("pdf")
