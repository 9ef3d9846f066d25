"""Password reset: a single-use, 30-minute link by e-mail, stored as a keyed hash, the same answer for
every email, throttled, ending every session, audited; sent by a manager or printed for an operator."""
import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from tests.factories import PASSWORD, make_user
from trainer import clock
from trainer.extensions import db
from trainer.models import AuditEvent, OutboxMessage, PasswordReset, User
from trainer.services.staff import set_active

NEW_PASSWORD = "lantern quarry velvet oboe"
START = datetime(2026, 12, 1, 9, 0, 0)


def _signed_in_client(app, user, password=PASSWORD):
    client = app.test_client()
    email = user.email
    db.session.commit()
    with app.app_context():  # a fresh `g`, so an earlier sign-in of the test does not leak into this one
        assert client.post("/login", data={"email": email, "password": password}).status_code == 302
        db.session.remove()
    return client


def _get(app, client, path):
    db.session.commit()
    with app.app_context():
        return client.get(path)


def _ask(app, email, address="198.51.100.7"):
    db.session.commit()  # the test's own reads must not hold SQLite's lock while the request writes
    with app.app_context():
        return app.test_client().post("/password/forgot", data={"email": email}, environ_base={"REMOTE_ADDR": address})


def _reset_mails(email):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "password-reset",
                                                          OutboxMessage.recipient_email == email)
                              .order_by(OutboxMessage.id)).all()


def _path_in(mail) -> str:
    link = re.search(r"http://trainer\.test(/password/reset/\S+)", mail.body)
    assert link, mail.body
    return link.group(1)


def _sign_in(app, email, password):
    db.session.commit()
    with app.app_context():
        return app.test_client().post("/login", data={"email": email, "password": password}).status_code


def _actions(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_the_sign_in_page_offers_forgot_your_password(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in html and "Forgot your password?" in html
    assert client.get("/password/forgot").status_code == 200


def test_a_reset_from_the_email_sets_the_password_ends_every_session_and_is_audited(app):
    user = make_user("learner")
    laptop, phone = _signed_in_client(app, user), _signed_in_client(app, user)
    assert _ask(app, user.email).status_code == 200
    [mail] = _reset_mails(user.email)
    assert "30 minutes" in mail.body and mail.recipient_id == user.id
    path, email = _path_in(mail), user.email
    db.session.commit()
    with app.app_context():
        stranger = app.test_client()
        page = stranger.get(path)
        assert page.status_code == 200 and email in page.get_data(as_text=True)
        done = stranger.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert _get(app, laptop, "/learn").status_code == 302 and _get(app, phone, "/learn").status_code == 302
    assert _sign_in(app, user.email, PASSWORD) == 401
    assert _sign_in(app, user.email, NEW_PASSWORD) == 302
    assert [e.subject for e in _actions("auth.password_reset")] == [f"user:{user.id}"]
    assert [e.subject for e in _actions("auth.password_reset_link")] == [f"user:{user.id}"]


def test_the_link_works_once(app):
    user = make_user("learner")
    _ask(app, user.email)
    path = _path_in(_reset_mails(user.email)[0])
    client = app.test_client()
    assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    again = client.post(path, data={"password": "another quite long phrase", "confirm": "another quite long phrase"})
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    assert _sign_in(app, user.email, NEW_PASSWORD) == 302


def test_the_link_expires_after_30_minutes(app):
    clock.freeze(START)
    user = make_user("learner")
    _ask(app, user.email)
    path = _path_in(_reset_mails(user.email)[0])
    clock.freeze(START + timedelta(minutes=29))
    assert app.test_client().get(path).status_code == 200
    clock.freeze(START + timedelta(minutes=31))
    late = app.test_client().post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert late.status_code == 410 and "expired" in late.get_data(as_text=True)
    assert _sign_in(app, user.email, PASSWORD) == 302


def test_the_secret_is_stored_only_as_a_keyed_hash(app):
    user = make_user("learner")
    _ask(app, user.email)
    token = _path_in(_reset_mails(user.email)[0]).rsplit("/", 1)[1]
    [reset] = db.session.scalars(select(PasswordReset)).all()
    assert token not in reset.token_hash and len(reset.token_hash) == 64
    # A row written into the database without SECRET_KEY opens nothing: the plain SHA-256 is not accepted.
    import hashlib
    reset.token_hash = hashlib.sha256(token.encode()).hexdigest()
    db.session.commit()
    assert app.test_client().get(f"/password/reset/{token}").status_code == 404


def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(app):
    user = make_user("learner")
    known, unknown = _ask(app, user.email), _ask(app, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True).replace(user.email, "EMAIL") == \
        unknown.get_data(as_text=True).replace("nobody@example.org", "EMAIL")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert _actions("auth.password_reset_refused")[0].details["reason"] == "no account"


def test_only_the_newest_link_works(app):
    user = make_user("learner")
    _ask(app, user.email)
    _ask(app, user.email)
    first, second = (_path_in(m) for m in _reset_mails(user.email))
    assert app.test_client().get(first).status_code == 410
    assert app.test_client().get(second).status_code == 200


def test_requests_are_throttled_per_email_silently_and_per_address_openly(app):
    clock.freeze(START)
    user = make_user("learner")
    # Per email: from different addresses, the fourth request in 15 minutes gets the same page and no mail.
    answers = [_ask(app, user.email, address=f"203.0.113.{n}") for n in range(1, 6)]
    assert {a.status_code for a in answers} == {200}
    assert len(_reset_mails(user.email)) == 3
    assert _actions("auth.password_reset_refused")[-1].details["reason"] == "throttled"
    # Per address: the eleventh request in 15 minutes is refused, whichever emails it names.
    for n in range(10):
        assert _ask(app, f"someone{n}@example.org", address="192.0.2.50").status_code == 200
    refused = _ask(app, "someone-else@example.org", address="192.0.2.50")
    assert refused.status_code == 429 and "Try again in 15 minutes" in refused.get_data(as_text=True)
    clock.freeze(START + timedelta(minutes=16))
    assert _ask(app, user.email, address="192.0.2.50").status_code == 200
    assert len(_reset_mails(user.email)) == 4


def test_a_weak_or_mismatched_password_keeps_the_link_usable(app):
    user = make_user("learner", name="Dana Example")
    _ask(app, user.email)
    path = _path_in(_reset_mails(user.email)[0])
    client = app.test_client()
    weak = client.post(path, data={"password": "password1234", "confirm": "password1234"})
    assert weak.status_code == 400 and "too easy to guess" in weak.get_data(as_text=True)
    differ = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert differ.status_code == 400 and "The two passwords differ." in differ.get_data(as_text=True)
    assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302


def test_a_deactivated_account_gets_no_link_and_an_earlier_link_stops_working(app):
    manager = make_user("manager")
    learner = make_user("learner", clinic=manager.clinic)
    _ask(app, learner.email)
    path = _path_in(_reset_mails(learner.email)[0])
    set_active(manager, learner, False)
    assert app.test_client().post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 410
    assert _ask(app, learner.email).status_code == 200
    assert len(_reset_mails(learner.email)) == 1
    db.session.expire_all()
    assert not db.session.get(User, learner.id).is_enabled


def test_changing_the_password_voids_an_open_link(app):
    user = make_user("learner")
    _ask(app, user.email)
    path = _path_in(_reset_mails(user.email)[0])
    client = _signed_in_client(app, user)
    assert client.post("/account", data={"current_password": PASSWORD, "password": NEW_PASSWORD,
                                         "confirm": NEW_PASSWORD}).status_code == 302
    assert app.test_client().get(path).status_code == 410


def test_an_unknown_link_is_a_clear_404(client):
    response = client.get("/password/reset/not-a-real-token")
    assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)


def test_the_forms_need_the_csrf_token(csrf_app):
    user = make_user("learner")
    client = csrf_app.test_client()
    assert client.post("/password/forgot", data={"email": user.email}).status_code == 400
    assert _reset_mails(user.email) == []


def test_a_manager_emails_a_reset_link_to_their_learner(app):
    manager = make_user("manager")
    learner = make_user("learner", clinic=manager.clinic)
    client = _signed_in_client(app, manager)
    page = _get(app, client, f"/manage/people/{learner.id}").get_data(as_text=True)
    assert "E-mail a password reset link" in page
    learner_id = learner.id
    db.session.commit()
    with app.app_context():
        response = client.post(f"/manage/people/{learner_id}/password-reset")
    assert response.status_code == 302
    [mail] = _reset_mails(learner.email)
    assert manager.name in mail.body
    [event] = _actions("auth.password_reset_link")
    assert event.actor_id == manager.id and event.subject == f"user:{learner.id}"
    assert app.test_client().post(_path_in(mail), data={"password": NEW_PASSWORD,
                                                        "confirm": NEW_PASSWORD}).status_code == 302


def test_a_manager_cannot_reset_a_higher_role_or_a_deactivated_person(app):
    manager = make_user("manager")
    admin = make_user("admin", clinic=manager.clinic)
    gone = make_user("learner", clinic=manager.clinic)
    set_active(manager, gone, False)
    client = _signed_in_client(app, manager)
    assert "E-mail a password reset link" not in _get(app, client, f"/manage/people/{admin.id}").get_data(as_text=True)
    admin_id, gone_id = admin.id, gone.id
    db.session.commit()
    with app.app_context():
        assert client.post(f"/manage/people/{admin_id}/password-reset").status_code == 403
        refused = client.post(f"/manage/people/{gone_id}/password-reset", follow_redirects=True)
    assert "reactivate it first" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 0


def test_the_operator_prints_a_link_on_the_command_line(app, runner):
    user = make_user("learner")
    result = runner.invoke(args=["users", "reset-password", user.email.upper()])
    assert result.exit_code == 0 and "works once, for 30 minutes" in result.output
    path = re.search(r"http://trainer\.test(/password/reset/\S+)", result.output).group(1)
    assert app.test_client().post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    unknown = runner.invoke(args=["users", "reset-password", "nobody@example.org"])
    assert unknown.exit_code == 1 and "There is no account for nobody@example.org." in unknown.output
    assert "Traceback" not in unknown.output


def test_demo_setup_shows_how_to_get_in_again(app, runner, monkeypatch):
    monkeypatch.setenv("TRAINER_DEMO_PASSWORD", "demo-password-123")
    assert runner.invoke(args=["demo", "setup"]).exit_code == 0
    again = runner.invoke(args=["demo", "setup"])
    assert "flask demo setup --show-password" in again.output and "/password/reset/" not in again.output
    shown = runner.invoke(args=["demo", "setup", "--show-password"])
    assert shown.exit_code == 0
    links = dict(re.findall(r"(\S+@demo\.clinic)\s+(http://trainer\.test/password/reset/\S+)", shown.output))
    assert set(links) == {"practitioner@demo.clinic", "manager@demo.clinic", "trainer@demo.clinic",
                          "admin@demo.clinic", "assessor@demo.clinic"}
    path = links["admin@demo.clinic"].removeprefix("http://trainer.test")
    assert app.test_client().post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert _sign_in(app, "admin@demo.clinic", NEW_PASSWORD) == 302


def test_an_email_gets_at_most_ten_links_a_day(app):
    user = make_user("learner")
    sent_per_window = []
    for window in range(5):  # five 15-minute windows within the same day
        clock.freeze(START + timedelta(minutes=16 * window))
        for n in range(3):
            assert _ask(app, user.email, address=f"203.0.{window}.{n}").status_code == 200
        sent_per_window.append(len(_reset_mails(user.email)))
    assert sent_per_window == [3, 6, 9, 10, 10]
    clock.freeze(START + timedelta(days=1))
    _ask(app, user.email)
    assert len(_reset_mails(user.email)) == 11


def test_an_address_gets_at_most_fifty_answers_a_day(app):
    for window in range(6):
        clock.freeze(START + timedelta(minutes=16 * window))
        statuses = [_ask(app, f"w{window}n{n}@example.org", address="192.0.2.99").status_code for n in range(10)]
        assert statuses == ([200] * 10 if window < 5 else [429] * 10), window
