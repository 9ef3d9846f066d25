"""Jobs in a real worker process (`flask jobs worker`), including one killed with SIGKILL mid-job.

The web side is the test's app with its queue switched from immediate mode to the real Huey
storage (a SQLite file); the worker is a separate process on the same database and queue.
"""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import ROOT
from tests.jobs.conftest import certified_staff, signed_in
from trainer.extensions import db
from trainer.models import Job
from trainer.models.jobs import DONE, RUNNING

#: Seconds of silence after which a running job counts as lost; short, so the test need not wait long.
STALE_SECONDS = 2


@pytest.fixture
def start_worker(queued_app, database_url, tmp_path):
    """Start `flask jobs worker` processes on the test's database and queue; all are stopped at the end."""
    workers: list[subprocess.Popen] = []
    env = {**os.environ, "DATABASE_URL": database_url, "JOBS_DIR": queued_app.config["JOBS_DIR"],
           "JOBS_QUEUE_FILE": queued_app.config["JOBS_QUEUE_FILE"], "JOBS_STALE_SECONDS": str(STALE_SECONDS),
           "AUDIT_HEAD_FILE": queued_app.config["AUDIT_HEAD_FILE"], "TRAINER_ENV": "development"}
    env.pop("REDIS_URL", None)

    def start() -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(workers)}.log", "wb")  # noqa: SIM115  (closed with the process)
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "jobs", "worker", "--threads", "1"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        workers.append(process)
        return process

    yield start
    for process in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def job_row(job_id: int):
    db.session.rollback()  # a fresh read; and no transaction left open to block the worker on SQLite
    row = db.session.execute(select(Job.status, Job.progress_done, Job.progress_total, Job.runs, Job.error)
                             .where(Job.id == job_id)).one()
    db.session.rollback()
    return row


def wait_for(job_id: int, condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        row = job_row(job_id)
        if condition(row):
            return row
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never {what}: {job_row(job_id)}")


def start_job(app, manager) -> int:
    response = signed_in(app, manager).post("/manage/certificates.zip")
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_a_worker_process_runs_a_job_and_the_page_offers_its_file(queued_app, clinic_world, start_worker):
    manager = clinic_world["people"]["manager"]
    job_id = start_job(queued_app, manager)
    assert job_row(job_id).status == "queued"  # nothing ran in the request
    start_worker()
    row = wait_for(job_id, lambda r: r.status == DONE, 120, "finished")
    assert (row.progress_done, row.progress_total, row.runs, row.error) == (3, 3, 1, None)
    download = signed_in(queued_app, manager).get(f"/jobs/{job_id}/download")
    assert download.status_code == 200
    assert len(zipfile.ZipFile(io.BytesIO(download.get_data())).namelist()) == 3


def test_a_job_survives_its_worker_being_killed(queued_app, clinic_world, start_worker):
    """SIGKILL the worker part-way through a ZIP of 40 certificates; a new worker finishes it."""
    certified_staff(clinic_world["home"], clinic_world["course"], 37)
    job_id = start_job(queued_app, clinic_world["people"]["manager"])
    first = start_worker()
    row = wait_for(job_id, lambda r: r.status == RUNNING and r.progress_done >= 3, 120, "got under way")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert row.progress_done < 40, "the job finished before the worker could be killed; make it longer"
    killed = job_row(job_id)
    assert (killed.status, killed.runs) == (RUNNING, 1) and killed.progress_done < 40
    time.sleep(STALE_SECONDS + 1)  # its heartbeat stops; the new worker takes it up when it starts
    start_worker()
    row = wait_for(job_id, lambda r: r.status == DONE, 180, "finished after the restart")
    assert (row.progress_done, row.progress_total, row.runs) == (40, 40, 2)
    download = signed_in(queued_app, clinic_world["people"]["manager"]).get(f"/jobs/{job_id}/download")
    assert len(zipfile.ZipFile(io.BytesIO(download.get_data())).namelist()) == 40
    assert not list(Path(queued_app.config["JOBS_DIR"]).glob("*.part"))
