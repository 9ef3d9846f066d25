"""Single sign-on against a real OpenID Connect provider (npm's oidc-provider on 127.0.0.1).

The app runs under Flask's test client; the provider is driven over HTTP the way a browser would
(its sign-in form, its redirects), so the code, the PKCE verifier, the state, the nonce and the
signed ID token are all real. Nothing of ours or the provider's is mocked.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import app_with_empty_tables, make_app
from tests.factories import PASSWORD, make_clinic, make_user
from tests.oidc import running_provider
from trainer.config import ConfigError, settings_from_environment
from trainer.extensions import db
from trainer.models import AuditEvent, ExternalIdentity, User
from trainer.services.accounts import set_clinic_archived

APP = "http://trainer.test"


@pytest.fixture(scope="module")
def provider():
    with running_provider([f"{APP}/login/sso/callback"]) as provider:
        yield provider


@pytest.fixture
def sso_app(database_url, provider):
    """The app pointed at the provider (on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set)."""
    yield from app_with_empty_tables(database_url, **provider.app_config())


@pytest.fixture
def client(sso_app):
    return sso_app.test_client()


@pytest.fixture
def home(sso_app):
    return make_clinic("Home Clinic")


def _start(client, next_path: str | None = None) -> str:
    response = client.get("/login/sso" + (f"?next={next_path}" if next_path else ""))
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def _sign_in(client, provider, login: str, next_path: str | None = None):
    """The whole round trip: our redirect, the provider's sign-in form, back to our callback."""
    callback = provider.sign_in(_start(client, next_path), login, stop_at=APP)
    return client.get(callback.removeprefix(APP))


def _signed_in_email(client) -> str | None:
    response = client.get("/account")
    if response.status_code != 200:
        return None
    with client.session_transaction() as session:
        user = db.session.get(User, int(session["_user_id"]))
    return user.email


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_the_authorization_request_uses_pkce_state_and_nonce(client, provider):
    location = _start(client)
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(provider.issuer)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert query["redirect_uri"] == [f"{APP}/login/sso/callback"]
    assert query["scope"] == ["openid email profile"]


def test_a_verified_email_links_the_existing_account_and_later_sign_ins_use_the_link(client, provider, home):
    person = make_user("learner", clinic=home, email="sam@example.org")
    response = _sign_in(client, provider, "sam")
    assert response.status_code == 302 and response.headers["Location"] == "/learn"
    assert _signed_in_email(client) == "sam@example.org"
    link = db.session.scalars(select(ExternalIdentity)).one()
    assert (link.issuer, link.subject, link.user_id) == (provider.issuer, "sam", person.id)
    assert [e.details["matched_by"] for e in _events("auth.sso_link")] == ["email"]
    sign_ins = _events("auth.sign_in")
    assert [(e.actor_id, e.details["method"]) for e in sign_ins] == [(person.id, "sso")]

    # The person changes their email here; the provider's subject still finds them.
    person.email = "sam.renamed@example.org"
    db.session.commit()
    client.post("/logout")
    assert _sign_in(client, provider, "sam").status_code == 302
    assert _signed_in_email(client) == "sam.renamed@example.org"
    assert len(_events("auth.sso_link")) == 1
    assert db.session.scalar(select(User).where(User.email == "sam@example.org")) is None


def test_an_unverified_email_is_not_linked(client, provider, home):
    make_user("learner", clinic=home, email="sam@example.org")
    response = _sign_in(client, provider, "sam-unverified")
    assert response.status_code == 403
    assert "has not verified the email sam@example.org" in response.text
    assert _signed_in_email(client) is None
    assert db.session.scalars(select(ExternalIdentity)).all() == []
    assert [e.details["reason"] for e in _events("auth.sign_in_failed")] == ["email not verified"]


def test_a_provider_that_names_its_verified_claim_differently_links_once_configured(sso_app, client, provider, home):
    """Entra ID sends no email_verified; its `xms_edov` says the email's domain is verified by the tenant."""
    make_user("learner", clinic=home, email="sam@example.org")
    assert _sign_in(client, provider, "sam-entra").status_code == 403
    sso_app.config["OIDC_EMAIL_VERIFIED_CLAIM"] = "xms_edov"
    assert _sign_in(client, provider, "sam-entra").headers["Location"] == "/learn"
    assert _signed_in_email(client) == "sam@example.org"


def test_without_just_in_time_accounts_an_unknown_person_is_refused(client, provider, home):
    response = _sign_in(client, provider, "newbie")
    assert response.status_code == 403
    assert "There is no account here for you yet" in response.text
    assert db.session.scalar(select(User).where(User.email == "newbie@example.org")) is None
    assert [(e.subject, e.details["method"], e.details["reason"]) for e in _events("auth.sign_in_failed")] == [
        ("user:unknown", "sso", "no account")]


def test_just_in_time_accounts_take_roles_and_clinic_from_the_claims(sso_app, client, provider, home):
    sso_app.config.update(OIDC_CREATE_ACCOUNTS=True, OIDC_ROLE_MAP={"trainer-managers": ["manager", "learner"]})
    response = _sign_in(client, provider, "newbie")  # clinic claim "  home CLINIC ", group "staff" unmapped
    assert response.headers["Location"] == "/learn"
    newbie = db.session.scalar(select(User).where(User.email == "newbie@example.org"))
    assert (newbie.name, newbie.roles, newbie.clinic_id) == ("Nora Newbie", {"learner"}, home.id)
    created = _events("users.create")
    assert [(e.details["via"], e.details["roles"]) for e in created] == [("sso", ["learner"])]

    client.post("/logout")
    assert _sign_in(client, provider, "new-manager").headers["Location"] == "/learn"
    boss = db.session.scalar(select(User).where(User.email == "boss@example.org"))
    assert boss.roles == {"manager", "learner"} and boss.clinic_id == home.id


def test_the_roles_of_an_existing_account_stay_as_set_here(sso_app, client, provider, home):
    sso_app.config.update(OIDC_CREATE_ACCOUNTS=True, OIDC_ROLE_MAP={"trainer-managers": ["manager"]})
    boss = make_user("learner", clinic=home, email="boss@example.org")
    assert _sign_in(client, provider, "new-manager").status_code == 302  # the provider says: trainer-managers
    db.session.refresh(boss)
    assert boss.roles == {"learner"}


def test_just_in_time_accounts_are_never_admins_unless_a_group_is_mapped_to_admin(sso_app, client, provider, home):
    sso_app.config.update(OIDC_CREATE_ACCOUNTS=True, OIDC_ROLE_MAP={"trainer-managers": ["manager"]})
    _sign_in(client, provider, "would-be-admin")  # groups "admins", "Domain Admins"
    sneaky = db.session.scalar(select(User).where(User.email == "sneaky@example.org"))
    assert sneaky.roles == {"learner"}
    assert client.get("/admin/").status_code == 403


def test_just_in_time_refuses_an_unknown_or_archived_clinic_and_an_unverified_email(sso_app, client, provider, home):
    sso_app.config.update(OIDC_CREATE_ACCOUNTS=True)
    old = make_clinic("Old Clinic")
    set_clinic_archived(None, old, True)
    refusals = {}
    for login in ("nowhere", "archived", "new-unverified"):
        response = _sign_in(client, provider, login)
        refusals[login] = (response.status_code, response.text)
    assert refusals["nowhere"][0] == 403
    assert "Clinic That Is Not Here&#39;, which is not a clinic" in refusals["nowhere"][1]
    assert refusals["archived"][0] == 403 and "Old Clinic is archived" in refusals["archived"][1]
    assert refusals["new-unverified"][0] == 403 and "did not give a verified email" in refusals["new-unverified"][1]
    assert db.session.scalars(select(User.email)).all() == []
    assert db.session.scalars(select(ExternalIdentity)).all() == []
    assert len(_events("auth.sign_in_failed")) == 3


def test_a_deactivated_account_stays_out_even_when_the_provider_says_yes(client, provider, home):
    person = make_user("learner", clinic=home, email="sam@example.org")
    assert _sign_in(client, provider, "sam").status_code == 302
    client.post("/logout")
    person.is_enabled = False
    db.session.commit()
    response = _sign_in(client, provider, "sam")
    assert response.status_code == 403 and "deactivated" in response.text
    assert _signed_in_email(client) is None
    assert _events("auth.sign_in_failed")[-1].details == {"address": "127.0.0.1", "method": "sso",
                                                          "reason": "deactivated"}


def test_a_person_of_an_archived_clinic_is_refused(client, provider, home):
    make_user("learner", clinic=home, email="sam@example.org")
    set_clinic_archived(None, home, True)
    response = _sign_in(client, provider, "sam")
    assert response.status_code == 403 and "Home Clinic is archived" in response.text
    assert db.session.scalars(select(ExternalIdentity)).all() == []


def test_a_replayed_callback_is_refused_with_a_page_not_an_error(client, provider, home):
    make_user("learner", clinic=home, email="sam@example.org")
    callback = provider.sign_in(_start(client), "sam", stop_at=APP).removeprefix(APP)
    assert client.get(callback).status_code == 302
    client.post("/logout")
    replayed = client.get(callback)
    assert replayed.status_code == 400 and "could not be completed" in replayed.text
    assert _signed_in_email(client) is None


def test_a_callback_from_another_browser_is_refused(sso_app, client, provider, home):
    """Login CSRF: a code and state obtained in the attacker's browser do not sign in the victim's."""
    make_user("learner", clinic=home, email="sam@example.org")
    attacker = sso_app.test_client()
    callback = provider.sign_in(_start(attacker), "sam", stop_at=APP).removeprefix(APP)
    _start(client)  # the victim has a sign-in of their own under way
    response = client.get(callback)
    assert response.status_code == 400
    assert _signed_in_email(client) is None


def test_a_nonce_that_does_not_match_the_id_token_is_refused(client, provider, home):
    make_user("learner", clinic=home, email="sam@example.org")
    location = _start(client)
    with client.session_transaction() as session:  # the nonce this browser expects is not the one sent
        key = next(k for k in session if k.startswith("_state_sso_"))
        session[key] = {**session[key], "data": {**session[key]["data"], "nonce": "another-nonce"}}
    callback = provider.sign_in(location, "sam", stop_at=APP).removeprefix(APP)
    response = client.get(callback)
    assert response.status_code == 400
    assert _signed_in_email(client) is None
    assert _events("auth.sign_in") == []


def test_a_refusal_at_the_provider_is_a_page_not_an_error(client, provider):
    state = parse_qs(urlsplit(_start(client)).query)["state"][0]
    response = client.get(f"/login/sso/callback?error=access_denied&state={state}")
    assert response.status_code == 400 and "Start again from the sign-in page" in response.text


def test_single_sign_on_starts_a_fresh_session_with_a_new_csrf_secret_and_honours_next(sso_app, client, provider, home):
    make_user("learner", clinic=home, email="sam@example.org")
    with client.session_transaction() as session:
        session["csrf_token"] = "the-old-secret"
    response = _sign_in(client, provider, "sam", next_path="/account")
    assert response.headers["Location"] == "/account"
    with client.session_transaction() as session:
        assert session.get("csrf_token") != "the-old-secret"
        assert session["gen"] == 0 and isinstance(session["seen"], int)
        assert not [k for k in session if k.startswith("_state_sso_") or k == "sso_next"]


def test_an_off_site_next_is_ignored(client, provider, home):
    make_user("learner", clinic=home, email="sam@example.org")
    assert _sign_in(client, provider, "sam", next_path="//evil.example/").headers["Location"] == "/learn"


def test_the_sign_in_page_offers_single_sign_on_beside_the_password_form(client):
    page = client.get("/login?next=/account").text
    assert 'href="/login/sso?next=/account"' in page and "Sign in with Test Identity" in page
    assert 'name="password"' in page


def test_with_password_sign_in_off_the_form_is_gone_and_a_password_post_is_refused(sso_app, client, home):
    person = make_user("learner", clinic=home)
    sso_app.config["PASSWORD_SIGNIN"] = False
    page = client.get("/login").text
    assert "Sign in with Test Identity" in page and 'name="password"' not in page and "Forgot your password" not in page
    response = client.post("/login", data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 403 and "Password sign-in is turned off here" in response.text
    assert _signed_in_email(client) is None
    assert _events("auth.sign_in") == []


def test_an_unreachable_provider_is_a_page_not_an_error(database_url):
    app = make_app(database_url, OIDC_ISSUER="http://127.0.0.1:9", OIDC_CLIENT_ID="x", OIDC_CLIENT_SECRET="y")
    with app.app_context():
        response = app.test_client().get("/login/sso")
        assert response.status_code == 503 and "could not be reached" in response.text
        db.engine.dispose()


@pytest.mark.parametrize(("environment", "message"), [
    ({"OIDC_ISSUER": "https://login.example.org"}, "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set too"),
    ({"PASSWORD_SIGNIN": "off"}, "PASSWORD_SIGNIN=off needs single sign-on"),
    ({"PASSWORD_SIGNIN": "no"}, "PASSWORD_SIGNIN must be 'on' or 'off'"),
    ({"OIDC_ROLE_MAP": "managers=manager"}, "OIDC_ROLE_MAP must be a JSON object"),
    ({"OIDC_ROLE_MAP": '{"it-admins": "superuser"}'}, "OIDC_ROLE_MAP maps 'it-admins' to ['superuser']"),
])
def test_incomplete_or_wrong_single_sign_on_settings_stop_the_start_with_a_sentence(monkeypatch, tmp_path,
                                                                                    environment, message):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=re.escape(message)):
        settings_from_environment(str(tmp_path))


def test_single_sign_on_settings_are_read_from_the_environment(monkeypatch, tmp_path):
    for name, value in {"OIDC_ISSUER": "https://login.example.org/", "OIDC_CLIENT_ID": "trainer",
                        "OIDC_CLIENT_SECRET": "s3cret", "OIDC_CREATE_ACCOUNTS": "on", "PASSWORD_SIGNIN": "off",
                        "OIDC_ROLE_MAP": '{"trainer-managers": ["manager", "learner"], "trainer-admins": "admin"}',
                        "OIDC_ROLE_CLAIM": "roles", "OIDC_CLINIC_CLAIM": "department"}.items():
        monkeypatch.setenv(name, value)
    settings = settings_from_environment(str(tmp_path))
    assert settings["OIDC_ISSUER"] == "https://login.example.org"
    assert settings["OIDC_ROLE_MAP"] == {"trainer-managers": ["learner", "manager"], "trainer-admins": ["admin"]}
    assert (settings["OIDC_CREATE_ACCOUNTS"], settings["PASSWORD_SIGNIN"]) == (True, False)
    assert (settings["OIDC_ROLE_CLAIM"], settings["OIDC_CLINIC_CLAIM"]) == ("roles", "department")
