"""Practical competence through the web: the journey to a certificate, forged sign-offs, photos."""
import io
from datetime import datetime

import pypdf
import pytest
from PIL import Image
from sqlalchemy import select

from tests.conftest import ROOT
from tests.factories import (
    PASSWORD,
    case_fields,
    import_course,
    make_assessor,
    make_clinic,
    make_user,
    take_attempt,
    tiny_jpeg,
)
from trainer import clock
from trainer.extensions import db
from trainer.models import AssessorRegistration, CasePhoto, Certificate, DopsObservation, LogbookCase, UserRole
from trainer.services.practical import log_case

SHIPPED = ROOT / "question_banks" / "microneedling"


def signed_in(app, user, client=None):
    """A client signed in as `user`; pass the previous client to switch people (the tests share one
    app context, so the signed-in user is cached per context, not per client)."""
    if client is not None:
        client.post("/logout")
    client = client or app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def dops_form(course, overall="competent", final=True, case_id=""):
    [competency] = course.practical["competencies"]
    form = {f"rating-{s['id']}": "competent" for s in competency["checklist"]}
    form.update(competency=competency["id"], overall=overall,
                feedback="Safe, well-prepared treatment; depth within labelling.",
                case=str(case_id), **({"final": "1"} if final else {}))
    return form


def test_journey_six_cases_verified_and_signed_issue_the_certificate(app):
    clock.freeze(datetime(2026, 12, 1, 9, 0))
    course = import_course(SHIPPED)
    clinic = make_clinic("Riverside Clinic")
    learner = make_user("learner", clinic=clinic, name="Dana Practitioner")
    assessor = make_assessor([clinic], name="Sam Assessor")
    for module in course.modules:
        take_attempt(learner, module)
    assert db.session.scalars(select(Certificate)).all() == []  # theory alone is not enough

    as_learner = signed_in(app, learner)
    indications = ["atrophic-acne-scars"] * 4 + ["texture-and-fine-lines"] * 2
    for i, indication in enumerate(indications):
        response = as_learner.post(f"/practical/{course.slug}/cases/new",
                                   data=case_fields(client_ref=f"RC-{i + 1:03d}", indication=indication))
        assert response.status_code == 302
    logbook = as_learner.get(f"/practical/{course.slug}/people/{learner.id}").get_data(as_text=True)
    assert "practical in progress (0 of 6 cases)" in logbook and "RC-006" in logbook

    as_assessor = signed_in(app, assessor, client=as_learner)
    queue = as_assessor.get("/practical/queue").get_data(as_text=True)
    assert queue.index("RC-001") < queue.index("RC-006")  # oldest first
    cases = db.session.scalars(select(LogbookCase).order_by(LogbookCase.id)).all()
    for case in cases:
        assert as_assessor.post(f"/practical/cases/{case.id}/review", data={"decision": "verify"}).status_code == 302
    assert db.session.scalars(select(Certificate)).all() == []  # logbook verified, no sign-off yet

    page = as_assessor.get(f"/practical/{course.slug}/people/{learner.id}/dops").get_data(as_text=True)
    assert "Chooses a needle depth per zone within the device" in page
    response = as_assessor.post(f"/practical/{course.slug}/people/{learner.id}/dops",
                                data=dops_form(course, "competent_with_supervision", case_id=cases[0].id))
    assert response.status_code == 302
    [certificate] = db.session.scalars(select(Certificate)).all()

    verify = app.test_client().get(f"/verify/{certificate.code}").get_data(as_text=True)
    registration = f"NMC PIN-{assessor.id:05d}"
    assert "Sam Assessor" in verify and registration in verify and "requires supervision" in verify
    api = app.test_client().get(f"/api/v1/certificates/{certificate.code}").get_json()
    assert api["practical"] == {"assessor": "Sam Assessor", "registration": registration, "signed": "2026-12-01",
                                "judgement": "competent_with_supervision", "requires_supervision": True}
    as_learner = signed_in(app, learner, client=as_assessor)
    own_page = as_learner.get(f"/certificates/{certificate.code}").get_data(as_text=True)
    assert ("Practical competence signed off by Sam Assessor (" + registration
            + ") on 2026-12-01: requires supervision.") in own_page
    document = as_learner.get(f"/certificates/{certificate.code}.pdf")
    text = " ".join(pypdf.PdfReader(io.BytesIO(document.data)).pages[0].extract_text().split())
    assert (f"Practical competence signed off by Sam Assessor ({registration}) on 2026-12-01: "
            "requires supervision.") in text


@pytest.fixture
def signoff_setting(app, tmp_path):
    from tests.factories import practical_course_dir
    clock.freeze(datetime(2026, 12, 1, 9, 0))
    course = import_course(practical_course_dir(tmp_path))
    clinic = make_clinic()
    learner = make_user("learner", clinic=clinic)
    return course, clinic, learner


@pytest.mark.parametrize("forger, status", [("learner", 403), ("manager", 403), ("foreign_assessor", 404),
                                            ("own_record", 403)])
def test_forged_signoff_through_the_web_is_refused(app, signoff_setting, forger, status):
    course, clinic, learner = signoff_setting
    subject = learner
    if forger == "learner":
        actor = make_user("learner", clinic=clinic)
    elif forger == "manager":
        actor = make_user("manager", clinic=clinic)
    elif forger == "foreign_assessor":
        actor = make_assessor([make_clinic()])
    else:
        actor = make_assessor([clinic])
        actor.role_rows.append(UserRole(role="learner"))
        db.session.commit()
        subject = actor
    response = signed_in(app, actor).post(f"/practical/{course.slug}/people/{subject.id}/dops",
                                          data=dops_form(course))
    assert response.status_code == status
    assert db.session.scalars(select(DopsObservation)).all() == []


def test_incomplete_dops_says_what_is_missing_and_signs_nothing(app, signoff_setting):
    course, clinic, learner = signoff_setting
    assessor = make_assessor([clinic])
    form = dops_form(course)
    del form["rating-depth"]
    response = signed_in(app, assessor).post(f"/practical/{course.slug}/people/{learner.id}/dops", data=form)
    assert response.status_code == 422
    assert "Rate every step of the checklist (1 not rated)" in response.get_data(as_text=True)
    assert db.session.scalars(select(DopsObservation)).all() == []


def test_bad_case_fields_are_shown_next_to_the_field(app, signoff_setting):
    course, clinic, learner = signoff_setting
    response = signed_in(app, learner).post(f"/practical/{course.slug}/cases/new",
                                            data=case_fields(client_ref="Jane Smith", areas="cheeks"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "never a name" in html and "area: depth in mm" in html
    assert db.session.scalars(select(LogbookCase)).all() == []


def test_photo_is_stored_without_exif_or_gps_and_served_no_store(app, signoff_setting, tmp_path):
    course, clinic, learner = signoff_setting
    app.config["CASE_PHOTO_DIR"] = str(tmp_path / "photos")
    original = tiny_jpeg(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload does carry GPS
    case = log_case(learner, course, case_fields())
    client = signed_in(app, learner)
    response = client.post(f"/practical/cases/{case.id}/photos",
                           data={"photo": (io.BytesIO(original), "IMG_0001.jpg"), "consent": "y"},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    [photo] = db.session.scalars(select(CasePhoto)).all()
    stored = tmp_path / "photos" / photo.stored_name
    with Image.open(stored) as image:
        assert dict(image.getexif()) == {} and "exif" not in image.info
    assert b"Clinic Phone 12" not in stored.read_bytes()
    served = client.get(f"/practical/photos/{photo.id}")
    assert served.status_code == 200 and served.headers["Cache-Control"] == "no-store"
    assert served.data == stored.read_bytes()
    foreign = signed_in(app, make_user("manager", clinic=make_clinic()), client=client)
    assert foreign.get(f"/practical/photos/{photo.id}").status_code == 404


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="GIF")
    return out.getvalue()


@pytest.mark.parametrize("data, consent, message", [
    (b"%PDF-1.4 not an image", "y", "not an image we can read"),
    (None, "", "recorded consent"),
    (gif(), "y", "Photos must be JPEG, PNG or WebP images."),
    (b"\xff" * (6 * 1024 * 1024 + 1), "y", "Photos must be at most 6 MB."),
])
def test_bad_photos_are_refused_with_a_message(app, signoff_setting, tmp_path, data, consent, message):
    course, clinic, learner = signoff_setting
    app.config["CASE_PHOTO_DIR"] = str(tmp_path / "photos")
    case = log_case(learner, course, case_fields())
    client = signed_in(app, learner)
    form = {"photo": (io.BytesIO(data or tiny_jpeg()), "x.jpg")}
    if consent:
        form["consent"] = consent
    response = client.post(f"/practical/cases/{case.id}/photos", data=form, content_type="multipart/form-data",
                           follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(CasePhoto)).all() == []


def test_admin_records_and_verifies_a_registration(app, signoff_setting):
    course, clinic, learner = signoff_setting
    admin = make_user("admin")
    nurse = make_user("trainer", name="Nurse Registered")
    client = signed_in(app, admin)
    response = client.post("/admin/assessors", data={"assessor": nurse.id, "body": "NMC", "number": "12A3456E",
                                                     "expires_on": "2027-06-30", "clinics": [clinic.id]})
    assert response.status_code == 302
    page = client.get("/admin/assessors").get_data(as_text=True)
    assert "NMC 12A3456E" in page and "Mark verified" in page
    db.session.refresh(nurse)
    assert "assessor" in nurse.roles  # recording gives the assessor role
    registration = db.session.scalar(select(AssessorRegistration))
    assert client.post(f"/admin/assessors/{registration.id}/verify").status_code == 302
    db.session.refresh(registration)
    assert registration.verified_by_id == admin.id
    expired = client.post("/admin/assessors", data={"assessor": nurse.id, "body": "NMC", "number": "1",
                                                    "expires_on": "2020-01-01", "clinics": [clinic.id]})
    assert expired.status_code == 422 and "already expired" in expired.get_data(as_text=True)


def test_register_shows_and_filters_practical_progress(app, signoff_setting, count_queries):
    course, clinic, learner = signoff_setting
    assessor = make_assessor([clinic])
    for module in course.modules:
        take_attempt(learner, module)
    for ref in ("C-1", "C-2"):
        from trainer.services.practical import review_case
        review_case(assessor, log_case(learner, course, case_fields(client_ref=ref)), verified=True, comment="")
    beginner = make_user("learner", clinic=clinic, name="Beginner")
    client = signed_in(app, make_user("manager", clinic=clinic))
    html = client.get(f"/manage/?course={course.slug}").get_data(as_text=True)
    assert "theory passed, practical in progress (2 of 3 cases)" in html
    assert "practical in progress (0 of 3 cases)" in html
    person_page = client.get(f"/manage/people/{learner.id}").get_data(as_text=True)
    assert "Practical: theory passed, practical in progress (2 of 3 cases)" in person_page
    assert f"/practical/{course.slug}/people/{learner.id}" in person_page
    filtered = client.get(f"/manage/?course={course.slug}&practical=in+progress&q=Beginner").get_data(as_text=True)
    assert beginner.name in filtered
    with count_queries() as few:
        client.get(f"/manage/?course={course.slug}")
    for _ in range(5):
        make_user("learner", clinic=clinic)
    client.get(f"/manage/?course={course.slug}")  # reload what the new accounts' commits expired
    with count_queries() as many:
        client.get(f"/manage/?course={course.slug}")
    assert len(many) == len(few)  # practical columns cost the same whatever the staff count


def test_photos_are_stored_under_the_instance_folder_by_default(app, signoff_setting, tmp_path):
    course, clinic, learner = signoff_setting
    app.config.pop("CASE_PHOTO_DIR", None)
    app.instance_path = str(tmp_path / "instance")
    case = log_case(learner, course, case_fields())
    response = signed_in(app, learner).post(f"/practical/cases/{case.id}/photos",
                                            data={"photo": (io.BytesIO(tiny_jpeg()), "a.jpg"), "consent": "y"},
                                            content_type="multipart/form-data")
    assert response.status_code == 302
    [photo] = db.session.scalars(select(CasePhoto)).all()
    assert (tmp_path / "instance" / "case_photos" / photo.stored_name).is_file()
