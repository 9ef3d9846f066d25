"""Read-only views of progress: a learner's modules, and a clinic's certification register.

Each function runs a fixed number of aggregate queries, whatever the number of people or attempts.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from trainer import clock
from trainer.certification.status import NOT_STARTED, ModuleRecord, certificate_status, module_status
from trainer.extensions import db
from trainer.models import Attempt, Certificate, Course, User
from trainer.models.attempts import OPEN, SUBMITTED


def module_records(user_ids: list[int], module_ids: list[int]) -> dict[tuple[int, int], ModuleRecord]:
    """(user id, module id) -> what their attempts add up to, in two grouped queries."""
    if not user_ids or not module_ids:
        return {}
    scope = (Attempt.user_id.in_(user_ids), Attempt.module_id.in_(module_ids))
    submitted = db.session.execute(
        select(Attempt.user_id, Attempt.module_id, func.count(), func.max(Attempt.score_percent),
               func.max(func.coalesce(Attempt.passed, False).cast(db.Integer)))
        .where(*scope, Attempt.state == SUBMITTED).group_by(Attempt.user_id, Attempt.module_id)
    ).all()
    open_pairs = set(db.session.execute(select(Attempt.user_id, Attempt.module_id).where(*scope, Attempt.state == OPEN)).all())
    records = {}
    for user_id, module_id, count, best, passed in submitted:
        records[(user_id, module_id)] = ModuleRecord(count, best, bool(passed), (user_id, module_id) in open_pairs)
    for pair in open_pairs:
        records.setdefault(tuple(pair), ModuleRecord(has_open_attempt=True))
    return records


def current_certificates(user_ids: list[int], course_id: int) -> dict[int, Certificate]:
    """user id -> newest certificate that has not been superseded, in one query."""
    if not user_ids:
        return {}
    certs = db.session.scalars(
        select(Certificate).where(Certificate.user_id.in_(user_ids), Certificate.course_id == course_id,
                                  Certificate.superseded_by_id.is_(None))
        .order_by(Certificate.issued_dt, Certificate.id)
    )
    return {c.user_id: c for c in certs}


@dataclass
class ModuleProgress:
    module: object
    status: str
    best_score: float | None
    attempts: int


@dataclass
class CourseProgress:
    person: User
    course: Course
    modules: list[ModuleProgress] = field(default_factory=list)
    certificate: Certificate | None = None
    certificate_state: str | None = None

    @property
    def status(self) -> str:
        """The course status shown in lists: the certificate's state, else how far the modules got."""
        if self.certificate_state:
            return self.certificate_state
        statuses = {m.status for m in self.modules}
        if statuses == {NOT_STARTED}:
            return NOT_STARTED
        return "in progress"


def course_progress(people: list[User], course: Course) -> list[CourseProgress]:
    """Progress of each person in the course, in a fixed number of queries."""
    modules = course.modules
    ids = [p.id for p in people]
    records = module_records(ids, [m.id for m in modules])
    now = clock.now()
    certificates = current_certificates(ids, course.id)
    result = []
    for person in people:
        progress = CourseProgress(person, course)
        for module in modules:
            record = records.get((person.id, module.id), ModuleRecord())
            progress.modules.append(ModuleProgress(module, module_status(record), record.best_score, record.submitted_attempts))
        cert = certificates.get(person.id)
        if cert is not None:
            progress.certificate = cert
            progress.certificate_state = certificate_status(
                expires_dt=cert.expires_dt, revoked_dt=cert.revoked_dt, superseded=False,
                renewal_window_days=course.renewal_window_days, now=now)
        result.append(progress)
    return result


def clinic_staff(clinic_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(User.clinic_id == clinic_id).order_by(User.name, User.id)))


def all_courses() -> list[Course]:
    return list(db.session.scalars(select(Course).order_by(Course.title)))
