"""A background job's page: progress while it runs, the file when it is done, the reason when it failed."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template
from flask_login import current_user, login_required

from trainer.services.jobs import KIND_TITLES, job_file_path, job_for_viewer, job_status
from trainer.views.downloads import file_download

bp = Blueprint("jobs", __name__)


def _job_or_404(job_id: int):
    return job_for_viewer(current_user, job_id)


@bp.route("/jobs/<int:job_id>")
@login_required
def job_page(job_id: int):
    job = _job_or_404(job_id)
    return render_template("jobs/job.html", job=job, status=job_status(job),
                           title=KIND_TITLES.get(job.kind, job.kind.replace("_", " ")))


@bp.route("/jobs/<int:job_id>.json")
@login_required
def job_status_json(job_id: int):
    return jsonify(job_status(_job_or_404(job_id)))


@bp.route("/jobs/<int:job_id>/download")
@login_required
def download(job_id: int):
    job = _job_or_404(job_id)
    path = job_file_path(job)
    if path is None:
        abort(404)
    return file_download(path, job.result_name, job.result_mimetype)  # personal records
