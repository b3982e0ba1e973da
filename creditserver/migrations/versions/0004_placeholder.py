"""PLACEHOLDER (helper xapi): stands in for migration 0004, which another helper writes in
parallel; it changes nothing. Delete this file when the real 0004 is merged.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
