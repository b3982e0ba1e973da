"""learners: which one has proved who they are (switching learner needs a password)

On a shared workstation any learner could switch to any other signed in there. Now the
current learner is the one signed-in learner who is *unlocked*: they signed in, or gave
their password to switch or to continue after the idle lock. At most one per server is
unlocked; switching locks the others, and idle time or a sign-out leaves none unlocked.

Offline, wrong passwords in a row are counted per learner (`failed_proofs`) and the offline
check is held back for a growing time (`proofs_held_until`); online the server throttles.

An upgraded cache keeps its current learner unlocked (the most recent sign-in per server),
so nobody is asked for a password by the upgrade itself, which they might not be able to
give offline (the offline check is written at the next online sign-in).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("learners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unlocked", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("failed_proofs", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("proofs_held_until", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE learners SET unlocked = 1 WHERE signed_in = 1 AND last_signed_in_at = ("
        " SELECT MAX(l2.last_signed_in_at) FROM learners l2"
        " WHERE l2.server_url = learners.server_url AND l2.signed_in = 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("learners", schema=None) as batch_op:
        batch_op.drop_column("proofs_held_until")
        batch_op.drop_column("failed_proofs")
        batch_op.drop_column("unlocked")
