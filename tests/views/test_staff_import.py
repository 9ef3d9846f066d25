"""Bulk staff import: CSV or XLSX, a preview of what is created, updated or refused (`line N: message`),
confirmation applies all or nothing, new people are e-mailed a link; the template; the same on the CLI."""
import io
import re
from datetime import timedelta

from openpyxl import Workbook
from sqlalchemy import func, select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_clinic, make_user
from trainer import clock
from trainer.extensions import db
from trainer.models import Assignment, AuditEvent, OutboxMessage, User


def _client(app, user):
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def _upload(client, content: bytes, filename="staff.csv", clinic=None):
    url = "/manage/people/import" + (f"?clinic={clinic}" if clinic else "")
    return client.post(url, data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")


def _confirm(client, preview):
    payload = re.search(r'name="payload" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    return client.post("/manage/people/import/confirm", data={"payload": payload})


def _count_users():
    return db.session.scalar(select(func.count()).select_from(User))


def test_a_manager_imports_twenty_staff_from_a_csv(app):
    manager = make_user("manager")
    client = _client(app, manager)
    rows = "".join(f"person{n}@clinic.example,Person Number {n},learner,\n" for n in range(1, 21))
    preview = _upload(client, ("email,name,roles,clinic\n" + rows).encode())
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "20 to create, 0 to update, 0 refused." in html
    assert _count_users() == 1  # the preview wrote nothing
    assert _confirm(client, preview).status_code == 302
    people = db.session.scalars(select(User).where(User.email.like("%@clinic.example"))).all()
    assert len(people) == 20 and {p.clinic_id for p in people} == {manager.clinic_id}
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "account-created")).all()
    assert len(mails) == 20 and all("/password/reset/" in m.body for m in mails)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "users.import")).details == {
        "created": 20, "updated": 0}


def test_refused_lines_are_listed_and_nothing_is_applied(app):
    manager = make_user("manager")
    foreign = make_user("learner")
    mine = make_user("learner", clinic=manager.clinic, name="Old Name")
    client = _client(app, manager)
    content = ("Email,Name,Roles\n"
               f"{mine.email},New Name,learner\n"
               "ok@example.org,Okay Person,learner\n"
               "not-an-email,Bad Email,learner\n"
               "boss@example.org,Would Be Admin,admin\n"
               f"{foreign.email},Foreigner,learner\n"
               "ok@example.org,Twice Listed,learner\n"
               ",,\n")
    preview = _upload(client, content.encode())
    html = preview.get_data(as_text=True)
    assert preview.status_code == 400
    assert "1 to create, 1 to update, 4 refused." in html
    assert "line 4: not-an-email is not a valid email address" in html
    assert "line 5: You can give accounts in your own clinic only, and no role above your own." in html
    assert f"line 6: {foreign.email} has an account you cannot change" in html
    assert "line 7: ok@example.org is also on line 3; give each person once." in html
    assert 'name="payload"' not in html  # no confirm button while any line is refused
    db.session.expire_all()
    assert db.session.get(User, mine.id).name == "Old Name" and _count_users() == 3


def test_an_xlsx_file_creates_and_updates(app):
    admin = make_user("admin")
    clinic = make_clinic("Clinique Étoile")
    existing = make_user("learner", clinic=clinic, name="Ana Old")
    book = Workbook()
    sheet = book.active
    sheet.append(["email", "name", "roles", "clinic"])
    sheet.append([existing.email, "Ana Silva", "learner;manager", "clinique étoile"])
    sheet.append(["tess@example.org", "Tess Trainer", "trainer", None])
    data = io.BytesIO()
    book.save(data)
    client = _client(app, admin)
    preview = _upload(client, data.getvalue(), "staff.xlsx")
    assert "1 to create, 1 to update, 0 refused." in preview.get_data(as_text=True)
    assert _confirm(client, preview).status_code == 302
    db.session.expire_all()
    updated = db.session.get(User, existing.id)
    assert updated.name == "Ana Silva" and updated.roles == {"learner", "manager"}
    assert db.session.scalar(select(User).where(User.email == "tess@example.org")).roles == {"trainer"}


def test_a_file_that_cannot_be_read_gets_one_clear_message(app):
    client = _client(app, make_user("manager"))
    for content, name, message in [
            (b"a,b\n1,2\n", "staff.csv", "line 1: the first row names the columns and needs email and name"),
            (b"\xff\xfe\x00garbage", "staff.csv", "is not UTF-8"),
            (b"not a workbook", "staff.xlsx", "This .xlsx file cannot be read"),
            (b"email,name\n", "staff.txt", "Upload a .csv or .xlsx file")]:
        response = _upload(client, content, name)
        assert response.status_code == 400 and message in response.get_data(as_text=True), name


def test_the_template_downloads_and_imports_as_it_is(app):
    manager = make_user("manager")
    client = _client(app, manager)
    template = client.get("/manage/people/import/template.csv")
    assert template.status_code == 200 and template.headers["Content-Type"].startswith("text/csv")
    preview = _upload(client, template.data)
    assert "2 to create, 0 to update, 0 refused." in preview.get_data(as_text=True)


def test_a_tampered_confirmation_is_refused(app):
    client = _client(app, make_user("manager"))
    assert client.post("/manage/people/import/confirm", data={"payload": "forged"}).status_code == 400


def test_flask_users_import(app, runner, tmp_path):
    make_clinic("North Clinic")
    good = tmp_path / "staff.csv"
    good.write_text("email,name,roles\nlee@example.org,Lee Learner,learner\nmo@example.org,Mo Manager,manager\n")
    dry = runner.invoke(args=["users", "import", str(good), "--clinic", "north clinic", "--dry-run"])
    assert dry.exit_code == 0 and "2 to create" in dry.output and _count_users() == 0
    result = runner.invoke(args=["users", "import", str(good), "--clinic", "north clinic"])
    assert result.exit_code == 0 and "Imported: 2 created" in result.output and _count_users() == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name\nnew@example.org,New Person\nlee@example.org,\n")
    refused = runner.invoke(args=["users", "import", str(bad), "--clinic", "North Clinic"])
    assert refused.exit_code == 1 and f"{bad}: line 3: Give the person's name." in refused.output
    assert "Nothing was imported" in refused.output and "Traceback" not in refused.output and _count_users() == 2


def test_a_change_between_preview_and_confirm_imports_nothing(app):
    manager = make_user("manager")
    other_manager = make_user("manager")
    client = _client(app, manager)
    preview = _upload(client, b"email,name\nfirst@example.org,First Person\ntaken@example.org,Second Person\n")
    assert "2 to create" in preview.get_data(as_text=True)
    make_user("learner", clinic=other_manager.clinic, email="taken@example.org")  # another clinic takes the email
    response = _confirm(client, preview)
    assert response.status_code == 302 and "/manage/people/import" in response.headers["Location"]
    assert db.session.scalar(select(User).where(User.email == "first@example.org")) is None
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_course_with_a_due_date_is_assigned_on_import(app):
    import_course(TINY_COURSE)
    manager = make_user("manager")
    client = _client(app, manager)
    due = (clock.now().date() + timedelta(days=30)).isoformat()
    bad = _upload(client, ("email,name,course,due\n"
                           f"a@example.org,Al One,tiny-course,{due}\n"
                           "b@example.org,Bo Two,tiny-course,31/12/2026\n"
                           "c@example.org,Cy Three,no-such-course,2027-01-01\n"
                           "d@example.org,Di Four,tiny-course,\n").encode())
    html = bad.get_data(as_text=True)
    assert "line 3: &#39;31/12/2026&#39; is not a date; write it as YYYY-MM-DD." in html
    assert "line 4: there is no course &#39;no-such-course&#39;" in html
    assert "line 5: give both a course and its due date (YYYY-MM-DD), or neither." in html
    preview = _upload(client, f"email,name,course,due\na@example.org,Al One,tiny-course,{due}\n".encode())
    assert _confirm(client, preview).status_code == 302
    person = db.session.scalar(select(User).where(User.email == "a@example.org"))
    assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == person.id))
    assert assignment.due_date.isoformat() == due and assignment.assigned_by_id == manager.id
    kinds = set(db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.recipient_email == "a@example.org")))
    assert kinds == {"account-created", "assignment"}
