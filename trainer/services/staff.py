"""A clinic's people: assignments, accommodations, invitations, deactivation."""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from sqlalchemy import select, update

from trainer import clock
from trainer.extensions import db
from trainer.models import Assignment, Course, Invitation, User, UserRole
from trainer.security import can_change_account, can_manage_clinic, can_set_accommodations, has_role
from trainer.services import Forbidden, NotFound, ServiceError
from trainer.services.accounts import hash_password, normalise_email, password_problem
from trainer.services.audit import record_event

TIME_MULTIPLIERS = (1.0, 1.5, 2.0)
INVITATION_DAYS = 7


def _require_manager_of(actor, person: User) -> None:
    if person is None or not can_manage_clinic(actor, person.clinic_id):
        raise NotFound("There is no such person in your clinic.")


def assign_course(actor, course: Course, people: list[User], due: date) -> int:
    """Assign the course to these people with a due date (re-assigning moves the date); returns how many."""
    if due < clock.now().date():
        raise ServiceError("The due date is in the past; choose today or a later day.")
    for person in people:
        _require_manager_of(actor, person)
    existing = {a.user_id: a for a in db.session.scalars(
        select(Assignment).where(Assignment.course_id == course.id, Assignment.user_id.in_([p.id for p in people])))}
    for person in people:
        assignment = existing.get(person.id) or Assignment(user_id=person.id, course_id=course.id)
        assignment.due_date, assignment.assigned_by_id, assignment.assigned_dt = due, actor.id, clock.now()
        db.session.add(assignment)
    record_event(actor, "assignments.set", f"course:{course.slug}", due=due.isoformat(),
                 people=sorted(p.id for p in people))
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


def invite_staff(actor, clinic_id: int, email: str, name: str, roles: list[str]) -> tuple[Invitation, str]:
    """Create a single-use invitation; returns it with the secret for the link (never stored)."""
    if not can_manage_clinic(actor, clinic_id):
        raise NotFound("There is no such clinic.")
    email = normalise_email(email)
    name = " ".join(name.split())
    if not name:
        raise ServiceError("Give the person's name.")
    roles = sorted(set(roles) & {"learner", "manager"}) or ["learner"]
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise ServiceError(f"{email} already has an account.")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(email=email, name=name, clinic_id=clinic_id, roles=roles, token_hash=_token_hash(token),
                            invited_by_id=actor.id, created_dt=clock.now(),
                            expires_dt=clock.now() + timedelta(days=INVITATION_DAYS))
    db.session.add(invitation)
    db.session.flush()
    record_event(actor, "invitations.create", f"invitation:{invitation.id}", email=email, roles=roles)
    db.session.commit()
    return invitation, token


def open_invitation(token: str) -> Invitation:
    """The invitation this link stands for, if it can still be used."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token or "")))
    if invitation is None:
        raise NotFound("This invitation link is not valid. Ask your manager for a new one.")
    if invitation.accepted_dt is not None:
        raise ServiceError("This invitation has already been used. Sign in with your email and password.")
    if clock.now() > invitation.expires_dt:
        raise ServiceError("This invitation has expired. Ask your manager to invite you again.")
    return invitation


def accept_invitation(token: str, password: str) -> User:
    """Create the account with the invitee's own password; the link works once."""
    invitation = open_invitation(token)
    problem = password_problem(password, invitation.email, invitation.name)
    if problem:
        raise ServiceError(problem)
    used = db.session.execute(
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
