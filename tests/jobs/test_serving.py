"""`make run`'s gunicorn settings (trainer/serving.py): a job worker starts with gunicorn and stops with it."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT
from tests.jobs.test_worker import start_job, wait_for
from trainer.models.jobs import DONE


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _serve(queued_app, database_url: str, log: Path) -> subprocess.Popen:
    """gunicorn as `make run` starts it (one web worker), on a free port, its output in `log`."""
    env = {**os.environ, "DATABASE_URL": database_url, "JOBS_DIR": queued_app.config["JOBS_DIR"],
           "JOBS_QUEUE_FILE": queued_app.config["JOBS_QUEUE_FILE"], "JOB_THREADS": "1",
           "AUDIT_HEAD_FILE": queued_app.config["AUDIT_HEAD_FILE"], "TRAINER_ENV": "development"}
    env.pop("REDIS_URL", None)
    with open(log, "wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "-c", "python:trainer.serving", "--workers", "1",
             "--bind", "127.0.0.1:0", "--graceful-timeout", "5", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def test_gunicorn_runs_a_job_worker_and_stops_it_when_it_stops(queued_app, clinic_world, database_url, tmp_path):
    log = tmp_path / "gunicorn.log"
    server = _serve(queued_app, database_url, log)
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"job worker started \(pid (\d+)\)", log.read_text(errors="replace"))):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        worker_pid = int(found.group(1))
        job_id = start_job(queued_app, clinic_world["people"]["manager"])
        assert wait_for(job_id, lambda r: r.status == DONE, 120, "finished").runs == 1
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=90)
        deadline = time.monotonic() + 10
        while _alive(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(worker_pid), "the job worker outlived gunicorn"
        assert "job worker stopped" in log.read_text(errors="replace")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def test_web_workers_fork_from_a_master_that_holds_the_app_and_a_killed_one_is_replaced(
        queued_app, database_url, tmp_path):
    import urllib.request

    log = tmp_path / "gunicorn.log"
    server = _serve(queued_app, database_url, log)

    def web_workers() -> set[int]:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        return {int(pid) for pid in children
                if "gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")}

    def healthy(port: str) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"Listening at: http://127.0.0.1:(\d+)", log.read_text(errors="replace"))):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        port = found.group(1)
        while not healthy(port):
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        # The master itself has imported the app (SQLAlchemy's compiled modules are mapped in it).
        assert "sqlalchemy" in Path(f"/proc/{server.pid}/maps").read_text()
        (first,) = web_workers()
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not (web_workers() - {first}) or not healthy(port):
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        assert server.poll() is None
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
