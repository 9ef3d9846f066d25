"""One current certificate per person and course when submits race, on PostgreSQL under gunicorn.

The app runs in gunicorn with 4 worker processes against the PostgreSQL test database, as in
production; for each learner a driver fires the two last submits at the same moment (a barrier
between two client threads, each with its own connection to the server). Whatever order the
workers commit in, every learner must end with exactly one current certificate.
"""
from __future__ import annotations

import http.client
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT, TINY_COURSE
from tests.factories import PASSWORD, FormData, correct_form, import_course, make_user
from trainer import clock
from trainer.extensions import db
from trainer.models import Certificate
from trainer.services.attempts import save_answers, start_attempt, submit_attempt
from trainer.services.certificates import new_certificate_code

pytestmark = pytest.mark.postgres

REPETITIONS = 10
LEARNERS = 20
WORKERS = 4
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="module")
def gunicorn_port(database_url, tmp_path_factory):
    """Port of gunicorn (4 workers) serving the app from the test database; stopped at the end."""
    if not database_url.startswith("postgresql"):
        pytest.skip("runs on PostgreSQL only (set TEST_DATABASE_URL); SQLite's single write lock hides these races")
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": database_url, "TRAINER_ENV": "development"}
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "--workers", str(WORKERS), "--bind", "127.0.0.1:0",
             "--graceful-timeout", "5", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        port = _wait_for_port(server, log)
        _wait_until_healthy(port, server, log)
        yield port
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


@pytest.fixture
def served(app, gunicorn_port) -> int:
    """The test's database (schema ready, emptied afterwards) served by the running gunicorn."""
    return gunicorn_port


def _wait_for_port(server, log: Path) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text(errors="replace"))
        if match:
            return int(match.group(1))
        if server.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError("gunicorn did not start:\n" + log.read_text(errors="replace"))


def _wait_until_healthy(port: int, server, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if Browser(port).request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("gunicorn never answered /healthz:\n" + log.read_text(errors="replace"))


class Browser:
    """One person's cookies, speaking plain HTTP to the server; redirects are not followed."""

    def __init__(self, port: int, cookies: dict | None = None):
        self.port, self.cookies = port, dict(cookies or {})

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
            body = None
            if form is not None:
                body = urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, response.headers.get("Location", ""), response.read().decode()
        finally:
            conn.close()

    def sign_in(self, email: str) -> str:
        """Sign in through the login form; returns the session's CSRF token."""
        token = CSRF.search(self.request("GET", "/login")[2]).group(1)
        status, _, _ = self.request("POST", "/login", {"email": email, "password": PASSWORD, "csrf_token": token})
        assert status == 302, "sign-in failed"
        # Signing in rotates the CSRF secret: take the token from a page of the new session.
        return CSRF.search(self.request("GET", "/learn")[2]).group(1)


def _answer_all_correctly(learner, attempt) -> None:
    form = FormData()
    for aq in attempt.questions:
        form.update(correct_form(aq))
    save_answers(learner, attempt.id, {aq.position: 1 for aq in attempt.questions}, form)


def _open_passing_attempts(learner, course) -> list[int]:
    """Start an attempt at every module and save right answers, leaving them open."""
    ids = []
    for module in course.modules:
        attempt = start_attempt(learner, module, rng=random.Random(learner.id))
        _answer_all_correctly(learner, attempt)
        ids.append(attempt.id)
    return ids


def _submit_together(port: int, learners: list[tuple[str, list[int]]]) -> list[tuple[int, str]]:
    """Sign each learner in, then post all their submits at the same moment, one client thread each."""
    submits = []
    for email, attempt_ids in learners:
        browser = Browser(port)
        token = browser.sign_in(email)  # valid for every form of this session, the submit included
        # Each submit comes from its own tab: the same session, its own connection.
        submits += [(Browser(port, browser.cookies), attempt_id, token) for attempt_id in attempt_ids]
    barrier = threading.Barrier(len(submits))
    outcomes: list = [None] * len(submits)

    def submit(i: int) -> None:
        tab, attempt_id, token = submits[i]
        try:
            barrier.wait(timeout=30)
            status, location, _ = tab.request("POST", f"/attempts/{attempt_id}/submit", {"csrf_token": token})
            outcomes[i] = (status, location)
        except Exception as exc:  # reported by the caller; a thread must never die silently
            outcomes[i] = (0, repr(exc))

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(submits))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def _current_certificates(user_id: int, course_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Certificate).where(
        Certificate.user_id == user_id, Certificate.course_id == course_id,
        Certificate.superseded_by_id.is_(None), Certificate.revoked_dt.is_(None)))


def _run_race(port: int, course, prepare) -> dict:
    """REPETITIONS rounds of LEARNERS learners each; count who ends with no or two current certificates."""
    tally = {"learners": 0, "none": 0, "two_or_more": 0, "bad_responses": [], "seconds_preparing": 0.0,
             "seconds_submitting": 0.0}
    for _ in range(REPETITIONS):
        started = time.monotonic()
        learners = []
        for _ in range(LEARNERS):
            learner = make_user()
            learners.append((learner.id, learner.email, prepare(learner)))
        db.session.commit()
        tally["seconds_preparing"] += time.monotonic() - started
        started = time.monotonic()
        # Two learners at a time: four submits for the four workers.
        for first in range(0, LEARNERS, WORKERS // 2):
            batch = [(email, ids) for _, email, ids in learners[first:first + WORKERS // 2]]
            for status, location in _submit_together(port, batch):
                if status != 302 or "/result" not in location:
                    tally["bad_responses"].append((status, location))
        tally["seconds_submitting"] += time.monotonic() - started
        db.session.expire_all()
        for user_id, _, _ in learners:
            current = _current_certificates(user_id, course.id)
            tally["learners"] += 1
            tally["none"] += current == 0
            tally["two_or_more"] += current >= 2
        db.session.rollback()
    return tally


def test_last_two_modules_submitted_at_once_issue_exactly_one_certificate(served):
    course = import_course(TINY_COURSE)
    tally = _run_race(served, course, lambda learner: _open_passing_attempts(learner, course))
    print(f"first completion race: {tally}")
    assert tally["bad_responses"] == []
    assert (tally["none"], tally["two_or_more"]) == (0, 0), tally


def test_two_renewing_submits_at_once_leave_exactly_one_current_certificate(served):
    course = import_course(TINY_COURSE)
    now = clock.now()

    def renewing_learner(learner):
        # Certified 340 days ago (expiring: 25 days left, window 60); every module passed again
        # 240 days ago, when it was too early to renew. Now the two retakes are submitted at once.
        issued = now - timedelta(days=340)
        db.session.add(Certificate(code=new_certificate_code(), user_id=learner.id, course_id=course.id,
                                   issued_dt=issued, expires_dt=issued + timedelta(days=course.valid_for_days),
                                   score_percent=100.0))
        db.session.commit()
        clock.freeze(now - timedelta(days=240))
        for module in course.modules:
            attempt = start_attempt(learner, module, rng=random.Random(learner.id))
            _answer_all_correctly(learner, attempt)
            submit_attempt(learner, attempt.id)
        clock.freeze(None)
        return _open_passing_attempts(learner, course)

    tally = _run_race(served, course, renewing_learner)
    print(f"renewal race: {tally}")
    assert tally["bad_responses"] == []
    assert (tally["none"], tally["two_or_more"]) == (0, 0), tally
