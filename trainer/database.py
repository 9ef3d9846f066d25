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

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take over transaction control from the sqlite3 module so BEGIN IMMEDIATE is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


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
