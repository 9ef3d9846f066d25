"""Uploading course ZIPs, GIFT and CSV files in the browser, and downloading courses and banks."""
import csv
import io
import shutil
import stat
import zipfile
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_user, module_of
from trainer.banks.course_folder import load_course
from trainer.banks.records import BankFormatError
from trainer.extensions import db
from trainer.models import AuditEvent, Course, Question, QuestionVersion
from trainer.services.interchange import read_bank_file

GIFT = """// imported from Moodle
::care-new-one::[markdown]Which product belongs on freshly needled skin?{
=A sterile product made for the device#Right: made for intradermal exposure.
~Any vitamin C serum#Not made for the dermis.
####Only products intended for intradermal exposure.}

::care-new-two::Redness usually settles within a few days.{T####Mild redness is expected.}
"""

CSV_BANK = (
    "id,type,stem,choice_1,choice_2,correct,explanation\r\n"
    "care-sheet-one,single,Which is a sign to stop?,Blanching that does not recover,Mild pinkness,1,"
    "Stop and reassess.\r\n"
    "care-sheet-two,true_false,Clients may swim the same day.,,,false,Chlorine irritates open channels.\r\n"
)


def login(client, user):
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


@pytest.fixture
def trainer_client(app):
    client = app.test_client()
    login(client, make_user("trainer"))
    return client


def zip_bytes(folder: Path, top: str | None = None, extra: dict | None = None) -> bytes:
    """The folder zipped as a trainer would: files at the top, or inside one `top` folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                archive.write(path, f"{top}/{name}" if top else name)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload_course(client, data: bytes, name="course.zip"):
    return client.post("/author/files/course", data={"course-archive": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def upload_bank(client, file_format: str, text: str | bytes, into="tiny-course/care", name=None):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(f"/author/files/bank/{file_format}",
                       data={f"{file_format}-module": into,
                             f"{file_format}-bank": (io.BytesIO(data), name or f"bank.{file_format}")},
                       content_type="multipart/form-data")


def version_count() -> int:
    return db.session.scalar(select(func.count()).select_from(QuestionVersion))


def course_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Course))


def broken_copy(tmp_path: Path) -> Path:
    """The tiny course with a single-choice question that has no correct choice in questions/care.yaml."""
    folder = tmp_path / "tiny-course"
    shutil.copytree(TINY_COURSE, folder)
    bank = folder / "questions" / "care.yaml"
    bank.write_text(bank.read_text().replace("      - text: Spreading redness with fever\n        correct: true\n",
                                             "      - text: Spreading redness with fever\n"))
    return folder


# --- course ZIP ------------------------------------------------------------------------


def test_course_zip_imports_the_course_shows_the_summary_and_is_audited(app, trainer_client):
    response = upload_course(trainer_client, zip_bytes(TINY_COURSE), "tiny.zip")
    assert response.status_code == 302
    html = trainer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Imported tiny.zip. tiny-course: created; 9 new questions" in html
    assert course_count() == 1 and version_count() == 9
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "banks.import"))
    assert event.subject == "course:tiny-course" and event.actor_id is not None


def test_a_zip_whose_single_top_folder_holds_the_course_is_accepted(app, trainer_client):
    response = upload_course(trainer_client, zip_bytes(TINY_COURSE, top="tiny-course", extra={
        "__MACOSX/tiny-course/._course.yaml": b"\x00\x05\x16\x07"}))
    assert response.status_code == 302 and course_count() == 1


def test_uploading_the_same_course_again_changes_nothing(app, trainer_client):
    upload_course(trainer_client, zip_bytes(TINY_COURSE))
    response = upload_course(trainer_client, zip_bytes(TINY_COURSE))
    html = trainer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "0 new questions, 0 new versions, 9 unchanged" in html and version_count() == 9


@pytest.mark.parametrize("evil_name", ["../escaped-by-upload-test.txt", "/tmp/escaped-by-upload-test.txt",
                                       "modules/../../escaped-by-upload-test.txt", "C:/escaped-by-upload-test.txt",
                                       "..\\escaped-by-upload-test.txt"])
def test_zip_slip_entries_are_refused_and_nothing_is_written_or_imported(app, trainer_client, evil_name):
    response = upload_course(trainer_client, zip_bytes(TINY_COURSE, extra={evil_name: b"gotcha"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "points outside the course folder" in html and "Nothing was imported" in html
    assert course_count() == 0
    assert not Path("/tmp/escaped-by-upload-test.txt").exists()


def test_a_symbolic_link_in_the_zip_is_refused(app, trainer_client):
    link = zipfile.ZipInfo("media/passwd.svg")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    response = upload_course(trainer_client, zip_bytes(TINY_COURSE, extra={link: "/etc/passwd"}))
    assert response.status_code == 400 and "symbolic link" in response.get_data(as_text=True)
    assert course_count() == 0


def test_a_zip_with_too_many_entries_is_refused(app, trainer_client):
    extra = {f"media/extra-{n}.txt": b"" for n in range(500)}
    response = upload_course(trainer_client, zip_bytes(TINY_COURSE, extra=extra))
    assert response.status_code == 400
    assert "a course may have at most 500" in response.get_data(as_text=True) and course_count() == 0


def test_a_zip_that_unpacks_too_large_is_refused(app, trainer_client):
    bomb = zip_bytes(TINY_COURSE, extra={"media/zeros.bin": b"\0" * (21 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024  # small on the wire, large unpacked
    response = upload_course(trainer_client, bomb)
    assert response.status_code == 400
    assert "unpacks to more than 20 MiB" in response.get_data(as_text=True) and course_count() == 0


def test_a_file_that_is_not_a_zip_is_refused(app, trainer_client):
    response = upload_course(trainer_client, b"format: trainer-course/1\n", "course.yaml")
    assert response.status_code == 400
    assert "course.yaml: this is not a ZIP file" in response.get_data(as_text=True)


def test_a_zip_without_course_yaml_is_refused(app, trainer_client):
    response = upload_course(trainer_client, zip_bytes(TINY_COURSE / "questions"))
    assert response.status_code == 400 and "there is no course.yaml" in response.get_data(as_text=True)


def test_a_broken_course_lists_relative_path_line_errors_and_changes_nothing(app, trainer_client, tmp_path):
    import_course(TINY_COURSE)
    before = version_count()
    folder = broken_copy(tmp_path)
    expected = load_course_problems(folder)
    response = upload_course(trainer_client, zip_bytes(folder))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Nothing was imported" in html
    for problem in expected:
        relative = str(problem).replace(f"{folder}/", "")
        assert relative.startswith("questions/care.yaml:") and relative in html
    assert "trainer-upload-" not in html and str(tmp_path) not in html
    assert version_count() == before


def test_errors_in_a_zip_with_a_top_folder_name_the_files_inside_it(app, trainer_client, tmp_path):
    response = upload_course(trainer_client, zip_bytes(broken_copy(tmp_path), top="tiny-course"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "tiny-course/questions/care.yaml:" in html
    assert "/tmp" not in html


def load_course_problems(folder):
    with pytest.raises(BankFormatError) as info:
        load_course(folder)
    return info.value.problems


def test_course_yaml_cannot_point_at_files_outside_the_upload(app, trainer_client, tmp_path):
    folder = tmp_path / "tiny-course"
    shutil.copytree(TINY_COURSE, folder)
    course_yaml = folder / "course.yaml"
    course_yaml.write_text(course_yaml.read_text().replace("content: modules/02-care.md",
                                                           "content: ../../../../../../etc/hostname"))
    response = upload_course(trainer_client, zip_bytes(folder))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "course.yaml:25: files must be inside the course folder" in html and "/etc" not in html
    assert course_count() == 0


# --- GIFT and CSV into a module ---------------------------------------------------------


def test_gift_file_imports_into_the_chosen_module_and_is_audited(app, trainer_client):
    course = import_course(TINY_COURSE)
    response = upload_bank(trainer_client, "gift", GIFT, name="moodle.gift")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Imported moodle.gift into Tiny Course › Care." in html and "tiny-course: updated; 2 new questions" in html
    # The course lists sources and Moodle questions carry none: both wait for review as drafts.
    assert "moodle.gift:2: imported as a draft: no source" in html and "2 imported as drafts that need review" in html
    keys = set(db.session.scalars(select(Question.key).where(Question.module_id == module_of(course, "care").id)))
    assert {"care-new-one", "care-new-two"} <= keys
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.subject == "module:tiny-course/care")) is not None
    queue = trainer_client.get("/author/review").get_data(as_text=True)
    assert "care-new-one" in queue and "Needs review:</strong> no source" in queue


def test_an_essay_in_a_gift_file_is_listed_by_line_and_the_rest_imports(app, trainer_client):
    import_course(TINY_COURSE)
    before = version_count()
    with_essay = GIFT + "\n::essay::Describe your consultation routine.{}\n"
    response = upload_bank(trainer_client, "gift", with_essay, name="moodle.gift")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "moodle.gift:9: essay questions ({}) are not gradable here; not imported" in html
    assert version_count() == before + 2
    only_essay = upload_bank(trainer_client, "gift", "::essay::Describe it.{}\n", name="essay.gift")
    assert only_essay.status_code == 400 and "Nothing was imported" in only_essay.get_data(as_text=True)
    assert version_count() == before + 2


def test_csv_file_imports_and_a_bad_row_is_reported_by_line(app, trainer_client):
    import_course(TINY_COURSE)
    before = version_count()
    bad = CSV_BANK + "care-sheet-three,single,No key here?,One,Two,,Because.\r\n"
    response = upload_bank(trainer_client, "csv", bad, name="sheet.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "sheet.csv:4: a single question needs exactly one correct choice" in html
    assert version_count() == before + 2


def test_a_windows_1252_csv_is_converted_with_a_notice(app, trainer_client):
    import_course(TINY_COURSE)
    cp1252 = (CSV_BANK + "care-sheet-three,true_false,Crème is fine – mostly.,,,true,Yes.\r\n").encode("cp1252")
    html = upload_bank(trainer_client, "csv", cp1252, name="sheet.csv").get_data(as_text=True)
    assert "sheet.csv:4: the file is not UTF-8: it was read as Windows-1252 and converted" in html
    stems = [v.content["stem"] for v in db.session.scalars(select(QuestionVersion))]
    assert "Crème is fine – mostly." in stems and not any("\ufffd" in stem for stem in stems)


def test_a_file_that_is_neither_utf8_nor_windows_1252_says_how_to_save_it(app, trainer_client):
    import_course(TINY_COURSE)
    html = upload_bank(trainer_client, "csv",
                       CSV_BANK.encode() + b"x,\x81\r\n", name="sheet.csv").get_data(as_text=True)
    assert "sheet.csv:4: the file is not UTF-8 text" in html and "CSV UTF-8" in html


def test_a_question_id_from_another_module_is_refused(app, trainer_client):
    import_course(TINY_COURSE)
    gift = "::basics-mechanism::What does microneedling create?{=Micro-injuries ~A peel ####Because.}\n"
    response = upload_bank(trainer_client, "gift", gift, into="tiny-course/care")
    assert response.status_code == 400
    assert "already belongs to another module" in response.get_data(as_text=True)


def test_a_bank_upload_needs_a_module_and_a_file(app, trainer_client):
    import_course(TINY_COURSE)
    response = upload_bank(trainer_client, "gift", GIFT, into="")
    assert response.status_code == 400 and "Choose the module" in response.get_data(as_text=True)
    response = trainer_client.post("/author/files/bank/csv", data={"csv-module": "tiny-course/care"},
                                   content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a file." in response.get_data(as_text=True)
    assert upload_bank(trainer_client, "gift", GIFT, into="tiny-course/nope").status_code == 400
    assert trainer_client.post("/author/files/bank/yaml").status_code == 404


def test_a_bank_file_over_the_size_limit_is_refused(app, trainer_client):
    import_course(TINY_COURSE)
    huge = "// padding\n" * (3 * 1024 * 1024 // 11)
    response = upload_bank(trainer_client, "gift", huge, name="huge.gift")
    assert response.status_code == 400 and "huge.gift:1: file is larger than 512 KiB" in response.get_data(as_text=True)


def test_a_request_over_the_upload_limit_gets_the_413_page(app, trainer_client):
    response = upload_course(trainer_client, b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    assert response.status_code == 413 and course_count() == 0


def test_uploads_need_the_csrf_token(app, trainer_client):
    import_course(TINY_COURSE)
    before = version_count()
    app.config["WTF_CSRF_ENABLED"] = True
    assert upload_bank(trainer_client, "gift", GIFT).status_code == 400
    assert version_count() == before
    page = trainer_client.get("/author/files/").get_data(as_text=True)
    assert 'name="gift-csrf_token"' in page or 'name="csrf_token"' in page


# --- downloads -------------------------------------------------------------------------


def test_course_downloads_as_a_yaml_folder_zip_that_imports_again(app, trainer_client, tmp_path):
    course = import_course(TINY_COURSE)
    response = trainer_client.get(f"/author/files/courses/{course.id}.yaml.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert "tiny-course/course.yaml" in archive.namelist() and "tiny-course/media/layers.svg" in archive.namelist()
    archive.extractall(tmp_path)
    assert [m.slug for m in load_course(tmp_path / "tiny-course").modules] == ["basics", "care"]
    again = upload_course(trainer_client, response.data)
    html = trainer_client.get(again.headers["Location"]).get_data(as_text=True)
    assert "0 new versions, 9 unchanged" in html


def test_course_downloads_as_csv_files_and_gift_says_what_it_cannot_express(app, trainer_client):
    course = import_course(TINY_COURSE)
    response = trainer_client.get(f"/author/files/courses/{course.id}.csv.zip")
    assert sorted(zipfile.ZipFile(io.BytesIO(response.data)).namelist()) == ["tiny-course/basics.csv",
                                                                            "tiny-course/care.csv"]
    response = trainer_client.get(f"/author/files/courses/{course.id}.gift.zip")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == ["tiny-course/LEFT-OUT.txt", "tiny-course/basics.gift",
                                          "tiny-course/care.gift"]
    left_out = archive.read("tiny-course/LEFT-OUT.txt").decode()
    assert "basics/basics-phases: ordering questions have no GIFT form" in left_out
    basics = read_bank_file(archive.read("tiny-course/basics.gift").decode(), "basics.gift", "gift")
    assert "basics-phases" not in [q.data["id"] for q in basics.questions] and len(basics.questions) == 5


def test_module_bank_downloads_read_back_as_the_same_questions(app, trainer_client):
    course = import_course(TINY_COURSE)
    care, basics = module_of(course, "care"), module_of(course, "basics")
    keys = ["care-spf", "care-makeup", "care-call"]
    gift = trainer_client.get(f"/author/files/modules/{care.id}.gift")
    assert gift.status_code == 200 and gift.mimetype == "text/plain"
    assert [q.data["id"] for q in read_bank_file(gift.get_data(as_text=True), "care.gift", "gift").questions] == keys
    sheet = trainer_client.get(f"/author/files/modules/{care.id}.csv")
    text = sheet.data.decode("utf-8-sig")
    assert [row["id"] for row in csv.DictReader(io.StringIO(text))] == keys
    assert [q.data["id"] for q in read_bank_file(text, "care.csv", "csv").questions] == keys
    bank = yaml.safe_load(trainer_client.get(f"/author/files/modules/{care.id}.yaml").data)
    assert [q["id"] for q in bank["questions"]] == keys
    listed = trainer_client.get(f"/author/files/modules/{basics.id}.gift")
    assert listed.status_code == 200 and listed.mimetype == "text/html"
    assert "basics-phases: ordering questions have no GIFT form" in listed.get_data(as_text=True)
    rest = trainer_client.get(f"/author/files/modules/{basics.id}.gift?without=listed")
    assert rest.mimetype == "text/plain" and "basics-phases" not in rest.get_data(as_text=True)


def test_the_files_page_links_every_download(app, trainer_client):
    course = import_course(TINY_COURSE)
    html = trainer_client.get("/author/files/").get_data(as_text=True)
    assert f"/author/files/courses/{course.id}.yaml.zip" in html
    for module in course.modules:
        assert f"/author/files/modules/{module.id}.csv" in html and f"/author/analysis/modules/{module.id}" in html


def test_unknown_courses_and_modules_are_404(app, trainer_client):
    assert trainer_client.get("/author/files/courses/9999.yaml.zip").status_code == 404
    assert trainer_client.get("/author/files/modules/9999.csv").status_code == 404
    assert trainer_client.get("/author/files/modules/1.pdf").status_code == 404


@pytest.mark.parametrize("roles", [("learner",), ("manager",)])
def test_learners_and_managers_cannot_reach_the_file_pages(app, roles):
    course = import_course(TINY_COURSE)
    client = app.test_client()
    login(client, make_user(*roles))
    care = module_of(course, "care")
    assert client.get("/author/files/").status_code == 403
    assert upload_course(client, zip_bytes(TINY_COURSE)).status_code == 403
    assert upload_bank(client, "gift", GIFT).status_code == 403
    assert client.get(f"/author/files/courses/{course.id}.yaml.zip").status_code == 403
    assert client.get(f"/author/files/modules/{care.id}.csv").status_code == 403
    assert version_count() == 9


def test_signed_out_visitors_are_sent_to_sign_in(app, client):
    response = client.get("/author/files/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert upload_course(client, zip_bytes(TINY_COURSE)).status_code == 302 and course_count() == 0


def test_admins_may_upload_too(app):
    client = app.test_client()
    login(client, make_user("admin"))
    assert upload_course(client, zip_bytes(TINY_COURSE)).status_code == 302 and course_count() == 1


def test_moodle_xml_uploads_into_a_module_and_downloads_again(app, trainer_client):
    course = import_course(TINY_COURSE)
    xml = (Path(__file__).resolve().parent.parent / "fixtures" / "moodle" / "xml"
           / "documented_examples.xml").read_text()
    response = upload_bank(trainer_client, "moodlexml", xml, name="moodle.xml")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "7 new questions" in html
    assert "moodle.xml:318: description items are not questions" in html and "Review the drafts" in html

    care = module_of(course, "care")
    download = trainer_client.get(f"/author/files/modules/{care.id}.moodlexml")
    assert download.mimetype == "application/xml" and download.headers["Content-Disposition"].endswith('.xml"')
    # Drafts are not exported (only what learners can be drawn); the published care questions are.
    keys = [q.data["id"] for q in read_bank_file(download.get_data(as_text=True), "care.xml", "moodlexml").questions]
    assert keys == ["care-spf", "care-makeup", "care-call"]
