"""Credentials signed after the answer: a certificate may be stored before its proof.

POST /completions answers once a completion is judged and its certificate stored; the
credential's proof (canonicalisation and Ed25519) and the PDF are made just after by the
server's finisher (creditserver/finishing.py). Until then `credential_json` is NULL and
`pending_json` holds what finishing needs; `finishing_until` is a finisher's claim on the
row, so several processes never finish one twice. Existing certificates are finished
already: their rows keep every value, the new columns NULL.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UNFINISHED = "pending_json IS NOT NULL"


def upgrade() -> None:
    # Each step only where missing, like 0001: a database a test rebuilt "from before
    # migrations" out of a newer one may hold them already.
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"]: c for c in inspector.get_columns("certificates")}
    if "pending_json" in columns and columns["credential_json"]["nullable"]:
        return
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.alter_column("credential_json", existing_type=sa.Text(), nullable=True)
        if "pending_json" not in columns:
            batch_op.add_column(sa.Column("pending_json", sa.Text(), nullable=True))
        if "finishing_until" not in columns:
            batch_op.add_column(sa.Column("finishing_until", sa.DateTime(), nullable=True))
    op.create_index("ix_certificates_unfinished", "certificates", ["issued_at"],
                    sqlite_where=sa.text(UNFINISHED), postgresql_where=sa.text(UNFINISHED))


def downgrade() -> None:
    # A certificate not yet signed cannot go back to a schema that needs its credential:
    # finish them first (start this server once, or fetch them).
    op.drop_index("ix_certificates_unfinished", table_name="certificates")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_column("finishing_until")
        batch_op.drop_column("pending_json")
        batch_op.alter_column("credential_json", existing_type=sa.Text(), nullable=False)
