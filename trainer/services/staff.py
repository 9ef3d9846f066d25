"""A clinic's people: accounts, assignments, accommodations, invitations, deactivation."""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from trainer import clock
from trainer.database import execute_dml
from trainer.extensions import db
from trainer.links import UrlBuilder, url_builder
from trainer.models import ROLES, Assignment, AuditEvent, Clinic, Course, Invitation, OutboxMessage, User, UserRole
from trainer.security import can_change_account, can_grant_roles, can_manage_clinic, can_set_accommodations, has_role
from trainer.services import Forbidden, NotFound, ServiceError
from trainer.services.accounts import (
    MAX_PERSON_NAME,
    checked_time_zone,
    end_sessions,
    hash_password,
    normalise_email,
    password_problem,
    require_open_clinic,
)
from trainer.services.audit import record_event
from trainer.services.mail import compose_email, queue_message, send_queued

TIME_MULTIPLIERS = (1.0, 1.5, 2.0)
INVITATION_DAYS = 7


def _require_manager_of(actor, person: User) -> None:
    if person is None or not can_manage_clinic(actor, person.clinic_id):
        raise NotFound("There is no such person in your clinic.")


MAX_DUE_YEARS = 2


def latest_due_date(today: date) -> date:
    """The furthest due date a manager may set: two years ahead (a date beyond is a typo, like year 9999)."""
    try:
        return today.replace(year=today.year + MAX_DUE_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + MAX_DUE_YEARS, day=28)


def day_in_words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _assignment_mail(actor, person: User, course: Course, due: date, home_url: str | None) -> OutboxMessage:
    """The e-mail telling a person what was assigned, by whom, and by when (one per assignment and date)."""
    subject, body = compose_email("assignment", person=person, course=course, due=day_in_words(due),
                                  assigner=actor.name if actor is not None else "An administrator", home_url=home_url)
    return OutboxMessage(recipient_id=person.id, recipient_email=person.email, kind="assignment",
                         dedupe_key=f"assignment:{person.id}:{course.id}:{due.isoformat()}",
                         subject=subject, body=body, created_dt=clock.now())


def check_due_date(due: date) -> None:
    """A due date from today up to two years ahead (a date beyond is a typo, like year 9999)."""
    today = clock.now().date()
    if due < today:
        raise ServiceError("The due date is in the past; choose today or a later day.")
    if due > latest_due_date(today):
        raise ServiceError(
            f"The due date is more than two years away; choose a day up to {latest_due_date(today):%d %B %Y}.")


def set_assignments(actor, course: Course, people: list[User], due: date, home_url: str | None = None) -> None:
    """Assign the course with a due date in the caller's transaction, with each person's e-mail in the outbox."""
    check_due_date(due)
    for person in people:
        if actor is not None:  # None is the operator at the command line
            _require_manager_of(actor, person)
    existing = {a.user_id: a for a in db.session.scalars(
        select(Assignment).where(Assignment.course_id == course.id, Assignment.user_id.in_([p.id for p in people])))}
    for person in people:
        assignment = existing.get(person.id) or Assignment(user_id=person.id, course_id=course.id)
        assignment.due_date, assignment.assigned_dt = due, clock.now()
        assignment.assigned_by_id = getattr(actor, "id", None)
        db.session.add(assignment)
    already_mailed = set(db.session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(
        [f"assignment:{p.id}:{course.id}:{due.isoformat()}" for p in people]))))
    for person in people:
        mail = _assignment_mail(actor, person, course, due, home_url)
        if mail.dedupe_key not in already_mailed:
            db.session.add(mail)
    record_event(actor, "assignments.set", f"course:{course.slug}", due=due.isoformat(),
                 people=sorted(p.id for p in people))


def assign_course(actor, course: Course, people: list[User], due: date, home_url: str | None = None) -> int:
    """Assign the course to these people with a due date (re-assigning moves the date); returns how many.

    Each person gets an e-mail in the outbox, in the same transaction; `flask notify` hands unsent
    outbox messages to SMTP. Re-assigning the same date sends nothing new.
    """
    set_assignments(actor, course, people, due, home_url)
    db.session.commit()
    return len(people)


def set_accommodations(actor, person: User, time_multiplier: float, extra_attempts: int) -> None:
    """Extra time (x1, x1.5, x2) and extra attempts for one person, recorded in the audit trail."""
    if person is None or not (has_role(actor, "trainer") or can_manage_clinic(actor, person.clinic_id)):
        raise NotFound("There is no such person in your clinic.")
    if not can_set_accommodations(actor, person):
        raise Forbidden("You cannot set accommodations for yourself or for an account with a higher role than yours.")
    if time_multiplier not in TIME_MULTIPLIERS:
        raise ServiceError("Extra time must be none, x1.5 or x2.")
    if not 0 <= extra_attempts <= 10:
        raise ServiceError("Extra attempts must be between 0 and 10.")
    before = {"time_multiplier": person.time_multiplier, "extra_attempts": person.extra_attempts}
    person.time_multiplier, person.extra_attempts = time_multiplier, extra_attempts
    record_event(actor, "accommodations.set", f"user:{person.id}", before=before,
                 after={"time_multiplier": time_multiplier, "extra_attempts": extra_attempts})
    db.session.commit()


def set_active(actor, person: User, active: bool) -> None:
    """Deactivate (cannot sign in; records stay and still count) or reactivate a person."""
    _require_manager_of(actor, person)
    if person.id == actor.id:
        raise Forbidden("You cannot deactivate your own account.")
    if not can_change_account(actor, person):
        raise Forbidden("You cannot change an account with a higher role than yours.")
    person.is_enabled = active
    if not active:
        person.session_generation = User.session_generation + 1  # their open sessions end now
    record_event(actor, "users.activate" if active else "users.deactivate", f"user:{person.id}")
    db.session.commit()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_link(urls: UrlBuilder, token: str) -> str:
    return urls("auth.accept_invitation", token=token)


def invite_staff(actor, clinic_id: int, email: str, name: str, roles: list[str], *,
                 urls: UrlBuilder | None = None, smtp_url: str | None = None) -> tuple[Invitation, str]:
    """Create a single-use invitation and e-mail its link, in one transaction; returns it with the secret
    for the link (never stored). `urls` builds the link (default: under TRAINER_BASE_URL)."""
    if not can_manage_clinic(actor, clinic_id):
        raise NotFound("There is no such clinic.")
    clinic = db.session.get(Clinic, clinic_id)
    require_open_clinic(clinic)
    email = normalise_email(email)
    name = " ".join(name.split())
    if not name:
        raise ServiceError("Give the person's name.")
    roles = sorted(set(roles) & {"learner", "manager"}) or ["learner"]
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise ServiceError(f"{email} already has an account.")
    # Only the newest link for a person works: a re-invite revokes the earlier pending ones.
    for earlier in db.session.scalars(select(Invitation).where(
            Invitation.email == email, Invitation.clinic_id == clinic_id, Invitation.accepted_dt.is_(None),
            Invitation.revoked_dt.is_(None))):
        earlier.revoked_dt = clock.now()
        record_event(actor, "invitations.revoke", f"invitation:{earlier.id}", reason="invited again")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(email=email, name=name, clinic_id=clinic_id, roles=roles, token_hash=_token_hash(token),
                            invited_by_id=actor.id, created_dt=clock.now(),
                            expires_dt=clock.now() + timedelta(days=INVITATION_DAYS))
    db.session.add(invitation)
    db.session.flush()
    record_event(actor, "invitations.create", f"invitation:{invitation.id}", email=email, roles=roles)
    subject, body = compose_email("invitation", invitation=invitation, clinic=clinic, inviter=actor,
                                  days=INVITATION_DAYS, link=invitation_link(urls or url_builder(), token))
    message = queue_message(recipient_email=email, subject=subject, body=body, kind="invitation",
                            dedupe_key=f"invitation:{invitation.id}")
    db.session.commit()
    try:
        send_queued(message, smtp_url)
    except OSError:
        # The invitation stands and the manager sees its link; the mail stays in the outbox for the next run.
        db.session.rollback()
    return invitation, token


def open_invitation(token: str) -> Invitation:
    """The invitation this link stands for, if it can still be used."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token or "")))
    if invitation is None:
        raise NotFound("This invitation link is not valid. Ask your manager for a new one.")
    if invitation.accepted_dt is not None:
        raise ServiceError("This invitation has already been used. Sign in with your email and password.")
    if invitation.revoked_dt is not None:
        raise ServiceError("This invitation link was revoked. If you were invited again, use the newest e-mail; "
                           "otherwise ask your manager.")
    if clock.now() > invitation.expires_dt:
        raise ServiceError("This invitation has expired. Ask your manager to invite you again.")
    return invitation


def invitation_state(invitation: Invitation, now=None) -> str:
    """accepted, revoked, expired or pending."""
    if invitation.accepted_dt is not None:
        return "accepted"
    if invitation.revoked_dt is not None:
        return "revoked"
    return "expired" if (now or clock.now()) > invitation.expires_dt else "pending"


def clinic_invitations(actor, clinic_id: int, limit: int = 100) -> list[Invitation]:
    """The clinic's newest invitations, newest first."""
    if not can_manage_clinic(actor, clinic_id):
        raise NotFound("There is no such clinic.")
    return list(db.session.scalars(select(Invitation).where(Invitation.clinic_id == clinic_id)
                                   .order_by(Invitation.created_dt.desc(), Invitation.id.desc()).limit(limit)))


def _own_invitation(actor, invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not can_manage_clinic(actor, invitation.clinic_id):
        raise NotFound("There is no such invitation.")
    return invitation


def revoke_invitation(actor, invitation_id: int) -> Invitation:
    """Stop an unused link from working (audited)."""
    invitation = _own_invitation(actor, invitation_id)
    if invitation.accepted_dt is not None:
        raise ServiceError("This invitation was already accepted; deactivate the account instead.")
    if invitation.revoked_dt is None:
        invitation.revoked_dt = clock.now()
        record_event(actor, "invitations.revoke", f"invitation:{invitation.id}", reason="revoked by a manager")
        db.session.commit()
    return invitation


def resend_invitation(actor, invitation_id: int, *, urls: UrlBuilder | None = None,
                      smtp_url: str | None = None) -> tuple[Invitation, str]:
    """A fresh link (7 more days), e-mailed, for an unused invitation; the old link stops working."""
    invitation = _own_invitation(actor, invitation_id)
    if invitation.accepted_dt is not None:
        raise ServiceError("This invitation was already accepted.")
    return invite_staff(actor, invitation.clinic_id, invitation.email, invitation.name, invitation.roles,
                        urls=urls, smtp_url=smtp_url)


def accept_invitation(token: str, password: str) -> User:
    """Create the account with the invitee's own password; the link works once."""
    invitation = open_invitation(token)
    problem = password_problem(password, invitation.email, invitation.name)
    if problem:
        raise ServiceError(problem)
    used = execute_dml(db.session,
        update(Invitation).where(Invitation.id == invitation.id, Invitation.accepted_dt.is_(None))
        .values(accepted_dt=clock.now()).execution_options(synchronize_session=False)
    ).rowcount
    if not used or db.session.scalar(select(User.id).where(User.email == invitation.email)):
        db.session.rollback()
        raise ServiceError("This invitation has already been used. Sign in with your email and password.")
    user = User(email=invitation.email, name=invitation.name, password_hash=hash_password(password),
                clinic_id=invitation.clinic_id, role_rows=[UserRole(role=r) for r in invitation.roles])
    db.session.add(user)
    db.session.flush()
    db.session.execute(update(Invitation).where(Invitation.id == invitation.id).values(user_id=user.id))
    record_event(user, "invitations.accept", f"invitation:{invitation.id}", user=user.id)
    db.session.commit()
    return user


def set_clinic_time_zone(actor, clinic, name: str) -> None:
    """The zone in which the clinic's people see times (unless they have their own), audited."""
    if clinic is None or not can_manage_clinic(actor, clinic.id):
        raise NotFound("There is no such clinic.")
    name = checked_time_zone(name)
    before, clinic.time_zone = clinic.time_zone, name
    record_event(actor, "clinics.time_zone", f"clinic:{clinic.id}", before=before, after=name)
    db.session.commit()


def set_person_time_zone(actor, person: User, name: str | None) -> None:
    """A person's own zone, overriding their clinic's; None or "" goes back to the clinic's. Audited."""
    _require_manager_of(actor, person)
    name = checked_time_zone(name) if name else None
    before, person.time_zone = person.time_zone, name
    record_event(actor, "users.time_zone", f"user:{person.id}", before=before, after=name)
    db.session.commit()


def checked_account_fields(actor, email: str, name: str, roles: list[str], clinic: Clinic | None, person_id=None):
    """The cleaned (email, name, roles) for an account, or a ServiceError saying what to fix."""
    email = normalise_email(email or "")
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError("Give the person's name.")
    if len(name) > MAX_PERSON_NAME:
        raise ServiceError(f"A name has at most {MAX_PERSON_NAME} characters; this one has {len(name):,}.")
    roles = sorted(set(roles or []))
    if not roles:
        raise ServiceError("Give the account at least one role.")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ServiceError(f"Unknown role {unknown[0]!r}; roles are {', '.join(ROLES)}.")
    if clinic is None and {"learner", "manager"} & set(roles):
        raise ServiceError("Practitioners and managers belong to a clinic: choose one.")
    # None is the operator at the command line.
    if actor is not None and not can_grant_roles(actor, roles, clinic.id if clinic else None):
        raise Forbidden("You can give accounts in your own clinic only, and no role above your own.")
    taken = db.session.scalar(select(User.id).where(User.email == email))
    if taken is not None and taken != person_id:
        raise ServiceError(f"An account for {email} already exists.")
    return email, name, roles


def add_account(actor, email: str, name: str, roles: list[str], clinic: Clinic | None) -> tuple[User, str]:
    """Add an account in the caller's transaction; returns it with the secret of its 7-day password link."""
    from trainer.services.password_reset import new_welcome_link

    email, name, roles = checked_account_fields(actor, email, name, roles, clinic)
    require_open_clinic(clinic)
    # No one knows this password: the person chooses their own through the e-mailed link.
    user = User(email=email, name=name, password_hash=hash_password(secrets.token_urlsafe(32)), clinic=clinic,
                role_rows=[UserRole(role=r) for r in roles])
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same email added by someone else at the same moment
        db.session.rollback()
        raise ServiceError(f"An account for {email} already exists.") from None
    record_event(actor, "users.create", f"user:{user.id}", email=email, roles=roles,
                 clinic=clinic.name if clinic else None)
    return user, new_welcome_link(actor, user)


def create_account(actor, email: str, name: str, roles: list[str], clinic: Clinic | None) -> User:
    """A manager (own clinic, no role above their own) or an admin adds an account; the person gets an
    e-mail with a link (7 days) to choose their password. Audited."""
    from trainer.services.password_reset import mail_welcome_link

    user, token = add_account(actor, email, name, roles, clinic)
    db.session.commit()
    mail_welcome_link(actor, user, token)
    return user


def change_account(actor, person: User, email: str, name: str, roles: list[str], clinic: Clinic | None) -> bool:
    """Change a person's account in the caller's transaction; False when nothing differs."""
    if actor is not None:
        _require_manager_of(actor, person)
        if not can_change_account(actor, person):
            raise Forbidden("You cannot change your own account here, or an account with a higher role than yours.")
    email, name, roles = checked_account_fields(actor, email, name, roles, clinic, person_id=person.id)
    if clinic is not None and clinic.id != person.clinic_id:
        require_open_clinic(clinic)
    before = {"email": person.email, "name": person.name, "roles": sorted(person.roles),
              "clinic": person.clinic.name if person.clinic else None}
    after = {"email": email, "name": name, "roles": roles, "clinic": clinic.name if clinic else None}
    if before == after:
        return False
    person.email, person.name, person.clinic = email, name, clinic
    person.role_rows = [row for row in person.role_rows if row.role in roles] + [
        UserRole(role=r) for r in roles if r not in person.roles]
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(f"An account for {email} already exists.") from None
    record_event(actor, "users.update", f"user:{person.id}", before=before, after=after)
    return True


def update_account(actor, person: User, email: str, name: str, roles: list[str], clinic: Clinic | None) -> User:
    """Change a person's name, email, clinic and roles (never one's own, never a higher role). Audited."""
    if actor is None:
        raise Forbidden("Sign in to change an account.")
    if change_account(actor, person, email, name, roles, clinic):
        db.session.commit()
    return person


#: What a person's page lists under "Sign-ins and sessions".
ACCOUNT_ACTIVITY = ("auth.sign_in", "auth.sign_in_failed", "auth.sessions_end", "auth.password_change",
                    "auth.password_reset", "auth.password_reset_link")


def account_activity(actor, person: User, limit: int = 20) -> list[AuditEvent]:
    """The person's latest sign-ins, failed sign-ins, sign-outs and password events, newest first."""
    _require_manager_of(actor, person)
    if not can_change_account(actor, person):
        raise Forbidden("You cannot see the sign-ins of an account with a higher role than yours.")
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.subject == f"user:{person.id}",
                                                            AuditEvent.action.in_(ACCOUNT_ACTIVITY))
                                   .order_by(AuditEvent.id.desc()).limit(limit)))


def end_person_sessions(actor, person: User) -> None:
    """Sign a person out everywhere (a lost phone, a shared computer): every open session ends. Audited."""
    _require_manager_of(actor, person)
    if not can_change_account(actor, person):
        raise Forbidden("You cannot sign out an account with a higher role than yours, or your own from here.")
    end_sessions(actor, person, f"signed out everywhere by {actor.email}")
