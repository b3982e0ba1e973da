"""sync state: the failed sync's error code beside its message

The status bar shows a short form of the last sync failure ("Server not reachable"). It
used to find that form by matching the stored message against the error classes'
wording, so rewording a message changed what the status bar said. The failure's
machine-readable code (desktop/errors.py) is now stored beside its text, and the short
form is chosen by code. Rows from before have no code: their stored text is shown as it is.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_error_code", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_column("last_error_code")
