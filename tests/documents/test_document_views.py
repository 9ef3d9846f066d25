"""Downloads: a certificate PDF for who may see it, a clinic's certificates as ZIP, the register as CSV/XLSX."""
import csv
import io
import zipfile
from datetime import timedelta

import openpyxl
import pypdf
import pytest
from flask import g

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_clinic, make_user, take_attempt
from trainer import clock
from trainer.extensions import db
from trainer.models import Certificate
from trainer.services.certificates import current_certificate, revoke_certificate
from trainer.services.register import clinic_staff, course_progress, register_record


def certify(person, course):
    for module in course.modules:
        take_attempt(person, module)
    return current_certificate(person.id, course.id)


@pytest.fixture
def world(app):
    course = import_course(TINY_COURSE)
    home, away = make_clinic("Home Clinic"), make_clinic("Away Clinic")
    people = {
        "pat": make_user("learner", clinic=home, name="Pat Learner"),
        "zoe": make_user("learner", clinic=home, name="Zoë Ñúñez"),
        "sam": make_user("learner", clinic=home, name="Sam Starter"),
        "formula": make_user("learner", clinic=home, name='=HYPERLINK("http://evil.example","click")'),
        "ada": make_user("learner", clinic=away, name="Ada Away"),
        "manager": make_user("manager", clinic=home, name="Morgan Manager"),
        "foreign_manager": make_user("manager", clinic=away, name="Fran Foreign"),
        "trainer": make_user("trainer"),
        "admin": make_user("admin"),
    }
    certs = {name: certify(people[name], course) for name in ("pat", "zoe", "ada")}
    return {"course": course, "home": home, "away": away, "people": people, "certs": certs}


def signed_in(app, person):
    # Requests share the test's app context, so Flask-Login's cached user would outlive a client.
    g.pop("_login_user", None)
    client = app.test_client()
    if person is not None:
        assert client.post("/login", data={"email": person.email, "password": PASSWORD}).status_code == 302
    return client


def pdf_text(data: bytes) -> str:
    return pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


def zip_names(response) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(response.get_data())).namelist()


# --- one certificate as PDF -----------------------------------------------------------------------

def test_the_holder_downloads_their_certificate_as_pdf(app, world):
    cert = world["certs"]["pat"]
    response = signed_in(app, world["people"]["pat"]).get(f"/certificates/{cert.code}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="certificate-{cert.code}.pdf"'
    assert "no-store" in response.headers["Cache-Control"]
    reader = pypdf.PdfReader(io.BytesIO(response.get_data()))
    text = reader.pages[0].extract_text()
    for printed in ("Pat Learner", "Tiny Course", cert.code, "Home Clinic · Trainer",
                    f"http://trainer.test/verify/{cert.code}", f"{cert.issued_dt.year}"):
        assert printed in text
    assert len(reader.pages[0].images) == 1  # the QR code


def test_a_unicode_name_prints_on_the_certificate(app, world):
    cert = world["certs"]["zoe"]
    response = signed_in(app, world["people"]["zoe"]).get(f"/certificates/{cert.code}.pdf")
    assert response.status_code == 200 and "Zoë Ñúñez" in pdf_text(response.get_data())


# Trainers see everyone's records (security.can_view_person), so they get the PDF too.
@pytest.mark.parametrize("role, status", [("manager", 200), ("admin", 200), ("trainer", 200), ("foreign_manager", 404),
                                          ("sam", 404)])
def test_only_the_holder_their_manager_trainers_and_admins_get_the_pdf(app, world, role, status):
    cert = world["certs"]["pat"]
    assert signed_in(app, world["people"][role]).get(f"/certificates/{cert.code}.pdf").status_code == status


def test_anonymous_is_sent_to_sign_in_for_a_pdf(app, world):
    response = signed_in(app, None).get(f"/certificates/{world['certs']['pat'].code}.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_unknown_code_is_a_404(app, world):
    assert signed_in(app, world["people"]["admin"]).get("/certificates/no-such-code.pdf").status_code == 404


def test_a_revoked_certificate_has_no_pdf_and_is_left_out_of_the_zip(app, world):
    cert = world["certs"]["zoe"]
    revoke_certificate(world["people"]["admin"], cert, "Issued on a mistaken identity.")
    response = signed_in(app, world["people"]["zoe"]).get(f"/certificates/{cert.code}.pdf")
    assert response.status_code == 410 and "revoked" in response.get_data(as_text=True)
    names = zip_names(signed_in(app, world["people"]["manager"]).get("/manage/certificates.zip"))
    assert [n for n in names if cert.code in n] == [] and len(names) == 1


# --- a clinic's certificates as ZIP ---------------------------------------------------------------

def test_a_manager_gets_one_pdf_per_current_certificate_of_their_clinic(app, world):
    client = signed_in(app, world["people"]["manager"])
    response = client.get(f"/manage/certificates.zip?clinic={world['away'].id}")  # ignored for managers
    assert response.status_code == 200 and response.mimetype == "application/zip"
    today = clock.now().date().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="certificates-home-clinic-{today}.zip"'
    pat, zoe = world["certs"]["pat"], world["certs"]["zoe"]
    assert zip_names(response) == [f"pat-learner-tiny-course-{pat.code}.pdf", f"zoe-nunez-tiny-course-{zoe.code}.pdf"]
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    texts = [pdf_text(archive.read(name)) for name in archive.namelist()]
    assert "Pat Learner" in texts[0] and pat.code in texts[0] and "Zoë Ñúñez" in texts[1]
    assert not any("Ada Away" in text for text in texts)


def test_a_renewed_certificate_replaces_the_old_one_in_the_zip(app, world):
    old = world["certs"]["pat"]
    clock.freeze(old.expires_dt - timedelta(days=30))  # inside the renewal window
    renewed = certify(world["people"]["pat"], world["course"])
    assert renewed.id != old.id and db.session.get(Certificate, old.id).superseded_by_id == renewed.id
    names = zip_names(signed_in(app, world["people"]["manager"]).get("/manage/certificates.zip"))
    assert len(names) == 2 and any(renewed.code in n for n in names) and not any(old.code in n for n in names)


def test_an_admin_picks_the_clinic_of_the_zip(app, world):
    client = signed_in(app, world["people"]["admin"])
    names = zip_names(client.get(f"/manage/certificates.zip?clinic={world['away'].id}"))
    assert names == [f"ada-away-tiny-course-{world['certs']['ada'].code}.pdf"]
    assert client.get("/manage/certificates.zip?clinic=all").status_code == 404
    assert client.get("/manage/certificates.zip?clinic=999999").status_code == 404


def test_a_foreign_manager_gets_only_their_own_clinics_zip(app, world):
    response = signed_in(app, world["people"]["foreign_manager"]).get(
        f"/manage/certificates.zip?clinic={world['home'].id}")
    assert response.status_code == 200 and zip_names(response) == [
        f"ada-away-tiny-course-{world['certs']['ada'].code}.pdf"]


# --- the register as CSV and XLSX -----------------------------------------------------------------

@pytest.mark.parametrize("url", ["/manage/certificates.zip", "/manage/register.csv", "/manage/register.xlsx"])
@pytest.mark.parametrize("role, status", [("pat", 403), ("trainer", 403), (None, 302)])
def test_learners_trainers_and_anonymous_get_no_manage_exports(app, world, url, role, status):
    response = signed_in(app, world["people"][role] if role else None).get(url)
    assert response.status_code == status
    if status == 302:
        assert "/login" in response.headers["Location"]


def test_the_csv_register_is_the_managers_clinic_with_the_register_columns(app, world):
    response = signed_in(app, world["people"]["manager"]).get("/manage/register.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    today = clock.now().date().isoformat()
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="register-home-clinic-tiny-course-{today}.csv"'
    rows = csv_rows(response)
    expected = [register_record(r) for r in course_progress(clinic_staff(world["home"].id), world["course"])]
    assert list(rows[0]) == list(expected[0])
    assert [r["name"] for r in rows] == ["'" + world["people"]["formula"].name, "Morgan Manager", "Pat Learner",
                                         "Sam Starter", "Zoë Ñúñez"]
    pat = next(r for r in rows if r["name"] == "Pat Learner")
    cert = world["certs"]["pat"]
    assert pat["status"] == "certified" and pat["certificate_code"] == cert.code
    assert pat["issued"] == cert.issued_dt.date().isoformat() and pat["active"] == "true"
    assert pat["clinic"] == "Home Clinic" and pat["course"] == "tiny-course"


def test_the_csv_content_type_names_its_charset_once(app, world):
    response = signed_in(app, world["people"]["manager"]).get("/manage/register.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_a_manager_cannot_export_another_clinics_register(app, world):
    client = signed_in(app, world["people"]["foreign_manager"])
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/manage/register.{fmt}?clinic={world['home'].id}")
        assert response.status_code == 200 and "away-clinic" in response.headers["Content-Disposition"]
    names = [r["name"] for r in csv_rows(client.get(f"/manage/register.csv?clinic={world['home'].id}"))]
    assert names == ["Ada Away", "Fran Foreign"]


def test_an_admin_exports_any_clinic_or_the_whole_chain(app, world):
    client = signed_in(app, world["people"]["admin"])
    assert [r["name"] for r in csv_rows(client.get(f"/manage/register.csv?clinic={world['away'].id}"))] == \
        ["Ada Away", "Fran Foreign"]
    response = client.get("/manage/register.csv?clinic=all")
    assert "all-clinics" in response.headers["Content-Disposition"] and len(csv_rows(response)) == 7
    assert client.get("/manage/register.csv?clinic=999999").status_code == 404


def test_the_export_uses_the_consoles_filter_search_and_sort(app, world):
    client = signed_in(app, world["people"]["manager"])

    def names(query):
        return [r["name"] for r in csv_rows(client.get(f"/manage/register.csv?{query}"))]

    assert names("status=certified") == ["Pat Learner", "Zoë Ñúñez"]
    assert names("status=not+started&sort=name&dir=desc") == ["Sam Starter", "Morgan Manager",
                                                              "'" + world["people"]["formula"].name]
    assert names("q=ZO") == ["Zoë Ñúñez"]
    assert names("q=sam&course=tiny-course") == ["Sam Starter"]
    assert names("sort=name&dir=desc") == list(reversed(names("sort=name")))
    assert names("status=&sort=&dir=") == names("")


def test_a_filter_that_matches_no_one_still_gives_the_header(app, world):
    response = signed_in(app, world["people"]["manager"]).get("/manage/register.csv?q=nobody-at-all")
    lines = response.get_data().decode("utf-8-sig").splitlines()
    assert len(lines) == 1 and lines[0].startswith('"person_id","name","email"')  # every cell quoted
    sheet = openpyxl.load_workbook(io.BytesIO(signed_in(app, world["people"]["manager"])
                                              .get("/manage/register.xlsx?q=nobody-at-all").get_data())).active
    assert sheet.max_row == 1 and sheet.cell(row=1, column=1).value == "person_id"


@pytest.mark.parametrize("query, message", [("status=bogus", "Unknown status"), ("sort=age", "Unknown sort"),
                                            ("dir=up", "asc or desc")])
def test_bad_parameters_are_a_400_that_says_what_to_change(app, world, query, message):
    client = signed_in(app, world["people"]["manager"])
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/manage/register.{fmt}?{query}")
        assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_an_unknown_course_is_a_404(app, world):
    client = signed_in(app, world["people"]["manager"])
    assert client.get("/manage/register.csv?course=no-such-course").status_code == 404
    assert client.get("/manage/register.xlsx?course=no-such-course").status_code == 404


def test_the_xlsx_register_has_typed_cells_and_no_formulas(app, world):
    response = signed_in(app, world["people"]["manager"]).get("/manage/register.xlsx?sort=name")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    header = [c.value for c in sheet[1]]
    csv_header = list(csv_rows(signed_in(app, world["people"]["manager"]).get("/manage/register.csv"))[0])
    assert header == csv_header
    rows = [dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(min_row=2)]
    pat = next(r for r in rows if r["name"] == "Pat Learner")
    cert = world["certs"]["pat"]
    assert hasattr(pat["issued"], "year") and pat["issued"].timetuple()[:3] == cert.issued_dt.timetuple()[:3]
    assert hasattr(pat["expires"], "year") and pat["active"] is True and pat["overdue"] is False
    assert isinstance(pat["basics_best_score"], (int, float))
    formula_cell = sheet.cell(row=2, column=header.index("name") + 1)
    assert formula_cell.value == world["people"]["formula"].name and formula_cell.data_type == "s"
    assert sheet.freeze_panes == "A2"


def test_exports_run_the_same_number_of_queries_whatever_the_staff(app, world, count_queries):
    client = signed_in(app, world["people"]["manager"])

    def queries(url):
        db.session.expire_all()  # as after a commit: nothing cached hides a query per person
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    urls = ("/manage/register.csv", "/manage/register.xlsx", "/manage/certificates.zip")
    before = {url: queries(url) for url in urls}
    for n in range(3):
        certify(make_user("learner", clinic=world["home"], name=f"Extra {n}"), world["course"])
    after = {url: queries(url) for url in before}
    assert after == before
