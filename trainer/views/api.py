"""The JSON API (version 1): public certificate checks, and a clinic's register for its manager's API token.

Register calls authenticate with `Authorization: Bearer <token>` only; no cookie session is read or set.
"""
from __future__ import annotations

from datetime import UTC, date

from flask import Blueprint, current_app, jsonify, make_response, request, send_from_directory

from trainer import clock
from trainer.security import can_use_manager_api
from trainer.services.api_tokens import user_for_token
from trainer.services.certificates import find_certificate
from trainer.services.exports import record_export
from trainer.services.register import (
    InvalidRegisterFilter,
    all_courses,
    clinic_staff,
    course_progress,
    filter_register,
    parse_register_filters,
    register_record,
)
from trainer.views.errors import error_response
from trainer.views.public import certificate_facts, certificate_lookup_allowed, too_many_lookups

bp = Blueprint("api", __name__, url_prefix="/api/v1")

@bp.route("/certificates/<code>")
def certificate(code: str):
    if not certificate_lookup_allowed():
        return too_many_lookups()
    cert = find_certificate(code)
    if cert is None:
        return jsonify(error="No certificate has this code.", status=404), 404
    return jsonify(certificate_facts(cert))


@bp.route("/openapi.yaml")
def openapi():
    return send_from_directory(current_app.static_folder, "openapi.yaml", mimetype="application/yaml")


def bearer_token() -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def unauthorised(message: str, invalid_token: bool = False):
    """A 401 with the challenge RFC 6750 asks for."""
    response = make_response(error_response(401, message))
    challenge = 'Bearer realm="trainer", error="invalid_token"' if invalid_token else 'Bearer realm="trainer"'
    response.headers["WWW-Authenticate"] = challenge
    return response


def plain_values(record: dict) -> dict:
    """Dates as ISO strings (Flask would write them as HTTP dates)."""
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in record.items()}


@bp.route("/register")
def register():
    token = bearer_token()
    if token is None:
        return unauthorised("Send your API token in the header: Authorization: Bearer <token>.")
    user = user_for_token(token)
    if user is None:
        return unauthorised("This API token is not valid: it is mistyped, revoked, or its account is deactivated.",
                            invalid_token=True)
    if not can_use_manager_api(user):
        return error_response(403, "This token's account is not a clinic manager, so it cannot read a register.")

    try:
        filters = parse_register_filters(request.args)
    except InvalidRegisterFilter as exc:
        return error_response(400, str(exc))
    courses = all_courses()
    slug = request.args.get("course")
    course = next((c for c in courses if c.slug == slug), None) if slug else (courses[0] if courses else None)
    if course is None:
        return error_response(404, "No course has this slug." if slug else "There are no courses yet.")

    # The clinic is always the token owner's: no parameter can widen or change it.
    clinic = user.clinic
    rows = filter_register(course_progress(clinic_staff(clinic.id), course), **filters)
    response = jsonify(
        clinic={"id": clinic.id, "name": clinic.name},
        course={"slug": course.slug, "title": course.title,
                "modules": [{"slug": m.slug, "title": m.title} for m in course.modules]},
        generated=clock.now().replace(tzinfo=UTC).isoformat(timespec="seconds"),
        rows=[plain_values(register_record(row)) for row in rows],
    )
    record_export(user, "register_api", clinic.id, len(rows))
    response.headers["Cache-Control"] = "no-store"  # personal data: no proxy or browser should keep a copy
    return response
