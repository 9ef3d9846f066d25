"""Background jobs: ask for one, follow its progress, fetch its file; the worker's side of running them.

A job row is the truth about a job; the queue only carries its id. Running a job is idempotent:
a worker claims the row with a guarded UPDATE (queued, or running with a stopped heartbeat), writes
its file under a temporary name and renames it when complete, so a message delivered twice, or a
job taken up again after its worker died, yields one file and one finished row.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, or_, select, update

from trainer import clock
from trainer.database import begin_write, read_mostly
from trainer.extensions import db
from trainer.models import Clinic, Job, User
from trainer.models.jobs import DONE, FAILED, QUEUED, RUNNING
from trainer.security import can_request_job, can_view_job
from trainer.services import NotFound, ServiceError
from trainer.services.audit import record_event

#: Said when a job stops on something that is not a rule (a bug, a full disk): the log has the details.
UNEXPECTED_FAILURE = ("The job stopped on an unexpected error; start it again, "
                      "and tell an administrator if it fails again.")

Progress = Callable[[int, int], None]


@dataclass
class JobFile:
    """What a job made: its bytes, the name the download gets and its media type."""
    data: bytes
    name: str
    mimetype: str


#: kind -> the function that does it: (job, progress) -> a file, or a one-line summary.
JOB_KINDS: dict[str, Callable[[Job, Progress], JobFile | str]] = {}

KIND_TITLES = {
    "certificates_zip": "All certificates (ZIP)",
    "clinic_pack": "Inspection pack: training records (ZIP)",
    "regrade": "Regrade",
    "notify": "Notification run",
}


def job_kind(name: str):
    """Register the function that runs jobs of kind `name`."""
    def register(function):
        JOB_KINDS[name] = function
        return function
    return register


def request_job(actor: User | None, kind: str, clinic_id: int | None, params: dict | None = None) -> int:
    """Record a queued job for `actor` (None: the command line); returns its id, for the caller to queue."""
    if kind not in JOB_KINDS:
        raise ServiceError(f"Unknown kind of job {kind!r}.")
    if actor is not None and not can_request_job(actor, kind, clinic_id):
        raise NotFound("No such clinic." if clinic_id is not None else "You may not start this job.")
    if clinic_id is not None and db.session.get(Clinic, clinic_id) is None:
        raise NotFound("No such clinic.")
    job = Job(kind=kind, requested_by_id=actor.id if actor is not None else None, clinic_id=clinic_id,
              params=params or {}, status=QUEUED)
    db.session.add(job)
    db.session.flush()
    job_id = job.id
    record_event(actor, "jobs.request", f"job:{job_id}", kind=kind, clinic=clinic_id)
    db.session.commit()
    return job_id  # not the object: reading it after the commit would open a transaction (SQLite: the write lock)


def job_for_viewer(viewer: User, job_id: int) -> Job:
    """The job, for its requester or a manager or admin of its scope; anyone else gets NotFound."""
    job = db.session.get(Job, job_id)
    if job is None or not can_view_job(viewer, job):
        raise NotFound("No such job.")
    return job


def job_status(job: Job) -> dict:
    """What the progress page shows, as JSON for its script."""
    return {"id": job.id, "status": job.status, "done": job.progress_done, "total": job.progress_total,
            "error": job.error, "summary": job.summary, "downloadable": job_file_path(job) is not None}


def job_file_path(job: Job) -> Path | None:
    """The finished file, if the job made one and it has not been cleaned up."""
    if job.status != DONE or not job.result_path:
        return None
    path = Path(current_app.config["JOBS_DIR"]) / job.result_path
    return path if path.is_file() else None


def _stale_before():
    return clock.now() - timedelta(seconds=current_app.config["JOBS_STALE_SECONDS"])


def _claim(job_id: int) -> bool:
    """Take the job for this worker: queued, or running under a worker whose heartbeat stopped."""
    now = clock.now()
    with db.engine.begin() as conn:
        taken = conn.execute(
            update(Job).where(Job.id == job_id, or_(
                Job.status == QUEUED, and_(Job.status == RUNNING, Job.heartbeat_dt < _stale_before())))
            .values(status=RUNNING, runs=Job.runs + 1, started_dt=now, heartbeat_dt=now, progress_done=0))
    return taken.rowcount == 1


def _report_progress(job_id: int, done: int, total: int) -> None:
    # Its own short transaction, so the work's reads never hold SQLite's write lock.
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id, Job.status == RUNNING)
                     .values(progress_done=done, progress_total=total, heartbeat_dt=clock.now()))


def run_job(job_id: int) -> None:
    """Do the job if no live worker has it or finished it; record the file or why it failed."""
    if not _claim(job_id):
        return
    read_mostly(True)  # the work reads; progress and the result are written in short transactions
    job = db.session.get_one(Job, job_id)
    if job.kind not in JOB_KINDS:  # queued by a newer release than this worker's
        _finish(job_id, status=FAILED, error=f"This worker does not know jobs of kind {job.kind!r}; update it.")
        return
    try:
        outcome = JOB_KINDS[job.kind](job, lambda done, total: _report_progress(job_id, done, total))
    except ServiceError as error:
        _finish(job_id, status=FAILED, error=str(error))
        return
    except Exception:
        current_app.logger.exception("job %s (%s) failed", job_id, job.kind)
        _finish(job_id, status=FAILED, error=UNEXPECTED_FAILURE)
        return
    if isinstance(outcome, JobFile):
        folder = Path(current_app.config["JOBS_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        stored = f"job-{job_id}{Path(outcome.name).suffix}"
        partial = folder / (stored + ".part")
        partial.write_bytes(outcome.data)
        os.replace(partial, folder / stored)  # complete or absent, never half a file
        _finish(job_id, status=DONE, result_path=stored, result_name=outcome.name, result_mimetype=outcome.mimetype)
    else:
        _finish(job_id, status=DONE, summary=outcome)


def _finish(job_id: int, **values) -> None:
    db.session.rollback()
    begin_write(db.session)
    db.session.execute(update(Job).where(Job.id == job_id).values(finished_dt=clock.now(), **values))
    db.session.commit()


def lost_jobs() -> list[int]:
    """Jobs to hand to the queue again: queued ones (the message may be gone) and running ones whose worker died."""
    return list(db.session.scalars(select(Job.id).where(or_(
        Job.status == QUEUED, and_(Job.status == RUNNING, Job.heartbeat_dt < _stale_before()))).order_by(Job.id)))


def clean_job_files(days: int) -> int:
    """Delete finished jobs' files older than `days` days; the rows stay as a record. Returns how many."""
    begin_write(db.session)
    cutoff = clock.now() - timedelta(days=days)
    folder = Path(current_app.config["JOBS_DIR"])
    jobs = db.session.scalars(select(Job).where(Job.finished_dt < cutoff, Job.result_path.isnot(None))).all()
    for job in jobs:
        (folder / str(job.result_path)).unlink(missing_ok=True)
        job.result_path = None
    db.session.commit()
    return len(jobs)
