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
            db.engine.dispose()
    finally:
        if admin_engine is not None:
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"'))
            admin_engine.dispose()


ONE_CURRENT_CERTIFICATE = "c3e1f0a7b9d2"


def test_upgrade_resolves_duplicate_current_certificates_left_by_old_races(database_url, tmp_path):
    """Databases that met the old race hold two current certificates; the upgrade keeps the newest."""
    from alembic.script import ScriptDirectory

    from tests.conftest import ROOT

    before = ScriptDirectory(str(ROOT / "migrations")).get_revision(ONE_CURRENT_CERTIFICATE).down_revision
    url = _fresh_url(database_url, tmp_path).replace("migrated.db", "dedupe.db").replace("_migrations", "_dedupe")
    admin_engine = None
    if url.startswith("postgresql"):
        admin_engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"'))
            conn.execute(text(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
    app = make_app(url)
    try:
        with app.app_context():
            upgrade(revision=before)
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO users (id, email, name, password_hash, is_enabled, created_dt) "
                                  "VALUES (1, 'a@example.org', 'A', 'x', true, '2025-01-01')"))
                conn.execute(text("INSERT INTO courses (id, slug, title, summary, valid_for_days, renewal_window_days, "
                                  "sources, imported_dt) VALUES (1, 'c', 'C', '', 365, 60, '{}', '2025-01-01')"))
                certificates = [  # id, issued, superseded by, revoked
                    (2, "2025-11-01", None, None),  # the race: two renewals, both current
                    (3, "2025-11-01", None, None),
                    (1, "2025-01-01", 2, None),     # renewed long ago
                    (4, "2025-12-01", None, "2025-12-02"),  # revoked: stays as it is
                ]
                for cid, issued, by, revoked in certificates:
                    conn.execute(text(
                        "INSERT INTO certificates (id, code, user_id, course_id, issued_dt, expires_dt, score_percent, "
                        "superseded_by_id, revoked_dt) VALUES (:id, :code, 1, 1, :issued, '2027-01-01', 90, :by, :revoked)"),
                        {"id": cid, "code": f"code{cid}", "issued": issued, "by": by, "revoked": revoked})
            upgrade()
            with db.engine.connect() as conn:
                rows = conn.execute(text("SELECT id, superseded_by_id, superseded_dt, revoked_dt IS NOT NULL "
                                         "FROM certificates ORDER BY id")).all()
        assert [(r[0], r[1], str(r[2])[:10] if r[2] else None, bool(r[3])) for r in rows] == [
            (1, 2, "2025-11-01", False), (2, 3, "2025-11-01", False), (3, None, None, False), (4, None, None, True)]
    finally:
        with app.app_context():
            db.engine.dispose()
        if admin_engine is not None:
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"'))
            admin_engine.dispose()
