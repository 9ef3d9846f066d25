"""Read-only views of progress: a learner's modules, and a clinic's certification register.

Each function runs a fixed number of aggregate queries, whatever the number of people or attempts.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from trainer import clock
from trainer.certification.status import (
    CERTIFIED,
    EXPIRED,
    EXPIRING,
    FAILED,
    IN_PROGRESS,
    NOT_STARTED,
    REVOKED,
    CourseRecord,
    ModuleRecord,
    course_standing,
    module_status,
)
from trainer.extensions import db
from trainer.models import Assignment, Attempt, Certificate, Course, Module, User
from trainer.models.attempts import OPEN, SUBMITTED
from trainer.services import ServiceError


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
    open_pairs = {(user_id, module_id) for user_id, module_id in db.session.execute(
        select(Attempt.user_id, Attempt.module_id).where(*scope, Attempt.state == OPEN)).all()}
    records = {}
    for user_id, module_id, count, best, passed in submitted:
        records[(user_id, module_id)] = ModuleRecord(count, best, bool(passed), (user_id, module_id) in open_pairs)
    for pair in open_pairs:
        records.setdefault(pair, ModuleRecord(has_open_attempt=True))
    return records


def current_certificates(user_ids: list[int], course_ids: list[int]) -> dict[tuple[int, int], Certificate]:
    """(user id, course id) -> newest certificate that has not been superseded, in one query."""
    if not user_ids or not course_ids:
        return {}
    certs = db.session.scalars(
        select(Certificate).where(Certificate.user_id.in_(user_ids), Certificate.course_id.in_(course_ids),
                                  Certificate.superseded_by_id.is_(None))
        .order_by(Certificate.issued_dt, Certificate.id)
    )
    return {(c.user_id, c.course_id): c for c in certs}


def assignments_for(user_ids: list[int], course_ids: list[int]) -> dict[tuple[int, int], Assignment]:
    """(user id, course id) -> assignment, with who assigned it (their name only: no roles), in one query."""
    if not user_ids or not course_ids:
        return {}
    return {(a.user_id, a.course_id): a for a in db.session.scalars(
        select(Assignment).options(joinedload(Assignment.assigned_by).lazyload(User.role_rows))
        .where(Assignment.user_id.in_(user_ids), Assignment.course_id.in_(course_ids)))}


def end_of_day(day) -> datetime:
    return datetime.combine(day, time.max)


@dataclass
class ModuleProgress:
    module: Module
    status: str
    best_score: float | None
    attempts: int

    @property
    def missed_critical(self) -> bool:
        """Failed with a score at or above the pass mark: only a missed safety-critical question fails that."""
        return self.status == FAILED and self.best_score is not None and self.best_score >= self.module.pass_percent


@dataclass
class CourseProgress:
    """One person's row in a course register."""

    person: User
    course: Course
    status: str = NOT_STARTED
    overdue: bool = False
    days_to_expiry: int | None = None
    modules: list[ModuleProgress] = field(default_factory=list)
    certificate: Certificate | None = None
    assignment: Assignment | None = None


def course_progress(people: list[User], course: Course, now: datetime | None = None) -> list[CourseProgress]:
    """Each person's standing in the course, in a fixed number of queries."""
    return progress_in_courses(people, [course], now)[0]


def person_progress(person: User) -> list[CourseProgress]:
    """One person's standing in every course, in the same number of queries however many courses there are."""
    return [rows[0] for rows in progress_in_courses([person], all_courses())]


def progress_in_courses(people: list[User], courses: list[Course],
                        now: datetime | None = None) -> list[list[CourseProgress]]:
    """For each course, each person's standing in it: four queries in all (two for the attempts, certificates,
    assignments), whatever the number of people, courses or attempts, once the courses' modules are loaded
    (all_courses loads them)."""
    now = now or clock.now()
    ids = [p.id for p in people]
    records = module_records(ids, [m.id for course in courses for m in course.modules])
    certificates = current_certificates(ids, [c.id for c in courses])
    assignments = assignments_for(ids, [c.id for c in courses])
    result = []
    for course in courses:
        modules = course.modules
        rows = []
        for person in people:
            module_recs = [records.get((person.id, m.id), ModuleRecord()) for m in modules]
            cert, assignment = certificates.get((person.id, course.id)), assignments.get((person.id, course.id))
            standing = course_standing(
                CourseRecord(tuple(module_recs),
                             certificate_expires_dt=cert.expires_dt if cert else None,
                             certificate_revoked_dt=cert.revoked_dt if cert else None,
                             due_dt=end_of_day(assignment.due_date) if assignment else None),
                renewal_window_days=course.renewal_window_days, now=now)
            rows.append(CourseProgress(
                person, course, standing.status, standing.overdue, standing.days_to_expiry,
                [ModuleProgress(m, module_status(r), r.best_score, r.submitted_attempts)
                 for m, r in zip(modules, module_recs, strict=True)],
                cert, assignment))
        result.append(rows)
    return result


# --- the register: filter, search, sort, paginate ---------------------------------------------

SORT_KEYS = {
    "name": lambda row: (row.person.name.casefold(), row.person.id),
    "status": lambda row: (row.status, row.person.name.casefold()),
    "expiry": lambda row: (row.days_to_expiry is None, row.days_to_expiry if row.days_to_expiry is not None else 0,
                           row.person.name.casefold()),
}
STATUS_FILTERS = ("certified", "expiring", "expired", "revoked", "in progress", "failed", "not started", "overdue")
SORT_DIRECTIONS = ("asc", "desc")
#: A search longer than this is cut: no name or e-mail is longer, and the page says it searches 100 characters.
SEARCH_LENGTH = 100


class InvalidRegisterFilter(ServiceError):
    """A register filter parameter has a value the register does not know (shown as a 400)."""


class RegisterFilters(TypedDict):
    """The keyword arguments of filter_register."""

    status: str | None
    search: str | None
    sort: str
    descending: bool


def parse_register_filters(args: Mapping[str, str]) -> RegisterFilters:
    """The register's status, search (q), sort and dir parameters, as every surface reads them (console,
    downloads, API); an unknown value is refused with a message naming the valid ones, never dropped."""
    status = args.get("status", "").strip() or None
    sort = args.get("sort", "").strip() or "name"
    direction = args.get("dir", "").strip() or "asc"
    if status is not None and status not in STATUS_FILTERS:
        raise InvalidRegisterFilter(f"Unknown status {status!r}: status must be one of: {', '.join(STATUS_FILTERS)}.")
    if sort not in SORT_KEYS:
        raise InvalidRegisterFilter(f"Unknown sort {sort!r}: sort must be one of: {', '.join(SORT_KEYS)}.")
    if direction not in SORT_DIRECTIONS:
        raise InvalidRegisterFilter(f"Unknown direction {direction!r}: dir must be asc or desc.")
    return {"status": status, "search": args.get("q", "")[:SEARCH_LENGTH].strip() or None, "sort": sort,
            "descending": direction == "desc"}


@dataclass
class RegisterPage:
    rows: list[CourseProgress]
    total: int
    page: int
    pages: int


def filter_register(rows: list[CourseProgress], *, status: str | None = None, search: str | None = None,
                    sort: str = "name", descending: bool = False) -> list[CourseProgress]:
    """Apply the register's status filter, name/email search and sort order."""
    if status == "overdue":
        rows = [r for r in rows if r.overdue]
    elif status:
        rows = [r for r in rows if r.status == status]
    if search:
        needle = search.casefold().strip()
        rows = [r for r in rows if needle in r.person.name.casefold() or needle in r.person.email.casefold()]
    return sorted(rows, key=SORT_KEYS.get(sort, SORT_KEYS["name"]), reverse=descending)


def paginate(rows: list, page: int, per_page: int) -> RegisterPage:
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(1, page), pages)
    return RegisterPage(rows[(page - 1) * per_page: page * per_page], len(rows), page, pages)


@dataclass(frozen=True)
class RegisterSummary:
    certified: int
    expiring_30: int
    expiring_60: int
    expired: int
    overdue: int
    not_started: int
    total: int
    revoked: int = 0
    in_progress: int = 0
    failed: int = 0


def register_summary(rows: list[CourseProgress]) -> RegisterSummary:
    """Counts for the top of the manager's console.

    certified (expiring included), expired, revoked, in progress, failed and not started split the staff:
    they add up to `total`. Expiring and overdue are counted again as "of whom" figures.
    """
    def expiring_within(days):
        return sum(1 for r in rows if r.status in (CERTIFIED, EXPIRING) and r.days_to_expiry is not None
                   and r.days_to_expiry < days)
    return RegisterSummary(
        certified=sum(1 for r in rows if r.status in (CERTIFIED, EXPIRING)),
        expiring_30=expiring_within(30), expiring_60=expiring_within(60),
        expired=sum(1 for r in rows if r.status == EXPIRED), overdue=sum(1 for r in rows if r.overdue),
        not_started=sum(1 for r in rows if r.status == NOT_STARTED), total=len(rows),
        revoked=sum(1 for r in rows if r.status == REVOKED),
        in_progress=sum(1 for r in rows if r.status == IN_PROGRESS),
        failed=sum(1 for r in rows if r.status == FAILED),
    )


def register_record(row: CourseProgress) -> dict:
    """One register row as plain values: the columns of the CSV/XLSX exports and the JSON API."""
    cert = row.certificate
    record = {
        "person_id": row.person.id, "name": row.person.name, "email": row.person.email,
        "active": row.person.is_enabled, "clinic": row.person.clinic.name if row.person.clinic else None,
        "course": row.course.slug, "status": row.status, "overdue": row.overdue,
        "due_date": row.assignment.due_date if row.assignment else None,
        "certificate_code": cert.code if cert else None,
        "issued": cert.issued_dt.date() if cert else None, "expires": cert.expires_dt.date() if cert else None,
        "days_to_expiry": row.days_to_expiry,
    }
    for m in row.modules:
        record[f"{m.module.slug}_best_score"] = m.best_score
    return record


def clinic_staff(clinic_id: int | None) -> list[User]:
    """A clinic's people (None: every clinic's, for the chain-wide view), with their clinic loaded."""
    from sqlalchemy.orm import joinedload, lazyload

    # Roles are not part of the register: loading them for every person was a fifth of the console's time.
    query = select(User).options(joinedload(User.clinic), lazyload(User.role_rows)).where(User.clinic_id.is_not(None))
    if clinic_id is not None:
        query = query.where(User.clinic_id == clinic_id)
    return list(db.session.scalars(query.order_by(User.name, User.id)))


def all_courses() -> list[Course]:
    """Every course with its modules, in two queries."""
    return list(db.session.scalars(select(Course).options(selectinload(Course.modules)).order_by(Course.title)))



# --- one person's attempts and certificates ----------------------------------------------------

def open_attempts_of(user: User) -> list[Attempt]:
    """The person's attempts still in progress, oldest first, with their modules."""
    return list(db.session.scalars(
        select(Attempt).where(Attempt.user_id == user.id, Attempt.state == OPEN)
        .options(selectinload(Attempt.module)).order_by(Attempt.started_dt)))


def attempts_of(user: User) -> list[Attempt]:
    """Every attempt of the person, newest first."""
    return list(db.session.scalars(
        select(Attempt).where(Attempt.user_id == user.id).order_by(Attempt.started_dt.desc())))


def certificates_of(user: User) -> list[Certificate]:
    """Every certificate of the person (superseded and revoked ones too), newest first."""
    return list(db.session.scalars(
        select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.issued_dt.desc())))
