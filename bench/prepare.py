"""Set-up and read-back steps that run inside the app, before and after the timed window.

`python -m bench.prepare STEP JSON-ARGS` (from the repository root, with the app's DATABASE_URL and SECRET_KEY in the
environment) prints JSON. Everything here happens outside any timing:

  setup    -- the database migrated and question_banks/ imported (the two flask commands, in one process)
  people   -- N learners in clinics of `per_clinic`, plus one admin (after `setup` when {"setup": true}),
              created in bulk with one shared password hash, signed in by minting their session cookies
              through the app's own session start (no bcrypt, no HTTP); with {"sign_ins": M}, M more
              learners in a clinic of their own, with the same hash and no session (the spike's sign-ins)
  sessions -- minted session cookies (and CSRF tokens) for existing accounts, e.g. a seeded manager
  attempts -- an open attempt and a submitted one for a learner (the quiz and result pages of `pages`)
  answers  -- every stored answer's (attempt id, position, sequence number), for the lost-answer check
"""
from __future__ import annotations

import json
import sys

from flask import session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from bench.common import USER_AGENT
from trainer import create_app
from trainer.extensions import db
from trainer.models import AttemptQuestion, Course, Module, User, UserRole
from trainer.services.accounts import create_clinic, hash_password
from trainer.services.attempts import start_attempt, submit_attempt
from trainer.sessions import open_session


def mint_session(app, user: User) -> dict:
    """A signed session cookie and its CSRF token for `user`, as a sign-in would have set them."""
    with app.test_request_context("/", headers={"User-Agent": USER_AGENT},
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        open_session(user)
        token = generate_csrf()
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    return {"email": user.email, "cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}", "csrf": token}


def first_module() -> Module:
    course = db.session.scalar(select(Course).order_by(Course.title))
    if course is None:
        raise SystemExit("no course: import one first (flask banks import question_banks)")
    return course.modules[0]


def first_module_path() -> str:
    module = first_module()
    return f"/learn/{module.course.slug}/{module.slug}"


def create_people(count: int, prefix: str, per_clinic: int, password: str) -> tuple[list[User], User]:
    """`count` learners in clinics of at most `per_clinic` people, and an admin, in bulk."""
    password_hash = hash_password(password)  # once: bcrypt per account would take minutes
    users = []
    for start in range(0, count, per_clinic):
        clinic = create_clinic(None, f"Bench {prefix} {start // per_clinic + 1}")
        batch = [User(email=f"{prefix}-{n}@bench.example", name=f"Bench Person {n}", password_hash=password_hash,
                      clinic_id=clinic.id, role_rows=[UserRole(role="learner")])
                 for n in range(start, min(start + per_clinic, count))]
        db.session.add_all(batch)
        db.session.commit()
        users += batch
    admin = User(email=f"{prefix}-admin@bench.example", name="Bench Admin", password_hash=password_hash,
                 role_rows=[UserRole(role="admin")])
    db.session.add(admin)
    db.session.commit()
    return users, admin


def create_sign_in_people(count: int, prefix: str, password_hash: str) -> list[User]:
    """`count` learners in a clinic of their own, who will sign in through the login form."""
    clinic = create_clinic(None, f"Bench {prefix} sign-in")
    users = [User(email=f"{prefix}-signin-{n}@bench.example", name=f"Bench Sign-in {n}", password_hash=password_hash,
                  clinic_id=clinic.id, role_rows=[UserRole(role="learner")]) for n in range(count)]
    db.session.add_all(users)
    db.session.commit()
    return users


def people(app, count: int, prefix: str, per_clinic: int, password: str, sign_ins: int = 0) -> dict:
    """`count` new learners and an admin, with minted sessions for all; and `sign_ins` learners without one."""
    users, admin = create_people(count, prefix, per_clinic, password)
    # The admin's hash is the shared one, made by the app's hash_password at its normal bcrypt cost.
    signers = create_sign_in_people(sign_ins, prefix, admin.password_hash) if sign_ins else []
    return {"module_path": first_module_path(), "admin": mint_session(app, admin),
            "people": [mint_session(app, user) for user in users], "sign_ins": [user.email for user in signers]}


def sessions(app, emails: list[str]) -> dict:
    users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    missing = sorted(set(emails) - set(users))
    if missing:
        raise SystemExit(f"no such accounts: {', '.join(missing)}")
    return {"module_path": first_module_path(), "sessions": [mint_session(app, users[e]) for e in emails]}


def attempts(email: str) -> dict:
    """An open attempt and a submitted one of the learner at the first module."""
    user = db.session.scalar(select(User).where(User.email == email))
    module = first_module()
    submitted = start_attempt(user, module)
    submit_attempt(user, submitted.id)
    open_one = start_attempt(user, module)
    return {"quiz_path": f"/attempts/{open_one.id}", "result_path": f"/attempts/{submitted.id}/result",
            "save_path": f"/attempts/{open_one.id}/answers/{open_one.questions[0].position}"}


def answers() -> list[list[int]]:
    rows = db.session.execute(select(AttemptQuestion.attempt_id, AttemptQuestion.position,
                                     AttemptQuestion.response_seq))
    return [[a, p, s] for a, p, s in rows]


def setup(app) -> None:
    for command in (["db", "upgrade"], ["banks", "import", "question_banks"]):
        done = app.test_cli_runner().invoke(args=command)
        if done.exit_code:
            raise SystemExit(f"flask {' '.join(command)} failed: {done.output.strip()[-500:]}")


def main() -> None:
    step, args = sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    app = create_app()
    with app.app_context():
        if args.get("setup") or step == "setup":
            setup(app)
        result: object = None
        if step == "people":
            result = people(app, args["count"], args["prefix"], args.get("per_clinic", args["count"]), args["password"],
                            args.get("sign_ins", 0))
        elif step == "sessions":
            result = sessions(app, args["emails"])
        elif step == "attempts":
            result = attempts(args["email"])
        elif step == "answers":
            result = answers()
        elif step != "setup":
            raise SystemExit(f"unknown step {step!r}")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
