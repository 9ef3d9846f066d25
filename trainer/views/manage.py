"""The clinic manager's pages: the staff register and one person's record."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from trainer.extensions import db
from trainer.models import Attempt, Certificate, Clinic, User
from trainer.security import can_manage_clinic, has_role, role_required
from trainer.services.certificates import certificate_state
from trainer.services.register import all_courses, clinic_staff, course_progress

bp = Blueprint("manage", __name__, url_prefix="/manage")


def _clinic_in_scope() -> Clinic:
    """The manager's own clinic; an admin may pick any with ?clinic=ID."""
    clinic_id = request.args.get("clinic", type=int) if has_role(current_user, "admin") else current_user.clinic_id
    if clinic_id is None and has_role(current_user, "admin"):
        clinic_id = db.session.scalar(select(Clinic.id).order_by(Clinic.name).limit(1))
    clinic = db.session.get(Clinic, clinic_id) if clinic_id is not None else None
    if clinic is None or not can_manage_clinic(current_user, clinic.id):
        abort(404)
    return clinic


@bp.route("/")
@role_required("manager", "admin")
def register():
    clinic = _clinic_in_scope()
    staff = clinic_staff(clinic.id)
    courses = [(course, course_progress(staff, course)) for course in all_courses()]
    clinics = db.session.scalars(select(Clinic).order_by(Clinic.name)).all() if has_role(current_user, "admin") else []
    return render_template("manage/register.html", clinic=clinic, courses=courses, clinics=clinics)


@bp.route("/people/<int:person_id>")
@role_required("manager", "admin")
def person(person_id: int):
    person = db.session.get(User, person_id)
    if person is None or not can_manage_clinic(current_user, person.clinic_id):
        abort(404)
    attempts = db.session.scalars(
        select(Attempt).where(Attempt.user_id == person.id).order_by(Attempt.started_dt.desc())
    ).all()
    certificates = db.session.scalars(
        select(Certificate).where(Certificate.user_id == person.id).order_by(Certificate.issued_dt.desc())
    ).all()
    progress = [course_progress([person], course)[0] for course in all_courses()]
    return render_template("manage/person.html", person=person, attempts=attempts, progress=progress,
                           certificates=[(c, certificate_state(c)) for c in certificates])
