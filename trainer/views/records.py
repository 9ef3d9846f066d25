"""Training records for inspectors and insurers: a person's PDF and a clinic's pack (ZIP + manifest)."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user, login_required

from trainer.extensions import db
from trainer.links import external_url
from trainer.models import User
from trainer.security import clinic_in_scope, role_required
from trainer.services.exports import file_name_part
from trainer.services.jobs import request_job
from trainer.services.training_records import clinic_pack, record_file_name, training_record
from trainer.task_queue import enqueue_job
from trainer.views.downloads import file_download

bp = Blueprint("records", __name__)


def _verify_url(cert) -> str:
    return external_url("public.verify", code=cert.code)


@bp.route("/people/<int:person_id>/training-record.pdf")
@login_required
def training_record_pdf(person_id: int):
    person = db.session.get(User, person_id)
    if person is None:
        abort(404)
    document = training_record(current_user, person, _verify_url)
    return file_download(document, record_file_name(person), "application/pdf")


@bp.route("/manage/clinic-pack.zip")
@role_required("manager", "admin")
def clinic_pack_zip():
    clinic = clinic_in_scope(current_user, request.values.get("clinic", ""))
    if clinic is None:  # one clinic per pack
        abort(404)
    data = clinic_pack(current_user, clinic, _verify_url)
    return file_download(data, _pack_name(clinic), "application/zip")


@bp.post("/manage/clinic-pack.zip")
@role_required("manager", "admin")
def clinic_pack_job():
    """Make the pack in the background (a PDF per person and certificate) and show its progress."""
    clinic = clinic_in_scope(current_user, request.values.get("clinic", ""))
    if clinic is None:
        abort(404)
    job_id = request_job(current_user, "clinic_pack", clinic.id, {"file_name": _pack_name(clinic)})
    enqueue_job(job_id)
    return redirect(url_for("jobs.job_page", job_id=job_id), 303)


def _pack_name(clinic) -> str:
    return f"training-records-{file_name_part(clinic.name)}.zip"
