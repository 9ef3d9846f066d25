"""Archiving a clinic shuts its people out until it is restored: sign-in is refused and open sessions end.

Their accounts and records stay as they are (nothing is deactivated), so restoring the clinic lets
them back in; admins are never shut out, so someone can always restore it.
"""
from sqlalchemy import select

from tests.factories import PASSWORD, make_clinic, make_user
from tests.security.test_sessions import _get, _signed_in_client
from trainer.extensions import db
from trainer.models import AuditEvent
from trainer.services.accounts import set_clinic_archived


def _password_sign_in(app, email):
    with app.app_context():
        return app.test_client().post("/login", data={"email": email, "password": PASSWORD})


def test_archiving_a_clinic_refuses_its_peoples_sign_in_until_it_is_restored(app):
    clinic = make_clinic("Closing Clinic")
    learner = make_user("learner", clinic=clinic)
    email = learner.email
    set_clinic_archived(None, clinic, True)
    response = _password_sign_in(app, email)
    assert response.status_code == 401
    assert "Closing Clinic is archived, so its accounts cannot sign in" in response.get_data(as_text=True)
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")).one()
    assert refused.details["reason"] == "clinic archived"
    db.session.commit()

    set_clinic_archived(None, db.session.merge(clinic), False)
    assert _password_sign_in(app, email).status_code == 302


def test_archiving_a_clinic_ends_its_peoples_open_sessions_but_not_an_admins(app):
    clinic = make_clinic("Closing Clinic")
    learner = make_user("learner", clinic=clinic)
    admin = make_user("admin", clinic=clinic)
    elsewhere = make_user("learner")
    learner_browser, admin_browser = _signed_in_client(app, learner), _signed_in_client(app, admin)
    elsewhere_browser = _signed_in_client(app, elsewhere)
    set_clinic_archived(None, db.session.merge(clinic), True)
    assert _get(app, learner_browser, "/learn").status_code == 302
    assert _get(app, admin_browser, "/admin/").status_code == 200
    assert _get(app, elsewhere_browser, "/learn").status_code == 200
    assert db.session.merge(learner).is_enabled  # shut out by the clinic, not deactivated


def test_the_admin_page_says_what_archiving_does(app):
    clinic_id = make_clinic("Closing Clinic").id
    admin_browser = _signed_in_client(app, make_user("admin"))
    with app.app_context():
        admin_browser.post(f"/admin/clinics/{clinic_id}/archived", data={"archived": "1"})
    page = _get(app, admin_browser, "/admin/").get_data(as_text=True)
    assert "Closing Clinic is archived: no new people, and its people cannot sign in until it is restored" in page
