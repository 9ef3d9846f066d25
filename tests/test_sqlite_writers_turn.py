"""SQLite's writers queue on a file lock beside the database, which a transaction releases as soon as it ends."""
import fcntl
import threading
import time

import pytest
from sqlalchemy import text

from trainer.database import begin_write, read_mostly
from trainer.extensions import db


@pytest.fixture
def sqlite_app(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the writers' turn is for SQLite's single write lock")
    return app


def _turn_is_free(app) -> bool:
    """Whether another process could take the writers' turn now (a second open file, as another process has)."""
    with open(f"{db.engine.url.database}.writers", "a+b") as other:
        try:
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other.fileno(), fcntl.LOCK_UN)
        return True


def test_a_write_transaction_holds_the_turn_until_it_commits(sqlite_app):
    db.session.commit()
    assert _turn_is_free(sqlite_app)
    db.session.execute(text("SELECT 1"))  # the default transaction of a POST or the CLI: BEGIN IMMEDIATE
    assert not _turn_is_free(sqlite_app)
    db.session.commit()
    assert _turn_is_free(sqlite_app)


def test_a_page_view_reads_without_taking_the_turn_until_it_must_write(sqlite_app):
    db.session.commit()
    read_mostly(True)
    try:
        db.session.execute(text("SELECT 1"))
        assert _turn_is_free(sqlite_app)
        begin_write(db.session)
        db.session.execute(text("SELECT 1"))
        assert not _turn_is_free(sqlite_app)
        db.session.rollback()
        assert _turn_is_free(sqlite_app)
    finally:
        read_mostly(False)


def test_a_connection_returned_to_the_pool_mid_transaction_gives_the_turn_back(sqlite_app):
    db.session.commit()
    connection = db.engine.connect()
    connection.execute(text("SELECT 1"))
    assert not _turn_is_free(sqlite_app)
    connection.close()  # no commit, no rollback: the pool's reset ends the transaction
    assert _turn_is_free(sqlite_app)


def test_a_waiting_writer_goes_on_the_moment_the_turn_is_released(sqlite_app):
    db.session.commit()
    engine = db.engine
    holder = engine.connect()
    holder.execute(text("SELECT 1"))  # holds the turn and SQLite's write lock
    started = threading.Event()
    waited: list[float] = []

    def writer():
        with engine.connect() as connection:
            started.set()
            began = time.monotonic()
            connection.execute(text("SELECT 1"))
            waited.append(time.monotonic() - began)
            connection.rollback()

    thread = threading.Thread(target=writer)
    thread.start()
    assert started.wait(timeout=10)
    time.sleep(0.3)
    assert thread.is_alive() and not waited  # still waiting for its turn
    holder.commit()
    holder.close()
    thread.join(timeout=10)
    assert waited and 0.25 < waited[0] < 5
