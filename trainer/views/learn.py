"""The learner's pages: courses, reading a module, taking a quiz, the result and certificates."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from trainer import clock
from trainer.database import writes_late
from trainer.links import external_url
from trainer.models import Attempt, Course, Module
from trainer.quiz.review import keys_revealed, missed_topics, question_review
from trainer.quiz.types import question_type
from trainer.rendering import render_markdown
from trainer.security import can_view_attempt, can_view_person, role_required
from trainer.services import NotFound, ServiceError
from trainer.services import attempts as attempt_service
from trainer.services.catalog import find_active_module, find_course_media
from trainer.services.certificates import certificate_state, current_certificate, find_certificate
from trainer.services.practical import signoff_facts, signoff_sentence
from trainer.services.register import open_attempts_of, person_progress
from trainer.views.forms import ActionForm

bp = Blueprint("learn", __name__)


def _grace() -> int:
    return current_app.config["ANSWER_GRACE_SECONDS"]


def _module_or_404(course_slug: str, module_slug: str) -> Module:
    module = find_active_module(course_slug, module_slug)
    if module is None:
        abort(404)
    return module


def media_url(course: Course) -> str:
    return url_for("learn.course_media", course_slug=course.slug, name="")


@bp.route("/learn")
@role_required("learner")
def home():
    progress = person_progress(current_user)
    return render_template("learn/home.html", progress=progress, in_progress=open_attempts_of(current_user))


@bp.route("/learn/<course_slug>/<module_slug>")
@role_required("learner")
def module(course_slug: str, module_slug: str):
    module = _module_or_404(course_slug, module_slug)
    attempts = attempt_service.module_attempts(current_user, module)
    return render_template(
        "learn/module.html", module=module, course=module.course,
        content=render_markdown(module.content_md, media_url(module.course)),
        # Module files usually open with their own "# Title"; do not print it twice.
        content_has_title=module.content_md.lstrip().startswith("# "),
        open_attempt=attempts.open_attempt, past_attempts=attempts.submitted, rule=attempts.rule,
        form=ActionForm(),
    )


@bp.route("/learn/<course_slug>/<module_slug>/attempts", methods=["POST"])
@writes_late
@role_required("learner")
def start(course_slug: str, module_slug: str):
    module = _module_or_404(course_slug, module_slug)
    try:
        attempt = attempt_service.start_attempt(current_user, module, grace_seconds=_grace())
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("learn.module", course_slug=course_slug, module_slug=module_slug))
    return redirect(url_for("learn.attempt", attempt_id=attempt.id))


def _question_views(attempt: Attempt) -> list[dict]:
    media = media_url(attempt.module.course)
    views = []
    for aq in attempt_service.attempt_paper(attempt):
        content = aq.content
        qtype = question_type(content["type"])
        views.append({
            "position": aq.position, "type": qtype.name, "label": qtype.label,
            "stem": render_markdown(content["stem"], media), "view": qtype.view(content, aq.display_order),
            "values": qtype.form_values(content, aq.display_order, aq.response), "seq": aq.response_seq,
            "answered": aq.response is not None,
        })
    return views


def _load_own_attempt(attempt_id: int) -> Attempt:
    return attempt_service.get_attempt_for_owner(current_user, attempt_id, _grace())


@bp.route("/attempts/<int:attempt_id>", methods=["GET"])
@login_required
def attempt(attempt_id: int):
    attempt = _load_own_attempt(attempt_id)
    if not attempt.is_open:
        return redirect(url_for("learn.result", attempt_id=attempt.id))
    ms_left = None
    if attempt.deadline_dt is not None:
        ms_left = max(0, int((attempt.deadline_dt - clock.now()).total_seconds() * 1000))
    # Set by the sign-in redirect when the quiz form was posted after the session had ended.
    interrupted = request.args.get("interrupted") if request.args.get("interrupted") in ("save", "submit") else None
    return render_template("learn/attempt.html", attempt=attempt, module=attempt.module,
                           questions=_question_views(attempt), ms_left=ms_left, form=ActionForm(),
                           interrupted=interrupted)


@bp.route("/attempts/<int:attempt_id>", methods=["POST"])
@login_required
def save_and_continue(attempt_id: int):
    """The no-JavaScript path: the whole quiz form, saved, then submitted if asked."""
    seqs = {}
    for key, value in request.form.items():
        if key.startswith("seq-") and key[4:].isdigit() and value.isdigit():
            seqs[int(key[4:])] = int(value)
    time_up = request.form.get("time_up") == "1"
    try:
        # At the time limit nothing may stop the submit: a half-given answer is left out.
        results = attempt_service.save_answers(current_user, attempt_id, seqs, request.form, _grace(),
                                               skip_invalid=time_up)
        if request.form.get("action") == "submit":
            attempt_service.submit_attempt(current_user, attempt_id, _grace(), time_up=time_up)
            return redirect(url_for("learn.result", attempt_id=attempt_id))
    except NotFound:
        abort(404)
    except attempt_service.AttemptClosed as exc:
        flash(str(exc), "error")
        return redirect(url_for("learn.result", attempt_id=attempt_id))
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("learn.attempt", attempt_id=attempt_id))
    stale = [pos for pos, r in results.items() if not r.saved]
    if stale:
        flash("Newer answers saved from another window were kept for question(s) "
              + ", ".join(map(str, sorted(stale))) + ".", "warning")
    else:
        flash("Your answers are saved.", "success")
    return redirect(url_for("learn.attempt", attempt_id=attempt_id))


@bp.route("/attempts/<int:attempt_id>/answers/<int:position>", methods=["POST"])
@writes_late
@login_required
def save_answer(attempt_id: int, position: int):
    """Autosave of one answer (JSON). 409 when the attempt no longer takes answers."""
    seq = request.form.get("seq", "")
    try:
        result = attempt_service.save_answer(current_user, attempt_id, position, request.form,
                                             int(seq) if seq.isdigit() else None, _grace())
    except NotFound as exc:
        return jsonify(error=str(exc)), 404
    except attempt_service.AttemptClosed as exc:
        return jsonify(error=str(exc), closed=True, result_url=url_for("learn.result", attempt_id=attempt_id)), 409
    except ServiceError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(saved=result.saved, seq=result.seq, message=result.message)


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@writes_late  # the service takes the write lock just before it reads the attempt to grade
@login_required
def submit(attempt_id: int):
    attempt_service.submit_attempt(current_user, attempt_id, _grace())
    return redirect(url_for("learn.result", attempt_id=attempt_id))


@bp.route("/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int):
    attempt = attempt_service.find_attempt(attempt_id)
    if attempt is None or not can_view_attempt(current_user, attempt):
        abort(404)
    if attempt.user_id == current_user.id and attempt.is_open:
        attempt = _load_own_attempt(attempt_id)  # closed first if its deadline has passed
    if attempt.is_open:
        return redirect(url_for("learn.attempt", attempt_id=attempt.id))
    course = attempt.module.course
    media = media_url(course)
    reveal_keys = keys_revealed(bool(attempt.passed), attempt.module.show_answers)

    def render(md: str):
        return render_markdown(md, media)

    reviews = []
    for item in attempt_service.graded_paper(attempt):
        # Review what was shown; after a regrade, the key and explanation of the version it was graded against.
        reviews.append({
            "position": item.position, "regraded_version": item.regraded_version,
            **question_review(item.graded, item.shown["stem"], item.display_order, item.response, item.fraction,
                              reveal_keys=reveal_keys, render=render, sources=course.sources),
        })
    # What next (try again, or when it opens) is for the person who took the attempt, not a manager reading it.
    rule = attempt_service.start_rule(current_user, attempt.module) if attempt.user_id == current_user.id else None
    certificate = None
    if attempt.passed:
        certificate = current_certificate(attempt.user_id, course.id)
    return render_template("learn/result.html", attempt=attempt, module=attempt.module, course=course,
                           reviews=reviews, show_answers=reveal_keys, missed_topics=missed_topics(reviews),
                           certificate=certificate, rule=rule, form=ActionForm())


@bp.route("/certificates/<code>")
@login_required
def certificate(code: str):
    cert = find_certificate(code)
    if cert is None or not can_view_person(current_user, cert.user):
        abort(404)
    return render_template("learn/certificate.html", certificate=cert, state=certificate_state(cert),
                           verify_url=external_url("public.verify", code=cert.code),
                           practical=signoff_sentence(signoff_facts(cert)))


@bp.route("/courses/<course_slug>/media/<name>")
@login_required
def course_media(course_slug: str, name: str):
    media = find_course_media(course_slug, name)
    if media is None:
        abort(404)
    response = current_app.response_class(media.data, mimetype=media.content_type)
    # SVGs are images here, never documents: no script may run even if opened directly.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
