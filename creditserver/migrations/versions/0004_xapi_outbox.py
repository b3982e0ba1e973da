"""The xAPI outbox: statements on their way to the provider's learning record store.

Each accepted completion leaves its xAPI statements here, in the transaction that accepts
it; the server's background sender delivers them and marks them sent (creditserver/lrs).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("xapi_outbox"):  # like 0001: a test's "before migrations" copy may hold it
        return
    op.create_table(
        "xapi_outbox",
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("completion_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("statement_json", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["completion_id"], ["completions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("statement_id"),
    )
    op.create_index("ix_xapi_outbox_completion_id", "xapi_outbox", ["completion_id"])
    op.create_index("ix_xapi_outbox_state_next_try_at", "xapi_outbox", ["state", "next_try_at"])


def downgrade() -> None:
    op.drop_index("ix_xapi_outbox_state_next_try_at", table_name="xapi_outbox")
    op.drop_index("ix_xapi_outbox_completion_id", table_name="xapi_outbox")
    op.drop_table("xapi_outbox")
