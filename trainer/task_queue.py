"""The task queue that runs background jobs: Huey, on a SQLite file in the instance folder by default,
on Redis when REDIS_URL is set (so workers on several hosts share it).

The queue carries only job ids; the `jobs` table holds everything else (see trainer.services.jobs).
A message lost with a killed worker does not lose the job: every minute, and when a worker starts,
jobs still queued or running with a stopped heartbeat are handed to the queue again.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from trainer.services import job_kinds  # noqa: F401  (registers the kinds of job)
from trainer.services.jobs import clean_job_files, lost_jobs, run_job


def init_app(app: Flask) -> None:
    """Create the app's queue and its tasks; in tests (TESTING) jobs run at once, in the request."""
    huey = _make_huey(app, immediate=app.config.get("JOBS_IMMEDIATE", app.testing))

    @huey.task(name="run_job")
    def run_job_task(job_id: int) -> None:
        with app.app_context():
            run_job(job_id)

    @huey.periodic_task(crontab(minute="*"), name="requeue_lost_jobs")
    def requeue_lost_jobs_task() -> None:
        with app.app_context():
            for job_id in lost_jobs():
                run_job_task(job_id)

    @huey.periodic_task(crontab(minute="23", hour="3"), name="clean_job_files")
    def clean_job_files_task() -> None:
        with app.app_context():
            clean_job_files(app.config["JOBS_KEEP_DAYS"])

    app.extensions["huey"] = huey
    app.extensions["huey.run_job"] = run_job_task


def _make_huey(app: Flask, immediate: bool) -> Huey:
    name = app.config["JOBS_QUEUE_NAME"]
    if app.config.get("REDIS_URL"):
        return RedisHuey(name, url=app.config["REDIS_URL"], results=False, immediate=immediate)
    return SqliteHuey(name, filename=app.config["JOBS_QUEUE_FILE"], results=False, immediate=immediate)


def enqueue_job(job_id: int) -> None:
    """Hand a recorded job to the queue (commit the job row first: a worker may take it at once)."""
    current_app.extensions["huey.run_job"](job_id)


def requeue_lost_jobs() -> int:
    """Hand every queued job and every job whose worker died to the queue again; returns how many."""
    ids = lost_jobs()
    for job_id in ids:
        enqueue_job(job_id)
    return len(ids)


def run_worker(app: Flask, threads: int) -> None:
    """Run a Huey consumer for `app` until SIGINT or SIGTERM, after requeueing what a dead worker left."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with app.app_context():
        requeue_lost_jobs()
    # A short poll: a person is waiting on the progress page (Redis blocks instead of polling).
    Consumer(app.extensions["huey"], workers=threads, worker_type="thread", max_delay=1.0).run()
