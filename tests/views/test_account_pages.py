"""Accounts in the browser: admins add and edit any account (several roles, any clinic), managers their
own clinic's people with no role above their own; the person chooses their password from an e-mail;
every change is audited; duplicates and lengths get a clear message."""
import re

from sqlalchemy import func, select

from tests.factories import PASSWORD, make_clinic, make_user
from trainer.extensions import db
from trainer.models import AuditEvent, OutboxMessage, User

NEW_PASSWORD = "lantern quarry velvet oboe"


def _client(app, user):
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def _events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_an_admin_adds_a_chain_wide_account_with_several_roles_who_chooses_a_password(app):
    admin = make_user("admin")
    client = _client(app, admin)
    form = client.get("/manage/people/new").get_data(as_text=True)
    assert 'value="admin"' in form and 'value="trainer"' in form and "No clinic" in form
    response = client.post("/manage/people/new", data={"name": "Tess Trainer", "email": "Tess@Example.org",
                                                       "clinic": "", "roles": ["trainer", "assessor"]})
    assert response.status_code == 302
    tess = db.session.scalar(select(User).where(User.email == "tess@example.org"))
    assert tess.roles == {"trainer", "assessor"} and tess.clinic is None
    assert _events("users.create")[-1].actor_id == admin.id
    [mail] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "account-created")).all()
    assert mail.recipient_email == "tess@example.org" and "7 days" in mail.body
    path = re.search(r"http://trainer\.test(/password/reset/\S+)", mail.body).group(1)
    assert app.test_client().post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert app.test_client().post("/login", data={"email": "tess@example.org",
                                                  "password": NEW_PASSWORD}).status_code == 302


def test_a_manager_adds_people_to_their_own_clinic_only_and_no_higher_role(app):
    manager = make_user("manager")
    other = make_clinic("Other Clinic")
    client = _client(app, manager)
    form = client.get("/manage/people/new").get_data(as_text=True)
    assert 'value="trainer"' not in form and 'value="admin"' not in form and "Other Clinic" not in form
    ok = client.post("/manage/people/new", data={"name": "Lee Learner", "email": "lee@example.org",
                                                 "clinic": str(manager.clinic_id), "roles": ["learner"]})
    assert ok.status_code == 302
    assert db.session.scalar(select(User).where(User.email == "lee@example.org")).clinic_id == manager.clinic_id
    for data in ({"clinic": str(other.id), "roles": ["learner"]},
                 {"clinic": str(manager.clinic_id), "roles": ["admin"]}):
        refused = client.post("/manage/people/new", data={"name": "Nope", "email": "nope@example.org", **data})
        assert refused.status_code == 400, data
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "nope@example.org")) == 0


def test_clear_messages_for_a_duplicate_email_a_long_name_and_no_role(app):
    admin = make_user("admin")
    taken = make_user("learner")
    clinic_id = taken.clinic_id
    client = _client(app, admin)
    cases = [({"email": taken.email.upper(), "name": "Dup", "roles": ["learner"]},
              f"An account for {taken.email} already exists."),
             ({"email": "long@example.org", "name": "N" * 201, "roles": ["learner"]},
              "A name has at most 200 characters."),
             ({"email": "none@example.org", "name": "No Role", "roles": []}, "Give the account at least one role."),
             ({"email": "bad", "name": "Bad Email", "roles": ["learner"]}, "not a valid email address")]
    for data, message in cases:
        response = client.post("/manage/people/new", data={"clinic": str(clinic_id), **data})
        assert response.status_code == 400 and message in response.get_data(as_text=True), data
    learner_without_clinic = client.post("/manage/people/new", data={"email": "x@example.org", "name": "X",
                                                                      "clinic": "", "roles": ["learner"]})
    assert "belong to a clinic" in learner_without_clinic.get_data(as_text=True)


def test_an_admin_edits_name_email_clinic_and_roles_audited(app):
    admin = make_user("admin")
    person = make_user("learner", name="Pat Old")
    new_clinic = make_clinic("New Clinic")
    client = _client(app, admin)
    assert "Edit name, email, clinic and roles" in client.get(f"/manage/people/{person.id}").get_data(as_text=True)
    response = client.post(f"/manage/people/{person.id}/edit", data={
        "name": "Pat New", "email": "pat.new@example.org", "clinic": str(new_clinic.id),
        "roles": ["learner", "manager"]})
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert (person.name, person.email, person.clinic_id, person.roles) == (
        "Pat New", "pat.new@example.org", new_clinic.id, {"learner", "manager"})
    [event] = _events("users.update")
    assert event.details["before"]["name"] == "Pat Old" and event.details["after"]["roles"] == ["learner", "manager"]


def test_a_manager_cannot_edit_a_higher_role_a_foreign_person_or_themself(app):
    manager = make_user("manager")
    clinic_admin = make_user("admin", clinic=manager.clinic)
    foreigner = make_user("learner")
    learner = make_user("learner", clinic=manager.clinic)
    client = _client(app, manager)
    assert client.get(f"/manage/people/{clinic_admin.id}/edit").status_code == 403
    assert client.get(f"/manage/people/{foreigner.id}/edit").status_code == 404
    assert client.get(f"/manage/people/{manager.id}/edit").status_code == 403
    promote = client.post(f"/manage/people/{learner.id}/edit", data={
        "name": learner.name, "email": learner.email, "clinic": str(manager.clinic_id), "roles": ["trainer"]})
    assert promote.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, learner.id).roles == {"learner"}
    assert _events("users.update") == []


def test_the_persons_page_lists_sign_ins_and_signs_them_out_everywhere(app):
    manager = make_user("manager")
    learner = make_user("learner", clinic=manager.clinic)
    email, learner_id, manager_email, manager_id = learner.email, learner.id, manager.email, manager.id
    db.session.commit()  # the test's reads must not hold SQLite's lock while the requests write
    with app.app_context():
        phone = app.test_client()
        assert phone.post("/login", data={"email": email, "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "203.0.113.77"}).status_code == 302
        assert phone.post("/login", data={"email": email, "password": "wrong"}).status_code == 302  # already in
        db.session.remove()
    with app.app_context():
        client = app.test_client()
        assert client.post("/login", data={"email": manager_email, "password": PASSWORD}).status_code == 302
        page = client.get(f"/manage/people/{learner_id}").get_data(as_text=True)
        assert "Sign-ins and sessions" in page and "signed in" in page and "203.0.113.77" in page
        assert client.post(f"/manage/people/{learner_id}/sessions/end").status_code == 302
        db.session.remove()
    with app.app_context():
        response = phone.get("/learn")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        db.session.remove()
    [event] = _events("auth.sessions_end")
    assert event.actor_id == manager_id and event.subject == f"user:{learner_id}"


def test_a_manager_sees_no_sign_ins_of_a_higher_role_and_cannot_sign_them_out(app):
    manager = make_user("manager")
    clinic_admin = make_user("admin", clinic=manager.clinic)
    client = _client(app, manager)
    assert "Sign-ins and sessions" not in client.get(f"/manage/people/{clinic_admin.id}").get_data(as_text=True)
    assert client.post(f"/manage/people/{clinic_admin.id}/sessions/end").status_code == 403
    assert _events("auth.sessions_end") == []
