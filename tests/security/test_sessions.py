"""Sessions end on the server: sign-out, deactivation and idle time revoke every copy of a cookie."""
import re
from datetime import datetime, timedelta

from tests.factories import PASSWORD, make_user
from trainer import clock
from trainer.extensions import db
from trainer.services.staff import set_active

START = datetime(2026, 12, 1, 9, 0, 0)


def _signed_in_client(app, user):
    client = app.test_client()
    email = user.email
    db.session.commit()  # reading the email may have begun a transaction holding SQLite's write lock
    with app.app_context():  # a fresh `g`: an earlier sign-in of the test must not make /login skip this one
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        db.session.remove()
    return client


def _get(app, client, path):
    """GET in a fresh app context, so nothing cached in `g` by earlier requests of the test leaks in."""
    with app.app_context():
        return client.get(path)


def _copy_of(app, client):
    """A second browser holding a copy of `client`'s session cookie (as a thief would)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session", domain="trainer.test").value, domain="trainer.test")
    return thief


def test_a_cookie_captured_before_sign_out_no_longer_opens_learn(app):
    user = make_user("learner")
    client = _signed_in_client(app, user)
    thief = _copy_of(app, client)
    assert _get(app, thief, "/learn").status_code == 200
    client.post("/logout")
    response = _get(app, thief, "/learn")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_signing_out_ends_the_accounts_sessions_in_other_browsers(app):
    user = make_user("learner")
    laptop, tablet = _signed_in_client(app, user), _signed_in_client(app, user)
    assert _get(app, tablet, "/learn").status_code == 200
    laptop.post("/logout")
    assert _get(app, tablet, "/learn").status_code == 302
    assert _get(app, _signed_in_client(app, user), "/learn").status_code == 200  # signing in again works


def test_deactivation_ends_open_sessions_even_after_reactivation(app):
    manager = make_user("manager")
    learner = make_user("learner", clinic=manager.clinic)
    client = _signed_in_client(app, learner)
    set_active(manager, learner, False)
    set_active(manager, learner, True)
    assert _get(app, client, "/learn").status_code == 302


def test_an_idle_session_ends_after_the_configured_timeout(app):
    user = make_user("learner")
    clock.freeze(START)
    client = _signed_in_client(app, user)
    clock.freeze(START + timedelta(hours=7, minutes=59))
    assert _get(app, client, "/learn").status_code == 200  # used again: the idle time starts over
    clock.freeze(START + timedelta(hours=15, minutes=58))
    assert _get(app, client, "/learn").status_code == 200
    clock.freeze(START + timedelta(hours=15, minutes=58) + timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"] + 1))
    assert _get(app, client, "/learn").status_code == 302


def test_admins_sessions_idle_out_sooner(app):
    admin = make_user("admin")
    clock.freeze(START)
    client = _signed_in_client(app, admin)
    assert app.config["ADMIN_IDLE_TIMEOUT_MINUTES"] < app.config["IDLE_TIMEOUT_MINUTES"]
    clock.freeze(START + timedelta(minutes=app.config["ADMIN_IDLE_TIMEOUT_MINUTES"] + 1))
    assert _get(app, client, "/admin/").status_code == 302


def test_the_idle_timeouts_come_from_the_environment(app, monkeypatch, tmp_path):
    from trainer.config import ConfigError, settings_from_environment

    monkeypatch.setenv("IDLE_TIMEOUT_MINUTES", "30")
    monkeypatch.setenv("ADMIN_IDLE_TIMEOUT_MINUTES", "5")
    settings = settings_from_environment(str(tmp_path))
    assert (settings["IDLE_TIMEOUT_MINUTES"], settings["ADMIN_IDLE_TIMEOUT_MINUTES"]) == (30, 5)
    monkeypatch.setenv("IDLE_TIMEOUT_MINUTES", "soon")
    try:
        settings_from_environment(str(tmp_path))
    except ConfigError as exc:
        assert "IDLE_TIMEOUT_MINUTES" in str(exc)
    else:
        raise AssertionError("a bad idle timeout must stop the app from starting")


def test_signing_in_gives_a_new_csrf_secret(csrf_app):
    user = make_user("learner")
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token_before = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": user.email, "password": PASSWORD,
                                       "csrf_token": token_before}).status_code == 302
    # A token picked up before sign-in (say, planted by someone else) signs no form afterwards.
    assert client.post("/logout", data={"csrf_token": token_before}).status_code == 400
    assert _get(csrf_app, client, "/learn").status_code == 200


def test_changing_the_password_ends_other_sessions_and_keeps_this_one(app):
    user = make_user("learner")
    here, elsewhere = _signed_in_client(app, user), _signed_in_client(app, user)
    response = here.post("/account", data={"current_password": PASSWORD, "password": "tulip orbit canvas nine",
                                           "confirm": "tulip orbit canvas nine"})
    assert response.status_code == 302
    assert _get(app, here, "/learn").status_code == 200
    assert _get(app, elsewhere, "/learn").status_code == 302
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": user.email, "password": "tulip orbit canvas nine"}).status_code == 302
    from sqlalchemy import select

    from trainer.extensions import db
    from trainer.models import AuditEvent
    assert db.session.scalar(select(AuditEvent.subject).where(AuditEvent.action == "auth.password_change")) \
        == f"user:{user.id}"


def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(app):
    user = make_user("learner")
    client = _signed_in_client(app, user)
    wrong = client.post("/account", data={"current_password": "not it at all", "password": "tulip orbit canvas nine",
                                          "confirm": "tulip orbit canvas nine"})
    assert wrong.status_code == 400 and "current password is not right" in wrong.get_data(as_text=True)
    weak = client.post("/account", data={"current_password": PASSWORD, "password": "password1234",
                                         "confirm": "password1234"})
    assert weak.status_code == 400 and "too easy to guess" in weak.get_data(as_text=True)
    assert app.test_client().post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_sign_out_everywhere_else_keeps_this_browser(app):
    user = make_user("learner")
    here, elsewhere = _signed_in_client(app, user), _signed_in_client(app, user)
    assert here.post("/account/sessions/end").status_code == 302
    assert _get(app, here, "/learn").status_code == 200
    assert _get(app, elsewhere, "/learn").status_code == 302
