"""Migrations: an empty database gets exactly the schema the models describe, and a database in use keeps its data."""
from contextlib import contextmanager

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


@contextmanager
def _migrated_database(database_url, tmp_path, name: str):
    """An app on a new, empty database of the test's backend (its URL yielded), dropped afterwards."""
    url = _fresh_url(database_url, tmp_path).replace("migrated", name).replace("_migrations", f"_{name}")
    admin_engine = None
    if url.startswith("postgresql"):
        admin_engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"'))
            conn.execute(text(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
    app = make_app(url)
    try:
        with app.app_context():
            yield url
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if admin_engine is not None:
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"'))
            admin_engine.dispose()


def test_upgrade_on_an_empty_database_matches_the_models(database_url, tmp_path):
    with _migrated_database(database_url, tmp_path, "migrations") as url:
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


def test_upgrade_marks_editor_versions_as_browser_and_remembers_what_the_folder_gave(database_url, tmp_path):
    """Existing data: a version with an author came from the editor; the newest other one is the file's."""
    with _migrated_database(database_url, tmp_path, "provenance"):
        upgrade(revision="aad08140e6d2")
        with db.engine.begin() as conn:
            for statement in (
                "INSERT INTO users (id, email, name, password_hash, is_enabled, created_dt) "
                "VALUES (1, 't@example.org', 'T', 'x', true, '2026-11-01 10:00:00')",
                "INSERT INTO courses (id, slug, title, summary, valid_for_days, renewal_window_days, sources, "
                "imported_dt) VALUES (1, 'c', 'C', '', 365, 60, '{}', '2026-11-01 10:00:00')",
                "INSERT INTO modules (id, course_id, slug, position, title, content_md, draw, draw_by_tag, "
                "pass_percent, attempts_before_cooldown, cooldown_hours, retired) "
                "VALUES (1, 1, 'm', 1, 'M', '', 1, '{}', 50, 2, 24, false)",
                "INSERT INTO questions (id, course_id, module_id, key, position, retired) "
                "VALUES (1, 1, 1, 'edited', 1, false), (2, 1, 1, 'from-file', 2, false)",
                "INSERT INTO question_versions (question_id, number, content, content_hash, created_dt, "
                "published_dt, author_id) VALUES "
                "(1, 1, '{}', 'file-1', '2026-11-01 10:00:00', '2026-11-01 10:00:00', NULL), "
                "(1, 2, '{}', 'file-2', '2026-11-02 10:00:00', '2026-11-02 10:00:00', NULL), "
                "(1, 3, '{}', 'edit-3', '2026-11-03 10:00:00', NULL, 1), "
                "(2, 1, '{}', 'file-a', '2026-11-01 10:00:00', '2026-11-01 10:00:00', NULL)",
            ):
                conn.execute(text(statement))
        upgrade()
        with db.engine.connect() as conn:
            origins = conn.execute(text("SELECT question_id, number, origin FROM question_versions "
                                        "ORDER BY question_id, number")).all()
            hashes = dict(conn.execute(text("SELECT key, file_hash FROM questions")).all())
        assert [tuple(row) for row in origins] == [(1, 1, "folder"), (1, 2, "folder"), (1, 3, "browser"),
                                                   (2, 1, "folder")]
        assert hashes == {"edited": "file-2", "from-file": "file-a"}


ONE_CURRENT_CERTIFICATE = "c3e1f0a7b9d2"


def test_upgrade_resolves_duplicate_current_certificates_left_by_old_races(database_url, tmp_path):
    """Databases that met the old race hold two current certificates; the upgrade keeps the newest."""
    from alembic.script import ScriptDirectory

    from tests.conftest import ROOT

    before = ScriptDirectory(str(ROOT / "migrations")).get_revision(ONE_CURRENT_CERTIFICATE).down_revision
    with _migrated_database(database_url, tmp_path, "dedupe"):
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
                    "superseded_by_id, revoked_dt) "
                    "VALUES (:id, :code, 1, 1, :issued, '2027-01-01', 90, :by, :revoked)"),
                    {"id": cid, "code": f"code{cid}", "issued": issued, "by": by, "revoked": revoked})
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, superseded_by_id, superseded_dt, revoked_dt IS NOT NULL "
                                     "FROM certificates ORDER BY id")).all()
    assert [(r[0], r[1], str(r[2])[:10] if r[2] else None, bool(r[3])) for r in rows] == [
        (1, 2, "2025-11-01", False), (2, 3, "2025-11-01", False), (3, None, None, False), (4, None, None, True)]


def _one_row_everywhere(conn) -> dict[str, int]:
    """Put one row in every table (ids 1, every reference to row 1): an installation in use."""
    from datetime import date, datetime

    from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, LargeBinary, MetaData, Numeric

    metadata = MetaData()
    metadata.reflect(conn)
    filled = {}
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        row = {}
        for column in table.columns:
            if column.foreign_keys or column.primary_key:
                row[column.name] = 1
            elif column.nullable or column.server_default is not None:
                continue
            elif isinstance(column.type, Boolean):
                row[column.name] = False
            elif isinstance(column.type, JSON):
                row[column.name] = []
            elif isinstance(column.type, DateTime):
                row[column.name] = datetime(2026, 11, 1, 10)
            elif isinstance(column.type, Date):
                row[column.name] = date(2026, 11, 1)
            elif isinstance(column.type, LargeBinary):
                row[column.name] = b"x"
            elif isinstance(column.type, (Integer, Float, Numeric)):
                row[column.name] = 1
            else:
                row[column.name] = {"state": "submitted", "origin": "folder"}.get(column.name, "x")
        conn.execute(table.insert().values(**row))
        filled[table.name] = 1
    return filled


def test_upgrading_a_database_in_use_keeps_every_row(database_url, tmp_path):
    """`make run` on an existing installation: every migration since the first release, over real rows.

    On SQLite a batch migration rebuilds a table; with foreign keys enforced, dropping a table that
    others reference used to abort the upgrade half way.
    """
    with _migrated_database(database_url, tmp_path, "in_use"):
        upgrade(revision="aad08140e6d2")  # the schema of the first release
        with db.engine.begin() as conn:
            filled = _one_row_everywhere(conn)
        upgrade()
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            counts = {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar()
                      for name in filled if name in tables}
            broken = (conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                      if conn.dialect.name == "sqlite" else [])
        dropped = set(filled) - tables
        assert dropped <= {"login_failures"}  # throttling moved to rate counters
        assert counts == dict.fromkeys(counts, 1)
        assert broken == []


def _legacy_chain(conn, entries: list[tuple[str, str, dict]]) -> None:
    """Audit entries as releases before the keyed chain wrote them (plain SHA-256)."""
    import hashlib
    import json
    from datetime import datetime, timedelta

    prev = "0" * 64
    for n, (action, subject, details) in enumerate(entries, start=1):
        when = datetime(2026, 11, 1, 10) + timedelta(minutes=n)
        body = json.dumps([prev, when.isoformat(), None, action, subject, details],
                          sort_keys=True, separators=(",", ":"), default=str)
        entry_hash = hashlib.sha256(body.encode()).hexdigest()
        conn.execute(text("INSERT INTO audit_events (id, occurred_dt, actor_id, action, subject, details, prev_hash, "
                          "entry_hash) VALUES (:id, :when, NULL, :action, :subject, :details, :prev, :hash)"),
                     {"id": n, "when": when, "action": action, "subject": subject, "details": json.dumps(details),
                      "prev": prev, "hash": entry_hash})
        prev = entry_hash


def test_upgrading_keys_an_intact_audit_trail_and_still_flags_a_tampered_one(database_url, tmp_path):
    """Entries written before AUDIT_KEY existed are re-chained with the key only if their old chain holds."""
    from trainer.services.audit import first_broken_event

    for tampered in (False, True):
        suffix = "tampered" if tampered else "intact"
        with _migrated_database(database_url, tmp_path, suffix):
            upgrade(revision="aad08140e6d2")
            with db.engine.begin() as conn:
                _legacy_chain(conn, [("banks.import", "course:c", {"summary": "created"}),
                                     ("certificates.issue", "certificate:1", {"course": "c"}),
                                     ("users.create", "user:2", {"roles": ["learner"]})])
                if tampered:
                    conn.execute(text("UPDATE audit_events SET subject = 'certificate:9' WHERE id = 2"))
            upgrade()
            broken = first_broken_event()
            assert (broken is not None and broken[0] == 2) if tampered else broken is None, broken


def _revisions_newest_first() -> list:
    from alembic.script import ScriptDirectory

    from tests.conftest import ROOT

    return list(ScriptDirectory(str(ROOT / "migrations")).walk_revisions())


def _every_row(conn) -> dict[str, list[tuple]]:
    """Every table's rows, in primary-key order, as plain values (what a round trip must give back)."""
    from sqlalchemy import MetaData

    metadata = MetaData()
    metadata.reflect(conn)
    rows = {}
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        columns = sorted(table.columns, key=lambda c: c.name)
        ordered = conn.execute(table.select().with_only_columns(*columns).order_by(*table.primary_key.columns))
        rows[table.name] = [tuple(zip([c.name for c in columns], row, strict=True)) for row in ordered]
    return rows


def test_every_migration_downgrades_and_upgrades_again_without_changing_the_data(database_url, tmp_path, capfd):
    """Rolling back one migration and applying it again gives back the same rows, step by step from the head.

    The rows are an installation in use: one row in every table, the question version among them
    a draft written in the browser. A step that cannot keep what the rows say (a draft and its author
    have no place in the schema before drafts existed) must refuse to downgrade rather than change it.
    """
    from flask_migrate import downgrade

    revisions = _revisions_newest_first()
    with _migrated_database(database_url, tmp_path, "round_trip"):
        upgrade()
        with db.engine.begin() as conn:
            _one_row_everywhere(conn)
            # The filler points every reference at row 1; a certificate superseded by itself is no real row,
            # and a version with an author is one a trainer wrote in the browser.
            conn.execute(text("UPDATE certificates SET superseded_by_id = NULL"))
            conn.execute(text("UPDATE question_versions SET origin = 'browser'"))
            conn.execute(text("UPDATE modules SET content_file_hash = 'h1', quiz_file_hash = 'h2'"))
            assert conn.execute(text("SELECT published_dt FROM question_versions")).scalar() is None  # a draft
        for script in revisions:
            if script.down_revision is None:
                break  # below the first migration there is no schema left to keep rows in
            with db.engine.connect() as conn:
                before = _every_row(conn)
            try:
                downgrade(revision=script.down_revision)
            except SystemExit as refused:  # `flask db downgrade` prints the reason and exits 1
                assert script.revision == DRAFTS and refused.code == 1, f"{script.revision} refused to downgrade"
                assert "1 question version is a draft or has an author" in capfd.readouterr().err
                with db.engine.connect() as conn:
                    assert _every_row(conn) == before  # refused: nothing changed
                with db.engine.begin() as conn:  # what the older schema can hold, so that the walk goes on
                    conn.execute(text("UPDATE question_versions SET published_dt = created_dt, author_id = NULL"))
                    before = _every_row(conn)
                downgrade(revision=script.down_revision)
            with db.engine.connect() as conn:
                kept = set(inspect(conn).get_table_names())
            upgrade(revision=script.revision)
            with db.engine.connect() as conn:
                after = _every_row(conn)
            # Rows of a table the downgrade drops are gone by design; every other row comes back as it was.
            lost = LOST_ON_DOWNGRADE.get(script.revision, set())
            changed = {t: (_without(before[t], t, lost), _without(after[t], t, lost)) for t in kept if t in before}
            assert {t: pair for t, pair in changed.items() if pair[0] != pair[1]} == {}, script.revision
            downgrade(revision=script.down_revision)


DRAFTS = "aad08140e6d2"
# Columns a downgrade drops whose values the upgrade cannot rebuild: what that revision added is lost, as
# its dropped tables are. Everything else, and above all whether a question version is a draft, comes back.
LOST_ON_DOWNGRADE = {
    # what the course folder last gave for a module's text and quiz settings (the next import compares)
    "0c662e612e4e": {("modules", "content_file_hash"), ("modules", "quiz_file_hash")},
    "7e7799820ee7": {("attempt_questions", "graded_version_id")},  # which version a regrade graded against
}


def _without(rows: list[tuple], table: str, lost: set[tuple[str, str]]) -> list[tuple]:
    return [tuple((name, value) for name, value in row if (table, name) not in lost) for row in rows]


NAMING_CONVENTION_REVISION = "3b9c1e5d7a20"


def _constraint_names(conn) -> dict[str, set[str | None]]:
    """Per table, the names of its primary key, foreign keys, unique and check constraints and indexes."""
    inspector = inspect(conn)
    names = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        names[table] = ({inspector.get_pk_constraint(table).get("name")}
                        | {fk.get("name") for fk in inspector.get_foreign_keys(table)}
                        | {uq.get("name") for uq in inspector.get_unique_constraints(table)}
                        | {ck.get("name") for ck in inspector.get_check_constraints(table)}
                        | {ix.get("name") for ix in inspector.get_indexes(table)
                           if not ix.get("duplicates_constraint")})
    return names


def _model_constraint_names() -> dict[str, set[str | None]]:
    return {table.name: {c.name for c in table.constraints} | {i.name for i in table.indexes}
            for table in db.metadata.sorted_tables}


def test_a_database_made_before_the_naming_convention_gets_its_names_and_keeps_its_rows(database_url, tmp_path,
                                                                                        monkeypatch):
    """Constraints named by PostgreSQL (users_pkey) or left unnamed by SQLite are renamed as the models name them."""
    from alembic.script import ScriptDirectory

    from tests.conftest import ROOT

    before = ScriptDirectory(str(ROOT / "migrations")).get_revision(NAMING_CONVENTION_REVISION).down_revision
    with _migrated_database(database_url, tmp_path, "old_names"):
        with monkeypatch.context() as old_code:  # migrations ran with SQLAlchemy's default names until then
            old_code.setattr(db.metadata, "naming_convention", {"ix": "ix_%(column_0_label)s"})
            upgrade(revision=before)
        with db.engine.begin() as conn:
            filled = _one_row_everywhere(conn)
            old_names = _constraint_names(conn)
        assert "pk_users" not in old_names["users"] and "uq_users_email" not in old_names["users"]
        upgrade()
        with db.engine.connect() as conn:
            names = _constraint_names(conn)
            counts = {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() for name in filled}
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            # The rebuilt SQLite tables keep their partial unique indexes and the signed-DOPS trigger.
            postgresql = conn.dialect.name == "postgresql"
            partial = [conn.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = :name" if postgresql
                else "SELECT sql FROM sqlite_master WHERE name = :name"), {"name": name}).scalar()
                for name in ("uq_attempts_one_open", "uq_certificates_one_current")]
            triggers = conn.execute(text(
                "SELECT tgname FROM pg_trigger" if postgresql
                else "SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
    assert names == _model_constraint_names()
    assert counts == dict.fromkeys(filled, 1)
    assert diff == []
    assert all("WHERE" in sql.upper() for sql in partial) and "dops_observations_locked" in triggers
