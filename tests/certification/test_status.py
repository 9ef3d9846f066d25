from datetime import datetime, timedelta

from trainer.certification.status import (EXPIRED, EXPIRING, FAILED, IN_PROGRESS, NOT_STARTED, PASSED, REVOKED,
                                          SUPERSEDED, VALID, ModuleRecord, certificate_status, module_status)

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
    assert module_status(ModuleRecord(submitted_attempts=1, best_score=90, passed=True, has_open_attempt=True)) == PASSED
