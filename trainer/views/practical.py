"""Practical competence pages: the learner's logbook, the assessor's queue, review and DOPS
sign-off, and the admin's register of assessors."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from trainer import clock
from trainer.certification.practical import progress_summary
from trainer.extensions import db
from trainer.models import Clinic, Course, DopsObservation, User
from trainer.models.practical import CASE_SUBMITTED, RATINGS, AssessorRegistration
from trainer.security import can_assess, can_log_cases, can_manage_assessors, role_required
from trainer.services import Forbidden, ServiceError, case_photos
from trainer.services import practical as practical_service
from trainer.views.forms import ActionForm, CaseForm, PhotoForm, RegistrationForm, ReviewForm

bp = Blueprint("practical", __name__)

RATING_LABELS = {"not_yet_competent": "Not yet competent", "competent_with_supervision": "Competent with supervision",
                 "competent": "Competent"}


def _course_or_404(course_slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == course_slug))
    if course is None or not course.practical:
        abort(404)
    return course


def _person_or_404(person_id: int) -> User:
    person = db.session.get(User, person_id)
    if person is None:
        abort(404)
    return person


@bp.app_context_processor
def _rating_labels():
    return {"rating_labels": RATING_LABELS}


@bp.route("/practical/<course_slug>/people/<int:person_id>")
@login_required
def logbook(course_slug: str, person_id: int):
    course, person = _course_or_404(course_slug), _person_or_404(person_id)
    cases = practical_service.cases_of(current_user, person, course)
    observations = db.session.scalars(
        select(DopsObservation).where(DopsObservation.user_id == person.id, DopsObservation.course_id == course.id)
        .order_by(DopsObservation.signed_dt.desc())).all()
    progress = practical_service.practical_progress(person.id, course)
    registration = practical_service.registration_of(current_user)
    return render_template(
        "practical/logbook.html", course=course, person=person, cases=cases, observations=observations,
        progress=progress, summary=progress_summary(course.practical, progress),
        may_log=person.id == current_user.id and can_log_cases(current_user),
        may_assess=can_assess(current_user, person, registration, clock.now().date()))


@bp.route("/practical/<course_slug>/cases/new", methods=["GET", "POST"])
@role_required("learner")
def new_case(course_slug: str):
    course = _course_or_404(course_slug)
    form = CaseForm()
    assert course.practical is not None  # _course_or_404 finds practical courses only
    form.indication.choices = [SelectChoice("", "Choose")] + [
        SelectChoice(i, i.replace("-", " ")) for i in course.practical["logbook"]["indications"]]
    if form.validate_on_submit():
        try:
            case = practical_service.log_case(current_user, course, request.form)
        except practical_service.CaseInvalid as exc:
            for name, message in exc.problems.items():
                form[name].errors = [message]
            flash("Some fields need correcting; see below.", "error")
        else:
            flash("Case logged. It waits for an assessor to verify it.", "success")
            return redirect(url_for("practical.case", case_id=case.id))
    return render_template("practical/new_case.html", course=course, form=form), 422 if form.errors else 200


@bp.route("/practical/cases/<int:case_id>")
@login_required
def case(case_id: int):
    case = practical_service.get_case(current_user, case_id)
    registration = practical_service.registration_of(current_user)
    may_review = case.status == CASE_SUBMITTED and can_assess(current_user, case.user, registration, clock.now().date())
    return render_template("practical/case.html", case=case, review_form=ReviewForm(), may_review=may_review,
                           photo_form=PhotoForm(), may_add_photo=case.user_id == current_user.id)


@bp.route("/practical/cases/<int:case_id>/review", methods=["POST"])
@role_required("assessor")
def review(case_id: int):
    case = practical_service.get_case(current_user, case_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        practical_service.review_case(current_user, case, form.decision.data == "verify", form.comment.data)
    except Forbidden as exc:
        abort(403, str(exc))
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("practical.case", case_id=case.id))
    flash("Case verified." if form.decision.data == "verify" else "Case returned to the learner.", "success")
    return redirect(url_for("practical.queue"))


@bp.route("/practical/queue")
@role_required("assessor")
def queue():
    registration = practical_service.registration_of(current_user)
    courses = db.session.scalars(select(Course).where(Course.practical.isnot(None)).order_by(Course.title)).all()
    return render_template("practical/queue.html", cases=practical_service.assessor_queue(current_user),
                           people=practical_service.people_to_assess(current_user), courses=courses,
                           registration=registration, today=clock.now().date())


@bp.route("/practical/<course_slug>/people/<int:person_id>/dops", methods=["GET", "POST"])
@role_required("assessor")
def dops(course_slug: str, person_id: int):
    course, person = _course_or_404(course_slug), _person_or_404(person_id)
    registration = practical_service.registration_of(current_user)
    if not can_assess(current_user, person, registration, clock.now().date()):
        # Someone outside the assessor's clinics does not exist for them; their own record is refused.
        abort(403 if person.id == current_user.id or registration is None else 404)
    form = ActionForm()
    cases = [c for c in practical_service.cases_of(current_user, person, course) if c.status == "verified"]
    chosen: dict[str, Any] = {}
    if request.method == "POST" and form.validate_on_submit():
        competency_id = request.form.get("competency", "")
        comp = practical_service.competency(course, competency_id)
        steps = comp["checklist"] if comp else []
        ratings = {s["id"]: request.form.get(f"rating-{s['id']}", "") for s in steps}
        case_id = request.form.get("case", "")
        case = next((c for c in cases if str(c.id) == case_id), None)
        chosen = {"ratings": ratings, "overall": request.form.get("overall", ""),
                  "feedback": request.form.get("feedback", ""),
                  "case": case_id, "final": bool(request.form.get("final"))}
        try:
            practical_service.sign_dops(current_user, person, course, competency_id, ratings, chosen["overall"],
                                        chosen["feedback"], case=case, final=chosen["final"])
        except Forbidden as exc:
            abort(403, str(exc))
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash("DOPS signed and locked.", "success")
            return redirect(url_for("practical.logbook", course_slug=course.slug, person_id=person.id))
    elif request.method == "POST":
        abort(400)
    status = 422 if request.method == "POST" else 200
    return render_template("practical/dops.html", course=course, person=person, form=form, cases=cases,
                           registration=registration, ratings=RATINGS, chosen=chosen), status


@bp.route("/admin/assessors", methods=["GET", "POST"])
@role_required("admin")
def assessors():
    form = RegistrationForm()
    people = db.session.scalars(select(User).where(User.is_enabled.is_(True)).order_by(User.name)).all()
    clinics = db.session.scalars(select(Clinic).order_by(Clinic.name)).all()
    form.assessor.choices = [SelectChoice(p.id, f"{p.name} ({p.email})") for p in people]
    form.clinics.choices = [SelectChoice(c.id, c.name) for c in clinics]
    status = 200
    if form.validate_on_submit():
        try:
            practical_service.record_registration(
                current_user, db.session.get(User, form.assessor.data), form.body.data, form.number.data,
                form.expires_on.data or "", [c for c in clinics if c.id in (form.clinics.data or [])])
        except ServiceError as exc:
            flash(str(exc), "error")
            status = 422
        else:
            flash("Registration recorded. Verify it once you have checked it with the registering body.", "success")
            return redirect(url_for("practical.assessors"))
    elif request.method == "POST":
        flash("Choose a person and at least one clinic.", "error")
        status = 422
    registrations = db.session.scalars(select(AssessorRegistration).order_by(AssessorRegistration.id)).all()
    return render_template("practical/assessors.html", form=form, registrations=registrations, action_form=ActionForm(),
                           today=clock.now().date()), status


@bp.route("/admin/assessors/<int:registration_id>/verify", methods=["POST"])
@role_required("admin")
def verify_registration(registration_id: int):
    registration = db.session.get(AssessorRegistration, registration_id)
    if registration is None or not can_manage_assessors(current_user):
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        practical_service.verify_registration(current_user, registration)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash("Registration verified.", "success")
    return redirect(url_for("practical.assessors"))


def _photo_store() -> Path:
    """Outside static/: under the instance folder unless CASE_PHOTO_DIR says otherwise."""
    return Path(current_app.config.get("CASE_PHOTO_DIR") or Path(current_app.instance_path) / "case_photos")


@bp.route("/practical/cases/<int:case_id>/photos", methods=["POST"])
@role_required("learner")
def add_photo(case_id: int):
    case = practical_service.get_case(current_user, case_id)
    if case.user_id != current_user.id:
        abort(404)
    form = PhotoForm()
    if not form.validate_on_submit():
        abort(400)
    upload = request.files.get("photo")
    try:
        case_photos.add_photo(current_user, case, upload.read(case_photos.MAX_PHOTO_BYTES + 1) if upload else b"",
                              bool(form.consent.data), _photo_store())
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash("Photo added (location and camera details removed).", "success")
    return redirect(url_for("practical.case", case_id=case.id))


@bp.route("/practical/photos/<int:photo_id>")
@login_required
def photo(photo_id: int):
    photo, path = case_photos.photo_file(current_user, photo_id, _photo_store(),
                                         practical_service.registration_of(current_user))
    response = send_file(path, mimetype=photo.content_type, max_age=0, conditional=False)
    # Clinical images must not linger in browser or proxy caches.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
