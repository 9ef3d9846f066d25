"""Error pages: a clear message for people, JSON for programs, never a traceback."""
from __future__ import annotations

from flask import abort, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from trainer.extensions import db
from trainer.services import Forbidden, NotFound, ServiceError

MESSAGES = {
    400: "The request could not be understood.",
    403: "Your account does not have access to this page.",
    404: "There is nothing here. The link may be wrong, or the item is not visible to your account.",
    405: "That action is not available here.",
    413: "The upload is too large.",
    414: "The address is too long. A search takes up to 100 characters: shorten it and try again.",
    429: "Too many requests. Wait a moment and try again.",
    500: "Something went wrong on our side. Nothing you saved was lost; please try again.",
}


def service_error_status(exc: ServiceError) -> int:
    """The HTTP status of a service's refusal: the one mapping every blueprint uses."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Forbidden):
        return 403
    return 400


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json" \
        or request.headers.get("X-Requested-With") == "fetch"


def error_response(status: int, message: str | None = None):
    message = message or MESSAGES.get(status, "Something went wrong.")
    if wants_json():
        return jsonify(error=message, status=status), status
    return render_template("errors/error.html", status=status, message=message), status


# Below gunicorn's 4094-byte request line, so an over-long search gets this site's page, not a bare one.
MAX_URL_LENGTH = 2048


def register_error_handlers(app) -> None:
    @app.before_request
    def refuse_over_long_addresses():
        if len(request.full_path) > MAX_URL_LENGTH:
            abort(414)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        from trainer.views.auth import ATTEMPT_POSTS, signed_out_response

        # A quiz post whose session is gone is a sign-out, not a forgery: send the learner to sign in.
        if request.endpoint in ATTEMPT_POSTS and not current_user.is_authenticated:
            return signed_out_response()
        message = ("The form expired or was sent from elsewhere. Reload the page and try again; "
                   "answers already saved are kept.")
        if wants_json():
            # `reason` lets the quiz page fetch a fresh token and send the answer again.
            return jsonify(error=message, status=400, reason="csrf"), 400
        return error_response(400, message)

    @app.errorhandler(ServiceError)
    def service_refusal(exc: ServiceError):
        db.session.rollback()  # a refused action leaves nothing half-done behind
        status = service_error_status(exc)
        # A 404 says no more than any other: its message could tell that the object exists elsewhere.
        return error_response(status, None if status == 404 else str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        body, status = error_response(exc.code or 500, exc.description if exc.code not in MESSAGES else None)
        response = app.make_response((body, status))
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # RFC 9110: a 405 says what is allowed
        return response

    @app.errorhandler(Exception)
    def unexpected_error(exc):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)
