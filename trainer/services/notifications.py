"""Notifications: certificate expiry reminders, overdue notices and the managers' weekly digest.

`send_notifications` plans every message first (a fixed number of queries per course), then
hands each one to `mail.deliver`, whose dedupe key makes a repeated run send nothing twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from trainer.certification.status import CERTIFIED, EXPIRED, EXPIRING
from trainer.extensions import db
from trainer.links import UrlBuilder
from trainer.models import OutboxMessage, User
from trainer.services.audit import record_event
from trainer.services.mail import deliver, send_unsent
from trainer.services.register import CourseProgress, all_courses, course_progress

EXPIRY_REMINDER, EXPIRY_NOTICE = "expiry-reminder", "expiry-notice"
OVERDUE, MANAGER_DIGEST = "overdue", "manager-digest"
#: A reminder also goes out this many days before expiry, after the one at the renewal window's start.
FINAL_REMINDER_DAYS = 7
#: The managers' digest lists certificates expiring within this many days.
DIGEST_HORIZON_DAYS = 60
OUTBOX_PAGE_SIZE = 50


@dataclass(frozen=True)
class PlannedMessage:
    """A message worked out from the records, not yet delivered."""

    kind: str
    dedupe_key: str
    recipient_id: int
    recipient_email: str
    subject: str
    body: str


@dataclass
class NotificationReport:
    """What one run sent, per kind, and what it found already sent by an earlier run."""

    sent: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        (EXPIRY_REMINDER, EXPIRY_NOTICE, OVERDUE, MANAGER_DIGEST), 0))
    already_sent: int = 0
    #: Earlier outbox messages that had not gone out and were sent through SMTP this time.
    resent: int = 0
    via_smtp: bool = False
    #: Set when the mail server refused a message; the run stopped there.
    smtp_error: str | None = None
    #: The dedupe key of the message that is in the outbox but was not accepted by SMTP.
    unsent_key: str | None = None

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    def summary(self) -> str:
        where = "through SMTP" if self.via_smtp else "to the outbox (SMTP_URL is not set)"
        return (f"Sent {self.total_sent} message(s) {where}: {self.sent[EXPIRY_REMINDER]} expiry reminder(s), "
                f"{self.sent[EXPIRY_NOTICE]} expiry notice(s), {self.sent[OVERDUE]} overdue notice(s), "
                f"{self.sent[MANAGER_DIGEST]} manager digest(s); {self.already_sent} already sent earlier"
                + (f"; {self.resent} earlier unsent message(s) sent now." if self.resent else "."))


def _day(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d")


def _in_days(days: int) -> str:
    return "today" if days <= 0 else "tomorrow" if days == 1 else f"in {days} days"


def expiry_threshold(row: CourseProgress, now: datetime) -> int | None:
    """The most urgent reminder threshold (days before expiry, 0 = expired) the certificate has reached."""
    cert = row.certificate
    if cert is None or row.status not in (CERTIFIED, EXPIRING, EXPIRED):
        return None  # no certificate, or a revoked one: there is nothing to renew on schedule
    window = row.course.renewal_window_days
    reached = [days for days in {window, min(FINAL_REMINDER_DAYS, window), 0}
               if now >= cert.expires_dt - timedelta(days=days)]
    return min(reached) if reached else None


def _expiry_message(row: CourseProgress, threshold: int, url: UrlBuilder) -> PlannedMessage:
    person, course, cert = row.person, row.course, row.certificate
    assert cert is not None and row.days_to_expiry is not None  # _expiry_threshold planned it for a certificate
    key = f"expiry:cert:{cert.id}:{threshold}d"
    sign_in = url("learn.home")
    if threshold == 0:
        return PlannedMessage(
            EXPIRY_NOTICE, key, person.id, person.email, f"Your {course.title} certificate has expired",
            f"Hello {person.name},\n\n"
            f"Your {course.title} certificate expired on {_day(cert.expires_dt)}. Until you renew it you are not "
            f"certified under this course.\n\n"
            f"Sign in at {sign_in} and retake the module quizzes; a new certificate is issued as soon as you "
            f"have passed them all.\n")
    return PlannedMessage(
        EXPIRY_REMINDER, key, person.id, person.email,
        f"Your {course.title} certificate expires on {_day(cert.expires_dt)}",
        f"Hello {person.name},\n\n"
        f"Your {course.title} certificate expires on {_day(cert.expires_dt)} ({_in_days(row.days_to_expiry)}).\n\n"
        f"Sign in at {sign_in} and retake the module quizzes to renew it; the new certificate is issued as soon "
        f"as you have passed them all.\n\n"
        f"Your current certificate: {url('learn.certificate', code=cert.code)}\n")


def _overdue_message(row: CourseProgress, url: UrlBuilder) -> PlannedMessage:
    assert row.assignment is not None  # only assigned rows are overdue
    person, course, due = row.person, row.course, row.assignment.due_date
    return PlannedMessage(
        OVERDUE, f"overdue:assignment:{row.assignment.id}:{due.isoformat()}", person.id, person.email,
        f"{course.title} is overdue",
        f"Hello {person.name},\n\n"
        f"{course.title} was due by {due.isoformat()} and you do not hold a valid certificate for it. "
        f"Your clinic manager can see that it is overdue.\n\n"
        f"Sign in at {url('learn.home')} and complete the module quizzes; your certificate is issued as soon "
        f"as you have passed them all.\n")


def _expiring_soon(row: CourseProgress) -> bool:
    return (row.status in (CERTIFIED, EXPIRING) and row.days_to_expiry is not None
            and row.days_to_expiry < DIGEST_HORIZON_DAYS)


def _digest_message(manager: User, rows: list[CourseProgress], week: str, url: UrlBuilder) -> PlannedMessage | None:
    """One manager's weekly summary of their clinic's expiring and overdue people; None when all is well."""
    expiring = sorted((r for r in rows if _expiring_soon(r)), key=lambda r: (r.days_to_expiry or 0, r.person.name))
    overdue = sorted((r for r in rows if r.overdue and r.assignment is not None),
                     key=lambda r: (r.assignment.due_date if r.assignment else None, r.person.name))
    if not expiring and not overdue:
        return None
    assert manager.clinic is not None  # digests go to the managers of a clinic
    clinic = manager.clinic.name
    lines = [f"Hello {manager.name},", "", f"This week's training summary for {clinic}.", ""]
    if expiring:
        lines.append(f"Certificates expiring in the next {DIGEST_HORIZON_DAYS} days ({len(expiring)}):")
        lines += [f"- {r.person.name} <{r.person.email}>: {r.course.title}, expires {_day(r.certificate.expires_dt)} "
                  f"({_in_days(r.days_to_expiry)}) - {url('manage.person', person_id=r.person.id)}"
                  for r in expiring if r.certificate is not None and r.days_to_expiry is not None]
        lines.append("")
    if overdue:
        lines.append(f"Overdue ({len(overdue)}):")
        lines += [f"- {r.person.name} <{r.person.email}>: {r.course.title}, "
                  f"was due {r.assignment.due_date.isoformat()} "
                  f"({r.status}) - {url('manage.person', person_id=r.person.id)}" for r in overdue if r.assignment]
        lines.append("")
    lines.append(f"Follow up with each person through the link beside their name, or open the staff register at "
                 f"{url('manage.register')} to see everyone's standing.")
    return PlannedMessage(
        MANAGER_DIGEST, f"digest:user:{manager.id}:{week}", manager.id, manager.email,
        f"Training digest for {clinic}: {len(expiring)} expiring, {len(overdue)} overdue", "\n".join(lines) + "\n")


def _iso_week(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def plan_notifications(now: datetime, url: UrlBuilder) -> list[PlannedMessage]:
    """Every message the records call for at `now`, whether or not an earlier run sent it already;
    `url` builds the links in them (links.url_builder)."""
    # Deactivated people get nothing and are left out of their manager's digest too.
    people = list(db.session.scalars(
        select(User).options(joinedload(User.clinic)).where(User.is_enabled.is_(True)).order_by(User.id)))
    planned: list[PlannedMessage] = []
    rows_by_clinic: dict[int, list[CourseProgress]] = {}
    for course in all_courses():
        for row in course_progress(people, course, now):
            threshold = expiry_threshold(row, now)
            if threshold is not None:
                planned.append(_expiry_message(row, threshold, url))
            if row.overdue:
                planned.append(_overdue_message(row, url))
            if row.person.clinic_id is not None:
                rows_by_clinic.setdefault(row.person.clinic_id, []).append(row)
    week = _iso_week(now)
    for manager in people:
        if manager.has_role("manager") and manager.clinic_id is not None:
            digest = _digest_message(manager, rows_by_clinic.get(manager.clinic_id, []), week, url)
            if digest is not None:
                planned.append(digest)
    return planned


def send_notifications(now: datetime, smtp_url: str | None, url: UrlBuilder) -> NotificationReport:
    """Deliver every planned message not delivered before; stop at the first message SMTP refuses."""
    report = NotificationReport(via_smtp=bool(smtp_url))
    if smtp_url:
        try:
            report.resent = send_unsent(smtp_url, now)
        except OSError as exc:
            db.session.rollback()
            report.smtp_error = str(exc) or type(exc).__name__
            return report
    for message in plan_notifications(now, url):
        try:
            delivered = deliver(recipient_email=message.recipient_email, subject=message.subject, body=message.body,
                                kind=message.kind, dedupe_key=message.dedupe_key,
                                recipient_id=message.recipient_id, smtp_url=smtp_url)
        except OSError as exc:  # smtplib's errors are OSErrors too
            # deliver() committed the outbox row before the hand-off failed; going on would only
            # pile up more unsent rows while the server is unreachable.
            db.session.rollback()
            report.smtp_error, report.unsent_key = str(exc) or type(exc).__name__, message.dedupe_key
            break
        if delivered is None:
            report.already_sent += 1
        else:
            report.sent[message.kind] += 1
    if report.total_sent:
        record_event(None, "notifications.send", "outbox", **report.sent, via_smtp=report.via_smtp)
        db.session.commit()
    return report


def outbox_kinds() -> list[str]:
    """The kinds of message in the outbox, for the filter's choices."""
    return list(db.session.scalars(select(OutboxMessage.kind).distinct().order_by(OutboxMessage.kind)))


def outbox_page(kind: str | None, page: int):
    """Outbox messages newest first, one page (a count and a page query)."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return db.paginate(query, page=page, per_page=OUTBOX_PAGE_SIZE, error_out=False)
