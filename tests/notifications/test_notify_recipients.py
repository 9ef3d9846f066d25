"""flask notify: who gets which message under a frozen clock, and that nothing goes out twice."""
import secrets
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import TINY_COURSE
from tests.factories import import_course, make_clinic, make_user
from trainer import clock
from trainer.extensions import db
from trainer.links import url_builder
from trainer.models import Assignment, AuditEvent, Certificate, OutboxMessage
from trainer.services.notifications import send_notifications

NOW = datetime(2026, 3, 4, 9, 0)  # a Wednesday in ISO week 2026-W10
BASE_URL = "http://127.0.0.1:5000"


def give_certificate(person, course, expires_in_days: int, revoked: bool = False) -> Certificate:
    expires = NOW + timedelta(days=expires_in_days)
    cert = Certificate(code=secrets.token_urlsafe(24), user_id=person.id, course_id=course.id,
                       issued_dt=expires - timedelta(days=course.valid_for_days), expires_dt=expires,
                       score_percent=90.0, revoked_dt=NOW - timedelta(days=1) if revoked else None)
    db.session.add(cert)
    db.session.commit()
    return cert


def assign(person, course, due_in_days: int) -> Assignment:
    assignment = Assignment(user_id=person.id, course_id=course.id, due_date=(NOW + timedelta(days=due_in_days)).date())
    db.session.add(assignment)
    db.session.commit()
    return assignment


@pytest.fixture
def world(app):
    """Two busy clinics and a quiet one; the tiny course is valid 365 days with a 60-day renewal window."""
    clock.freeze(NOW)
    course = import_course(TINY_COURSE)
    north, south, quiet = make_clinic("North Clinic"), make_clinic("South Clinic"), make_clinic("Quiet Clinic")
    p = {
        "soon": make_user("learner", clinic=north, name="Sam Soon"),
        "final": make_user("learner", clinic=north, name="Fay Final"),
        "fine": make_user("learner", clinic=north, name="Finn Fine"),
        "lapsed": make_user("learner", clinic=north, name="Lee Lapsed"),
        "late": make_user("learner", clinic=north, name="Lou Late"),
        "not_due": make_user("learner", clinic=north, name="Nia Notdue"),
        "revoked": make_user("learner", clinic=north, name="Rae Revoked"),
        "gone": make_user("learner", clinic=north, name="Gil Gone"),
        "manager": make_user("manager", "learner", clinic=north, name="Mo Manager"),
        "gone_manager": make_user("manager", clinic=north, name="Gus Gonemanager"),
        "south_learner": make_user("learner", clinic=south, name="Sol South"),
        "south_manager": make_user("manager", clinic=south, name="Sue Southmanager"),
        "quiet_learner": make_user("learner", clinic=quiet, name="Quin Quiet"),
        "quiet_manager": make_user("manager", clinic=quiet, name="Qel Quietmanager"),
    }
    certs = {
        "soon": give_certificate(p["soon"], course, 45),
        "final": give_certificate(p["final"], course, 5),
        "fine": give_certificate(p["fine"], course, 200),
        "lapsed": give_certificate(p["lapsed"], course, -3),
        "revoked": give_certificate(p["revoked"], course, 30, revoked=True),
        "gone": give_certificate(p["gone"], course, 30),
        "south_learner": give_certificate(p["south_learner"], course, 20),
        "quiet_learner": give_certificate(p["quiet_learner"], course, 300),
    }
    assignments = {"late": assign(p["late"], course, -2), "not_due": assign(p["not_due"], course, 1),
                   "gone": assign(p["gone"], course, -2)}
    for person in (p["gone"], p["gone_manager"]):
        person.is_enabled = False
    db.session.commit()
    return {"people": p, "certs": certs, "assignments": assignments, "course": course}


def outbox() -> dict[str, OutboxMessage]:
    return {m.dedupe_key: m for m in db.session.scalars(select(OutboxMessage))}


def expected_first_run_keys(world) -> dict[str, tuple[str, str]]:
    p, certs, late = world["people"], world["certs"], world["assignments"]["late"]
    return {
        f"expiry:cert:{certs['soon'].id}:60d": ("expiry-reminder", p["soon"].email),
        f"expiry:cert:{certs['final'].id}:7d": ("expiry-reminder", p["final"].email),
        f"expiry:cert:{certs['lapsed'].id}:0d": ("expiry-notice", p["lapsed"].email),
        f"expiry:cert:{certs['south_learner'].id}:60d": ("expiry-reminder", p["south_learner"].email),
        f"overdue:assignment:{late.id}:{late.due_date.isoformat()}": ("overdue", p["late"].email),
        f"digest:user:{p['manager'].id}:2026-W10": ("manager-digest", p["manager"].email),
        f"digest:user:{p['south_manager'].id}:2026-W10": ("manager-digest", p["south_manager"].email),
    }


def test_each_person_gets_exactly_the_messages_their_records_call_for(world):
    report = send_notifications(NOW, None, url_builder(BASE_URL))
    sent = outbox()
    assert {key: (m.kind, m.recipient_email) for key, m in sent.items()} == expected_first_run_keys(world)
    assert report.sent == {"expiry-reminder": 3, "expiry-notice": 1, "overdue": 1, "manager-digest": 2}
    assert all(m.sent_dt is None and m.created_dt == NOW for m in sent.values())  # no SMTP_URL: outbox only


def test_deactivated_people_get_nothing_and_are_left_out_of_digests(world):
    send_notifications(NOW, None, url_builder(BASE_URL))
    p = world["people"]
    recipients = {m.recipient_id for m in outbox().values()}
    assert p["gone"].id not in recipients and p["gone_manager"].id not in recipients
    digest = outbox()[f"digest:user:{p['manager'].id}:2026-W10"]
    assert p["gone"].name not in digest.body


def test_a_quiet_clinic_manager_gets_no_digest(world):
    send_notifications(NOW, None, url_builder(BASE_URL))
    assert world["people"]["quiet_manager"].id not in {m.recipient_id for m in outbox().values()}


def test_manager_digest_lists_only_their_own_clinics_expiring_and_overdue_people(world):
    send_notifications(NOW, None, url_builder(BASE_URL))
    p = world["people"]
    north = outbox()[f"digest:user:{p['manager'].id}:2026-W10"].body
    for listed in ("soon", "final", "late"):
        assert p[listed].name in north and f"{BASE_URL}/manage/people/{p[listed].id}" in north
    for absent in ("fine", "lapsed", "not_due", "revoked", "gone", "south_learner", "quiet_learner"):
        assert p[absent].name not in north, absent
    assert "expiring in the next 60 days (2)" in north and "Overdue (1)" in north
    assert f"{BASE_URL}/manage/" in north
    south = outbox()[f"digest:user:{p['south_manager'].id}:2026-W10"].body
    assert p["south_learner"].name in south and p["soon"].name not in south and p["late"].name not in south


def test_bodies_say_what_to_do_with_links_into_the_app(world):
    send_notifications(NOW, None, url_builder(BASE_URL))
    sent, certs, late = outbox(), world["certs"], world["assignments"]["late"]
    reminder = sent[f"expiry:cert:{certs['soon'].id}:60d"]
    assert reminder.subject == "Your Tiny Course certificate expires on 2026-04-18"
    assert "(in 45 days)" in reminder.body
    assert f"Sign in at {BASE_URL}/learn and retake the module quizzes" in reminder.body
    assert f"{BASE_URL}/certificates/{certs['soon'].code}" in reminder.body
    expired = sent[f"expiry:cert:{certs['lapsed'].id}:0d"]
    assert "expired on 2026-03-01" in expired.body and f"Sign in at {BASE_URL}/learn" in expired.body
    overdue = sent[f"overdue:assignment:{late.id}:2026-03-02"]
    assert "was due by 2026-03-02" in overdue.body and "complete the module quizzes" in overdue.body


def test_a_second_run_sends_nothing(world):
    send_notifications(NOW, None, url_builder(BASE_URL))
    count = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    events = db.session.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.action == "notifications.send"))
    report = send_notifications(NOW, None, url_builder(BASE_URL))
    assert report.total_sent == 0 and report.already_sent == count == 7
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == count
    assert events == 1 and db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "notifications.send")) == 1


def test_each_threshold_and_each_week_brings_one_new_message(world):
    send_notifications(NOW, None, url_builder(BASE_URL))
    first = set(outbox())
    later = NOW + timedelta(days=40)  # soon: 5 days left; final and south: expired; six weeks on
    clock.freeze(later)
    send_notifications(later, None, url_builder(BASE_URL))
    certs, p, not_due = world["certs"], world["people"], world["assignments"]["not_due"]
    week = "2026-W16"
    assert later.isocalendar()[:2] == (2026, 16)
    assert set(outbox()) - first == {
        f"expiry:cert:{certs['soon'].id}:7d", f"expiry:cert:{certs['final'].id}:0d",
        f"expiry:cert:{certs['south_learner'].id}:0d",
        f"overdue:assignment:{not_due.id}:{not_due.due_date.isoformat()}",  # its due date has passed meanwhile
        f"digest:user:{p['manager'].id}:{week}",  # South's only certificate has expired: nothing to report there
    }
    assert send_notifications(later, None, url_builder(BASE_URL)).total_sent == 0


def test_first_reminder_close_to_expiry_is_only_the_most_urgent_one(world):
    """A certificate found 5 days before expiry gets the 7-day reminder, not the 60-day one as well."""
    send_notifications(NOW, None, url_builder(BASE_URL))
    final = world["certs"]["final"].id
    assert f"expiry:cert:{final}:7d" in outbox() and f"expiry:cert:{final}:60d" not in outbox()


def test_cli_runs_twice_and_the_second_run_sends_nothing(world, runner):
    result = runner.invoke(args=["notify"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "Sent 7 message(s) to the outbox (SMTP_URL is not set): 3 expiry reminder(s), 1 expiry notice(s), "
        "1 overdue notice(s), 2 manager digest(s); 0 already sent earlier.")
    count = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    again = runner.invoke(args=["notify"])
    assert again.exit_code == 0
    assert again.output.startswith("Sent 0 message(s)") and "7 already sent earlier." in again.output
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == count == 7


def test_cli_base_url_sets_the_links(world, runner):
    result = runner.invoke(args=["notify", "--base-url", "https://training.example.org/app/"])
    assert result.exit_code == 0, result.output
    body = outbox()[f"expiry:cert:{world['certs']['soon'].id}:60d"].body
    assert "Sign in at https://training.example.org/app/learn and" in body


def test_cli_refuses_a_base_url_that_is_not_one(world, runner):
    result = runner.invoke(args=["notify", "--base-url", "training.example.org"])
    assert result.exit_code == 1 and "is not a base URL" in result.output and "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_links_in_messages_come_from_the_url_builder_passed_in(world):
    asked: list[str] = []

    def elsewhere(endpoint: str, **values) -> str:
        asked.append(endpoint)
        return f"https://elsewhere.example/{endpoint}"

    send_notifications(NOW, None, elsewhere)
    bodies = [m.body for m in outbox().values()]
    assert asked and all("https://elsewhere.example/" in body for body in bodies)
    assert not any(BASE_URL in body for body in bodies)
