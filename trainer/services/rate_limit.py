"""Counting requests per client in fixed time windows, shared by every app process and host.

The counts live in the rate_counters table, so they hold across gunicorn workers and hosts.
REDIS_URL is not used here (only the job queue uses it): the database already gives every process
the same counts.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite

from trainer import clock
from trainer.database import begin_write, execute_dml
from trainer.extensions import db
from trainer.models import RateCounter

#: Share of hits that also delete the counters of past windows, so the table stays small without a cron job.
CLEANUP_CHANCE = 0.02
_EPOCH = datetime(1970, 1, 1)
# Both dialects' INSERT has on_conflict_do_update; the generic sqlalchemy.insert does not.
_INSERT_FOR_DIALECT: dict[str, Callable[..., Any]] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def window_start(now: datetime, window_seconds: int) -> datetime:
    """The start of the fixed window of `window_seconds` that contains `now`."""
    elapsed = int((now - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=elapsed - elapsed % window_seconds)


def _window_key(key: str, start: datetime) -> str:
    return f"{key}:{start.isoformat(timespec='seconds')}"


def hit(key: str, limit: int, window_seconds: int) -> bool:
    """Count one request for `key`; True while this window's count is at most `limit`. Commits."""
    begin_write(db.session)  # lookups are page views: take SQLite's write lock before counting
    now = clock.now()
    if random.random() < CLEANUP_CHANCE:
        # Before the upsert, so every transaction takes its row locks in the same order.
        delete_expired_counters(now)
    (count, _end), = count_hits([(key, window_seconds)], now)
    db.session.commit()
    return count <= limit


def count_hits(counters: list[tuple[str, int]], now: datetime) -> list[tuple[int, datetime]]:
    """Count one hit on each (key, window seconds) in the caller's transaction; (count, window end) for each.

    One statement per counter inserts the window's row or increments it, which is atomic on SQLite
    and PostgreSQL alike; counters are taken in key order so concurrent callers never deadlock.
    """
    insert = _INSERT_FOR_DIALECT[db.session.get_bind().dialect.name]
    results: dict[tuple[str, int], tuple[int, datetime]] = {}
    for key, window_seconds in sorted(counters):
        start = window_start(now, window_seconds)
        end = start + timedelta(seconds=window_seconds)
        count = db.session.scalar(
            insert(RateCounter)
            .values(key=_window_key(key, start), count=1, expires_dt=end)
            .on_conflict_do_update(index_elements=[RateCounter.key], set_={"count": RateCounter.count + 1})
            .returning(RateCounter.count)
        )
        results[(key, window_seconds)] = (count, end)
    return [results[c] for c in counters]


def forget_hits(counters: list[tuple[str, int]], now: datetime) -> None:
    """Delete the current windows' counts of these counters (in the caller's transaction)."""
    keys = [_window_key(key, window_start(now, seconds)) for key, seconds in counters]
    db.session.execute(delete(RateCounter).where(RateCounter.key.in_(keys)))


def refund_hits(counters: list[tuple[str, int]], now: datetime) -> None:
    """Take one hit back from each of the current windows' counts (in the caller's transaction).

    One row at a time in key order, like count_hits: a single UPDATE ... IN locks the rows in
    whatever order PostgreSQL scans them, and two concurrent sign-ins from one address deadlocked.
    """
    for key in sorted(_window_key(key, window_start(now, seconds)) for key, seconds in counters):
        db.session.execute(update(RateCounter).where(RateCounter.key == key, RateCounter.count > 0)
                           .values(count=RateCounter.count - 1))


def delete_expired_counters(now: datetime | None = None) -> int:
    """Delete the counters of windows that have ended (in the caller's transaction); return how many."""
    result = execute_dml(db.session, delete(RateCounter).where(RateCounter.expires_dt <= (now or clock.now())))
    return result.rowcount
