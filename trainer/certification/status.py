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


# --- a person's standing on a whole course --------------------------------------------------

CERTIFIED = "certified"
COURSE_STATUSES = (NOT_STARTED, IN_PROGRESS, FAILED, CERTIFIED, EXPIRING, EXPIRED, REVOKED)


@dataclass(frozen=True)
class CourseRecord:
    """What the database knows of one person and one course."""

    modules: tuple[ModuleRecord, ...]
    certificate_expires_dt: datetime | None = None
    certificate_revoked_dt: datetime | None = None
    #: The assignment's due date (end of that day, UTC), if the course was assigned.
    due_dt: datetime | None = None


@dataclass(frozen=True)
class CourseStanding:
    status: str
    #: Assigned, past the due date, and not holding a certificate that is still valid.
    overdue: bool
    #: Whole days until the certificate expires (negative once expired); None without one.
    days_to_expiry: int | None


def course_standing(record: CourseRecord, *, renewal_window_days: int, now: datetime) -> CourseStanding:
    """Derive the course status from the records and the date; the one rule every page uses."""
    days = None
    if record.certificate_expires_dt is not None:
        days = (record.certificate_expires_dt - now).days if now < record.certificate_expires_dt else \
            -((now - record.certificate_expires_dt).days)
        state = certificate_status(expires_dt=record.certificate_expires_dt, revoked_dt=record.certificate_revoked_dt,
                                   superseded=False, renewal_window_days=renewal_window_days, now=now)
        status = CERTIFIED if state == VALID else state
    else:
        module_statuses = [module_status(m) for m in record.modules]
        if all(s == NOT_STARTED for s in module_statuses):
            status = NOT_STARTED
        elif FAILED in module_statuses and IN_PROGRESS not in module_statuses:
            status = FAILED
        else:
            status = IN_PROGRESS
    overdue = record.due_dt is not None and now > record.due_dt and status not in (CERTIFIED, EXPIRING)
    return CourseStanding(status, overdue, days)
