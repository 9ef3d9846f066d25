"""In-process profile of the exam-start hot paths: CPU ms and SQL statements per request.

Seeds a fresh database (SQLite in a temporary folder, or PROFILE_DATABASE_URL, e.g. an empty
PostgreSQL database) with the shipped course and a clinic of staff, signs in once with Flask's
test client and times N requests per page with time.process_time. The numbers are this process's
CPU only (the database server's work on PostgreSQL is not in them); compare runs on one machine.

    .venv/bin/python bench/profile_pages.py [--requests 40] [--staff 200]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "profile-only-secret-key-of-at-least-32-chars")
os.environ.setdefault("AUDIT_KEY", "profile-only-audit-key")

from sqlalchemy import event, select, text  # noqa: E402

from trainer import create_app  # noqa: E402
from trainer.extensions import db  # noqa: E402

PASSWORD = "profile-password-1"


def build_app(url: str):
    folder = tempfile.mkdtemp(prefix="trainer-profile-")
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "SERVER_NAME": "trainer.test",
                       "TRAINER_BASE_URL": "http://trainer.test",
                       "AUDIT_HEAD_FILE": os.path.join(folder, "audit-head.log")})


def seed(app, staff: int) -> dict:
    from trainer.banks.course_folder import load_course
    from trainer.models import Course, Module
    from trainer.services import accounts
    from trainer.services.accounts import create_user
    from trainer.services.catalog import import_courses
    from trainer.services.demo import seed_demo_data

    accounts.BCRYPT_ROUNDS = 4  # sign-in is not what is measured
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
    db.create_all()
    import_courses(None, [load_course(next((ROOT / "question_banks").glob("*/course.yaml")).parent)])
    seed_demo_data(clinics=1, staff=staff, attempts=1, seed=7, password=PASSWORD)
    course = db.session.scalar(select(Course))
    module = db.session.scalar(select(Module).where(Module.course_id == course.id).order_by(Module.position))
    manager = db.session.execute(text("SELECT u.email, u.clinic_id FROM users u JOIN user_roles r ON r.user_id = u.id "
                                      "WHERE r.role = 'manager' ORDER BY u.id")).first()
    from trainer.models import Clinic
    clinic = db.session.get(Clinic, manager.clinic_id)
    learners = [create_user(None, f"profile{n}@example.org", f"Profile {n}", PASSWORD, ["learner"], clinic).email
                for n in range(1 + PROFILE_STARTS)]
    return {"course": course.slug, "module": module.slug, "manager": manager.email, "learners": learners}


PROFILE_STARTS = 20
#: PROFILE_SHOW=1 lists the statements of each page's last request.
SHOW_STATEMENTS = bool(os.environ.get("PROFILE_SHOW"))


class Counter:
    def __init__(self):
        self.statements = 0
        self.last: list[str] = []

    def __call__(self, conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
            self.statements += 1
            self.last.append(" ".join(statement.split())[:160])


def measure(counter: Counter, label: str, requests: int, call) -> None:
    call(0)  # warm caches and the connection
    counter.statements = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(1, requests + 1):
        counter.last = []
        response = call(i)
        assert response.status_code in (200, 302), (label, response.status_code)
    cpu_ms = (time.process_time() - cpu) * 1000 / requests
    wall_ms = (time.perf_counter() - wall) * 1000 / requests
    print(f"{label:<16} {cpu_ms:7.2f} ms CPU/request {wall_ms:7.2f} ms wall/request"
          f"  {counter.statements / requests:5.1f} statements/request")
    if SHOW_STATEMENTS:
        print("\n".join("    " + statement for statement in counter.last))


def signed_in(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def single_choice_position(app, attempt_id: int) -> int:
    from trainer.models import AttemptQuestion

    with app.app_context():
        items = db.session.scalars(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id)
                                   .order_by(AttemptQuestion.position))
        return next(aq.position for aq in items if aq.version.content["type"] == "single")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--staff", type=int, default=200)
    args = parser.parse_args()
    url = os.environ.get("PROFILE_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/profile.db"
    app = build_app(url)
    with app.app_context():
        data = seed(app, args.staff)
        db.session.remove()
    print(f"database: {url.split(':', 1)[0]}; staff: {args.staff}; requests per page: {args.requests}")
    counter = Counter()
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", counter)
    learner = signed_in(app, data["learners"][0])
    module_url = f"/learn/{data['course']}/{data['module']}"
    start_clients = [signed_in(app, email) for email in data["learners"][1:]]
    measure(counter, "learner home", args.requests, lambda i: learner.get("/learn"))
    measure(counter, "module page", args.requests, lambda i: learner.get(module_url))
    # Each start is a different learner's first attempt: the draw and snapshot, then the redirect.
    measure(counter, "start attempt", len(start_clients) - 1,
            lambda i: start_clients[i].post(module_url + "/attempts"))
    start = learner.post(module_url + "/attempts")
    attempt_url = start.headers["Location"]
    measure(counter, "quiz page", args.requests, lambda i: learner.get(attempt_url))
    position = single_choice_position(app, int(attempt_url.rsplit("/", 1)[1]))
    rng = random.Random(1)
    measure(counter, "autosave", args.requests,
            lambda i: learner.post(f"{attempt_url}/answers/{position}",
                                   data={"seq": str(1 + i), f"q{position}": str(rng.randint(0, 1))}))
    learner.post(f"{attempt_url}/submit")
    measure(counter, "result page", args.requests, lambda i: learner.get(f"{attempt_url}/result"))
    manager = signed_in(app, data["manager"])
    measure(counter, "manager console", args.requests, lambda i: manager.get("/manage/"))


if __name__ == "__main__":
    main()
