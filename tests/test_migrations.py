"""`flask db upgrade` on an empty database gives exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from tests.conftest import make_app
from trainer.extensions import db


def _fresh_url(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    return database_url.rsplit("/", 1)[0] + "/" + database_url.rsplit("/", 1)[1] + "_migrations"


def test_upgrade_on_an_empty_database_matches_the_models(database_url, tmp_path):
    url = _fresh_url(database_url, tmp_path)
    admin_engine = None
    if url.startswith("postgresql"):
        admin_engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    app = make_app(url)
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == [], f"models and migrations differ: {diff}"
            assert "uq_attempts_one_open" in {i["name"] for i in inspect(db.engine).get_indexes("attempts")}
            with db.engine.connect() as conn:  # a signed DOPS is locked by a trigger, not only by the ORM
                triggers = conn.execute(text(
                    "SELECT tgname FROM pg_trigger" if url.startswith("postgresql")
                    else "SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
            assert "dops_observations_locked" in triggers
            db.engine.dispose()
    finally:
        if admin_engine is not None:
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"'))
            admin_engine.dispose()
