from datetime import datetime, timedelta

from trainer.certification.status import (
    EXPIRED,
    EXPIRING,
    FAILED,
    IN_PROGRESS,
    NOT_STARTED,
    PASSED,
    REVOKED,
    SUPERSEDED,
    VALID,
    ModuleRecord,
    certificate_status,
    module_status,
)

ISSUED = datetime(2026, 1, 1)
EXPIRES = ISSUED + timedelta(days=365)


def status_on(day, **kw):
    return certificate_status(expires_dt=EXPIRES, revoked_dt=kw.get("revoked"), superseded=kw.get("superseded", False),
                              renewal_window_days=60, now=day)


def test_certificate_moves_from_valid_to_expiring_to_expired():
    assert status_on(ISSUED) == VALID
    assert status_on(EXPIRES - timedelta(days=60, seconds=1)) == VALID
    assert status_on(EXPIRES - timedelta(days=60)) == EXPIRING
    assert status_on(EXPIRES - timedelta(seconds=1)) == EXPIRING
    assert status_on(EXPIRES) == EXPIRED


def test_revoked_and_superseded_win_over_dates():
    assert status_on(ISSUED, revoked=ISSUED) == REVOKED
    assert status_on(ISSUED, superseded=True) == SUPERSEDED


def test_module_status():
    assert module_status(ModuleRecord()) == NOT_STARTED
    assert module_status(ModuleRecord(has_open_attempt=True)) == IN_PROGRESS
    assert module_status(ModuleRecord(submitted_attempts=2, best_score=40)) == FAILED
    assert module_status(ModuleRecord(submitted_attempts=1, best_score=90,
                                      passed=True, has_open_attempt=True)) == PASSED


from trainer.certification.status import CERTIFIED, CourseRecord, course_standing  # noqa: E402


def standing(record, day):
    return course_standing(record, renewal_window_days=60, now=day)


def test_course_standing_without_a_certificate():
    none = ModuleRecord()
    assert standing(CourseRecord((none, none)), ISSUED).status == NOT_STARTED
    assert standing(CourseRecord((ModuleRecord(1, 90, True), none)), ISSUED).status == IN_PROGRESS
    assert standing(CourseRecord((ModuleRecord(1, 40), none)), ISSUED).status == FAILED
    assert standing(CourseRecord((ModuleRecord(1, 40, has_open_attempt=True), none)), ISSUED).status == IN_PROGRESS


def test_course_standing_through_a_certificate_lifetime_and_overdue():
    passed = ModuleRecord(1, 100, True)
    due = ISSUED + timedelta(days=30)
    cert = CourseRecord((passed,), certificate_expires_dt=EXPIRES, due_dt=due)
    assert standing(cert, ISSUED) == standing(cert, ISSUED)  # pure
    assert standing(cert, ISSUED).status == CERTIFIED and standing(cert, ISSUED).days_to_expiry == 365
    assert standing(cert, EXPIRES - timedelta(days=10)).status == EXPIRING
    assert not standing(cert, EXPIRES - timedelta(days=10)).overdue
    expired = standing(cert, EXPIRES + timedelta(days=3))
    assert expired.status == EXPIRED and expired.overdue and expired.days_to_expiry == -3
    revoked = CourseRecord((passed,), certificate_expires_dt=EXPIRES, certificate_revoked_dt=ISSUED, due_dt=due)
    assert standing(revoked, ISSUED + timedelta(days=31)).status == REVOKED
    assert standing(revoked, ISSUED + timedelta(days=31)).overdue
    late = CourseRecord((ModuleRecord(),), due_dt=due)
    assert not standing(late, due).overdue and standing(late, due + timedelta(seconds=1)).overdue


def test_a_revoked_certificate_that_was_also_renewed_shows_as_revoked_not_superseded():
    assert status_on(ISSUED, revoked=ISSUED, superseded=True) == REVOKED


def test_a_failed_module_beside_one_in_progress_shows_the_course_in_progress():
    failed, in_progress = ModuleRecord(1, 40), ModuleRecord(has_open_attempt=True)
    assert standing(CourseRecord((failed, in_progress)), ISSUED).status == IN_PROGRESS
    assert standing(CourseRecord((in_progress, failed)), ISSUED).status == IN_PROGRESS
    assert standing(CourseRecord((failed, ModuleRecord())), ISSUED).status == FAILED


def test_days_to_expiry_counts_whole_days_left_and_is_none_without_a_certificate():
    assert standing(CourseRecord((ModuleRecord(),)), ISSUED).days_to_expiry is None
    cert = CourseRecord((ModuleRecord(1, 100, True),), certificate_expires_dt=EXPIRES)
    assert standing(cert, ISSUED + timedelta(hours=12)).days_to_expiry == 364  # not yet a whole 365 days
    assert standing(cert, EXPIRES + timedelta(hours=12)).days_to_expiry == 0
    assert standing(cert, EXPIRES + timedelta(days=3, hours=12)).days_to_expiry == -3
