"""flask notify through SMTP_URL: messages reach a local mail server and are marked sent."""
import secrets
import socket
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import TINY_COURSE
from tests.factories import import_course, make_clinic, make_user
from tests.notifications.smtp_sink import SmtpSink
from trainer import clock
from trainer.extensions import db
from trainer.models import Certificate, OutboxMessage

NOW = datetime(2026, 3, 4, 9, 0)


@pytest.fixture
def expiring_learner_and_manager(app):
    clock.freeze(NOW)
    course = import_course(TINY_COURSE)
    clinic = make_clinic("North Clinic")
    learner = make_user("learner", clinic=clinic, name="Sam Soon")
    manager = make_user("manager", clinic=clinic, name="Mo Manager")
    db.session.add(Certificate(code=secrets.token_urlsafe(24), user_id=learner.id, course_id=course.id,
                               issued_dt=NOW - timedelta(days=335), expires_dt=NOW + timedelta(days=30),
                               score_percent=90.0))
    db.session.commit()
    return learner, manager


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_messages_arrive_through_smtp_and_are_marked_sent(app, runner, expiring_learner_and_manager):
    learner, manager = expiring_learner_and_manager
    with SmtpSink() as sink:
        app.config["SMTP_URL"] = sink.url
        result = runner.invoke(args=["notify"])
        assert result.exit_code == 0, result.output
        assert "Sent 2 message(s) through SMTP" in result.output
        assert sorted(m["To"] for m in sink.messages) == sorted([learner.email, manager.email])
        reminder = next(m for m in sink.messages if m["To"] == learner.email)
        assert reminder["Subject"] == "Your Tiny Course certificate expires on 2026-04-03"
        body = reminder.get_payload(decode=True).decode()
        assert "Sign in at http://trainer.test/learn and retake the module quizzes" in body
        rows = db.session.scalars(select(OutboxMessage)).all()
        assert len(rows) == 2 and all(row.sent_dt == NOW for row in rows)

        again = runner.invoke(args=["notify"])
        assert again.exit_code == 0 and "Sent 0 message(s)" in again.output
        assert len(sink.messages) == 2


def test_an_unreachable_mail_server_stops_the_run_with_one_sentence(app, runner, expiring_learner_and_manager):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{_closed_port()}"
    result = runner.invoke(args=["notify"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "The mail server refused a message" in result.output and "stay in the outbox" in result.output
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert len(rows) == 1 and rows[0].sent_dt is None  # the rest go out on the next run


def test_messages_left_unsent_by_a_refusing_server_go_out_on_the_next_run(app, runner, expiring_learner_and_manager):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{_closed_port()}"
    assert runner.invoke(args=["notify"]).exit_code == 1
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.sent_dt.is_(None))).all()
    with SmtpSink() as sink:
        app.config["SMTP_URL"] = sink.url
        result = runner.invoke(args=["notify"])
        assert result.exit_code == 0, result.output
        assert "earlier unsent message(s) sent now" in result.output
        assert len(sink.messages) == 2  # one left unsent by the failure, one planned after it
        assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.sent_dt.is_(None))).all() == []
        again = runner.invoke(args=["notify"])
        assert "Sent 0 message(s)" in again.output and len(sink.messages) == 2
