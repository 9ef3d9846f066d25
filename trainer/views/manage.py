"""The clinic manager's console: summary, register, one person's record, assignments, invitations."""
from __future__ import annotations

import base64

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from wtforms import SelectChoice

from trainer import clock
from trainer.analysis.histogram_svg import status_bars_svg
from trainer.extensions import db
from trainer.links import external_url, url_builder
from trainer.models import Clinic, Course, User
from trainer.security import (
    ROLE_RANK,
    can_change_account,
    can_manage_clinic,
    can_reinstate_certificates,
    can_revoke_certificates,
    can_send_password_reset,
    can_set_accommodations,
    can_view_person,
    clinic_in_scope,
    has_role,
    role_rank,
    role_required,
)
from trainer.services import Forbidden, NotFound, ServiceError
from trainer.services.accounts import all_clinics, clinics_taking_people, get_clinic, get_user
from trainer.services.certificates import certificate_state, find_certificate, reinstate_certificate, revoke_certificate
from trainer.services.password_reset import send_password_reset
from trainer.services.practical import PRACTICAL_FILTERS, register_practical
from trainer.services.register import (
    STATUS_FILTERS,
    InvalidRegisterFilter,
    all_courses,
    attempts_of,
    certificates_of,
    clinic_staff,
    course_progress,
    filter_register,
    paginate,
    parse_register_filters,
    person_progress,
    register_summary,
)
from trainer.services.staff import (
    account_activity,
    assign_course,
    clinic_invitations,
    create_account,
    end_person_sessions,
    invitation_link,
    invitation_state,
    invite_staff,
    latest_due_date,
    resend_invitation,
    revoke_invitation,
    set_accommodations,
    set_active,
    set_clinic_time_zone,
    set_person_time_zone,
    update_account,
)
from trainer.services.staff_import import TEMPLATE_CSV, apply_staff_import, plan_staff_import, read_staff_file
from trainer.views.downloads import file_download
from trainer.views.errors import error_response
from trainer.views.forms import (
    ROLE_LABELS,
    AccommodationsForm,
    AccountForm,
    ActionForm,
    AssignForm,
    InviteForm,
    RevokeForm,
    StaffImportForm,
)

bp = Blueprint("manage", __name__, url_prefix="/manage")
PER_PAGE = 25


def course_in_scope(courses: list[Course]) -> Course:
    slug = request.values.get("course")
    course = next((c for c in courses if c.slug == slug), courses[0] if courses and not slug else None)
    if course is None:
        abort(404)
    return course


@bp.route("/")
@role_required("manager", "admin")
def register():
    clinic = clinic_in_scope(current_user, request.values.get("clinic", ""))
    courses = all_courses()
    if not courses:
        return render_template("manage/no_courses.html", clinic=clinic)
    course = course_in_scope(courses)
    staff = clinic_staff(clinic.id if clinic else None)
    rows = course_progress(staff, course)
    summary = register_summary(rows)
    try:
        filters = parse_register_filters(request.args)
    except InvalidRegisterFilter as exc:
        return error_response(400, str(exc))
    shown = filter_register(rows, **filters)
    practical_filter = request.args.get("practical") if request.args.get("practical") in PRACTICAL_FILTERS else None
    if practical_filter:
        practical = register_practical(shown, course)
        shown = [row for row in shown if practical[row.person.id][0] == practical_filter]
    page = paginate(shown, request.args.get("page", 1, type=int), PER_PAGE)
    if not practical_filter:  # only the page's rows show it
        practical = register_practical(page.rows, course)
    # The bars split the staff (they add up to the total); expiring and overdue are on the cards.
    chart = status_bars_svg([("Certified", summary.certified), ("Expired", summary.expired),
                             ("Revoked", summary.revoked), ("In progress", summary.in_progress),
                             ("Failed", summary.failed), ("Not started", summary.not_started)], "Staff by status")
    assign_form = AssignForm(course=course.slug)
    assign_form.course.choices = [SelectChoice(c.slug, c.title) for c in courses]
    clinics = all_clinics() if has_role(current_user, "admin") else []
    return render_template("manage/register.html", clinic=clinic, clinics=clinics, courses=courses, course=course,
                           summary=summary, chart=chart, page=page, status=filters["status"], sort=filters["sort"],
                           descending=filters["descending"],
                           statuses=STATUS_FILTERS, assign_form=assign_form, practical=practical,
                           practical_filter=practical_filter, practical_filters=PRACTICAL_FILTERS,
                           today=clock.now().date(), latest_due=latest_due_date(clock.now().date()),
                           action_form=ActionForm())


@bp.route("/assignments", methods=["POST"])
@role_required("manager", "admin")
def assign():
    clinic = clinic_in_scope(current_user, request.values.get("clinic", ""))
    if clinic is None:
        abort(404)
    courses = all_courses()
    form = AssignForm()
    form.course.choices = [SelectChoice(c.slug, c.title) for c in courses]
    staff = clinic_staff(clinic.id)
    form.people.choices = [SelectChoice(p.id, p.name) for p in staff]
    back = redirect(url_for("manage.register", clinic=clinic.id, course=form.course.data))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(errors), "error")
        return back
    course = next(c for c in courses if c.slug == form.course.data)
    people = [p for p in staff if p.is_enabled] if form.whole_clinic.data == "all" else \
        [p for p in staff if p.id in set(form.people.data)]
    if not people:
        flash("Tick the people to assign, or choose everyone in the clinic.", "error")
        return back
    try:
        count = assign_course(current_user, course, people, form.due.data,
                              home_url=external_url("learn.home"))
    except ServiceError as exc:
        flash(str(exc), "error")
        return back
    flash(f"{course.title} assigned to {count} people, due {form.due.data:%Y-%m-%d}.", "success")
    return back


def _person_or_404(person_id: int) -> User:
    person = get_user(person_id)
    if person is None or not can_view_person(current_user, person):
        abort(404)
    return person


def _account_form(**data) -> AccountForm:
    """The account form with the clinics and roles the signed-in person may give."""
    form = AccountForm(**data)
    if has_role(current_user, "admin"):
        # Archived clinics take no one new; a person already in one keeps it on the form.
        current = data.get("clinic")
        clinics = clinics_taking_people(int(current) if current and current.isdigit() else None)
        form.clinic.choices = [("", "No clinic (chain-wide trainers, assessors and admins)")] + [
            (str(c.id), c.name) for c in clinics]
    else:
        form.clinic.choices = [(str(current_user.clinic_id), current_user.clinic.name)]
    form.roles.choices = [(role, label) for role, label in ROLE_LABELS.items()
                          if has_role(current_user, "admin") or ROLE_RANK[role] <= role_rank(current_user)]
    return form


def _chosen_clinic(form: AccountForm) -> Clinic | None:
    chosen = form.clinic.data or ""
    return get_clinic(int(chosen)) if chosen.isdigit() else None


@bp.route("/people/new", methods=["GET", "POST"])
@role_required("manager", "admin")
def new_person():
    """Add an account; the person gets an e-mail with a link to choose their password."""
    form = _account_form(clinic=request.args.get("clinic", str(current_user.clinic_id or "")), roles=["learner"])
    if form.validate_on_submit():
        try:
            person = create_account(current_user, form.email.data, form.name.data, form.roles.data,
                                    _chosen_clinic(form))
        except ServiceError as exc:
            form.email.errors.append(str(exc))
        else:
            flash(f"{person.name}'s account is ready; an e-mail asks them to choose a password (the link works "
                  "for 7 days).", "success")
            return redirect(url_for("manage.person", person_id=person.id))
    return render_template("manage/account_form.html", form=form, person=None), 400 if form.errors else 200


def _import_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="staff-import")


def _import_clinic() -> Clinic | None:
    """A manager imports into their own clinic; an admin into the clinic chosen (rows may name others)."""
    if has_role(current_user, "admin"):
        chosen = request.values.get("clinic", "")
        return get_clinic(int(chosen)) if chosen.isdigit() else None
    return get_clinic(current_user.clinic_id) if current_user.clinic_id else None


@bp.route("/people/import", methods=["GET", "POST"])
@role_required("manager", "admin")
def import_staff():
    """Upload a staff file and see what it would do; confirming applies it all or nothing."""
    form = StaffImportForm()
    clinic = _import_clinic()
    plan, problem, payload = None, None, None
    if form.validate_on_submit():
        upload = request.files.get("file")
        data = upload.read() if upload else b""
        filename = upload.filename if upload else ""
        try:
            plan = plan_staff_import(current_user, read_staff_file(filename, data), clinic)
        except ServiceError as exc:
            problem = str(exc)
        else:
            db.session.rollback()  # the preview writes nothing
            payload = _import_signer().dumps({"f": filename, "d": base64.b64encode(data).decode(),
                                              "c": clinic.id if clinic else None})
    elif request.method == "POST":
        problem = "The form expired; upload the file again."
    status = 400 if problem or (plan and plan.problems) else 200
    return render_template("manage/import.html", form=form, clinic=clinic, plan=plan, problem=problem,
                           payload=payload, action_form=ActionForm()), status


@bp.route("/people/import/confirm", methods=["POST"])
@role_required("manager", "admin")
def confirm_import():
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        upload = _import_signer().loads(request.form.get("payload", ""))
    except BadSignature:
        abort(400)
    clinic = get_clinic(upload["c"]) if upload.get("c") else None
    if clinic is not None and not can_manage_clinic(current_user, clinic.id):
        abort(404)
    try:
        # Checked again: the people or the rules may have changed since the preview.
        plan = plan_staff_import(current_user, read_staff_file(upload["f"], base64.b64decode(upload["d"])), clinic)
        created, updated = apply_staff_import(current_user, plan, home_url=external_url("learn.home"))
    except ServiceError as exc:
        db.session.rollback()
        flash(f"{exc} Upload the file again to see what to fix.", "error")
        return redirect(url_for("manage.import_staff", clinic=clinic.id if clinic else None))
    flash(f"Imported: {created} account(s) created (each person was e-mailed a link to choose a password), "
          f"{updated} updated.", "success")
    return redirect(url_for("manage.register", clinic=clinic.id) if clinic else url_for("admin.index"))


@bp.route("/people/import/template.csv")
@role_required("manager", "admin")
def import_template():
    return file_download(TEMPLATE_CSV.encode("utf-8"), "staff-import-template.csv", "text/csv", personal=False)


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@role_required("manager", "admin")
def edit_person(person_id: int):
    """Change a person's name, email, clinic and roles."""
    person = _person_or_404(person_id)
    if not can_manage_clinic(current_user, person.clinic_id):
        abort(404)
    if not can_change_account(current_user, person):
        return error_response(403, "You cannot change your own account here, or an account with a higher role "
                                   "than yours.")
    form = _account_form(obj=None, name=person.name, email=person.email, clinic=str(person.clinic_id or ""),
                         roles=sorted(person.roles))
    if form.validate_on_submit():
        try:
            update_account(current_user, person, form.email.data, form.name.data, form.roles.data,
                           _chosen_clinic(form))
        except ServiceError as exc:
            form.email.errors.append(str(exc))
        else:
            flash(f"{person.name}'s account is saved.", "success")
            return redirect(url_for("manage.person", person_id=person.id))
    return render_template("manage/account_form.html", form=form, person=person), 400 if form.errors else 200


@bp.route("/people/<int:person_id>")
@role_required("manager", "admin", "trainer")
def person(person_id: int):
    person = _person_or_404(person_id)
    attempts, certificates = attempts_of(person), certificates_of(person)
    progress = person_progress(person)
    accommodations = AccommodationsForm(time_multiplier=f"{person.time_multiplier:.1f}",
                                        extra_attempts=person.extra_attempts)
    return render_template(
        "manage/person.html", person=person, attempts=attempts, progress=progress,
        certificates=[(c, certificate_state(c)) for c in certificates], accommodations=accommodations,
        can_accommodate=can_set_accommodations(current_user, person),
        can_deactivate=can_change_account(current_user, person),
        can_send_reset=can_send_password_reset(current_user, person) and person.is_enabled,
        can_edit=can_change_account(current_user, person),
        activity=account_activity(current_user, person) if can_change_account(current_user, person) else None,
        can_revoke=can_revoke_certificates(current_user), revoke_form=RevokeForm(), action_form=ActionForm(),
        practical={p.course.id: register_practical([p], p.course)[person.id][1]
                   for p in progress if p.course.practical},
        can_reinstate=can_reinstate_certificates(current_user),
        can_set_time_zone=can_manage_clinic(current_user, person.clinic_id))


@bp.route("/time-zone", methods=["POST"])
@role_required("manager", "admin")
def clinic_time_zone():
    clinic = clinic_in_scope(current_user, request.values.get("clinic", ""))
    if clinic is None or not ActionForm().validate_on_submit():
        abort(404 if clinic is None else 400)
    try:
        set_clinic_time_zone(current_user, clinic, request.form.get("time_zone", ""))
        flash(f"Times are now shown in {clinic.time_zone} for {clinic.name}.", "success")
    except ServiceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("manage.register", clinic=clinic.id))


@bp.route("/people/<int:person_id>/time-zone", methods=["POST"])
@role_required("manager", "admin")
def person_time_zone(person_id: int):
    person = _person_or_404(person_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        set_person_time_zone(current_user, person, request.form.get("time_zone", ""))
        flash("Time zone saved.", "success")
    except ServiceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("manage.person", person_id=person.id))


@bp.route("/people/<int:person_id>/accommodations", methods=["POST"])
@role_required("manager", "admin", "trainer")
def accommodations(person_id: int):
    person = _person_or_404(person_id)
    form = AccommodationsForm()
    if form.validate_on_submit():
        try:
            set_accommodations(current_user, person, float(form.time_multiplier.data), form.extra_attempts.data)
            flash("Accommodations saved.", "success")
        except Forbidden as exc:
            return error_response(403, str(exc))
        except ServiceError as exc:
            flash(str(exc), "error")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("manage.person", person_id=person.id))


@bp.route("/people/<int:person_id>/active", methods=["POST"])
@role_required("manager", "admin")
def activation(person_id: int):
    person = _person_or_404(person_id)
    return _act_on_person(person, lambda: set_active(current_user, person, request.form.get("active") == "1"),
                          lambda: f"{person.name} is "
                                  f"{'active again' if person.is_enabled else 'deactivated; their records stay'}.")


@bp.route("/people/<int:person_id>/sessions/end", methods=["POST"])
@role_required("manager", "admin")
def end_sessions_view(person_id: int):
    person = _person_or_404(person_id)
    return _act_on_person(person, lambda: end_person_sessions(current_user, person),
                          lambda: f"{person.name} is signed out everywhere; every session they had open has ended.")


@bp.route("/people/<int:person_id>/password-reset", methods=["POST"])
@role_required("manager", "admin")
def password_reset(person_id: int):
    person = _person_or_404(person_id)
    return _act_on_person(person, lambda: send_password_reset(current_user, person),
                          lambda: f"A link to choose a new password was e-mailed to {person.email}; "
                                  "it works once, for 30 minutes.")


def _act_on_person(person, action, success_message):
    """Run a one-button action from a person's page: refusals are 403/404, other problems a message."""
    if ActionForm().validate_on_submit():
        try:
            action()
            flash(success_message(), "success")
        except NotFound:
            abort(404)
        except Forbidden as exc:
            return error_response(403, str(exc))
        except ServiceError as exc:
            flash(str(exc), "error")
    return redirect(url_for("manage.person", person_id=person.id))


@bp.route("/certificates/<code>/revoke", methods=["POST"])
@role_required("trainer", "admin")
def revoke(code: str):
    cert = find_certificate(code)
    if cert is None:
        abort(404)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash("Give the reason for revoking (at least a few words).", "error")
    elif request.form.get("confirm") != "yes":
        # Revoking tells anyone who checks the code that it is revoked: confirm it first.
        return render_template("manage/revoke_confirm.html", certificate=cert, form=form)
    else:
        try:
            revoke_certificate(current_user, cert, form.reason.data)
            flash("The certificate is revoked; verification now says so.", "success")
        except ServiceError as exc:
            flash(str(exc), "error")
    return redirect(url_for("manage.person", person_id=cert.user_id))


@bp.route("/certificates/<code>/reinstate", methods=["POST"])
@role_required("admin")
def reinstate(code: str):
    cert = find_certificate(code)
    if cert is None:
        abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            reinstate_certificate(current_user, cert, form.reason.data)
            flash("The certificate is reinstated; verification says valid again.", "success")
        except ServiceError as exc:
            flash(str(exc), "error")
    else:
        flash("Give the reason for reinstating (at least a few words).", "error")
    return redirect(url_for("manage.person", person_id=cert.user_id))


def _invitations_page(clinic: Clinic, form: InviteForm, link: str | None, status: int = 200):
    invitations = [(i, invitation_state(i)) for i in clinic_invitations(current_user, clinic.id)]
    return render_template("manage/invite.html", form=form, clinic=clinic, link=link, invitations=invitations,
                           action_form=ActionForm()), status


@bp.route("/invitations", methods=["GET", "POST"])
@role_required("manager", "admin")
def invite():
    clinic = clinic_in_scope(current_user, request.values.get("clinic", ""))
    if clinic is None:
        abort(404)
    form = InviteForm()
    link = None
    if form.validate_on_submit():
        try:
            invitation, token = invite_staff(current_user, clinic.id, form.email.data, form.name.data,
                                             [form.role.data], urls=url_builder(),
                                             smtp_url=current_app.config.get("SMTP_URL"))
        except ServiceError as exc:
            form.email.errors.append(str(exc))
        else:
            link = invitation_link(url_builder(), token)
            flash(f"Invitation sent to {invitation.email}. You can also pass on the link below.", "success")
    return _invitations_page(clinic, form, link, 400 if form.errors else 200)


@bp.route("/invitations/<int:invitation_id>/resend", methods=["POST"])
@role_required("manager", "admin")
def resend_invite(invitation_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        invitation, token = resend_invitation(current_user, invitation_id, urls=url_builder(),
                                              smtp_url=current_app.config.get("SMTP_URL"))
    except NotFound:
        abort(404)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("manage.invite"))
    clinic = invitation.clinic
    link = invitation_link(url_builder(), token)
    flash(f"A new link was sent to {invitation.email}; the earlier one no longer works.", "success")
    return _invitations_page(clinic, InviteForm(formdata=None), link)


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@role_required("manager", "admin")
def revoke_invite(invitation_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        invitation = revoke_invitation(current_user, invitation_id)
    except NotFound:
        abort(404)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("manage.invite"))
    flash(f"The invitation for {invitation.email} is revoked; its link no longer works.", "success")
    return redirect(url_for("manage.invite", clinic=invitation.clinic_id))
