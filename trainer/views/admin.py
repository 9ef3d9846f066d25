"""The admin's pages: clinics and accounts."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from trainer.extensions import db
from trainer.models import Clinic, User
from trainer.security import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@role_required("admin")
def index():
    clinics = db.session.execute(
        select(Clinic, func.count(User.id)).outerjoin(User, User.clinic_id == Clinic.id)
        .group_by(Clinic.id).order_by(Clinic.name)
    ).all()
    users = db.session.scalars(select(User).options(selectinload(User.clinic)).order_by(User.name)).all()
    return render_template("admin/index.html", clinics=clinics, users=users)
