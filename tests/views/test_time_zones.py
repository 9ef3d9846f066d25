"""Times in the person's time zone: the clinic's zone, overridable per person; UTC when neither is set."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_clinic, make_user, module_of, take_attempt
from trainer import clock
from trainer.extensions import db
from trainer.models import AuditEvent


def login(client, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})


def test_times_show_in_the_clinic_zone_unless_the_person_has_their_own(app, client):
    course = import_course(TINY_COURSE)
    clinic = make_clinic("Harbour")
    manager = make_user("manager", clinic=clinic, name="Morgan Manager")
    learner = make_user("learner", clinic=clinic, name="Pat Practitioner")
    clock.freeze(datetime(2026, 12, 1, 12, 0))
    take_attempt(learner, module_of(course, "care"), correct=False)

    login(client, manager)
    assert "12:00 UTC" in client.get(f"/manage/people/{learner.id}").get_data(as_text=True)
    response = client.post("/manage/time-zone", data={"clinic": clinic.id, "time_zone": "America/New_York"})
    assert response.status_code == 302
    assert "07:00 EST" in client.get(f"/manage/people/{learner.id}").get_data(as_text=True)

    # The person's own zone wins over the clinic's, for what they see.
    client.post(f"/manage/people/{learner.id}/time-zone", data={"time_zone": "Asia/Tokyo"})
    client.post("/logout")
    login(client, learner)
    module_page = client.get(f"/learn/{course.slug}/care").get_data(as_text=True)
    assert "21:00 JST" in module_page and "12:00 UTC" not in module_page

    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "clinics.time_zone" in actions and "users.time_zone" in actions


def test_an_unknown_time_zone_is_refused_with_a_clear_message(app, client):
    clinic = make_clinic("Harbour")
    manager = make_user("manager", clinic=clinic)
    login(client, manager)
    response = client.post("/manage/time-zone", data={"clinic": clinic.id, "time_zone": "Mars/Olympus_Mons"},
                           follow_redirects=True)
    assert re.search(r"Mars/Olympus_Mons(&#39;|')? is not a time zone", response.get_data(as_text=True))
    assert db.session.get(type(clinic), clinic.id).time_zone == "UTC"


def test_the_next_attempt_time_is_in_the_learners_zone(app, client):
    course = import_course(TINY_COURSE)
    clinic = make_clinic("Harbour")
    from trainer.services.staff import set_clinic_time_zone
    admin = make_user("admin")
    set_clinic_time_zone(admin, clinic, "Europe/Berlin")
    learner = make_user("learner", clinic=clinic)
    clock.freeze(datetime(2026, 12, 1, 12, 0))
    basics = module_of(course, "basics")
    take_attempt(learner, basics, correct=False)
    take_attempt(learner, basics, correct=False, seed=2)
    login(client, learner)
    page = " ".join(re.sub(r"<[^>]+>", " ", client.get(f"/learn/{course.slug}/basics").get_data(as_text=True)).split())
    assert "The next attempt opens on 2 December 2026 at 13:00 CET" in page


def test_the_time_zone_select_offers_every_zone_once_with_the_clinics_marked(app, client):
    from trainer.time_zones import time_zone_names

    import_course(TINY_COURSE)
    clinic = make_clinic("Harbour")
    clinic.time_zone = "Europe/Dublin"
    db.session.commit()
    login(client, make_user("manager", clinic=clinic))
    page = client.get("/manage/").get_data(as_text=True)
    select_html = page[page.index('<select id="clinic-time-zone"'):]
    select_html = select_html[:select_html.index("</select>")]
    options = re.findall(r"<option( selected)?>([^<]+)</option>", select_html)
    assert [name for _, name in options] == list(time_zone_names())
    assert [name for chosen, name in options if chosen] == ["Europe/Dublin"]
