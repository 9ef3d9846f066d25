"""Admins add and rename clinics in the browser, with a time zone, each change audited; duplicates
(whatever their case or accents' encoding) and over-long names get a clear message."""
import re
import unicodedata

import pytest
from sqlalchemy import func, select

from tests.factories import PASSWORD, make_clinic, make_user
from trainer.extensions import db
from trainer.models import AuditEvent, Clinic
from trainer.services import Forbidden, ServiceError
from trainer.services.accounts import create_clinic, rename_clinic
from trainer.services.staff import invite_staff


@pytest.fixture
def admin_client(app):
    admin = make_user("admin")
    client = app.test_client()
    assert client.post("/login", data={"email": admin.email, "password": PASSWORD}).status_code == 302
    return client


def _events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_an_admin_adds_a_clinic_with_its_time_zone(admin_client):
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert "Add a clinic" in page and 'name="time_zone"' in page
    response = admin_client.post("/admin/clinics", data={"name": "Clinique Étoile", "time_zone": "Europe/Paris"})
    assert response.status_code == 302
    clinic = db.session.scalar(select(Clinic))
    assert (clinic.name, clinic.time_zone) == ("Clinique Étoile", "Europe/Paris")
    [event] = _events("clinics.create")
    assert event.details == {"name": "Clinique Étoile", "time_zone": "Europe/Paris"}
    assert "Europe/Paris" in admin_client.get("/admin/").get_data(as_text=True)


def test_a_duplicate_or_bad_clinic_gets_a_clear_message(admin_client):
    make_clinic("Clinique Étoile")
    cases = {
        unicodedata.normalize("NFD", "CLINIQUE ÉTOILE"): "A clinic named &#39;Clinique Étoile&#39; already exists.",
        "x" * 10_000: "A clinic name has at most 100 characters.",
        "": "Give the clinic a name.",
    }
    for name, message in cases.items():
        response = admin_client.post("/admin/clinics", data={"name": name, "time_zone": "UTC"})
        assert response.status_code == 400 and message in response.get_data(as_text=True), name
    response = admin_client.post("/admin/clinics", data={"name": "North", "time_zone": "Mars/Olympus"})
    assert response.status_code == 400 and "is not a time zone" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Clinic)) == 1


def test_an_admin_renames_a_clinic_and_its_people_stay(admin_client):
    clinic = make_clinic("North Clinic")
    learner = make_user("learner", clinic=clinic)
    response = admin_client.post(f"/admin/clinics/{clinic.id}", data={"name": "North Clinic Leeds"})
    assert response.status_code == 302
    db.session.expire_all()
    assert clinic.name == "North Clinic Leeds" and learner.clinic == clinic
    assert _events("clinics.rename")[0].details == {"before": "North Clinic", "after": "North Clinic Leeds"}
    # Changing only the case of its own name is allowed; taking another clinic's name is not.
    assert admin_client.post(f"/admin/clinics/{clinic.id}", data={"name": "NORTH CLINIC LEEDS"}).status_code == 302
    make_clinic("South Clinic")
    refused = admin_client.post(f"/admin/clinics/{clinic.id}", data={"name": "south clinic"})
    assert refused.status_code == 400
    assert "A clinic named &#39;South Clinic&#39; already exists." in refused.get_data(as_text=True)
    assert admin_client.post("/admin/clinics/9999", data={"name": "Nowhere"}).status_code == 404


def test_only_admins_add_or_rename_clinics_in_the_service_too(app):
    manager = make_user("manager")
    with pytest.raises(Forbidden):
        create_clinic(manager, "Manager's Own Clinic")
    with pytest.raises(Forbidden):
        rename_clinic(manager, manager.clinic, "Renamed")


def test_the_clinic_forms_need_the_csrf_token(csrf_app):
    admin = make_user("admin")
    clinic = make_clinic("North Clinic")
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login",
                       data={"email": admin.email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    assert client.post("/admin/clinics", data={"name": "East", "time_zone": "UTC"}).status_code == 400
    assert client.post(f"/admin/clinics/{clinic.id}", data={"name": "West"}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Clinic)) == 1


def test_an_archived_clinic_takes_no_one_new_and_keeps_its_people(admin_client, runner, monkeypatch):
    clinic = make_clinic("Closing Clinic")
    learner = make_user("learner", clinic=clinic)
    manager = make_user("manager", clinic=clinic)
    assert admin_client.post(f"/admin/clinics/{clinic.id}/archived", data={"archived": "1"}).status_code == 302
    db.session.expire_all()
    assert clinic.archived_dt is not None and learner.clinic_id == clinic.id and learner.is_enabled
    assert "Closing Clinic <strong>(archived)</strong>" in admin_client.get("/admin/").get_data(as_text=True)
    assert "Closing Clinic" not in admin_client.get("/manage/people/new").get_data(as_text=True)
    refused = admin_client.post("/manage/people/new", data={"name": "New Person", "email": "new@example.org",
                                                           "clinic": str(clinic.id), "roles": ["learner"]})
    assert refused.status_code == 400
    with pytest.raises(ServiceError, match="is archived"):
        invite_staff(manager, clinic.id, "ivy@example.org", "Ivy", ["learner"])
    monkeypatch.setenv("TRAINER_PASSWORD", "lantern quarry velvet oboe")
    cli = runner.invoke(args=["users", "create", "cli@example.org", "--name", "Cli", "--clinic", "closing clinic"])
    assert cli.exit_code == 1 and "Closing Clinic is archived" in cli.output
    assert admin_client.post(f"/admin/clinics/{clinic.id}/archived", data={"archived": "0"}).status_code == 302
    assert admin_client.post("/manage/people/new", data={"name": "New Person", "email": "new@example.org",
                                                        "clinic": str(clinic.id), "roles": ["learner"]}
                             ).status_code == 302
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.subject == f"clinic:{clinic.id}")
                                .order_by(AuditEvent.id))
    assert [e.action for e in events][-2:] == ["clinics.archive", "clinics.restore"]
