"""GET /api/v1/register: the token owner's clinic register as JSON, the same fields as the CSV export."""
from datetime import date, datetime

import pytest
from sqlalchemy import select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_clinic, make_user, take_attempt
from trainer.extensions import db
from trainer.models import Certificate
from trainer.services.api_tokens import create_token
from trainer.services.register import clinic_staff, course_progress, filter_register, register_record


def certify(person, course):
    for module in course.modules:
        take_attempt(person, module)


@pytest.fixture
def clinics(app):
    """Two clinics, each with a manager and staff in several states of the tiny course."""
    course = import_course(TINY_COURSE)
    home, away = make_clinic("Home Clinic"), make_clinic("Away Clinic")
    manager = make_user("manager", clinic=home, name="Mona Manager")
    alice = make_user("learner", clinic=home, name="Alice Able", email="alice@example.org")
    bob = make_user("learner", clinic=home, name="Bob Beginner", email="bob@example.org")
    carol = make_user("learner", clinic=home, name="Carol Careful", email="carol@example.org")
    foreign_manager = make_user("manager", clinic=away, name="Fred Foreign")
    dave = make_user("learner", clinic=away, name="Dave Distant", email="dave@example.org")
    certify(alice, course)
    certify(dave, course)
    take_attempt(carol, course.modules[0], correct=False)
    return {"course": course, "home": home, "away": away, "manager": manager, "alice": alice, "bob": bob,
            "carol": carol, "foreign_manager": foreign_manager, "dave": dave,
            "token": create_token(manager, "HR system")[1],
            "foreign_token": create_token(foreign_manager, "Away HR")[1]}


def get_register(app, token, query=""):
    return app.test_client().get(f"/api/v1/register{query}", headers={"Authorization": f"Bearer {token}"})


def as_json_values(record: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in record.items()}


def test_rows_have_exactly_the_fields_and_values_of_register_record(app, clinics):
    response = get_register(app, clinics["token"])
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    expected = [as_json_values(register_record(row))
                for row in filter_register(course_progress(clinic_staff(clinics["home"].id), clinics["course"]))]
    assert body["rows"] == expected
    assert len(expected) == 4
    assert all(set(row) == set(record) for row, record in zip(body["rows"], expected, strict=True))
    assert {"basics_best_score", "care_best_score"} <= set(body["rows"][0])


def test_only_the_token_owners_clinic_is_listed_whatever_the_parameters(app, clinics):
    home_names = {"Mona Manager", "Alice Able", "Bob Beginner", "Carol Careful"}
    away = clinics["away"]
    for query in ("", f"?clinic={away.id}", f"?clinic_id={away.id}", "?q=Dave", f"?clinic={away.name}"):
        body = get_register(app, clinics["token"], query).get_json()
        assert body["clinic"] == {"id": clinics["home"].id, "name": "Home Clinic"}
        assert {row["name"] for row in body["rows"]} <= home_names
        assert all(row["clinic"] == "Home Clinic" for row in body["rows"])
    assert {row["name"] for row in get_register(app, clinics["token"]).get_json()["rows"]} == home_names
    foreign = get_register(app, clinics["foreign_token"]).get_json()
    assert {row["name"] for row in foreign["rows"]} == {"Fred Foreign", "Dave Distant"}


def test_dates_are_iso_strings(app, clinics):
    body = get_register(app, clinics["token"]).get_json()
    cert = db.session.scalar(select(Certificate).where(Certificate.user_id == clinics["alice"].id))
    alice = next(row for row in body["rows"] if row["name"] == "Alice Able")
    assert alice["status"] == "certified" and alice["certificate_code"] == cert.code
    assert alice["issued"] == cert.issued_dt.date().isoformat()
    assert alice["expires"] == cert.expires_dt.date().isoformat()
    assert datetime.fromisoformat(body["generated"]).utcoffset().total_seconds() == 0
    assert body["course"] == {"slug": "tiny-course", "title": "Tiny Course",
                              "modules": [{"slug": "basics", "title": "Basics"}, {"slug": "care", "title": "Care"}]}


def test_status_search_and_sort_work_like_the_console(app, clinics):
    def names(query):
        response = get_register(app, clinics["token"], query)
        assert response.status_code == 200, query
        return [row["name"] for row in response.get_json()["rows"]]

    assert names("?status=certified") == ["Alice Able"]
    assert names("?status=failed") == ["Carol Careful"]
    assert names("?status=not+started") == ["Bob Beginner", "Mona Manager"]
    assert names("?q=BOB%40example") == ["Bob Beginner"]
    assert names("?sort=name&dir=desc") == ["Mona Manager", "Carol Careful", "Bob Beginner", "Alice Able"]
    assert names("?sort=expiry")[0] == "Alice Able"
    assert names("?course=tiny-course&status=") == names("")


@pytest.mark.parametrize("query, status, message", [
    ("?status=great", 400, "status must be one of"),
    ("?sort=salary", 400, "sort must be one of"),
    ("?dir=up", 400, "dir must be asc or desc"),
    ("?course=no-such-course", 404, "No course has this slug"),
])
def test_bad_parameters_get_a_json_error_that_says_what_to_send(app, clinics, query, status, message):
    response = get_register(app, clinics["token"], query)
    assert response.status_code == status
    assert response.get_json()["status"] == status and message in response.get_json()["error"]


def test_no_cookie_session_is_needed_read_or_set(app, clinics):
    response = get_register(app, clinics["token"])
    assert response.status_code == 200 and "Set-Cookie" not in response.headers

    signed_in = app.test_client()
    signed_in.post("/login", data={"email": clinics["foreign_manager"].email, "password": PASSWORD})
    assert signed_in.get("/api/v1/register").status_code == 401  # a session alone is not a token
    body = signed_in.get("/api/v1/register", headers={"Authorization": f"Bearer {clinics['token']}"}).get_json()
    assert body["clinic"]["name"] == "Home Clinic"  # the token decides, not the session


def test_statements_per_call_do_not_grow_with_staff(app, clinics, count_queries):
    def statements_for_one_call():
        get_register(app, clinics["token"])  # the first call of a minute also notes last_used
        with count_queries() as statements:
            assert get_register(app, clinics["token"]).status_code == 200
        return len(statements)

    few = statements_for_one_call()
    for _ in range(6):
        certify(make_user("learner", clinic=clinics["home"]), clinics["course"])
    assert statements_for_one_call() == few
