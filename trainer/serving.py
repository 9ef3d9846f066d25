"""Gunicorn settings for `make run`: a background-job worker that starts and stops with the server,
and web workers forked from a master that has already imported the app.

`gunicorn -c python:trainer.serving wsgi:app` starts `flask jobs worker` when gunicorn starts and
stops it when gunicorn stops. Larger installations run workers as services of their own instead
(see README, "Background jobs").
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

_worker: dict[str, subprocess.Popen] = {}

# The master imports the app once and forks the web workers from it: a worker that dies (a crash, the
# OOM killer, kill -9) is replaced at once instead of after some 2 s of imports on a busy core, and the
# workers share the start-up memory. The master opens no database connection (post_fork makes sure).
preload_app = True


def post_fork(server, worker) -> None:
    from trainer.extensions import db

    with worker.app.wsgi().app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # never share a connection the master might have opened


def on_starting(server) -> None:
    threads = os.environ.get("JOB_THREADS", "2")
    flask = str(Path(sys.executable).with_name("flask"))
    _worker["process"] = subprocess.Popen([flask, "--app", "wsgi", "jobs", "worker", "--threads", threads])
    server.log.info("job worker started (pid %s)", _worker["process"].pid)


def on_exit(server) -> None:
    process = _worker.get("process")
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # Huey's graceful stop: finish the job in hand
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()  # an unfinished job is taken up again by the next worker
        process.wait()
    server.log.info("job worker stopped")
