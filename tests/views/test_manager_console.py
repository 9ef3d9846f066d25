"""The manager's console: summary, register filters, assignments, invitations, deactivation, revocation."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_clinic, make_user, module_of, take_attempt
from trainer import clock
from trainer.extensions import db
from trainer.models import Assignment, AuditEvent, Certificate, Invitation, User


def login(client, user, password=PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password})


@pytest.fixture
def clinic_world(app):
    course = import_course(TINY_COURSE)
    clinic, other = make_clinic("Harbour"), make_clinic("Elsewhere")
    manager = make_user("manager", clinic=clinic, name="Morgan Manager")
    certified = make_user("learner", clinic=clinic, name="Cara Certified")
    for module in course.modules:
        take_attempt(certified, module)
    failing = make_user("learner", clinic=clinic, name="Finn Failing")
    take_attempt(failing, module_of(course, "care"), correct=False)
    idle = make_user("learner", clinic=clinic, name="Ida Idle")
    stranger = make_user("learner", clinic=other, name="Stella Stranger")
    return dict(course=course, clinic=clinic, other=other, manager=manager, certified=certified,
                failing=failing, idle=idle, stranger=stranger)


def test_summary_register_and_chart(app, client, clinic_world):
    login(client, clinic_world["manager"])
    html = client.get("/manage/").get_data(as_text=True)
    assert re.search(r"<strong>1</strong> certified", html)
    assert re.search(r"<strong>2</strong> not started", html)  # Ida and the manager
    assert "<svg" in html and 'role="img"' in html
    assert "Cara Certified" in html and "Finn Failing" in html and "Stella Stranger" not in html


def test_filters_search_sort_and_pagination(app, client, clinic_world):
    login(client, clinic_world["manager"])
    failed = client.get("/manage/?status=failed").get_data(as_text=True)
    assert "Finn Failing" in failed and "Cara Certified" not in failed
    found = client.get("/manage/?q=cara").get_data(as_text=True)
    assert "Cara Certified" in found and "Ida Idle" not in found
    names = re.findall(r'/manage/people/\d+">([^<]+)<',
                       client.get("/manage/?sort=name&dir=desc").get_data(as_text=True))
    assert names == sorted(names, reverse=True)
    for n in range(30):
        make_user("learner", clinic=clinic_world["clinic"], name=f"Zed {n:02d}")
    page2 = client.get("/manage/?page=2").get_data(as_text=True)
    assert "page 2 of 2" in page2
    assert client.get("/manage/?status=&sort=&page=99").status_code == 200
    # An unknown filter is refused, as in the downloads and the API (tests/views/test_register_filter_parameters.py).
    assert client.get("/manage/?status=bogus&sort=bogus&page=99").status_code == 400


def test_assign_course_makes_people_overdue_after_the_due_date(app, client, clinic_world):
    login(client, clinic_world["manager"])
    due = clock.now().date() + timedelta(days=7)
    form = {"course": "tiny-course", "due": due.isoformat(), "whole_clinic": "chosen"}
    client.post("/manage/assignments",
                data={**form, "people": [str(clinic_world["idle"].id), str(clinic_world["stranger"].id)]})
    assert db.session.scalars(select(Assignment)).all() == []  # another clinic's person: refused whole
    assert client.post("/manage/assignments",
                       data={**form, "people": [str(clinic_world["idle"].id)]}).status_code == 302
    assignments = db.session.scalars(select(Assignment)).all()
    assert [a.user_id for a in assignments] == [clinic_world["idle"].id]
    clock.freeze(clock.now() + timedelta(days=8))
    login(client, clinic_world["manager"])  # eight days later the idle session has ended
    overdue = client.get("/manage/?status=overdue").get_data(as_text=True)
    assert "Ida Idle" in overdue and "Cara Certified" not in overdue
    client.post("/manage/assignments", data={"course": "tiny-course", "due": date(2000, 1, 1).isoformat(),
                                             "whole_clinic": "all"})
    assert "in the past" in client.get("/manage/").get_data(as_text=True)


def test_invitation_link_works_once_and_expires(app, client, clinic_world):
    login(client, clinic_world["manager"])
    page = client.post("/manage/invitations", data={"name": "Nina New", "email": "nina@example.org", "role": "learner"})
    link = re.search(r"<code>(http[^<]+/invitations/[^<]+)</code>", page.get_data(as_text=True)).group(1)
    token_path = link.split("trainer.test", 1)[1]
    invitation = db.session.scalar(select(Invitation))
    assert token_path.rsplit("/", 1)[1] not in invitation.token_hash  # only a hash is stored
    client.post("/logout")
    assert client.post(token_path, data={"password": "short", "confirm": "short"}).status_code == 400
    response = client.post(token_path, data={"password": "a good long password", "confirm": "a good long password"})
    assert response.status_code == 302
    nina = db.session.scalar(select(User).where(User.email == "nina@example.org"))
    assert nina.clinic_id == clinic_world["clinic"].id and nina.roles == {"learner"}
    client.post("/logout")
    assert client.get(token_path).status_code == 410  # used
    page = client.post("/login", data={"email": clinic_world["manager"].email, "password": PASSWORD})
    page = client.post("/manage/invitations",
                       data={"name": "Late Larry", "email": "larry@example.org", "role": "learner"})
    late = re.search(r"/invitations/([^<\"]+)</code>", page.get_data(as_text=True)).group(1)
    clock.freeze(clock.now() + timedelta(days=8))
    client.post("/logout")
    assert "expired" in client.get(f"/invitations/{late}").get_data(as_text=True)
    assert client.get("/invitations/not-a-token").status_code == 404


def test_deactivated_person_cannot_sign_in_but_records_stay(app, client, clinic_world):
    login(client, clinic_world["manager"])
    person = clinic_world["certified"]
    client.post(f"/manage/people/{person.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert db.session.get(User, person.id).is_enabled is False
    html = client.get("/manage/").get_data(as_text=True)
    assert "Cara Certified" in html and "(deactivated)" in html
    assert db.session.scalar(select(Certificate).where(Certificate.user_id == person.id)) is not None
    client.post("/logout")
    assert "deactivated" in login(client, person).get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "users.deactivate")) is not None


def test_foreign_manager_cannot_touch_another_clinics_people(app, client, clinic_world):
    stranger_manager = make_user("manager", clinic=clinic_world["other"])
    login(client, stranger_manager)
    target = clinic_world["certified"]
    assert client.get(f"/manage/people/{target.id}").status_code == 404
    assert client.post(f"/manage/people/{target.id}/active", data={"active": "0"}).status_code == 404
    assert client.post(f"/manage/people/{target.id}/accommodations",
                       data={"time_multiplier": "2.0", "extra_attempts": "3"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, target.id).is_enabled and db.session.get(User, target.id).time_multiplier == 1.0


def test_revocation_needs_a_reason_and_shows_on_verification(app, client, clinic_world):
    cert = db.session.scalar(select(Certificate))
    trainer = make_user("trainer")
    login(client, trainer)
    client.post(f"/manage/certificates/{cert.code}/revoke", data={"reason": ""})
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).revoked_dt is None
    # The first post asks for confirmation and changes nothing.
    page = client.post(f"/manage/certificates/{cert.code}/revoke",
                       data={"reason": "Training record found to be falsified"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Revoke this certificate?" in html and "Training record found to be falsified" in html
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).revoked_dt is None
    client.post(f"/manage/certificates/{cert.code}/revoke",
                data={"reason": "Training record found to be falsified", "confirm": "yes"})
    db.session.expire_all()
    revoked = db.session.get(Certificate, cert.id)
    assert revoked.revoked_by_id == trainer.id and "falsified" in revoked.revoked_reason
    assert client.get(f"/api/v1/certificates/{cert.code}").get_json()["status"] == "revoked"
    client.post("/logout")
    manager = clinic_world["manager"]
    login(client, manager)
    assert client.post(f"/manage/certificates/{cert.code}/revoke", data={"reason": "I want to"}).status_code == 403


def test_admin_sees_every_clinic_and_the_chain(app, client, clinic_world):
    admin = make_user("admin")
    login(client, admin)
    chain = client.get("/manage/?clinic=all").get_data(as_text=True)
    assert "Stella Stranger" in chain and "Cara Certified" in chain
    other = client.get(f"/manage/?clinic={clinic_world['other'].id}").get_data(as_text=True)
    assert "Stella Stranger" in other and "Cara Certified" not in other


def test_summary_counts_add_up_to_the_staff_total(app, client, clinic_world):
    """Failed, in-progress and revoked people have their own card and bar, so the cards sum to the staff."""
    from trainer.services.register import clinic_staff, course_progress, register_summary

    half = make_user("learner", clinic=clinic_world["clinic"], name="Hal Halfway")
    take_attempt(half, clinic_world["course"].modules[0])  # one module passed, the rest not started
    rows = course_progress(clinic_staff(clinic_world["clinic"].id), clinic_world["course"])
    summary = register_summary(rows)
    assert (summary.certified, summary.failed, summary.in_progress, summary.not_started) == (1, 1, 1, 2)
    assert summary.certified + summary.expired + summary.revoked + summary.in_progress + summary.failed \
        + summary.not_started == summary.total == 5

    login(client, clinic_world["manager"])
    html = client.get("/manage/").get_data(as_text=True)
    cards = {label: int(n) for n, label in re.findall(r"<li><strong>(\d+)</strong> ([a-z ]+)</li>", html)}
    partition = ("certified", "expired", "revoked", "in progress", "failed", "not started")
    assert sum(cards[label] for label in partition) == 5
    assert re.search(r"5 staff in all", html)
    bars = dict(re.findall(r"<title>([^<:]+): (\d+)</title>", html))
    assert bars["Failed"] == "1" and bars["In progress"] == "1" and sum(map(int, bars.values())) == 5


def test_register_explains_a_failure_above_the_pass_mark(app, client, clinic_world):
    """"failed 75%" with a pass mark of 75% is explained: a safety-critical question was missed."""
    import random

    from tests.factories import FormData, correct_form, wrong_form
    from trainer.services.attempts import save_answer, start_attempt, submit_attempt

    person = make_user("learner", clinic=clinic_world["clinic"], name="Cal Critical")
    module = module_of(clinic_world["course"], "basics")
    attempt = start_attempt(person, module, rng=random.Random(3))
    critical_missed = False
    for aq in sorted(attempt.questions, key=lambda a: a.position):
        wrong = aq.version.content.get("critical") and not critical_missed
        critical_missed = critical_missed or bool(wrong)
        save_answer(person, attempt.id, aq.position, FormData(wrong_form(aq) if wrong else correct_form(aq)), seq=1)
    graded = submit_attempt(person, attempt.id)
    assert graded.score_percent >= module.pass_percent and not graded.passed and graded.missed_critical

    login(client, clinic_world["manager"])
    html = client.get("/manage/?q=cal").get_data(as_text=True)
    assert re.search(r"failed</span> \d+%\s*<span class=\"hint\">missed a safety-critical question</span>", html)
    person_page = client.get(f"/manage/people/{person.id}").get_data(as_text=True)
    assert "missed a safety-critical question" in person_page
    # Finn failed on score alone: no such note.
    finn = client.get("/manage/?q=finn").get_data(as_text=True)
    assert "missed a safety-critical question" not in finn


def test_assign_form_refuses_absurd_due_dates_and_labels_its_own_fields(app, client, clinic_world):
    login(client, clinic_world["manager"])
    form = {"course": "tiny-course", "whole_clinic": "chosen", "people": [str(clinic_world["idle"].id)]}
    client.post("/manage/assignments", data={**form, "due": "9999-12-31"})
    assert db.session.scalars(select(Assignment)).all() == []
    html = client.get("/manage/").get_data(as_text=True)
    assert "The due date is more than two years away" in html
    # The assign form's course select has its own id and label (the filter form above has id="course").
    assert len(re.findall(r'id="course"', html)) == 1
    assert re.search(r'<label for="assign-course">Course</label>\s*<select id="assign-course" name="course"', html)
    # The checkboxes are in the register above the form: the wording says so, and the date has bounds.
    assert "The people ticked in the register above" in html and "ticked below" not in html
    today = clock.now().date()
    assert f'min="{today.isoformat()}"' in html and f'max="{today.replace(year=today.year + 2).isoformat()}"' in html


def test_assigned_course_is_on_the_learners_home_and_mailed_to_them(app, client, clinic_world):
    from trainer.models import OutboxMessage

    login(client, clinic_world["manager"])
    due = clock.now().date() + timedelta(days=7)
    form = {"course": "tiny-course", "due": due.isoformat(), "whole_clinic": "chosen",
            "people": [str(clinic_world["idle"].id)]}
    client.post("/manage/assignments", data=form)
    client.post("/manage/assignments", data=form)  # the same assignment again: no second e-mail
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "assignment")).all()
    assert [m.recipient_email for m in mails] == [clinic_world["idle"].email]
    due_words = f"{due.day} {due:%B %Y}"
    assert "Tiny Course" in mails[0].subject
    assert "Morgan Manager" in mails[0].body and due_words in mails[0].body and "/learn" in mails[0].body

    client.post("/logout")
    login(client, clinic_world["idle"])
    home = client.get("/learn").get_data(as_text=True)
    assert re.search(rf'<p class="assignment">Assigned by Morgan Manager, due <time datetime="{due.isoformat()}">'
                     rf'{due_words}</time>\.</p>', home)
    clock.freeze(clock.now() + timedelta(days=8))
    login(client, clinic_world["idle"])  # eight days on, the idle timeout has ended the session
    home = client.get("/learn").get_data(as_text=True)
    assert re.search(r'<p class="assignment overdue">Assigned by Morgan Manager, due <time[^>]*>[^<]+</time>: '
                     r'<strong>overdue</strong>', home)


def test_invitations_are_listed_and_can_be_resent_or_revoked(app, client, clinic_world):
    login(client, clinic_world["manager"])

    def invite(name, email):
        page = client.post("/manage/invitations", data={"name": name, "email": email, "role": "learner"})
        return re.search(r"/invitations/([^<\"]+)</code>", page.get_data(as_text=True)).group(1)

    first = invite("Nina New", "nina@example.org")
    second = invite("Nina New", "nina@example.org")  # a re-invite: the first link stops working
    assert client.get(f"/invitations/{first}").status_code == 410
    assert client.get(f"/invitations/{second}").status_code == 200

    listing = " ".join(re.sub(r"<[^>]+>", " ", client.get("/manage/invitations").get_data(as_text=True)).split())
    assert re.search(r"Nina New nina@example\.org .*pending", listing)
    assert re.search(r"Nina New nina@example\.org .*revoked", listing)

    pending = db.session.scalars(select(Invitation).where(Invitation.revoked_dt.is_(None))).one()
    resent = client.post(f"/manage/invitations/{pending.id}/resend")
    third = re.search(r"/invitations/([^<\"]+)</code>", resent.get_data(as_text=True)).group(1)
    assert client.get(f"/invitations/{second}").status_code == 410
    assert client.get(f"/invitations/{third}").status_code == 200

    newest = db.session.scalars(select(Invitation).where(Invitation.revoked_dt.is_(None))).one()
    assert client.post(f"/manage/invitations/{newest.id}/revoke").status_code == 302
    assert client.get(f"/invitations/{third}").status_code == 410
    assert "revoked" in client.get(f"/invitations/{third}").get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("invitations.revoke") == 3  # the re-invite, the resend and the explicit revoke

    # Another clinic's manager cannot touch them.
    client.post("/logout")
    login(client, make_user("manager", clinic=clinic_world["other"]))
    assert client.post(f"/manage/invitations/{newest.id}/resend").status_code == 404


def test_an_admin_can_reinstate_a_revoked_certificate_with_a_reason(app, client, clinic_world):
    from trainer.services.certificates import revoke_certificate

    cert = db.session.scalar(select(Certificate))
    admin = make_user("admin")
    revoke_certificate(admin, cert, "Revoked on the wrong person by mistake")
    login(client, clinic_world["manager"])
    assert client.post(f"/manage/certificates/{cert.code}/reinstate", data={"reason": "Mistake"}).status_code == 403
    person_page = client.get(f"/manage/people/{cert.user_id}").get_data(as_text=True)
    assert "Reinstate" not in person_page
    client.post("/logout")

    login(client, admin)
    assert "Reinstate" in client.get(f"/manage/people/{cert.user_id}").get_data(as_text=True)
    client.post(f"/manage/certificates/{cert.code}/reinstate", data={"reason": ""})
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).revoked_dt is not None  # a reason is required
    client.post(f"/manage/certificates/{cert.code}/reinstate", data={"reason": "Revoked the wrong person"})
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).revoked_dt is None
    assert client.get(f"/api/v1/certificates/{cert.code}").get_json()["status"] == "valid"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "certificates.reinstate")).one()
    assert event.actor_id == admin.id and event.details["reason"] == "Revoked the wrong person"
    assert event.details["revoked_reason"] == "Revoked on the wrong person by mistake"
