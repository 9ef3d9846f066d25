"""Pages anyone may open: certificate verification and the health check."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from trainer.extensions import db
from trainer.services.certificates import certificate_state, find_certificate

bp = Blueprint("public", __name__)


def certificate_facts(cert) -> dict:
    """What verification tells anyone about a certificate (no email, no scores of modules)."""
    return {
        "code": cert.code, "holder": cert.user.name, "course": cert.course.title, "course_slug": cert.course.slug,
        "issued": cert.issued_dt.date().isoformat(), "expires": cert.expires_dt.date().isoformat(),
        "status": certificate_state(cert),
        "revoked": cert.revoked_dt.date().isoformat() if cert.revoked_dt else None,
    }


@bp.route("/verify/<code>")
def verify(code: str):
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
