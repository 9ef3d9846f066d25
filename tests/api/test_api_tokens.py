"""Managers' API tokens: created on their page, shown once, stored hashed, revocable, checked on every call."""
import hashlib
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_clinic, make_user
from trainer import clock
from trainer.extensions import db
from trainer.models import ApiToken, AuditEvent, UserRole
from trainer.services import Forbidden, NotFound
from trainer.services.api_tokens import create_token, revoke_token, user_for_token


def login(client, user):
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def shown_token(response) -> str:
    return re.search(r'<code id="token">(trn_[^<]+)</code>', response.get_data(as_text=True)).group(1)


def call_api(app, token, **headers):
    """A request from a fresh client: no cookies, only the token."""
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return app.test_client().get("/api/v1/register", headers=headers)


@pytest.fixture
def manager(app):
    import_course(TINY_COURSE)
    return make_user("manager", "learner", clinic=make_clinic("Home Clinic"))


def test_token_is_shown_once_and_only_its_hash_is_stored(app, client, manager):
    login(client, manager)
    response = client.post("/manage/tokens", data={"name": "HR system"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    plaintext = shown_token(response)
    assert plaintext.startswith("trn_") and len(plaintext) > 40

    token = db.session.scalars(select(ApiToken)).one()
    assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert token.prefix == plaintext[:12] and token.name == "HR system"
    for table in ("api_tokens", "audit_events"):
        stored = " ".join(str(row) for row in db.session.execute(text(f"SELECT * FROM {table}")))
        assert plaintext not in stored and plaintext[12:] not in stored, table

    page = client.get("/manage/tokens").get_data(as_text=True)
    assert "HR system" in page and token.prefix in page and plaintext not in page
    assert call_api(app, plaintext).status_code == 200


def test_a_token_needs_a_name(app, client, manager):
    login(client, manager)
    response = client.post("/manage/tokens", data={"name": "   "})
    assert response.status_code == 400 and "Give the token a name" in response.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken)) is None


def test_create_and_revoke_need_the_csrf_token_and_are_audited(csrf_app, manager):
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": csrf})
    page = client.get("/manage/tokens").get_data(as_text=True)  # signing in gave the session a new CSRF secret
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    assert client.post("/manage/tokens", data={"name": "No token"}).status_code == 400
    assert db.session.scalar(select(ApiToken)) is None
    plaintext = shown_token(client.post("/manage/tokens", data={"name": "Rota", "csrf_token": csrf}))
    token = db.session.scalars(select(ApiToken)).one()
    assert client.post(f"/manage/tokens/{token.id}/revoke").status_code == 400
    assert client.post(f"/manage/tokens/{token.id}/revoke", data={"csrf_token": csrf}).status_code == 302

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("api_tokens.%"))
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.subject, e.actor_id) for e in events] == [
        ("api_tokens.create", f"api_token:{token.id}", manager.id),
        ("api_tokens.revoke", f"api_token:{token.id}", manager.id)]
    assert call_api(csrf_app, plaintext).status_code == 401


def test_a_revoked_token_gets_401(app, client, manager):
    token, plaintext = create_token(manager, "HR system")
    assert call_api(app, plaintext).status_code == 200
    login(client, manager)
    response = client.post(f"/manage/tokens/{token.id}/revoke", follow_redirects=True)
    assert "is revoked" in response.get_data(as_text=True)

    response = call_api(app, plaintext)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="trainer", error="invalid_token"'
    assert response.get_json()["status"] == 401 and "revoked" in response.get_json()["error"]


def test_revoking_twice_records_one_revocation(app, manager):
    token, _ = create_token(manager, "HR system")
    revoke_token(manager, token.id)
    first = token.revoked_dt
    revoke_token(manager, token.id)
    assert token.revoked_dt == first
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "api_tokens.revoke")) == 1


def test_someone_elses_token_cannot_be_revoked(app, client, manager):
    colleague = make_user("manager", clinic=manager.clinic)
    token, plaintext = create_token(colleague, "Colleague's")
    login(client, manager)
    assert client.post(f"/manage/tokens/{token.id}/revoke").status_code == 404
    assert client.post("/manage/tokens/999999/revoke").status_code == 404
    assert "Colleague's" not in client.get("/manage/tokens").get_data(as_text=True)
    with pytest.raises(NotFound):
        revoke_token(manager, token.id)
    assert call_api(app, plaintext).status_code == 200


@pytest.mark.parametrize("roles", [("learner",), ("trainer",), ("admin",)])
def test_only_managers_of_a_clinic_can_have_tokens(app, client, roles):
    person = make_user(*roles)
    login(client, person)
    assert client.get("/manage/tokens").status_code == 403
    assert client.post("/manage/tokens", data={"name": "Mine"}).status_code == 403
    with pytest.raises(Forbidden):
        create_token(person, "Mine")
    assert db.session.scalar(select(ApiToken)) is None


def test_signed_out_people_are_sent_to_sign_in(app, client):
    response = client.get("/manage/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_deactivated_accounts_token_gets_401(app, manager):
    _, plaintext = create_token(manager, "HR system")
    manager.is_enabled = False
    db.session.commit()
    assert call_api(app, plaintext).status_code == 401


def test_a_token_whose_owner_is_no_longer_a_manager_gets_403(app, manager):
    _, plaintext = create_token(manager, "HR system")
    db.session.execute(delete(UserRole).where(UserRole.user_id == manager.id, UserRole.role == "manager"))
    db.session.commit()
    response = call_api(app, plaintext)
    assert response.status_code == 403 and "not a clinic manager" in response.get_json()["error"]


@pytest.mark.parametrize("authorization", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   "])
def test_a_missing_token_gets_401_with_a_bearer_challenge(app, manager, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = app.test_client().get("/api/v1/register", headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == 'Bearer realm="trainer"'
    assert "Authorization: Bearer" in response.get_json()["error"]


@pytest.mark.parametrize("token", ["trn_not-a-real-token", "not-even-ours", "trn_" + "x" * 500])
def test_an_unknown_token_gets_401(app, manager, token):
    create_token(manager, "HR system")
    response = call_api(app, token)
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_last_used_is_written_at_most_once_a_minute(app, manager, count_queries):
    token, plaintext = create_token(manager, "HR system")
    start = datetime(2026, 3, 2, 9, 0, 0)
    clock.freeze(start)
    assert user_for_token(plaintext).id == manager.id
    assert token.last_used_dt == start

    clock.freeze(start + timedelta(seconds=59))
    with count_queries() as statements:
        assert user_for_token(plaintext).id == manager.id
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    db.session.refresh(token)
    assert token.last_used_dt == start

    clock.freeze(start + timedelta(seconds=61))
    user_for_token(plaintext)
    db.session.refresh(token)
    assert token.last_used_dt == start + timedelta(seconds=61)
