"""Background jobs from the register: a button, a progress page, the file when ready; who may see it.

The app under test runs jobs at once in the request (Huey's immediate mode, as TESTING sets);
tests/jobs/test_worker.py runs them in a real worker process.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.jobs.conftest import signed_in
from trainer import clock
from trainer.extensions import db
from trainer.models import AuditEvent, Job
from trainer.models.jobs import DONE, FAILED, QUEUED, RUNNING
from trainer.services import ServiceError
from trainer.services.jobs import (
    JOB_KINDS,
    UNEXPECTED_FAILURE,
    clean_job_files,
    lost_jobs,
    request_job,
    run_job,
)


def _job_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return int(re.search(r"/jobs/(\d+)$", response.headers["Location"]).group(1))


def test_the_register_offers_both_zips_as_buttons_that_post(app, clinic_world):
    html = signed_in(app, clinic_world["people"]["manager"]).get("/manage/").get_data(as_text=True)
    clinic_id = clinic_world["home"].id
    for action in (f"/manage/certificates.zip?clinic={clinic_id}", f"/manage/clinic-pack.zip?clinic={clinic_id}"):
        assert re.search(rf'<form method="post" class="inline" action="{re.escape(action)}">\s*'
                         r'<input type="hidden" name="csrf_token"', html), action


def test_a_certificates_zip_job_shows_progress_then_offers_the_file(app, clinic_world):
    client = signed_in(app, clinic_world["people"]["manager"])
    job_id = _job_id(client.post("/manage/certificates.zip"))
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert re.search(r'<progress id="job-progress" class="job-progress" max="3"\s+value="3">', page)
    assert "Ready." in page and f'href="/jobs/{job_id}/download"' in page
    assert 'src="/static/js/job.js"' in page and "<script>" not in page  # strict CSP: no inline script
    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status == {"id": job_id, "status": "done", "done": 3, "total": 3, "error": None, "summary": None,
                      "downloadable": True}
    download = client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert "no-store" in download.headers["Cache-Control"]
    assert re.fullmatch(r'attachment; filename="certificates-home-clinic-\d{4}-\d\d-\d\d\.zip"',
                        download.headers["Content-Disposition"])
    names = zipfile.ZipFile(io.BytesIO(download.get_data())).namelist()
    assert sorted(n.split("-tiny-course-")[0] for n in names) == ["learner-000", "learner-001", "learner-002"]
    # The same archive as the direct download, which stays for small clinics and scripts.
    direct = zipfile.ZipFile(io.BytesIO(client.get("/manage/certificates.zip").get_data()))
    assert sorted(names) == sorted(direct.namelist())
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "jobs.request" in actions and "exports.certificates_zip" in actions


def test_the_files_live_in_the_jobs_folder_not_under_static(app, clinic_world):
    client = signed_in(app, clinic_world["people"]["manager"])
    job = db.session.get(Job, _job_id(client.post("/manage/certificates.zip")))
    stored = Path(app.config["JOBS_DIR"]) / job.result_path
    assert stored.is_file() and not str(stored.resolve()).startswith(str(Path(app.static_folder).resolve()))
    assert not list(stored.parent.glob("*.part"))


def test_a_clinic_pack_job_makes_the_pack_with_its_manifest(app, clinic_world):
    client = signed_in(app, clinic_world["people"]["admin"])
    job_id = _job_id(client.post(f"/manage/clinic-pack.zip?clinic={clinic_world['home'].id}"))
    job = db.session.get(Job, job_id)
    assert (job.status, job.clinic_id, job.progress_done) == (DONE, clinic_world["home"].id, job.progress_total)
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/jobs/{job_id}/download").get_data()))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["clinic"] == "Home Clinic"
    assert {f["file"] for f in manifest["files"]} == set(archive.namelist()) - {"manifest.json"}


def test_a_manager_cannot_start_a_job_for_another_clinic(app, clinic_world):
    client = signed_in(app, clinic_world["people"]["foreign_manager"])
    job_id = _job_id(client.post(f"/manage/certificates.zip?clinic={clinic_world['home'].id}"))
    assert db.session.get(Job, job_id).clinic_id == clinic_world["away"].id  # ?clinic is ignored for managers
    admin = signed_in(app, clinic_world["people"]["admin"])
    assert admin.post("/manage/certificates.zip?clinic=all").status_code == 404


@pytest.mark.parametrize("viewer, status", [("manager", 200), ("deputy", 200), ("admin", 200),
                                            ("foreign_manager", 404), ("learner", 404), ("trainer", 404)])
def test_the_requester_and_managers_of_its_clinic_see_a_job_and_its_file(app, clinic_world, viewer, status):
    job_id = _job_id(signed_in(app, clinic_world["people"]["manager"]).post("/manage/certificates.zip"))
    client = signed_in(app, clinic_world["people"][viewer])
    for url in (f"/jobs/{job_id}", f"/jobs/{job_id}.json", f"/jobs/{job_id}/download"):
        assert client.get(url).status_code == status, url


def test_signed_out_visitors_are_sent_to_sign_in(app, clinic_world):
    job_id = _job_id(signed_in(app, clinic_world["people"]["manager"]).post("/manage/certificates.zip"))
    response = signed_in(app, None).get(f"/jobs/{job_id}/download")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_starting_a_job_needs_the_csrf_token(app, clinic_world):
    client = signed_in(app, clinic_world["people"]["manager"])
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/manage/certificates.zip").status_code == 400
    assert client.post("/manage/clinic-pack.zip").status_code == 400
    assert db.session.scalar(select(Job.id)) is None


def test_a_failed_job_says_why_in_one_sentence(app, clinic_world, monkeypatch):
    def refuse(job, progress):
        raise ServiceError("The clinic has no certificates to pack yet.")

    monkeypatch.setitem(JOB_KINDS, "certificates_zip", refuse)
    client = signed_in(app, clinic_world["people"]["manager"])
    job_id = _job_id(client.post("/manage/certificates.zip"))
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Failed." in page and "The clinic has no certificates to pack yet." in page
    assert client.get(f"/jobs/{job_id}/download").status_code == 404
    assert client.get(f"/jobs/{job_id}.json").get_json()["status"] == FAILED


def test_an_unexpected_error_fails_the_job_with_a_message_not_a_traceback(app, clinic_world, monkeypatch):
    def crash(job, progress):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(JOB_KINDS, "certificates_zip", crash)
    client = signed_in(app, clinic_world["people"]["manager"])
    job_id = _job_id(client.post("/manage/certificates.zip"))
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert UNEXPECTED_FAILURE in page and "ZeroDivisionError" not in page


def _queued_job(clinic_world) -> int:
    """A job recorded but not handed to the queue: the tests below play the worker."""
    return request_job(clinic_world["people"]["manager"], "certificates_zip", clinic_world["home"].id)


def _as_a_worker(job_id: int) -> Job:
    """Run the job as a worker would (no transaction of the test's open), then read its row."""
    db.session.commit()
    run_job(job_id)
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_a_job_runs_once_however_often_its_message_arrives(app, clinic_world):
    job_id = _queued_job(clinic_world)
    _as_a_worker(job_id)
    job = _as_a_worker(job_id)  # a duplicate message
    assert (job.status, job.runs) == (DONE, 1)


def test_a_running_job_with_a_live_worker_is_left_alone(app, clinic_world):
    job_id = _queued_job(clinic_world)
    job = db.session.get(Job, job_id)
    job.status, job.heartbeat_dt = RUNNING, clock.now()
    job = _as_a_worker(job_id)
    assert (job.status, job.runs) == (RUNNING, 0)
    assert lost_jobs() == []


def test_a_job_whose_worker_died_is_taken_up_again_and_completes(app, clinic_world):
    job_id = _queued_job(clinic_world)
    job = db.session.get(Job, job_id)
    stale = clock.now() - timedelta(seconds=app.config["JOBS_STALE_SECONDS"] + 1)
    job.status, job.runs, job.heartbeat_dt, job.progress_done = RUNNING, 1, stale, 2
    db.session.commit()
    assert lost_jobs() == [job_id]
    job = _as_a_worker(job_id)
    assert (job.status, job.runs, job.progress_done, job.progress_total) == (DONE, 2, 3, 3)


def test_queued_jobs_count_as_lost_until_a_worker_takes_them(app, clinic_world):
    job_id = _queued_job(clinic_world)
    assert db.session.get(Job, job_id).status == QUEUED and lost_jobs() == [job_id]


def _finished_days_ago(job: Job, days: int) -> None:
    job.finished_dt = clock.now() - timedelta(days=days)
    db.session.commit()


def test_old_files_are_cleaned_up_and_the_page_says_so(app, clinic_world):
    client = signed_in(app, clinic_world["people"]["manager"])
    job_id = _job_id(client.post("/manage/certificates.zip"))
    job = db.session.get(Job, job_id)
    stored = Path(app.config["JOBS_DIR"]) / job.result_path
    assert clean_job_files(days=1) == 0 and stored.is_file()
    _finished_days_ago(job, 2)
    assert clean_job_files(days=1) == 1
    assert not stored.exists()
    assert client.get(f"/jobs/{job_id}/download").status_code == 404
    assert "The file was removed after" in client.get(f"/jobs/{job_id}").get_data(as_text=True)


def test_the_clean_command_reports_what_it_removed(app, clinic_world):
    client = signed_in(app, clinic_world["people"]["manager"])
    _finished_days_ago(db.session.get(Job, _job_id(client.post("/manage/certificates.zip"))), 30)
    result = app.test_cli_runner().invoke(args=["jobs", "clean"])
    assert result.exit_code == 0 and result.output.strip() == "Removed 1 job file."


def test_a_kind_this_worker_does_not_know_fails_with_a_sentence(app, clinic_world):
    job_id = _queued_job(clinic_world)
    db.session.get(Job, job_id).kind = "from_a_newer_release"
    job = _as_a_worker(job_id)
    assert (job.status, job.error) == (FAILED, "This worker does not know jobs of kind 'from_a_newer_release'; "
                                               "update it.")
