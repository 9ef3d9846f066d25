"""Certificates: the database keeps one current certificate per person and course."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import TINY_COURSE
from tests.factories import import_course, make_user, module_of, take_attempt
from trainer import clock
from trainer.extensions import db
from trainer.models import Certificate
from trainer.services.certificates import new_certificate_code


def _certificate(learner, course, **fields) -> Certificate:
    now = clock.now()
    return Certificate(code=new_certificate_code(), user_id=learner.id, course_id=course.id, issued_dt=now,
                       expires_dt=now + timedelta(days=365), score_percent=90.0, **fields)


def _current(learner, course) -> list[Certificate]:
    return db.session.scalars(select(Certificate).where(
        Certificate.user_id == learner.id, Certificate.course_id == course.id,
        Certificate.superseded_by_id.is_(None), Certificate.revoked_dt.is_(None))).all()


def test_the_database_refuses_a_second_current_certificate(app):
    course = import_course(TINY_COURSE)
    learner = make_user()
    for module in course.modules:
        take_attempt(learner, module)
    [current] = _current(learner, course)
    # Revoked and superseded certificates are history: any number of them may sit beside it.
    db.session.add(_certificate(learner, course, revoked_dt=clock.now()))
    db.session.add(_certificate(learner, course, superseded_dt=clock.now(), superseded_by_id=current.id))
    db.session.commit()
    db.session.add(_certificate(learner, course))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert _current(learner, course) == [current]


def test_a_refused_certificate_leaves_the_submit_graded(app):
    course = import_course(TINY_COURSE)
    learner = make_user()
    take_attempt(learner, module_of(course, "basics"))
    # A state the issuing rule cannot see through: a current certificate behind a newer, revoked
    # one. Issuing a new one would make two current; the index refuses it, and only the issue
    # is undone, not the learner's submit.
    older = _certificate(learner, course)
    older.issued_dt -= timedelta(days=1)
    db.session.add(older)
    db.session.add(_certificate(learner, course, revoked_dt=clock.now()))
    db.session.commit()
    attempt = take_attempt(learner, module_of(course, "care"))
    assert attempt.state == "submitted" and attempt.passed is True
    db.session.expire_all()
    assert [c.id for c in _current(learner, course)] == [older.id]
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 2
