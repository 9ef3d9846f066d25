"""question version origin; the hashes a course folder last gave (questions, module content and quiz)

Revision ID: 0c662e612e4e
Revises: aad08140e6d2
Create Date: 2026-12-01 02:35:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0c662e612e4e'
down_revision = 'aad08140e6d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('question_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=10), server_default='folder', nullable=False))
        batch_op.create_check_constraint(op.f('ck_question_versions_origin'),
                                         "origin IN ('folder', 'browser', 'upload')")
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_file_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('quiz_file_hash', sa.String(length=64), nullable=True))

    # Until now only the editor set an author; every other version came from a file (folder or
    # upload: they cannot be told apart, so they count as the folder's).
    op.execute("UPDATE question_versions SET origin = 'browser' WHERE author_id IS NOT NULL")
    # What the folder last gave: the newest version that came from a file.
    op.execute("""
        UPDATE questions SET file_hash = (
            SELECT v.content_hash FROM question_versions v
            WHERE v.question_id = questions.id AND v.origin = 'folder'
            ORDER BY v.number DESC LIMIT 1)
    """)


def downgrade():
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.drop_column('quiz_file_hash')
        batch_op.drop_column('content_file_hash')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('file_hash')
    with op.batch_alter_table('question_versions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_question_versions_origin'), type_='check')
        batch_op.drop_column('origin')
