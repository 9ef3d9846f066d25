"""password resets; clinic name keys and archiving

Revision ID: 5e1d7c0a9b42
Revises: e5b2a9c4d1f0
Create Date: 2026-12-01 03:40:00

"""
import unicodedata

import sqlalchemy as sa
from alembic import op


def _name_key(name: str) -> str:
    # As trainer.services.accounts.clinic_name_key, frozen here so later changes there do not alter this step.
    return unicodedata.normalize("NFKC", " ".join(name.split())).casefold()


# revision identifiers, used by Alembic.
revision = '5e1d7c0a9b42'
down_revision = 'e5b2a9c4d1f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('archived_dt', sa.DateTime(), nullable=True))
    clinics = sa.table('clinics', sa.column('id', sa.Integer), sa.column('name', sa.String),
                       sa.column('name_key', sa.String))
    connection = op.get_bind()
    taken = set()
    for clinic_id, name in connection.execute(sa.select(clinics.c.id, clinics.c.name).order_by(clinics.c.id)).all():
        key = _name_key(name)[:200]
        if key in taken:  # two existing clinics differ only in case or accents: both stay, the later one marked by id
            key = f"{key[:180]}#{clinic_id}"
        taken.add(key)
        connection.execute(clinics.update().where(clinics.c.id == clinic_id).values(name_key=key))
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint('uq_clinics_name_key', ['name_key'])
    op.create_table(
        'password_resets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('created_dt', sa.DateTime(), nullable=False),
        sa.Column('expires_dt', sa.DateTime(), nullable=False),
        sa.Column('closed_dt', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name='fk_password_resets_requested_by_id'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_password_resets_user_id'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_resets_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_resets_user_id'))
    op.drop_table('password_resets')
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_constraint('uq_clinics_name_key', type_='unique')
        batch_op.drop_column('name_key')
        batch_op.drop_column('archived_dt')
