"""The server's clock: naive UTC datetimes everywhere, and one place tests can move time."""
from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """Return the current time as a naive UTC datetime (how every timestamp is stored)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC).replace(tzinfo=None)


def freeze(at: datetime | None) -> None:
    """Pin the clock to `at` (tests only); None lets it run again."""
    global _frozen
    _frozen = at
