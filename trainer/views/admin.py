"""The admin's pages: clinics and accounts, the audit trail, the outbox."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from trainer.extensions import db
from trainer.models import AuditEvent, Clinic, User
from trainer.security import can_read_audit_trail, role_required
from trainer.services import ServiceError
from trainer.services.accounts import create_clinic, rename_clinic, set_clinic_archived
from trainer.services.notifications import outbox_kinds, outbox_page
from trainer.time_zones import time_zone_names
from trainer.views.forms import ActionForm, ClinicForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 50


def _index_page(new_clinic: ClinicForm | None = None, renaming: tuple[int, ClinicForm] | None = None,
                status: int = 200):
    clinics = db.session.execute(
        select(Clinic, func.count(User.id)).outerjoin(User, User.clinic_id == Clinic.id)
        .group_by(Clinic.id).order_by(Clinic.name)
    ).all()
    users = db.session.scalars(select(User).options(selectinload(User.clinic)).order_by(User.name)).all()
    return render_template("admin/index.html", clinics=clinics, users=users,
                           new_clinic=new_clinic or ClinicForm(formdata=None), renaming=renaming,
                           action_form=ActionForm(),
                           rename_form=ClinicForm(formdata=None), time_zones=time_zone_names(),
                           chosen_zone=request.form.get("time_zone", "UTC")), status


@bp.route("/")
@role_required("admin")
def index():
    return _index_page()


@bp.route("/clinics", methods=["POST"])
@role_required("admin")
def create_clinic_view():
    form = ClinicForm()
    if form.validate_on_submit():
        try:
            clinic = create_clinic(current_user, form.name.data, request.form.get("time_zone", "UTC"))
        except ServiceError as exc:
            form.name.errors.append(str(exc))
        else:
            flash(f"Clinic {clinic.name} added (times shown in {clinic.time_zone}).", "success")
            return redirect(url_for("admin.index"))
    return _index_page(new_clinic=form, status=400)


@bp.route("/clinics/<int:clinic_id>", methods=["POST"])
@role_required("admin")
def rename_clinic_view(clinic_id: int):
    clinic = db.session.get(Clinic, clinic_id)
    if clinic is None:
        abort(404)
    form = ClinicForm()
    if form.validate_on_submit():
        try:
            before = clinic.name
            rename_clinic(current_user, clinic, form.name.data)
        except ServiceError as exc:
            form.name.errors.append(str(exc))
        else:
            flash(f"{before} is now called {clinic.name}.", "success")
            return redirect(url_for("admin.index"))
    return _index_page(renaming=(clinic_id, form), status=400)


@dataclass
class AuditFilters:
    action: str | None = None
    #: Part of the actor's email address.
    actor: str | None = None
    #: First and last day (UTC), both included.
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_args(cls, args) -> AuditFilters:
        return cls(action=args.get("action") or None, actor=(args.get("actor") or "").strip().lower() or None,
                   since=args.get("since", type=date.fromisoformat), until=args.get("until", type=date.fromisoformat))

    def query_args(self) -> dict:
        """The filters as URL parameters, so page links keep them."""
        return {key: str(value) for key, value in asdict(self).items() if value}


def _audit_events_page(filters: AuditFilters, page: int):
    """Events newest first, one page, with their actors: a count, a page and one actor query."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(AuditEvent.actor_id.in_(
            select(User.id).where(User.email.contains(filters.actor, autoescape=True))))
    if filters.since:
        query = query.where(AuditEvent.occurred_dt >= datetime.combine(filters.since, time.min))
    if filters.until:
        query = query.where(AuditEvent.occurred_dt < datetime.combine(filters.until + timedelta(days=1), time.min))
    events = db.paginate(query, page=page, per_page=AUDIT_PAGE_SIZE, error_out=False)
    actor_ids = {e.actor_id for e in events.items if e.actor_id is not None}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    return events, actors


@bp.route("/audit")
@login_required
def audit():
    if not can_read_audit_trail(current_user):
        abort(403)
    filters = AuditFilters.from_args(request.args)
    events, actors = _audit_events_page(filters, request.args.get("page", 1, type=int))
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    return render_template("admin/audit.html", events=events, actors=actors, actions=actions, filters=filters,
                           query_args=filters.query_args())


@bp.route("/outbox")
@role_required("admin")
def outbox():
    kind = request.args.get("kind") or None
    messages = outbox_page(kind, request.args.get("page", 1, type=int))
    return render_template("admin/outbox.html", messages=messages, kinds=outbox_kinds(), kind=kind,
                           query_args={"kind": kind} if kind else {})


@bp.route("/clinics/<int:clinic_id>/archived", methods=["POST"])
@role_required("admin")
def archive_clinic_view(clinic_id: int):
    clinic = db.session.get(Clinic, clinic_id)
    if clinic is None:
        abort(404)
    if ActionForm().validate_on_submit():
        archived = request.form.get("archived") == "1"
        set_clinic_archived(current_user, clinic, archived)
        flash(f"{clinic.name} is archived: no new people, and its people cannot sign in until it is restored; "
              "their records stay." if archived else f"{clinic.name} is open again: its people can sign in.", "success")
    return redirect(url_for("admin.index"))
