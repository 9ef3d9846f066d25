"""A clinic with certified staff, for jobs that turn records into files."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_clinic, make_user
from trainer import clock
from trainer.extensions import db
from trainer.models import Certificate
from trainer.services.certificates import new_certificate_code


def certified_staff(clinic, course, count: int) -> list:
    """`count` learners of `clinic`, each holding a current certificate (rows written directly: fast)."""
    people = [make_user("learner", clinic=clinic, name=f"Learner {n:03d}") for n in range(count)]
    for person in people:
        db.session.add(Certificate(code=new_certificate_code(), user_id=person.id, course_id=course.id,
                                   issued_dt=clock.now(), expires_dt=clock.now() + timedelta(days=730),
                                   score_percent=90.0))
    db.session.commit()
    return people


@pytest.fixture
def clinic_world(app):
    course = import_course(TINY_COURSE)
    home, away = make_clinic("Home Clinic"), make_clinic("Away Clinic")
    people = {
        "manager": make_user("manager", clinic=home, name="Morgan Manager"),
        "deputy": make_user("manager", clinic=home, name="Dana Deputy"),
        "foreign_manager": make_user("manager", clinic=away, name="Fran Foreign"),
        "learner": make_user("learner", clinic=home, name="Lee Learner"),
        "trainer": make_user("trainer"),
        "admin": make_user("admin"),
    }
    staff = certified_staff(home, course, 3)
    return {"course": course, "home": home, "away": away, "people": people, "staff": staff}


@pytest.fixture
def queued_app(app):
    """The test's app, handing jobs to the real queue (a SQLite file) instead of running them in the request."""
    app.extensions["huey"].immediate = False
    yield app
    app.extensions["huey"].immediate = True


def signed_in(app, person):
    g.pop("_login_user", None)  # requests share the test's app context; a cached user would outlive a client
    client = app.test_client()
    if person is not None:
        assert client.post("/login", data={"email": person.email, "password": PASSWORD}).status_code == 302
    return client
