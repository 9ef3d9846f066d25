"""The whole path through the test client: read, quiz, pass every module, certificate, verify, manager view."""
import re

from sqlalchemy import select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, correct_form, import_course, make_clinic, make_user
from trainer.extensions import db
from trainer.models import Attempt, Certificate


def login(client, user):
    return client.post("/login", data={"email": user.email, "password": PASSWORD})


def test_practitioner_to_certificate_to_manager(app, client):
    course = import_course(TINY_COURSE)
    clinic = make_clinic("Harbour Clinic")
    learner = make_user("learner", clinic=clinic, name="Pat Learner")
    manager = make_user("manager", clinic=clinic, name="Morgan Manager")

    response = login(client, learner)
    assert response.status_code == 302 and response.headers["Location"].endswith("/learn")
    home = client.get("/learn").get_data(as_text=True)
    assert "Tiny Course" in home and "Basics" in home and "not started" in home

    page = client.get("/learn/tiny-course/basics").get_data(as_text=True)
    assert "<strong>tiny channels</strong>" in page
    assert '/courses/tiny-course/media/layers.svg' in page
    assert client.get("/courses/tiny-course/media/layers.svg").mimetype == "image/svg+xml"

    for module in course.modules:
        response = client.post(f"/learn/tiny-course/{module.slug}/attempts")
        assert response.status_code == 302
        attempt_id = int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))
        quiz = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
        assert "Question 1" in quiz
        attempt = db.session.get(Attempt, attempt_id)
        form = {"action": "submit"}
        for aq in attempt.questions:
            form.update(correct_form(aq))
            form[f"seq-{aq.position}"] = "1"
        response = client.post(f"/attempts/{attempt_id}", data=form)
        assert response.headers["Location"].endswith(f"/attempts/{attempt_id}/result")
        result = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
        assert "Passed" in result and "100%" in result

    cert = db.session.scalar(select(Certificate).where(Certificate.user_id == learner.id))
    assert cert is not None and re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){4}[0-9A-HJKMNP-TV-Z]{4}", cert.code)
    page = client.get(f"/certificates/{cert.code}").get_data(as_text=True)
    assert "Pat Learner" in page and cert.code in page

    client.post("/logout")
    verify = client.get(f"/verify/{cert.code}")
    assert verify.status_code == 200 and "Pat Learner" in verify.get_data(as_text=True)
    api = client.get(f"/api/v1/certificates/{cert.code}").get_json()
    assert api["holder"] == "Pat Learner" and api["status"] == "valid" and api["course"] == "Tiny Course"
    assert client.get("/verify/not-a-real-code").status_code == 404
    assert client.get("/api/v1/certificates/not-a-real-code").get_json()["status"] == 404

    login(client, manager)
    register = client.get("/manage/").get_data(as_text=True)
    assert "Pat Learner" in register and "certified" in register
    person = client.get(f"/manage/people/{learner.id}").get_data(as_text=True)
    assert cert.code in person
