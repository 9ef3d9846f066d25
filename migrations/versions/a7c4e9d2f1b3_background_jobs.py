"""background jobs: kind, requester, clinic, status, progress, result file

Revision ID: a7c4e9d2f1b3
Revises: 3b9c1e5d7a20
Create Date: 2026-12-01 06:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c4e9d2f1b3'
down_revision = '3b9c1e5d7a20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('clinic_id', sa.Integer(), nullable=True),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('progress_done', sa.Integer(), nullable=False),
        sa.Column('progress_total', sa.Integer(), nullable=True),
        sa.Column('runs', sa.Integer(), nullable=False),
        sa.Column('result_path', sa.String(length=500), nullable=True),
        sa.Column('result_name', sa.String(length=200), nullable=True),
        sa.Column('result_mimetype', sa.String(length=100), nullable=True),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_dt', sa.DateTime(), nullable=False),
        sa.Column('started_dt', sa.DateTime(), nullable=True),
        sa.Column('heartbeat_dt', sa.DateTime(), nullable=True),
        sa.Column('finished_dt', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name='fk_jobs_clinic_id'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name='fk_jobs_requested_by_id'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_finished_dt'), ['finished_dt'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_status'))
        batch_op.drop_index(batch_op.f('ix_jobs_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_finished_dt'))
        batch_op.drop_index(batch_op.f('ix_jobs_clinic_id'))
    op.drop_table('jobs')
