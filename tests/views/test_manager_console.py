"""The manager's console: summary, register filters, assignments, invitations, deactivation, revocation."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_clinic, make_user, module_of, take_attempt
from trainer import clock
from trainer.extensions import db
from trainer.models import Assignment, AuditEvent, Certificate, Invitation, User


def login(client, user, password=PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password})


@pytest.fixture
def clinic_world(app):
    course = import_course(TINY_COURSE)
    clinic, other = make_clinic("Harbour"), make_clinic("Elsewhere")
    manager = make_user("manager", clinic=clinic, name="Morgan Manager")
    certified = make_user("learner", clinic=clinic, name="Cara Certified")
    for module in course.modules:
        take_attempt(certified, module)
    failing = make_user("learner", clinic=clinic, name="Finn Failing")
    take_attempt(failing, module_of(course, "care"), correct=False)
    idle = make_user("learner", clinic=clinic, name="Ida Idle")
    stranger = make_user("learner", clinic=other, name="Stella Stranger")
    return dict(course=course, clinic=clinic, other=other, manager=manager, certified=certified,
                failing=failing, idle=idle, stranger=stranger)


def test_summary_register_and_chart(app, client, clinic_world):
    login(client, clinic_world["manager"])
    html = client.get("/manage/").get_data(as_text=True)
    assert re.search(r"<strong>1</strong> certified", html)
    assert re.search(r"<strong>2</strong> not started", html)  # Ida and the manager
    assert "<svg" in html and 'role="img"' in html
    assert "Cara Certified" in html and "Finn Failing" in html and "Stella Stranger" not in html


def test_filters_search_sort_and_pagination(app, client, clinic_world):
    login(client, clinic_world["manager"])
    failed = client.get("/manage/?status=failed").get_data(as_text=True)
    assert "Finn Failing" in failed and "Cara Certified" not in failed
    found = client.get("/manage/?q=cara").get_data(as_text=True)
    assert "Cara Certified" in found and "Ida Idle" not in found
    names = re.findall(r'/manage/people/\d+">([^<]+)<', client.get("/manage/?sort=name&dir=desc").get_data(as_text=True))
    assert names == sorted(names, reverse=True)
    for n in range(30):
        make_user("learner", clinic=clinic_world["clinic"], name=f"Zed {n:02d}")
    page2 = client.get("/manage/?page=2").get_data(as_text=True)
    assert "page 2 of 2" in page2
    assert client.get("/manage/?status=bogus&sort=bogus&page=99").status_code == 200


def test_assign_course_makes_people_overdue_after_the_due_date(app, client, clinic_world):
    login(client, clinic_world["manager"])
    due = clock.now().date() + timedelta(days=7)
    form = {"course": "tiny-course", "due": due.isoformat(), "whole_clinic": "chosen"}
    client.post("/manage/assignments", data={**form, "people": [str(clinic_world["idle"].id), str(clinic_world["stranger"].id)]})
    assert db.session.scalars(select(Assignment)).all() == []  # another clinic's person: refused whole
    assert client.post("/manage/assignments", data={**form, "people": [str(clinic_world["idle"].id)]}).status_code == 302
    assignments = db.session.scalars(select(Assignment)).all()
    assert [a.user_id for a in assignments] == [clinic_world["idle"].id]
    clock.freeze(clock.now() + timedelta(days=8))
    login(client, clinic_world["manager"])  # eight days later the idle session has ended
    overdue = client.get("/manage/?status=overdue").get_data(as_text=True)
    assert "Ida Idle" in overdue and "Cara Certified" not in overdue
    client.post("/manage/assignments", data={"course": "tiny-course", "due": date(2000, 1, 1).isoformat(),
                                             "whole_clinic": "all"})
    assert "in the past" in client.get("/manage/").get_data(as_text=True)


def test_invitation_link_works_once_and_expires(app, client, clinic_world):
    login(client, clinic_world["manager"])
    page = client.post("/manage/invitations", data={"name": "Nina New", "email": "nina@example.org", "role": "learner"})
    link = re.search(r"<code>(http[^<]+/invitations/[^<]+)</code>", page.get_data(as_text=True)).group(1)
    token_path = link.split("trainer.test", 1)[1]
    invitation = db.session.scalar(select(Invitation))
    assert token_path.rsplit("/", 1)[1] not in invitation.token_hash  # only a hash is stored
    client.post("/logout")
    assert client.post(token_path, data={"password": "short", "confirm": "short"}).status_code == 400
    response = client.post(token_path, data={"password": "a good long password", "confirm": "a good long password"})
    assert response.status_code == 302
    nina = db.session.scalar(select(User).where(User.email == "nina@example.org"))
    assert nina.clinic_id == clinic_world["clinic"].id and nina.roles == {"learner"}
    client.post("/logout")
    assert client.get(token_path).status_code == 410  # used
    page = client.post("/login", data={"email": clinic_world["manager"].email, "password": PASSWORD})
    page = client.post("/manage/invitations", data={"name": "Late Larry", "email": "larry@example.org", "role": "learner"})
    late = re.search(r"/invitations/([^<\"]+)</code>", page.get_data(as_text=True)).group(1)
    clock.freeze(clock.now() + timedelta(days=8))
    client.post("/logout")
    assert "expired" in client.get(f"/invitations/{late}").get_data(as_text=True)
    assert client.get("/invitations/not-a-token").status_code == 404


def test_deactivated_person_cannot_sign_in_but_records_stay(app, client, clinic_world):
    login(client, clinic_world["manager"])
    person = clinic_world["certified"]
    client.post(f"/manage/people/{person.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert db.session.get(User, person.id).is_enabled is False
    html = client.get("/manage/").get_data(as_text=True)
    assert "Cara Certified" in html and "(deactivated)" in html
    assert db.session.scalar(select(Certificate).where(Certificate.user_id == person.id)) is not None
    client.post("/logout")
    assert "deactivated" in login(client, person).get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "users.deactivate")) is not None


def test_foreign_manager_cannot_touch_another_clinics_people(app, client, clinic_world):
    stranger_manager = make_user("manager", clinic=clinic_world["other"])
    login(client, stranger_manager)
    target = clinic_world["certified"]
    assert client.get(f"/manage/people/{target.id}").status_code == 404
    assert client.post(f"/manage/people/{target.id}/active", data={"active": "0"}).status_code == 404
    assert client.post(f"/manage/people/{target.id}/accommodations",
                       data={"time_multiplier": "2.0", "extra_attempts": "3"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, target.id).is_enabled and db.session.get(User, target.id).time_multiplier == 1.0


def test_revocation_needs_a_reason_and_shows_on_verification(app, client, clinic_world):
    cert = db.session.scalar(select(Certificate))
    trainer = make_user("trainer")
    login(client, trainer)
    client.post(f"/manage/certificates/{cert.code}/revoke", data={"reason": ""})
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).revoked_dt is None
    client.post(f"/manage/certificates/{cert.code}/revoke", data={"reason": "Training record found to be falsified"})
    db.session.expire_all()
    revoked = db.session.get(Certificate, cert.id)
    assert revoked.revoked_by_id == trainer.id and "falsified" in revoked.revoked_reason
    assert client.get(f"/api/v1/certificates/{cert.code}").get_json()["status"] == "revoked"
    client.post("/logout")
    manager = clinic_world["manager"]
    login(client, manager)
    assert client.post(f"/manage/certificates/{cert.code}/revoke", data={"reason": "I want to"}).status_code == 403


def test_admin_sees_every_clinic_and_the_chain(app, client, clinic_world):
    admin = make_user("admin")
    login(client, admin)
    chain = client.get("/manage/?clinic=all").get_data(as_text=True)
    assert "Stella Stranger" in chain and "Cara Certified" in chain
    other = client.get(f"/manage/?clinic={clinic_world['other'].id}").get_data(as_text=True)
    assert "Stella Stranger" in other and "Cara Certified" not in other
