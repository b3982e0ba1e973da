"""PLACEHOLDER (helper xapi): stands in for migration 0003, which another helper writes in
parallel; it changes nothing. Delete this file when the real 0003 is merged.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
