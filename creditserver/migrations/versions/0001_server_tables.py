"""The server's tables as they were when Alembic took over (create_all until then).

A database from before Alembic has some or all of these tables (each release's create_all
added the tables it lacked and changed none it had; no release added a column), so each
table and its indexes are created only when missing: such a database gains what it lacked,
keeps its rows, and is stamped 0001. Types are frozen here, not imported from models.py
(UTCDateTime stores a naive UTC DateTime).

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _missing(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if _missing('activities'):
        op.create_table('activities',
        sa.Column('id', sa.String(length=80), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('withdrawn', sa.Boolean(), nullable=False),
        sa.Column('json_text', sa.Text(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        op.create_index('ix_activities_revision', 'activities', ['revision'])

    if _missing('activity_versions'):
        op.create_table('activity_versions',
        sa.Column('activity_id', sa.String(length=80), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('json_text', sa.Text(), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('activity_id', 'version')
        )

    if _missing('catalog_state'):
        op.create_table('catalog_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )

    if _missing('learners'):
        op.create_table('learners',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=200), nullable=False),
        sa.Column('password_hash', sa.String(length=300), nullable=False),
        sa.Column('display_name', sa.String(length=500), nullable=False),
        sa.Column('profession', sa.String(length=40), nullable=False),
        sa.Column('degree', sa.String(length=500), nullable=False),
        sa.Column('board_id', sa.String(length=500), nullable=True),
        sa.Column('licence_state', sa.String(length=500), nullable=True),
        sa.Column('licence_number', sa.String(length=500), nullable=True),
        sa.Column('nabp_eprofile_id', sa.String(length=12), nullable=True),
        sa.Column('birth_mmdd', sa.String(length=4), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username')
        )

    if _missing('media'):
        op.create_table('media',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('media_type', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('sha256')
        )

    if _missing('sign_in_failures'):
        op.create_table('sign_in_failures',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', sa.DateTime(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('key')
        )
        op.create_index('ix_sign_in_failures_last_failure_at', 'sign_in_failures', ['last_failure_at'])

    if _missing('completion_rejections'):
        op.create_table('completion_rejections',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('learner_id', sa.String(length=64), nullable=False),
        sa.Column('completion_id', sa.String(length=36), nullable=True),
        sa.Column('reason_code', sa.String(length=40), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('body_json', sa.Text(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id')
        )
        op.create_index('ix_completion_rejections_completion_id', 'completion_rejections', ['completion_id'])
        op.create_index('ix_completion_rejections_learner_id', 'completion_rejections', ['learner_id'])

    if _missing('completions'):
        op.create_table('completions',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('learner_id', sa.String(length=64), nullable=False),
        sa.Column('activity_id', sa.String(length=80), nullable=False),
        sa.Column('activity_version', sa.Integer(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('body_json', sa.Text(), nullable=False),
        sa.Column('result_json', sa.Text(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('disclosures_acknowledged_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('completed_at', sa.DateTime(), nullable=False),
        sa.Column('completed_at_corrected', sa.DateTime(), nullable=False),
        sa.Column('watched_share', sa.Float(), nullable=False),
        sa.Column('server_score', sa.Float(), nullable=True),
        sa.Column('passed', sa.Boolean(), nullable=False),
        sa.Column('profession', sa.String(length=40), nullable=False),
        sa.Column('credit_type', sa.String(length=500), nullable=False),
        sa.Column('credits_claimed', sa.Float(), nullable=False),
        sa.Column('attested_minutes', sa.Integer(), nullable=True),
        sa.Column('reporting_consent', sa.Boolean(), nullable=False),
        sa.Column('nabp_eprofile_id', sa.String(length=12), nullable=True),
        sa.Column('birth_mmdd', sa.String(length=4), nullable=True),
        sa.Column('board_id', sa.String(length=500), nullable=True),
        sa.Column('licence_state', sa.String(length=500), nullable=True),
        sa.Column('licence_number', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('learner_id', 'activity_id', name='uq_completion_learner_activity')
        )
        op.create_index('ix_completions_activity_id', 'completions', ['activity_id'])
        op.create_index('ix_completions_completed_at_corrected', 'completions', ['completed_at_corrected'])
        op.create_index('ix_completions_learner_id', 'completions', ['learner_id'])
        op.create_index('ix_completions_received_at', 'completions', ['received_at'])

    if _missing('refresh_tokens'):
        op.create_table('refresh_tokens',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('learner_id', sa.String(length=64), nullable=False),
        sa.Column('device_name', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash')
        )
        op.create_index('ix_refresh_tokens_learner_id', 'refresh_tokens', ['learner_id'])

    if _missing('access_tokens'):
        op.create_table('access_tokens',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('learner_id', sa.String(length=64), nullable=False),
        sa.Column('refresh_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('revoked', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['refresh_id'], ['refresh_tokens.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash')
        )
        op.create_index('ix_access_tokens_learner_id', 'access_tokens', ['learner_id'])
        op.create_index('ix_access_tokens_refresh_id', 'access_tokens', ['refresh_id'])

    if _missing('certificates'):
        op.create_table('certificates',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('completion_id', sa.String(length=36), nullable=False),
        sa.Column('learner_id', sa.String(length=64), nullable=False),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.Column('record_json', sa.Text(), nullable=False),
        sa.Column('credential_json', sa.Text(), nullable=False),
        sa.Column('completion_date', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['completion_id'], ['completions.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('completion_id')
        )
        op.create_index('ix_certificates_learner_id', 'certificates', ['learner_id'])

    if _missing('completion_attempts'):
        op.create_table('completion_attempts',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('completion_id', sa.String(length=36), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=False),
        sa.Column('answers_json', sa.Text(), nullable=False),
        sa.Column('local_score', sa.Float(), nullable=False),
        sa.Column('local_passed', sa.Boolean(), nullable=False),
        sa.Column('server_score', sa.Float(), nullable=True),
        sa.Column('server_passed', sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(['completion_id'], ['completions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id')
        )
        op.create_index('ix_completion_attempts_completion_id', 'completion_attempts', ['completion_id'])

    if _missing('completion_evaluations'):
        op.create_table('completion_evaluations',
        sa.Column('completion_id', sa.String(length=36), nullable=False),
        sa.Column('ratings_json', sa.Text(), nullable=False),
        sa.Column('texts_json', sa.Text(), nullable=False),
        sa.Column('commitments_json', sa.Text(), nullable=False),
        sa.Column('reminder_weeks', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['completion_id'], ['completions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('completion_id')
        )

    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM catalog_state WHERE id = 1")).scalar_one() == 0:
        bind.execute(sa.text("INSERT INTO catalog_state (id, revision) VALUES (1, 0)"))


def downgrade() -> None:
    raise NotImplementedError("the first schema has nothing to go back to")
