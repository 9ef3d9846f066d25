"""Two app servers on one PostgreSQL database and one Redis: nothing may live in only one process.

Two gunicorn instances (two workers each) serve the test database on two ports; a job worker
shares their Redis queue (a shared SQLite queue file when Redis does not answer) and jobs
folder. A small load driver sends every request to the next
server in turn, so each learner signs in on one server, starts on the other, saves answers on
both and submits on both (a double submit across servers). Then every acknowledged answer must be
in the database, each learner must have exactly one attempt with one result, and a ZIP job asked
for on server A must be followed and downloaded on server B.
"""
from __future__ import annotations

import http.client
import io
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT, TINY_COURSE
from tests.factories import PASSWORD, FormData, import_course, make_clinic, make_user
from tests.jobs.conftest import certified_staff
from trainer.extensions import db
from trainer.models import Attempt, AttemptQuestion, Job, QuestionVersion
from trainer.models.attempts import SUBMITTED
from trainer.quiz.types import question_type

pytestmark = pytest.mark.postgres

LEARNERS = 50
CONCURRENT = 10
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CHOICE = re.compile(r'name="q(\d+)" value="([^"]+)"')
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def two_servers(app, database_url, tmp_path):
    """Ports of two gunicorn instances and a job worker on the test database, Redis and one jobs folder."""
    if not database_url.startswith("postgresql"):
        pytest.skip("runs on PostgreSQL only (set TEST_DATABASE_URL): two servers share one database server")
    env = {**os.environ, "DATABASE_URL": database_url, "TRAINER_ENV": "development",
           "JOBS_QUEUE_NAME": f"trainer-test-{uuid.uuid4().hex}", "JOBS_QUEUE_FILE": str(tmp_path / "queue.db"),
           "JOBS_DIR": str(tmp_path / "jobs"), "AUDIT_HEAD_FILE": app.config["AUDIT_HEAD_FILE"]}
    env.pop("REDIS_URL", None)
    if _redis_answers(REDIS_URL):
        env["REDIS_URL"] = REDIS_URL
    else:  # the servers share one host here, so the queue's SQLite file is shared as well
        print(f"Redis does not answer at {REDIS_URL}: the job queue is a shared SQLite file")
    bin_dir = Path(sys.executable).parent
    processes, ports = [], []
    try:
        for name in ("a", "b"):
            log = tmp_path / f"gunicorn-{name}.log"
            with open(log, "wb") as out:
                processes.append(subprocess.Popen(
                    [str(bin_dir / "gunicorn"), "--workers", "2", "--bind", "127.0.0.1:0", "--graceful-timeout", "5",
                     "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
            ports.append(_wait_for_port(processes[-1], log))
        with open(tmp_path / "worker.log", "wb") as out:
            processes.append(subprocess.Popen(
                [str(bin_dir / "flask"), "--app", "wsgi", "jobs", "worker", "--threads", "1"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
        for port in ports:
            _wait_until_healthy(port)
        yield ports
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _wait_for_port(server, log: Path) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text(errors="replace"))
        if match:
            return int(match.group(1))
        time.sleep(0.1)
    raise AssertionError("gunicorn did not start:\n" + log.read_text(errors="replace"))


def _wait_until_healthy(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if RoundRobin([port]).request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server on port {port} never answered /healthz")


class RoundRobin:
    """One person's cookies; each request goes to the next server in turn. Redirects are not followed."""

    _turn = itertools.count()
    _lock = threading.Lock()

    def __init__(self, ports: list[int]):
        self.ports, self.cookies = ports, {}
        self.served_by: set[int] = set()

    def request(self, method: str, path: str, form: dict | None = None,
                headers: dict | None = None) -> tuple[int, str, bytes]:
        with self._lock:
            port = self.ports[next(self._turn) % len(self.ports)]
        self.served_by.add(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            body = None
            if form is not None:
                body = urlencode(form, doseq=True)
                sent["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, response.headers.get("Location", ""), response.read()
        finally:
            conn.close()

    def sign_in(self, email: str, home: str) -> str:
        """Sign in through the form; returns a CSRF token of the new session (taken from `home`)."""
        token = CSRF.search(self.request("GET", "/login")[2].decode()).group(1)
        status, _, _ = self.request("POST", "/login", {"email": email, "password": PASSWORD, "csrf_token": token})
        assert status == 302, f"sign-in of {email} failed ({status})"
        return CSRF.search(self.request("GET", home)[2].decode()).group(1)


def _take_the_quiz(ports: list[int], email: str, acknowledged: list, problems: list) -> None:
    """Sign in, start the basics quiz, save each answer twice (the second one counts), submit twice."""
    browser = RoundRobin(ports)
    token = browser.sign_in(email, "/learn/tiny-course/basics")
    status, location, _ = browser.request("POST", "/learn/tiny-course/basics/attempts", {"csrf_token": token})
    if status != 302 or "/attempts/" not in location:
        problems.append(("start", email, status, location))
        return
    attempt_id = int(location.rstrip("/").rsplit("/", 1)[1])
    page = browser.request("GET", f"/attempts/{attempt_id}")[2].decode()
    options: dict[int, list[str]] = {}
    for position, value in CHOICE.findall(page):
        options.setdefault(int(position), []).append(value)
    if not options:
        problems.append(("quiz page without choices", email))
    for position, values in sorted(options.items()):
        for seq, value in enumerate((values[0], values[-1]), start=1):
            status, _, body = browser.request(
                "POST", f"/attempts/{attempt_id}/answers/{position}",
                {f"q{position}": value, "seq": str(seq), "csrf_token": token},
                {"X-Requested-With": "fetch", "Accept": "application/json"})
            if status == 200 and json.loads(body).get("saved"):
                acknowledged.append((attempt_id, position, seq, value))
            else:
                problems.append(("save", email, status, body[:200]))
    for _ in range(2):  # one submit on each server: one result
        status, location, _ = browser.request("POST", f"/attempts/{attempt_id}/submit", {"csrf_token": token})
        if status != 302 or "/result" not in location:
            problems.append(("submit", email, status, location))
    if len(browser.served_by) != 2:
        problems.append(("not served by both servers", email))


def _run_learners(ports: list[int], emails: list[str]) -> tuple[list, list]:
    acknowledged: list = []
    problems: list = []
    queue = list(emails)
    lock = threading.Lock()

    def driver() -> None:
        while True:
            with lock:
                if not queue:
                    return
                email = queue.pop()
            try:
                _take_the_quiz(ports, email, acknowledged, problems)
            except Exception as exc:  # reported by the test; a thread must never die silently
                problems.append(("exception", email, repr(exc)))

    threads = [threading.Thread(target=driver) for _ in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return acknowledged, problems


def _missing_answers(acknowledged: list) -> list:
    """Acknowledged saves whose answer is not what the database holds (the newest save per question wins)."""
    newest: dict[tuple[int, int], tuple[int, str]] = {}
    for attempt_id, position, seq, value in acknowledged:
        if seq > newest.get((attempt_id, position), (0, ""))[0]:
            newest[(attempt_id, position)] = (seq, value)
    missing = []
    for (attempt_id, position), (seq, value) in newest.items():
        aq = db.session.scalar(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id,
                                                             AttemptQuestion.position == position))
        content = db.session.get(QuestionVersion, aq.question_version_id).content
        name = f"q{position}"
        expected = question_type(content["type"]).read_form(content, aq.display_order, FormData({name: value}), name)
        if aq.response_seq < seq or aq.response != expected:
            missing.append((attempt_id, position, seq, aq.response_seq))
    return missing


def test_learners_and_jobs_spread_over_two_servers_lose_nothing(app, two_servers):
    course = import_course(TINY_COURSE)
    clinic = make_clinic("Two Server Clinic")
    manager = make_user("manager", clinic=clinic)
    certified_staff(clinic, course, 5)
    learners = [make_user("learner", clinic=clinic) for _ in range(LEARNERS)]
    emails, learner_ids, manager_email = [p.email for p in learners], [p.id for p in learners], manager.email
    db.session.commit()

    # A job asked for on one server, followed and fetched on the other.
    staff = RoundRobin(two_servers)
    token = staff.sign_in(manager_email, "/manage/")
    status, location, _ = staff.request("POST", "/manage/certificates.zip", {"csrf_token": token})
    assert status == 303, status
    job_path = location.split("://", 1)[-1].split("/", 1)[1]
    acknowledged, problems = _run_learners(two_servers, emails)
    deadline = time.monotonic() + 180
    while json.loads(staff.request("GET", f"/{job_path}.json")[2])["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, "the job never finished"
        time.sleep(0.5)
    status, _, data = staff.request("GET", f"/{job_path}/download")
    assert status == 200 and len(zipfile.ZipFile(io.BytesIO(data)).namelist()) == 5
    assert len(staff.served_by) == 2

    assert problems == []
    assert len(acknowledged) >= 2 * LEARNERS
    db.session.rollback()
    assert _missing_answers(acknowledged) == []
    attempts = db.session.execute(select(Attempt.user_id, func.count(), func.min(Attempt.state))
                                  .where(Attempt.user_id.in_(learner_ids)).group_by(Attempt.user_id)).all()
    assert sorted(user_id for user_id, _, _ in attempts) == sorted(learner_ids)
    assert {(count, state) for _, count, state in attempts} == {(1, SUBMITTED)}
    assert db.session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.user_id.in_(learner_ids), Attempt.score_percent.is_(None))) == 0
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1
