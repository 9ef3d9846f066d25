"""In a real browser, with CSRF and the CSP on: an admin adds a clinic and its manager, the manager
chooses a password from the e-mailed link and imports 20 staff from a CSV, and one of them, having
never kept the first link, resets a forgotten password from the e-mail in the outbox and signs in, and
another signs in with single sign-on through a real OpenID Connect provider (npm's oidc-provider)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, make_user
from tests.oidc import running_provider
from trainer import sso
from trainer.extensions import db
from trainer.models import AuditEvent, ExternalIdentity, OutboxMessage, User

pytestmark = pytest.mark.browser


@pytest.fixture
def live_sso(live_app, live_server, monkeypatch):
    """Single sign-on on the live app through a provider that knows its address; switched off afterwards."""
    with running_provider([f"{live_server}/login/sso/callback"]) as provider:
        for name, value in {**provider.app_config(), "TRAINER_BASE_URL": live_server}.items():
            monkeypatch.setitem(live_app.config, name, value)
        sso.init_app(live_app)
        yield provider
        live_app.extensions.pop("authlib.integrations.flask_client", None)


def _latest_link(in_app, email: str) -> str:
    """The path of the newest password link e-mailed to `email` (links point at TRAINER_BASE_URL)."""
    with in_app():
        body = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient_email == email)
                                  .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"https?://[^/\s]+(/password/reset/\S+)", body).group(1)


def _sign_in(page, email, password):
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def _choose_password(page, path, password):
    page.goto(path)
    page.get_by_label("New password").fill(password)
    page.get_by_label("Type it again").fill(password)
    page.get_by_role("button", name="Save the new password").click()
    page.get_by_text("Sign in with the new password").wait_for()


def test_admin_adds_a_clinic_and_manager_who_imports_staff_and_one_resets_a_forgotten_password(in_app, new_context,
                                                                                            live_sso):
    with in_app():
        admin = make_user("admin", email="root.admin@example.org")
        admin_email = admin.email
    admin_page = new_context().new_page()
    _sign_in(admin_page, admin_email, PASSWORD)
    admin_page.goto("/admin/")
    admin_page.get_by_label("Clinic name").fill("Clinique Étoile")
    admin_page.get_by_label("Time zone").select_option("Europe/Paris")
    admin_page.get_by_role("button", name="Add the clinic").click()
    admin_page.get_by_text("Clinic Clinique Étoile added (times shown in Europe/Paris).").wait_for()

    admin_page.get_by_role("link", name="Add an account").click()
    admin_page.get_by_label("Full name").fill("Margaux Manager")
    admin_page.get_by_label("Email", exact=True).fill("margaux@example.org")
    admin_page.get_by_label("Clinic", exact=True).select_option(label="Clinique Étoile")
    admin_page.get_by_label("Manager (their clinic's register)").check()
    admin_page.get_by_role("button", name="Add the account").click()
    admin_page.get_by_text("Margaux Manager's account is ready").wait_for()

    manager_page = new_context().new_page()
    _choose_password(manager_page, _latest_link(in_app, "margaux@example.org"), "harbour maple cinder flute")
    _sign_in(manager_page, "margaux@example.org", "harbour maple cinder flute")
    manager_page.goto("/manage/")
    manager_page.get_by_role("link", name="Import staff").click()
    staff = "email,name,roles\npat@example.org,Pat Praticienne,learner\n" + "".join(
        f"staff{n}@example.org,Staff Member {n},learner\n" for n in range(2, 21))
    manager_page.get_by_label("Staff file (CSV or XLSX)").set_input_files(
        files=[{"name": "staff.csv", "mimeType": "text/csv", "buffer": staff.encode()}])
    manager_page.get_by_role("button", name="Preview").click()
    manager_page.get_by_text("20 to create, 0 to update, 0 refused.").wait_for()
    manager_page.get_by_role("button", name="Confirm: import 20 people").click()
    manager_page.get_by_text("Imported: 20 account(s) created").wait_for()

    # Pat lets the first link lapse, forgets everything, and uses "Forgot your password?".
    pat_page = new_context().new_page()
    pat_page.goto("/login")
    pat_page.get_by_role("link", name="Forgot your password?").click()
    pat_page.get_by_label("Email", exact=True).fill("pat@example.org")
    pat_page.get_by_role("button", name="E-mail me a link").click()
    pat_page.get_by_text("Check your e-mail").wait_for()
    _choose_password(pat_page, _latest_link(in_app, "pat@example.org"), "meadow copper lantern quill")
    _sign_in(pat_page, "pat@example.org", "meadow copper lantern quill")
    pat_page.wait_for_url(re.compile(r".*/learn$"))

    # Another of the imported staff never chooses a password: they sign in with their organisation's account.
    sso_page = new_context().new_page()
    sso_page.goto("/login")
    sso_page.get_by_role("link", name="Sign in with Test Identity").click()
    sso_page.wait_for_url(f"{live_sso.issuer}/**")
    sso_page.locator("input[name=login]").fill("staff2")
    sso_page.locator("input[name=password]").fill("any password")
    sso_page.get_by_role("button", name="Sign-in").click()
    sso_page.wait_for_url(re.compile(r".*/learn$"))
    sso_page.goto("/account")
    sso_page.get_by_role("heading", name="Your account").wait_for()
    with in_app():
        staff2 = db.session.scalar(select(User).where(User.email == "staff2@example.org"))
        link = db.session.scalar(select(ExternalIdentity).where(ExternalIdentity.user_id == staff2.id))
        sign_in = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.sign_in",
                                                              AuditEvent.actor_id == staff2.id)).one()
        assert (link.issuer, link.subject) == (live_sso.issuer, "staff2")
        assert sign_in.details["method"] == "sso"
