"""The JSON API (version 1)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from trainer.services.certificates import find_certificate
from trainer.views.public import certificate_facts

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.route("/certificates/<code>")
def certificate(code: str):
    cert = find_certificate(code)
    if cert is None:
        return jsonify(error="No certificate has this code.", status=404), 404
    return jsonify(certificate_facts(cert))
