"""Every permission check lives here: roles, clinic scoping, object-level rules.

Views call these helpers; services call them too, so the CLI and the web obey the same rules.
An object in another clinic is reported as missing (404), never as forbidden.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import select

from trainer.extensions import db
from trainer.models import Clinic


def has_role(user, *roles: str) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.roles & set(roles))


def role_required(*roles: str):
    """Decorate a view: the signed-in person must hold one of `roles` (403 otherwise)."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not has_role(current_user, *roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def sign_in_refusal(user) -> str | None:
    """Why `user` may not sign in at all, whatever their password or identity provider says; None if they may."""
    if not user.is_enabled:
        return "This account has been deactivated. Ask your clinic manager."
    clinic = user.clinic
    # Admins keep their way in, so an archived clinic can always be restored.
    if clinic is not None and clinic.archived_dt is not None and "admin" not in user.roles:
        return f"{clinic.name} is archived, so its accounts cannot sign in. Ask an admin."
    return None


def can_manage_clinic(user, clinic_id: int | None) -> bool:
    """Managers act on their own clinic only; admins on every clinic."""
    if has_role(user, "admin"):
        return True
    return has_role(user, "manager") and clinic_id is not None and user.clinic_id == clinic_id


def clinic_in_scope(user, requested: str = "") -> Clinic | None:
    """The clinic whose people `user` works on: a manager's own; an admin's pick (`requested` is a
    clinic id, "all" for the whole chain (None), or nothing for the first clinic by name). 404 otherwise."""
    if has_role(user, "admin"):
        if requested == "all":
            return None
        clinic_id = (int(requested) if requested.isdigit()
                     else db.session.scalar(select(Clinic.id).order_by(Clinic.name).limit(1)))
    else:
        clinic_id = user.clinic_id
    clinic = db.session.get(Clinic, clinic_id) if clinic_id is not None else None
    if clinic is None or not can_manage_clinic(user, clinic.id):
        abort(404)
    return clinic


def can_view_person(viewer, person) -> bool:
    """A person sees themself; a manager their own clinic's staff; trainers and admins everyone."""
    if person is None:
        return False
    return viewer.id == person.id or has_role(viewer, "trainer") or can_manage_clinic(viewer, person.clinic_id)


def can_view_attempt(viewer, attempt) -> bool:
    return attempt is not None and can_view_person(viewer, attempt.user)


def can_take_attempt(user, attempt) -> bool:
    """Only the person who started an attempt may answer or submit it."""
    return attempt is not None and attempt.user_id == user.id


def is_operator(actor) -> bool:
    """None stands for the operator at the command line, who may do whatever a command offers."""
    return actor is None


def can_author(user) -> bool:
    return has_role(user, "trainer", "admin")


def can_regrade(user) -> bool:
    """Regrading follows a corrected question, so it is the trainers' (and admins') call."""
    return has_role(user, "trainer", "admin")


def can_administer(user) -> bool:
    return has_role(user, "admin")


#: Who outranks whom: an account is as high as its highest role.
ROLE_RANK = {"learner": 0, "manager": 1, "assessor": 2, "trainer": 2, "admin": 3}


def role_rank(user) -> int:
    return max((ROLE_RANK.get(role, 0) for role in user.roles), default=0)


def _may_act_on(actor, person) -> bool:
    # Never on oneself, never on an account with a higher role; admins act on every other account.
    if person is None or person.id == actor.id:
        return False
    return has_role(actor, "admin") or role_rank(person) <= role_rank(actor)


def can_set_accommodations(actor, person) -> bool:
    """Extra time and extra attempts: the person's manager, a trainer or an admin; never for oneself,
    never for an account with a higher role."""
    in_reach = person is not None and (has_role(actor, "trainer") or can_manage_clinic(actor, person.clinic_id))
    return in_reach and _may_act_on(actor, person)


def can_change_account(actor, person) -> bool:
    """Deactivate or reactivate: the person's manager or an admin; never oneself, never a higher role."""
    return person is not None and can_manage_clinic(actor, person.clinic_id) and _may_act_on(actor, person)


def can_grant_roles(actor, roles, clinic_id: int | None) -> bool:
    """Create or edit an account with these roles in this clinic: an admin, anything; a manager, only in
    their own clinic and no role above their own."""
    if has_role(actor, "admin"):
        return True
    return (can_manage_clinic(actor, clinic_id)
            and max((ROLE_RANK.get(role, 0) for role in roles), default=0) <= role_rank(actor))


def can_send_password_reset(actor, person) -> bool:
    """Mail a person a reset link: their manager or an admin; never oneself, never a higher role."""
    return can_change_account(actor, person)


def can_revoke_certificates(user) -> bool:
    return has_role(user, "trainer", "admin")


def can_reinstate_certificates(user) -> bool:
    """Undoing a revocation is rarer and weightier than revoking: admins only."""
    return has_role(user, "admin")


def can_use_manager_api(user) -> bool:
    """Personal API tokens give a manager's read access to their clinic's register."""
    return has_role(user, "manager") and user.clinic_id is not None


def can_request_job(user, kind: str, clinic_id: int | None) -> bool:
    """Regrades are for those who author the questions, notification runs for admins, files from a clinic's
    records for whoever manages that clinic (admins: every clinic, and the chain)."""
    if kind == "regrade":
        return can_author(user)
    if kind == "notify":
        return can_administer(user)
    return can_manage_clinic(user, clinic_id)


def can_view_job(viewer, job) -> bool:
    """A background job and its file: the person who asked, and whoever manages its clinic (admins: every job)."""
    if not getattr(viewer, "is_authenticated", False):
        return False
    if job.requested_by_id == viewer.id:
        return True
    return has_role(viewer, "admin") or (job.clinic_id is not None and can_manage_clinic(viewer, job.clinic_id))


def can_read_audit_trail(user) -> bool:
    return has_role(user, "admin")


def registration_is_current(registration, today) -> bool:
    """An assessor's registration counts once an admin verified it, until its expiry day."""
    return registration is not None and registration.verified_dt is not None and registration.expires_on >= today


def can_assess(actor, person, registration, today) -> bool:
    """Verify cases and sign DOPS: an assessor with a current registration, attached to the
    person's clinic, never on their own record."""
    return (has_role(actor, "assessor") and person is not None and registration is not None
            and registration.user_id == actor.id and person.id != actor.id
            and registration_is_current(registration, today)
            and person.clinic_id is not None and person.clinic_id in registration.clinic_ids)


def can_view_practical_record(viewer, person, registration) -> bool:
    """A logbook and its photos: the person, their manager, admins, and assessors attached to
    their clinic (not trainers: photos of clients are seen by as few people as possible)."""
    if person is None or viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.id == person.id or can_manage_clinic(viewer, person.clinic_id):
        return True
    return (has_role(viewer, "assessor") and registration is not None and registration.user_id == viewer.id
            and person.clinic_id is not None and person.clinic_id in registration.clinic_ids)


def can_log_cases(user) -> bool:
    return has_role(user, "learner")


def can_manage_assessors(user) -> bool:
    """Recording and verifying assessors' registrations is an admin's job."""
    return has_role(user, "admin")
