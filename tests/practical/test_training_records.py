"""Training records: a person's PDF (web and `flask records export`), a clinic's pack with a manifest."""
import hashlib
import io
import json
import zipfile
from datetime import datetime

import pypdf
import pytest

from tests.factories import (
    ALL_COMPETENT,
    PASSWORD,
    case_fields,
    import_course,
    make_assessor,
    make_clinic,
    make_user,
    practical_course_dir,
    take_attempt,
)
from trainer import clock
from trainer.services.practical import log_case, review_case, sign_dops


def text_of(document: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(document))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def certified(app, tmp_path):
    clock.freeze(datetime(2026, 12, 1, 9, 0))
    course = import_course(practical_course_dir(tmp_path))
    clinic = make_clinic("Harbour Clinic")
    learner = make_user("learner", clinic=clinic, name="Pat Learner", email="pat@example.org")
    assessor = make_assessor([clinic], name="Sam Assessor")
    for module in course.modules:
        take_attempt(learner, module)
    cases = []
    for ref, indication in (("C-1", "acne-scars"), ("C-2", "fine-lines"), ("C-3", "acne-scars")):
        case = log_case(learner, course, case_fields(client_ref=ref, indication=indication))
        review_case(assessor, case, verified=True, comment="")
        cases.append(case)
    sign_dops(assessor, learner, course, "facial", ALL_COMPETENT, "competent", "Safe and independent.",
              case=cases[0], final=True)
    return clinic, learner, assessor


def test_training_record_pdf_has_quizzes_logbook_signoff_and_certificate(app, certified):
    clinic, learner, assessor = certified
    client = app.test_client()
    client.post("/login", data={"email": learner.email, "password": PASSWORD})
    assert f"/people/{learner.id}/training-record.pdf" in client.get("/learn").get_data(as_text=True)
    response = client.get(f"/people/{learner.id}/training-record.pdf")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    text = text_of(response.data)
    assert "Pat Learner" in text and "Basics: attempt 1" in text and "question set" in text
    assert "C-2 · fine lines" in text and "practical signed off" in text
    assert f"FINAL SIGN-OFF · signed by Sam Assessor (NMC PIN-{assessor.id:05d})" in text
    assert "/verify/" in text


def test_flask_records_export_writes_the_pdf(app, certified, runner, tmp_path):
    clinic, learner, assessor = certified
    out = tmp_path / "record.pdf"
    result = runner.invoke(args=["records", "export", "PAT@example.org", "--out", str(out),
                                 "--base-url", "https://trainer.example"])
    assert result.exit_code == 0, result.output
    assert "https://trainer.example/verify/" in text_of(out.read_bytes())
    unknown = runner.invoke(args=["records", "export", "nobody@example.org"])
    assert unknown.exit_code == 1 and "No account has the email nobody@example.org." in unknown.output


def test_clinic_pack_is_a_zip_of_records_with_a_sha256_manifest(app, certified):
    clinic, learner, assessor = certified
    make_user("learner", clinic=clinic, name="Alex New")
    manager = make_user("manager", clinic=clinic)
    client = app.test_client()
    client.post("/login", data={"email": manager.email, "password": PASSWORD})
    html = client.get("/manage/").get_data(as_text=True)
    assert "/manage/clinic-pack.zip" in html
    person_page = client.get(f"/manage/people/{learner.id}").get_data(as_text=True)
    assert f"/people/{learner.id}/training-record.pdf" in person_page
    response = client.get("/manage/clinic-pack.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["clinic"] == "Harbour Clinic"
    assert {entry["person"] for entry in manifest["files"]} >= {"Pat Learner", "Alex New"}
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["file"])).hexdigest() == entry["sha256"]
    assert set(archive.namelist()) == {e["file"] for e in manifest["files"]} | {"manifest.json"}
    [certificate] = [e["file"] for e in manifest["files"]
                     if e["file"].endswith(".pdf") and "-tiny-course-" in e["file"]]
    assert "Scan to verify" in text_of(archive.read(certificate))  # the certificate itself, with its QR code
