"""certificates: revocation, checked offline against the server's status list kept here

Credentials issued since the server's migration 0003 name a revocation list (W3C Bitstring
Status List). The client keeps each list it fetched (`status_lists`, with the time) and
records on each certificate the last offline check: the credential's form, whether it is
revoked (NULL: not known) and when the list that said so was fetched. Certificates cached
before keep NULLs until the next sync checks them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("revoked", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("status_checked_at", sa.DateTime(), nullable=True))
    op.create_table(
        "status_lists",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("server_url", sa.String(length=2048), nullable=False),
        sa.Column("credential", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("url"),
    )
    op.create_index("ix_status_lists_server_url", "status_lists", ["server_url"])


def downgrade() -> None:
    op.drop_index("ix_status_lists_server_url", table_name="status_lists")
    op.drop_table("status_lists")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_column("status_checked_at")
        batch_op.drop_column("revoked")
        batch_op.drop_column("form")
