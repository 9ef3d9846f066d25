"""constraint names follow the naming convention (pk_, fk_, uq_ + table and columns)

Databases created before the convention hold the names PostgreSQL made up (users_pkey,
users_clinic_id_fkey, users_email_key) or, on SQLite, no names at all. PostgreSQL renames them in
place; SQLite cannot rename a constraint, so each table with an unnamed one is rebuilt (batch mode)
with the names given, its triggers put back afterwards. A database created after the convention
already has these names and is left as it is.

Revision ID: 3b9c1e5d7a20
Revises: 5e1d7c0a9b42
Create Date: 2026-12-01 06:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3b9c1e5d7a20'
down_revision = '5e1d7c0a9b42'
branch_labels = None
depends_on = None

# As trainer.extensions.NAMING_CONVENTION, frozen here so later changes there do not alter this step.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


def _postgresql_renames(inspector, table: str) -> list[tuple[str, str]]:
    """(old, new) for each constraint still named the way PostgreSQL names unnamed ones."""
    renames = []
    pk = inspector.get_pk_constraint(table)
    if pk.get("name") == f"{table}_pkey":
        renames.append((pk["name"], f"pk_{table}"))
    for fk in inspector.get_foreign_keys(table):
        column = fk["constrained_columns"][0]
        if fk.get("name") == f"{table}_{column}_fkey":
            renames.append((fk["name"], f"fk_{table}_{column}"))
    for uq in inspector.get_unique_constraints(table):
        columns = "_".join(uq["column_names"])
        if uq.get("name") == f"{table}_{columns}_key":
            renames.append((uq["name"], f"uq_{table}_{columns}"))
    return renames


def _has_unnamed_constraints(inspector, table: str) -> bool:
    return (inspector.get_pk_constraint(table).get("name") is None
            or any(fk.get("name") is None for fk in inspector.get_foreign_keys(table))
            or any(uq.get("name") is None for uq in inspector.get_unique_constraints(table)))


def upgrade():
    if op.get_context().as_sql:
        return  # the names depend on what the database holds; nothing to say offline
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    tables = [t for t in inspector.get_table_names() if t != "alembic_version"]
    if bind.dialect.name == "postgresql":
        for table in tables:
            for old, new in _postgresql_renames(inspector, table):
                op.execute(f'ALTER TABLE "{table}" RENAME CONSTRAINT "{old}" TO "{new}"')
        return
    if bind.dialect.name != "sqlite":
        return
    for table in tables:
        if not _has_unnamed_constraints(inspector, table):
            continue
        # Dropping the old table drops its triggers (the signed-DOPS lock): keep their SQL to put them back.
        triggers = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                                {"t": table}).scalars().all()
        with op.batch_alter_table(table, recreate="always", naming_convention=NAMING_CONVENTION):
            pass
        for sql in triggers:
            op.execute(sql)


def downgrade():
    # The older revisions never refer to these constraints by name, so the new names suit them too.
    pass
