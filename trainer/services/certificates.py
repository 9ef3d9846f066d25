"""Issuing certificates when a course is complete, and looking them up."""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from trainer import clock
from trainer.certification.status import EXPIRED, EXPIRING, certificate_status
from trainer.extensions import db
from trainer.models import Attempt, Certificate, CertificationLock, Course
from trainer.models.attempts import SUBMITTED
from trainer.security import can_reinstate_certificates, can_revoke_certificates
from trainer.services import Forbidden, ServiceError
from trainer.services.audit import record_event
from trainer.services.practical import practical_requirements_met

#: Crockford base32: digits and capitals without I, L, O, U (no look-alikes when typed from paper).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20  # 20 characters of 32: 100 random bits, printed as five groups of four
CODE_GROUP = 4
# What people type for a Crockford character: lower case, O for 0, I or L for 1.
_TYPED = str.maketrans("OIL", "011")


def new_certificate_code() -> str:
    """An unguessable code like K7QM-3XTR-9WBD-F2HN-Q4PA: safe in URLs and spreadsheets (never a leading
    '-' or '='), and easy to read aloud or type from a printout."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def canonical_code(typed: str) -> str | None:
    """The grouped form of a typed Crockford code (any case, spaces or dashes, O/I/L), or None."""
    raw = "".join(ch for ch in (typed or "").upper() if ch not in " -").translate(_TYPED)
    if len(raw) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return "-".join(raw[i:i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def current_certificate(user_id: int, course_id: int) -> Certificate | None:
    """The person's newest certificate for the course that has not been superseded."""
    return db.session.scalar(
        select(Certificate)
        .where(Certificate.user_id == user_id, Certificate.course_id == course_id,
               Certificate.superseded_by_id.is_(None))
        .order_by(Certificate.issued_dt.desc(), Certificate.id.desc()).limit(1)
        # Read the row as committed now, not as this session may have loaded it earlier.
        .execution_options(populate_existing=True)
    )


def lock_certification(user_ids, course_id: int) -> None:
    """Take the per-person, per-course issuing lock for each person, until the transaction ends.

    Locks are taken in user id order so that a transaction locking several people (a regrade)
    cannot deadlock with another. Call it before recording any audit event in the transaction:
    the audit trail's lock must always come after this one. On SQLite the write lock taken at
    BEGIN IMMEDIATE already serialises writers; the rows are harmless there.
    """
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(CertificationLock).values(
        [{"user_id": user_id, "course_id": course_id} for user_id in user_ids]).on_conflict_do_nothing())
    db.session.execute(select(CertificationLock.user_id).where(
        CertificationLock.user_id.in_(user_ids), CertificationLock.course_id == course_id)
        .order_by(CertificationLock.user_id).with_for_update())


def issue_certificate_if_complete(user, course: Course) -> Certificate | None:
    """Issue (or renew) the course certificate when every module has a pass that counts.

    A pass counts when it came after the certificate it would replace was issued, and a
    valid certificate is only renewed inside its renewal window. Runs in the caller's
    transaction, after taking the person's lock for the course: everything read below is what
    concurrent submits have committed, so two submits finishing the course together issue
    exactly one certificate.
    """
    lock_certification([user.id], course.id)
    now = clock.now()
    previous = current_certificate(user.id, course.id)
    since = None
    if previous is not None and previous.revoked_dt is None:
        state = certificate_status(expires_dt=previous.expires_dt, revoked_dt=None, superseded=False,
                                   renewal_window_days=course.renewal_window_days, now=now)
        if state not in (EXPIRING, EXPIRED):
            return None
        since = previous.issued_dt
    modules = course.modules
    conditions = [Attempt.user_id == user.id, Attempt.state == SUBMITTED, Attempt.passed.is_(True),
                  Attempt.module_id.in_([m.id for m in modules])]
    if since is not None:
        conditions.append(Attempt.submitted_dt > since)
    best = dict(db.session.execute(
        select(Attempt.module_id, func.max(Attempt.score_percent)).where(*conditions).group_by(Attempt.module_id)
    ).all())
    if not modules or any(m.id not in best for m in modules):
        return None
    if not practical_requirements_met(user, course, since):  # logbook + final sign-off, when the course has a practical
        return None
    certificate = Certificate(
        code=new_certificate_code(), user_id=user.id, course_id=course.id, issued_dt=now,
        expires_dt=now + timedelta(days=course.valid_for_days),
        score_percent=round(sum(score or 0.0 for score in best.values()) / len(best), 2),
    )
    try:
        # A savepoint: if the unique index refuses a second current certificate, only this
        # issue is undone, never the graded submit that asked for it.
        with db.session.begin_nested():
            if previous is not None:
                previous.superseded_dt = now  # leaves the current set before the renewal joins it
                db.session.flush()
            db.session.add(certificate)
            db.session.flush()
            if previous is not None:
                previous.superseded_by_id = certificate.id
                db.session.flush()
    except IntegrityError:
        # Another current certificate exists that this decision did not see: that one stands.
        return None
    record_event(user, "certificates.issue", f"certificate:{certificate.id}", course=course.slug,
                 renews=previous.id if previous is not None else None)
    return certificate


def find_certificate(code: str) -> Certificate | None:
    """The certificate with this code: exactly as issued (older codes are case-sensitive letters and
    digits), or a grouped Crockford code however it was typed."""
    if not code or len(code) > 64:
        return None
    found = db.session.scalar(select(Certificate).where(Certificate.code == code))
    canonical = canonical_code(code) if found is None else None
    if canonical and canonical != code:
        found = db.session.scalar(select(Certificate).where(Certificate.code == canonical))
    return found


def certificate_state(certificate: Certificate) -> str:
    return certificate_status(expires_dt=certificate.expires_dt, revoked_dt=certificate.revoked_dt,
                              superseded=certificate.superseded_by_id is not None,
                              renewal_window_days=certificate.course.renewal_window_days, now=clock.now())


def revoke_certificate(actor, certificate: Certificate, reason: str) -> None:
    """Revoke with a reason; the record stays, and verification says revoked and when."""
    if not can_revoke_certificates(actor):
        raise Forbidden("Only trainers and admins can revoke certificates.")
    reason = " ".join((reason or "").split())
    if len(reason) < 5:
        raise ServiceError("Give the reason for revoking (at least a few words).")
    if certificate.revoked_dt is not None:
        raise ServiceError("This certificate is already revoked.")
    certificate.revoked_dt, certificate.revoked_by_id, certificate.revoked_reason = clock.now(), actor.id, reason
    record_event(actor, "certificates.revoke", f"certificate:{certificate.id}", reason=reason)
    db.session.commit()


def reinstate_certificate(actor, certificate: Certificate, reason: str) -> None:
    """Undo a revocation made in error, with a reason; the audit trail keeps who revoked it, when and why."""
    if not can_reinstate_certificates(actor):
        raise Forbidden("Only admins can reinstate certificates.")
    reason = " ".join((reason or "").split())
    if len(reason) < 5:
        raise ServiceError("Give the reason for reinstating (at least a few words).")
    if certificate.revoked_dt is None:
        raise ServiceError("This certificate is not revoked.")
    if certificate.superseded_by_id is not None:
        raise ServiceError("A newer certificate has been issued since; this one cannot be reinstated.")
    record_event(actor, "certificates.reinstate", f"certificate:{certificate.id}", reason=reason,
                 revoked_dt=certificate.revoked_dt.isoformat(), revoked_by=certificate.revoked_by_id,
                 revoked_reason=certificate.revoked_reason)
    certificate.revoked_dt, certificate.revoked_by_id, certificate.revoked_reason = None, None, None
    db.session.commit()
