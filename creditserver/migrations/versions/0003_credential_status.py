"""Revocable credentials: each certificate's position in the Bitstring Status Lists.

Certificates issued from now on carry an Open Badges 3.0 credential with a
`credentialStatus` entry; `credential_status` gives each one a position (list number and
bit) once, at issue, and records when it was revoked (`cme-credit-server revoke`).
Positions are never reused, so the table has no foreign key to `certificates`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("credential_status"):
        return  # a database rebuilt "from before migrations" out of a newer one
    op.create_table(
        "credential_status",
        sa.Column("position", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("certificate_id", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("certificate_id"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("credential_status")
