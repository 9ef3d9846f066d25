"""A quiz post that arrives after the session ended: the learner is led back to the attempt, nothing is lost."""
import re

import pytest
from flask import g

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, correct_form, import_course, make_user
from trainer.extensions import db
from trainer.models import Attempt

JSON = {"X-Requested-With": "fetch", "Accept": "application/json"}


def end_session(client) -> None:
    """The session cookie is gone (expired, or cleared), as after a long break."""
    client.delete_cookie("session", domain="trainer.test")
    # The test's app context outlives requests; Flask-Login and Flask-WTF cache the user and token in its `g`.
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


@pytest.fixture
def open_attempt(csrf_app):
    """A learner signed in (CSRF checks on, as in production) with an open attempt, and the page's token."""
    import_course(TINY_COURSE)
    learner = make_user()
    client = csrf_app.test_client()
    client.post("/login", data={"email": learner.email, "password": PASSWORD,
                                "csrf_token": token_of(client.get("/login").get_data(as_text=True))})
    page = client.get("/learn/tiny-course/basics").get_data(as_text=True)
    response = client.post("/learn/tiny-course/basics/attempts", data={"csrf_token": token_of(page)})
    attempt = db.session.get(Attempt, int(response.headers["Location"].rsplit("/", 1)[1]))
    token = token_of(client.get(f"/attempts/{attempt.id}").get_data(as_text=True))
    return client, learner, attempt, token


def test_autosave_after_the_session_is_gone_is_a_401_not_a_form_error(open_attempt):
    client, _, attempt, token = open_attempt
    aq = attempt.questions[0]
    end_session(client)
    response = client.post(f"/attempts/{attempt.id}/answers/{aq.position}",
                           data={**correct_form(aq), "seq": "1", "csrf_token": token}, headers=JSON)
    assert response.status_code == 401
    assert "signed out" in response.get_json()["error"]


def test_autosave_with_a_stale_token_says_why_so_the_page_can_fetch_a_fresh_one(open_attempt):
    client, _, attempt, _ = open_attempt
    aq = attempt.questions[0]
    response = client.post(f"/attempts/{attempt.id}/answers/{aq.position}",
                           data={**correct_form(aq), "seq": "1", "csrf_token": "stale"}, headers=JSON)
    assert response.status_code == 400 and response.get_json()["reason"] == "csrf"
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).questions[0].response is None


@pytest.mark.parametrize("action, words",
                         [("submit", "not submitted yet"), ("save", "You were signed out when you pressed Save")])
def test_quiz_form_posted_after_the_session_ended_lands_on_the_attempt_after_sign_in(open_attempt, action, words):
    client, learner, attempt, token = open_attempt
    aq = attempt.questions[0]
    end_session(client)
    response = client.post(f"/attempts/{attempt.id}",
                           data={**correct_form(aq), f"seq-{aq.position}": "1", "action": action, "csrf_token": token})
    assert response.status_code == 302
    assert f"next=/attempts/{attempt.id}?interrupted%3D{action}" in response.headers["Location"]

    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    response = client.post(response.headers["Location"],
                           data={"email": learner.email, "password": PASSWORD, "csrf_token": token_of(login_page)})
    assert response.headers["Location"].endswith(f"/attempts/{attempt.id}?interrupted={action}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert words in page
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).state == "open"


def test_an_unknown_interruption_flag_shows_nothing(open_attempt):
    client, _, attempt, _ = open_attempt
    page = client.get(f"/attempts/{attempt.id}?interrupted=<b>x</b>").get_data(as_text=True)
    assert "signed out when you pressed" not in page and "<b>x</b>" not in page
