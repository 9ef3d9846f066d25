"""Engine tuning that keeps SQLite safe and fast under several gunicorn workers.

SQLite allows one writer at a time. A transaction that reads first and writes later fails at
once with "database is locked" if another process wrote in between, whatever the busy timeout;
a transaction that starts with BEGIN IMMEDIATE takes the write lock up front and waits for it
instead. But taking the write lock for every page view would queue all readers behind each other.
So: requests that change things (POST ...) and the command line start with BEGIN IMMEDIATE;
page views (GET) start with a plain BEGIN and read from WAL snapshots in parallel; and a service
that must write during a page view calls `begin_write()` first. A busy POST whose one write is
guarded in its own WHERE clause (the quiz's autosave), or that checks again under the lock what it
read (starting an attempt), is marked `@writes_late`: it reads like a page view and takes the write
lock only for its writes.
"""
from __future__ import annotations

import fcntl
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.sql import Executable

SQLITE_BUSY_TIMEOUT_MS = 30_000
_immediate = ContextVar("sqlite_begin_immediate", default=True)


def configure_engine(engine: Engine) -> None:
    """Apply per-connection settings for the engine's database."""
    if engine.dialect.name != "sqlite":
        return
    on_disk = engine.url.database not in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):
        # Take over transaction control from the sqlite3 module so BEGIN IMMEDIATE is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if on_disk:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            record.info[_WRITERS] = WritersTurn(f"{engine.url.database}.writers")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if _immediate.get():
            turn = connection.connection.info.get(_WRITERS)
            if turn is not None:
                turn.wait()
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    def _end_turn(info, end) -> None:
        turn = info.get(_WRITERS)
        if turn is None or not turn.held:
            return
        try:
            end()  # finish the transaction first, so the next writer finds SQLite's lock free
        finally:
            turn.release()

    @event.listens_for(engine, "commit")
    def _on_commit(connection):
        _end_turn(connection.connection.info, connection.connection.dbapi_connection.commit)

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection):
        _end_turn(connection.connection.info, connection.connection.dbapi_connection.rollback)

    # A connection going back to the pool, or away, ends its transaction without the events above.
    @event.listens_for(engine, "reset")
    def _on_reset(dbapi_connection, record, reset_state):
        _end_turn(record.info, dbapi_connection.rollback)

    @event.listens_for(engine, "close")
    def _on_close(dbapi_connection, record):
        turn = record.info.pop(_WRITERS, None)
        if turn is not None:
            turn.close()


_WRITERS = "trainer_writers_turn"
#: How often a writer waiting for its turn looks again; SQLite's own busy handler sleeps 1, 2, 5, 10 ... 100 ms.
WRITERS_POLL_SECONDS = 0.0002


class WritersTurn:
    """A queue for SQLite's single write lock across processes, that hands the lock on at once.

    SQLite makes a writer that finds the database locked sleep and retry (1, 2, 5, 10 ... 100 ms), so
    under a rush of saves the lock sits free while writers sleep. Writers first take an advisory lock
    on a file beside the database (flock), looking again every 0.2 ms, and release it as soon as their
    transaction ends. It only orders writers: SQLite's own lock and busy timeout still guard the data,
    and a writer that has waited for the whole busy timeout goes on to BEGIN IMMEDIATE regardless.
    """

    def __init__(self, path: str):
        self.file = open(path, "a+b")  # noqa: SIM115 -- held for the connection's life, closed with it
        self.held = False

    def wait(self) -> None:
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                fcntl.flock(self.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                time.sleep(WRITERS_POLL_SECONDS)
            else:
                self.held = True
                return

    def release(self) -> None:
        self.held = False
        fcntl.flock(self.file.fileno(), fcntl.LOCK_UN)

    def close(self) -> None:
        self.held = False
        self.file.close()  # closing the file drops its lock


def read_mostly(enabled: bool) -> None:
    """Start the coming transactions as plain reads (page views) or with the write lock."""
    _immediate.set(not enabled)


def writes_late(view):
    """Mark a POST view whose service reads first and calls `begin_write()` just before it writes.

    Such a request starts like a page view, so SQLite's write lock is held only around the writes,
    not from loading the signed-in user to the commit. The service must not trust what it read
    before `begin_write()`: its writes are guarded in their WHERE clause or it reads again.
    """
    view.writes_late = True
    return view


def begin_write(session, keep_loaded: bool = False) -> bool:
    """Make sure what follows runs in a transaction that holds the write lock (SQLite only).

    Called before a write that may happen during a page view. Any read-only transaction in
    progress is ended first (its objects reload on next use); pending changes would be lost, so
    call it before changing anything. True when it did so: what was read before may have changed.

    `keep_loaded`: the objects read so far keep their values instead of reloading on next use (one
    SELECT each), for a caller that reads again in SQL everything its write depends on.
    """
    if _immediate.get() or session.get_bind().dialect.name != "sqlite":
        return False
    _immediate.set(True)
    if keep_loaded:
        with objects_kept(session):
            session.commit()  # ends the read-only transaction; nothing is pending
    else:
        session.rollback()  # a no-op when no transaction has begun
    return True


@contextmanager
def objects_kept(session):
    """Within it, a commit leaves the session's objects loaded: for values this transaction itself
    wrote or has just read again, so that reloading them would be a wasted SELECT."""
    real = session() if isinstance(session, scoped_session) else session
    before, real.expire_on_commit = real.expire_on_commit, False
    try:
        yield
    finally:
        real.expire_on_commit = before


def execute_dml(session: Session | scoped_session[Any], statement: Executable,
                params: dict[str, Any] | None = None) -> CursorResult[Any]:
    """Run an INSERT, UPDATE or DELETE; its rowcount says how many rows it changed (a guarded write's answer)."""
    return cast(CursorResult[Any], session.execute(statement, params))
