"""learner records: time really spent on an activity; commitment-to-change reminders

The claim form pre-filled "time spent" from the video position, so 30 minutes watched at
2x in 14 minutes read as 30. The time a learner really spends with an activity open and
playing or answering is now measured on this computer (desktop/learning/time_spent.py)
and kept per learner and activity in `time_spent`.

The evaluation's "remind me about my commitments in N weeks" was stored and never acted
on. A submitted evaluation now carries when its reminder is due, when the learner was
told, and when they marked it done (desktop/learning/reminders.py). Rows from before
have no due time; their reminder (if any) is due N weeks after their submission, set here.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "time_spent",
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("activity_id", sa.String(length=80), nullable=False),
        sa.Column("spent_ms", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("learner_id", "activity_id"),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reminder_notified_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reminder_done_at", sa.DateTime(), nullable=True))
    # Evaluations submitted before with a reminder: due that many weeks after submission.
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT learner_id, activity_id, submitted_at, json_extract(responses, '$.reminder_weeks') "
        "FROM evaluations WHERE submitted_at IS NOT NULL"
    )).fetchall()
    for learner_id, activity_id, submitted_at, weeks in rows:
        if weeks:
            bind.execute(
                sa.text("UPDATE evaluations SET reminder_due_at = datetime(:at, :shift) "
                        "WHERE learner_id = :l AND activity_id = :a"),
                {"at": submitted_at, "shift": f"+{int(weeks) * 7} days", "l": learner_id, "a": activity_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("reminder_done_at")
        batch_op.drop_column("reminder_notified_at")
        batch_op.drop_column("reminder_due_at")
    op.drop_table("time_spent")
