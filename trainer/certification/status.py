"""Where a person stands on a module and on a course certificate, derived from records and a date."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

NOT_STARTED, IN_PROGRESS, FAILED, PASSED = "not started", "in progress", "failed", "passed"
VALID, EXPIRING, EXPIRED, REVOKED, SUPERSEDED = "valid", "expiring", "expired", "revoked", "superseded"


@dataclass(frozen=True)
class ModuleRecord:
    """What the database knows of one person's attempts at one module."""

    submitted_attempts: int = 0
    best_score: float | None = None
    passed: bool = False
    has_open_attempt: bool = False


def module_status(record: ModuleRecord) -> str:
    if record.passed:
        return PASSED
    if record.has_open_attempt:
        return IN_PROGRESS
    if record.submitted_attempts:
        return FAILED
    return NOT_STARTED


def certificate_status(*, expires_dt: datetime, revoked_dt: datetime | None, superseded: bool,
                       renewal_window_days: int, now: datetime) -> str:
    """valid, expiring (inside the renewal window), expired, revoked or superseded."""
    if revoked_dt is not None:
        return REVOKED
    if superseded:
        return SUPERSEDED
    if now >= expires_dt:
        return EXPIRED
    if now >= expires_dt - timedelta(days=renewal_window_days):
        return EXPIRING
    return VALID
