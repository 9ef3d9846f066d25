"""Fixtures: an app per test on SQLite (and on PostgreSQL when TEST_DATABASE_URL is set)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-of-at-least-32-chars")
os.environ.setdefault("AUDIT_KEY", "tests-only-audit-key")

from trainer import clock, create_app  # noqa: E402
from trainer.extensions import db  # noqa: E402
from trainer.services import accounts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TINY_COURSE = ROOT / "tests" / "fixtures" / "tiny-course"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
_schema_ready: set[str] = set()


def pytest_report_header(config):
    if "postgresql" in BACKENDS:
        return "database tests: SQLite and PostgreSQL (TEST_DATABASE_URL)"
    return "database tests: SQLite only (set TEST_DATABASE_URL to run them on PostgreSQL too)"


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """bcrypt at cost 12 takes a quarter second; tests use cost 4 (a test checks the real default)."""
    accounts.BCRYPT_ROUNDS = 4
    yield


@pytest.fixture(autouse=True)
def real_clock():
    yield
    clock.freeze(None)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    url = os.environ["TEST_DATABASE_URL"]
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def make_app(database_url: str, **config):
    # Each app its own audit head file: the tables are emptied between tests, so must the file be.
    config.setdefault("AUDIT_HEAD_FILE", os.path.join(tempfile.mkdtemp(prefix="trainer-audit-"), "audit-head.log"))
    # Job files and the job queue's file too, never in the repository's instance folder.
    config.setdefault("JOBS_DIR", tempfile.mkdtemp(prefix="trainer-jobs-"))
    config.setdefault("JOBS_QUEUE_FILE", os.path.join(config["JOBS_DIR"], "queue.db"))
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SERVER_NAME": "trainer.test",
                       "TRAINER_BASE_URL": config.pop("TRAINER_BASE_URL", "http://trainer.test"),
                       "WTF_CSRF_ENABLED": config.pop("WTF_CSRF_ENABLED", False), **config})


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


def app_with_empty_tables(database_url: str, **config):
    """An app on `database_url` inside its context, its schema made once per database and its tables
    emptied afterwards (a generator for fixtures to `yield from`)."""
    app = make_app(database_url, **config)
    with app.app_context():
        if database_url not in _schema_ready:
            db.drop_all()
            db.create_all()
            _schema_ready.add(database_url)
        yield app
        db.session.remove()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(database_url):
    yield from app_with_empty_tables(database_url)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def csrf_app(app):
    """The same app with CSRF checks on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app


@pytest.fixture
def count_queries(app):
    """Count SQL statements run inside the `with` block."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counter():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counter
