"""The admin's pages: clinics and accounts, the audit trail, the outbox."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from trainer.security import can_read_audit_trail, role_required
from trainer.services import ServiceError
from trainer.services.accounts import (
    all_accounts,
    clinics_with_headcount,
    create_clinic,
    get_clinic,
    rename_clinic,
    set_clinic_archived,
)
from trainer.services.audit import AuditFilters, audit_actions, audit_events_page
from trainer.services.notifications import outbox_kinds, outbox_page
from trainer.views.forms import ActionForm, ClinicForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _index_page(new_clinic: ClinicForm | None = None, renaming: tuple[int, ClinicForm] | None = None,
                status: int = 200):
    return render_template("admin/index.html", clinics=clinics_with_headcount(), users=all_accounts(),
                           new_clinic=new_clinic or ClinicForm(formdata=None), renaming=renaming,
                           action_form=ActionForm(),
                           rename_form=ClinicForm(formdata=None),
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
    clinic = get_clinic(clinic_id)
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


@bp.route("/audit")
@login_required
def audit():
    if not can_read_audit_trail(current_user):
        abort(403)
    filters = AuditFilters.from_args(request.args)
    events, actors = audit_events_page(filters, request.args.get("page", 1, type=int))
    return render_template("admin/audit.html", events=events, actors=actors, actions=audit_actions(), filters=filters,
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
    clinic = get_clinic(clinic_id)
    if clinic is None:
        abort(404)
    if ActionForm().validate_on_submit():
        archived = request.form.get("archived") == "1"
        set_clinic_archived(current_user, clinic, archived)
        flash(f"{clinic.name} is archived: no new people, and its people cannot sign in until it is restored; "
              "their records stay." if archived else f"{clinic.name} is open again: its people can sign in.", "success")
    return redirect(url_for("admin.index"))
