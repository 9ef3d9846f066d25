"""Pages anyone may open: certificate verification and the health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, request, url_for
from sqlalchemy import text

from trainer.extensions import db
from trainer.services.certificates import canonical_code, certificate_state, find_certificate
from trainer.services.practical import signoff_facts
from trainer.services.rate_limit import hit
from trainer.views.errors import error_response

bp = Blueprint("public", __name__)

LOOKUP_WINDOW_SECONDS = 60


def certificate_facts(cert) -> dict:
    """What verification tells anyone about a certificate (no email, no scores of modules)."""
    return {
        "code": cert.code, "holder": cert.user.name, "course": cert.course.title, "course_slug": cert.course.slug,
        "issued": cert.issued_dt.date().isoformat(), "expires": cert.expires_dt.date().isoformat(),
        "status": certificate_state(cert),
        "revoked": cert.revoked_dt.date().isoformat() if cert.revoked_dt else None,
        # The assessor's sign-off for courses with a practical part; None otherwise.
        "practical": signoff_facts(cert),
    }


def certificate_lookup_allowed() -> bool:
    """Count a certificate lookup from the client's IP; False once it is over the per-minute limit."""
    # Limiting per IP makes guessing codes slow; behind a proxy the deployer's ProxyFix sets remote_addr.
    limit = current_app.config.get("VERIFY_LOOKUPS_PER_MINUTE", 60)
    address = (request.remote_addr or "unknown")[:64]  # an IP address is at most 45 characters
    return hit(f"verify:{address}", limit, LOOKUP_WINDOW_SECONDS)


def too_many_lookups():
    """The 429 answer (an HTML page, or JSON under /api/) with a Retry-After header."""
    response = make_response(error_response(
        429, "Too many certificate checks from your network in the last minute. Wait a minute and try again."))
    response.headers["Retry-After"] = str(LOOKUP_WINDOW_SECONDS)
    return response


@bp.route("/verify")
def verify_form():
    """A form for a code typed from a paper certificate; blanks and spaces between groups are dropped."""
    if "code" not in request.args:
        return render_template("public/verify_form.html", code="", error=None)
    code = "".join(request.args["code"].split())[:64]
    if not code:
        return render_template("public/verify_form.html", code="",
                               error="Enter the code printed on the certificate."), 400
    return redirect(url_for("public.verify", code=canonical_code(code) or code))


@bp.route("/verify/<code>")
def verify(code: str):
    if not certificate_lookup_allowed():
        return too_many_lookups()
    cert = find_certificate(code)
    if cert is None:
        return render_template("public/verify_unknown.html", code=code), 404
    return render_template("public/verify.html", facts=certificate_facts(cert))


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception:
        db.session.rollback()
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")
