"""Views: sign-in, bad input, the quiz pages, and what the HTML must never reveal."""
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, correct_form, import_course, make_user
from trainer.extensions import db
from trainer.models import Attempt, AttemptQuestion


def login(client, user, password=PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password})


def test_wrong_password_and_unknown_email_get_the_same_clear_message(app, client):
    user = make_user()
    for email, password in ((user.email, "wrong password"), ("nobody@example.org", PASSWORD)):
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 401
        assert "That email and password do not match an account." in response.get_data(as_text=True)


def test_sign_in_is_throttled_after_repeated_failures(app, client):
    from trainer.services.accounts import ACCOUNT_ADDRESS_TIERS

    user = make_user()
    for _ in range(ACCOUNT_ADDRESS_TIERS[0][1]):
        login(client, user, "wrong password")
    response = login(client, user)  # from the guessing address even the right password waits now
    assert response.status_code == 401 and "Too many sign-in attempts" in response.get_data(as_text=True)


def test_deactivated_account_cannot_sign_in(app, client):
    user = make_user()
    user.is_enabled = False
    db.session.commit()
    assert "deactivated" in login(client, user).get_data(as_text=True)


def test_next_parameter_stays_on_the_site(app, client):
    user = make_user()
    response = client.post("/login?next=https://evil.example/x", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/learn")
    client.post("/logout")
    response = client.post("/login?next=/learn", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/learn")


def test_forms_without_csrf_token_are_refused_and_change_nothing(csrf_app):
    client = csrf_app.test_client()
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400 and "Reload the page" in response.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login",
                       data={"email": user.email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    course = import_course(TINY_COURSE)
    response = client.post("/learn/tiny-course/care/attempts")
    assert response.status_code == 400
    assert db.session.scalar(select(Attempt)) is None and course


@pytest.fixture
def learner_in_quiz(app, client):
    course = import_course(TINY_COURSE)
    learner = make_user()
    login(client, learner)
    response = client.post("/learn/tiny-course/basics/attempts")
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return learner, db.session.get(Attempt, attempt_id), course


def test_quiz_page_never_contains_keys_feedback_or_explanations(client, learner_in_quiz):
    _, attempt, _ = learner_in_quiz
    html = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    for aq in attempt.questions:
        q = aq.version.content
        assert q["explanation"] not in html
        for choice in q.get("choices", []):
            if choice.get("feedback"):
                assert choice["feedback"] not in html
        for answer in q.get("answers", []):
            assert f'value="{answer}"' not in html
    assert "correct" not in html.lower().replace("correctly", "")


def test_autosave_endpoint_saves_and_refuses_stale(client, learner_in_quiz):
    _, attempt, _ = learner_in_quiz
    aq = attempt.questions[0]
    form = dict(correct_form(aq))
    response = client.post(f"/attempts/{attempt.id}/answers/{aq.position}", data={**form, "seq": "3"})
    assert response.get_json() == {"saved": True, "seq": 3, "message": "Saved"}
    response = client.post(f"/attempts/{attempt.id}/answers/{aq.position}", data={**form, "seq": "2"})
    assert response.get_json()["saved"] is False and response.get_json()["seq"] == 3
    assert client.post(f"/attempts/{attempt.id}/answers/{aq.position}", data=form).status_code == 400
    assert client.post(f"/attempts/{attempt.id}/answers/77", data={"seq": "1"}).status_code == 404


class _AnswerFields(HTMLParser):
    """What the quiz page shows as answered: field name -> values, as a browser would submit them."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if (tag == "input" and a.get("type") in ("radio", "checkbox") and "checked" in a
                or tag == "input" and a.get("type") == "text" and a.get("value")):
            self.values.setdefault(a["name"], []).append(a["value"])
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.values.setdefault(self._select, []).append(a["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def test_saved_answers_are_shown_again_after_reload(client, learner_in_quiz):
    _, attempt, _ = learner_in_quiz
    expected = {}
    # Every drawn question, whatever its type: the draw is random, the check must not be.
    for aq in attempt.questions:
        form = correct_form(aq)
        response = client.post(f"/attempts/{attempt.id}/answers/{aq.position}", data={**form, "seq": "1"})
        assert response.get_json()["saved"] is True
        expected.update({name: sorted(v if isinstance(v, list) else [v]) for name, v in form.items()})
    page = _AnswerFields()
    page.feed(client.get(f"/attempts/{attempt.id}").get_data(as_text=True))
    assert {name: sorted(values) for name, values in page.values.items()} == expected


def test_another_persons_attempt_is_404_everywhere(app, client, learner_in_quiz):
    _, attempt, _ = learner_in_quiz
    client.post("/logout")
    intruder = make_user()
    login(client, intruder)
    assert client.get(f"/attempts/{attempt.id}").status_code == 404
    assert client.get(f"/attempts/{attempt.id}/result").status_code == 404
    assert client.post(f"/attempts/{attempt.id}/answers/1", data={"seq": "1", "q1": "0"}).status_code == 404
    assert client.post(f"/attempts/{attempt.id}/submit").status_code == 404
    assert client.post(f"/attempts/{attempt.id}", data={"action": "submit"}).status_code == 404
    assert client.get("/attempts/999999").status_code == 404
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).state == "open"


def test_another_persons_attempt_gets_the_generic_404_page_from_the_central_mapping(app, client, learner_in_quiz):
    _, attempt, _ = learner_in_quiz
    client.post("/logout")
    login(client, make_user())
    for response in (client.get(f"/attempts/{attempt.id}"), client.post(f"/attempts/{attempt.id}/submit")):
        page = response.get_data(as_text=True)
        assert response.status_code == 404 and "There is nothing here" in page
        assert "no such attempt" not in page  # the service's reason is not shown: a 404 says no more


def test_double_submit_through_the_web_gives_one_result(client, learner_in_quiz):
    _, attempt, _ = learner_in_quiz
    first = client.post(f"/attempts/{attempt.id}/submit")
    second = client.post(f"/attempts/{attempt.id}/submit")
    assert first.headers["Location"] == second.headers["Location"]
    assert len(db.session.scalars(select(Attempt)).all()) == 1
    # Answers after submission are refused with a clear message.
    response = client.post(f"/attempts/{attempt.id}/answers/1", data={"seq": "9", "q1": "0"})
    assert response.status_code == 409 and "submitted" in response.get_json()["error"]


def test_result_review_hides_keys_until_pass(client, learner_in_quiz):
    learner, attempt, _ = learner_in_quiz
    client.post(f"/attempts/{attempt.id}/submit")  # nothing answered: a fail
    html = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "Not passed" in html and "(correct)" not in html
    # An explanation states the key ("Cartridges are sterile and single-use"): held back with it,
    # and the question's topic is named instead.
    for aq in attempt.questions:
        assert aq.version.content["explanation"] not in html
    topics = {t for aq in attempt.questions for t in aq.version.content.get("tags", [])}
    assert re.search(r"Revisit: (" + "|".join(topics) + r")", html)


def test_learner_pages_are_not_for_other_roles(app, client):
    trainer = make_user("trainer")
    login(client, trainer)
    assert client.get("/learn").status_code == 403
    assert client.get("/manage/").status_code == 403
    assert client.get("/author/").status_code == 200


def test_healthz(app, client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_unknown_page_is_a_friendly_404(app, client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "There is nothing here" in response.get_data(as_text=True)


def test_signing_out_mid_attempt_keeps_answers_and_leads_back(app, client, learner_in_quiz):
    learner, attempt, _ = learner_in_quiz
    aq = attempt.questions[0]
    client.post(f"/attempts/{attempt.id}/answers/{aq.position}", data={**correct_form(aq), "seq": "1"})
    client.post("/logout")
    # The autosave of a signed-out page gets a JSON 401, so the page can say so instead of "Saved".
    response = client.post(f"/attempts/{attempt.id}/answers/{aq.position}", data={**correct_form(aq), "seq": "2"},
                           headers={"X-Requested-With": "fetch", "Accept": "application/json"})
    assert response.status_code == 401 and "signed out" in response.get_json()["error"]
    # Opening the attempt sends to sign-in and back to the same attempt.
    response = client.get(f"/attempts/{attempt.id}")
    assert response.status_code == 302 and f"next=/attempts/{attempt.id}" in response.headers["Location"]
    response = client.post(f"/login?next=/attempts/{attempt.id}", data={"email": learner.email, "password": PASSWORD})
    assert response.headers["Location"].endswith(f"/attempts/{attempt.id}")
    home = client.get("/learn").get_data(as_text=True)
    assert f"/attempts/{attempt.id}" in home and "Resume the Basics quiz" in home
    db.session.expire_all()
    assert db.session.get(AttemptQuestion, aq.id).response_seq == 1


def test_opening_an_abandoned_attempt_closes_it_at_its_deadline(app, client, learner_in_quiz):
    from datetime import timedelta

    from trainer import clock
    _, attempt, _ = learner_in_quiz
    aq = attempt.questions[0]
    client.post(f"/attempts/{attempt.id}/answers/{aq.position}", data={**correct_form(aq), "seq": "1"})
    clock.freeze(attempt.deadline_dt + timedelta(hours=3))
    response = client.get(f"/attempts/{attempt.id}")  # a page view that has to write
    assert response.status_code == 302 and response.headers["Location"].endswith("/result")
    db.session.expire_all()
    closed = db.session.get(Attempt, attempt.id)
    assert closed.state == "submitted" and closed.submitted_dt == closed.deadline_dt and closed.score_percent == 25.0
