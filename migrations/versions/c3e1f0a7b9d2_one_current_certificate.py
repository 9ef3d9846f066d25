"""one current certificate per person and course: issuing lock rows, superseded_dt, partial unique index

Revision ID: c3e1f0a7b9d2
Revises: 0c662e612e4e
Create Date: 2026-12-01 02:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3e1f0a7b9d2'
down_revision = '0c662e612e4e'
branch_labels = None
depends_on = None

CURRENT = sa.text("superseded_dt IS NULL AND revoked_dt IS NULL")


def upgrade():
    op.create_table('certification_locks',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'course_id')
    )
    with op.batch_alter_table('certification_locks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certification_locks_course_id'), ['course_id'], unique=False)

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('superseded_dt', sa.DateTime(), nullable=True))

    # Races before this revision could leave two current certificates for one person and
    # course: the newest stays current and supersedes the others, as a renewal would have.
    op.execute("""
        UPDATE certificates SET superseded_by_id = (
            SELECT n.id FROM certificates n
            WHERE n.user_id = certificates.user_id AND n.course_id = certificates.course_id
              AND n.superseded_by_id IS NULL AND n.revoked_dt IS NULL
            ORDER BY n.issued_dt DESC, n.id DESC LIMIT 1)
        WHERE superseded_by_id IS NULL AND revoked_dt IS NULL
          AND id <> (
            SELECT n.id FROM certificates n
            WHERE n.user_id = certificates.user_id AND n.course_id = certificates.course_id
              AND n.superseded_by_id IS NULL AND n.revoked_dt IS NULL
            ORDER BY n.issued_dt DESC, n.id DESC LIMIT 1)
    """)
    # A certificate stopped being current when the one that superseded it was issued.
    op.execute("""
        UPDATE certificates SET superseded_dt = (
            SELECT s.issued_dt FROM certificates s WHERE s.id = certificates.superseded_by_id)
        WHERE superseded_by_id IS NOT NULL
    """)

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('uq_certificates_one_current', ['user_id', 'course_id'], unique=True,
                              sqlite_where=CURRENT, postgresql_where=CURRENT)


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('uq_certificates_one_current', sqlite_where=CURRENT, postgresql_where=CURRENT)
        batch_op.drop_column('superseded_dt')

    with op.batch_alter_table('certification_locks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certification_locks_course_id'))

    op.drop_table('certification_locks')
