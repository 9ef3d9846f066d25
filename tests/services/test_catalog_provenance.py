"""A file import changes only what came from files: browser edits and uploads survive `flask banks import`.

Trainer work is done through the studio's real routes (test client, signed in as a trainer); the
course folder is re-imported with the real command, as `make run` does.
"""
import io
import shutil
import zipfile

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT, TINY_COURSE
from tests.factories import PASSWORD, make_user, module_of
from trainer import clock
from trainer.banks.course_folder import load_course
from trainer.extensions import db
from trainer.models import AuditEvent, Course, Question, QuestionVersion
from trainer.services.catalog import import_courses

GIFT = """::care-gift-one::Redness usually settles within a few days.{T####Mild redness is expected.}
"""


@pytest.fixture
def folder(tmp_path):
    """A copy of the tiny course, imported once from its folder (as the first `make run` does)."""
    target = tmp_path / "tiny-course"
    shutil.copytree(TINY_COURSE, target)
    return target


@pytest.fixture
def trainer(app, client, runner, folder):
    assert runner.invoke(args=["banks", "import", str(folder)]).exit_code == 0
    user = make_user("trainer")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return user


def question(key) -> Question:
    return db.session.scalar(select(Question).where(Question.key == key))


def versions(key) -> list[QuestionVersion]:
    db.session.expire_all()
    return db.session.scalars(select(QuestionVersion).join(Question).where(Question.key == key)
                              .order_by(QuestionVersion.number)).all()


def version_count() -> int:
    return db.session.scalar(select(func.count()).select_from(QuestionVersion))


def edit_spf_in_browser(client, stem="Sunscreen every day after treatment."):
    """Save and publish a new version of care-spf through the editor's routes."""
    spf = question("care-spf")
    form = {"type": "true_false", "stem": stem, "explanation": "Fresh skin is sensitive to UV.", "source": "S1",
            "tags": "", "difficulty": "", "answer": "true", "based_on": str(len(versions("care-spf")))}
    assert client.post(f"/author/questions/{spf.id}", data=form).status_code == 302
    number = len(versions("care-spf"))
    assert client.post(f"/author/questions/{spf.id}/publish", data={"version": str(number)}).status_code == 302


def upload_gift(client, text=GIFT):
    response = client.post("/author/files/bank/gift", content_type="multipart/form-data",
                           data={"gift-module": "tiny-course/care", "gift-bank": (io.BytesIO(text.encode()), "m.gift")})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]  # the import report page


def change_file(folder, old, new):
    bank = folder / "questions" / "care.yaml"
    text = bank.read_text()
    assert old in text
    bank.write_text(text.replace(old, new))


def remove_from_file(folder, *keys):
    """Take questions out of the care bank (and draw fewer, so the folder stays valid)."""
    bank = folder / "questions" / "care.yaml"
    head, *items = bank.read_text().split("\n  - id: ")
    bank.write_text("\n  - id: ".join([head, *(i for i in items if i.split("\n", 1)[0] not in keys)]))
    course = folder / "course.yaml"
    course.write_text(course.read_text().replace("draw: 3", "draw: 1"))


def reimport(runner, folder, *options):
    result = runner.invoke(args=["banks", "import", *options, str(folder)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def conflict_line(folder, line, key, verb="replace"):
    return (f"{folder / 'questions' / 'care.yaml'}:{line}: question {key} was edited in the browser on "
            f"{clock.now().date().isoformat()}; kept that version; use --prefer-files to {verb} it")


def test_reimport_keeps_a_browser_edit_and_a_gift_upload_and_lists_the_conflict(client, runner, folder, trainer):
    edit_spf_in_browser(client)
    upload_gift(client)
    change_file(folder, "Sun protection matters after treatment.", "Daily SPF matters after treatment.")

    output = reimport(runner, folder)

    assert conflict_line(folder, 3, "care-spf") in output
    assert output.rstrip().endswith("banks: 0 changed, 1 conflict kept, see above")
    spf = versions("care-spf")
    assert [v.number for v in spf] == [1, 2] and spf[-1].content["stem"] == "Sunscreen every day after treatment."
    assert [v.origin for v in spf] == ["folder", "browser"]
    gift = question("care-gift-one")
    assert not gift.retired and [v.origin for v in versions("care-gift-one")] == ["upload"]
    # The conflict stays listed until someone decides: the same import reports it again.
    assert conflict_line(folder, 3, "care-spf") in reimport(runner, folder)


def test_prefer_files_makes_the_file_win_as_a_new_version(client, runner, folder, trainer):
    edit_spf_in_browser(client)
    change_file(folder, "Sun protection matters after treatment.", "Daily SPF matters after treatment.")

    output = reimport(runner, folder, "--prefer-files")

    assert "was edited in the browser" not in output
    assert output.rstrip().endswith("banks: 1 changed, 0 conflicts kept")
    spf = versions("care-spf")
    assert [(v.number, v.origin) for v in spf] == [(1, "folder"), (2, "browser"), (3, "folder")]
    assert spf[1].content["stem"] == "Sunscreen every day after treatment."  # history is never rewritten
    assert spf[2].content["stem"] == "Daily SPF matters after treatment." and spf[2].published_dt is not None
    assert reimport(runner, folder).rstrip().endswith("banks: 0 changed, 0 conflicts kept")


def test_reimporting_an_unchanged_folder_changes_nothing(client, runner, folder, trainer):
    edit_spf_in_browser(client)
    upload_gift(client)
    call = question("care-call")
    assert client.post(f"/author/questions/{call.id}/retire", data={}).status_code == 302
    makeup = question("care-makeup")
    assert client.post(f"/author/questions/{makeup.id}/move/up", data={}).status_code == 302
    db.session.expire_all()
    before = {q.key: (q.position, q.retired, q.module_id) for q in db.session.scalars(select(Question))}
    count = version_count()

    output = reimport(runner, folder)

    assert output.rstrip().endswith("banks: 0 changed, 0 conflicts kept")
    assert "was edited in the browser" not in output
    db.session.expire_all()
    assert version_count() == count
    assert {q.key: (q.position, q.retired, q.module_id) for q in db.session.scalars(select(Question))} == before
    assert versions("care-spf")[-1].origin == "browser"


def test_only_questions_removed_from_their_own_course_folder_are_retired(client, runner, folder, trainer):
    upload_gift(client)
    care = module_of(db.session.scalar(select(Course)), "care")
    added = {"id": "care-browser-new", "type": "true_false", "stem": "Added in the browser.", "answer": "true",
             "explanation": "Because.", "source": "S1", "tags": "", "difficulty": ""}
    assert client.post(f"/author/modules/{care.id}/questions", data=added).status_code == 302
    makeup = question("care-makeup")
    form = {"type": "single", "stem": "When may make-up go back on?", "explanation": "Give the channels time to close.",
            "source": "S1", "tags": "", "difficulty": "", "based_on": "1",
            "choices-0-text": "After about a day", "choices-0-correct": "1", "choices-1-text": "Straight away"}
    assert client.post(f"/author/questions/{makeup.id}", data=form).status_code == 302
    # Remove care-call (untouched in the browser) and care-makeup (edited there since its import).
    remove_from_file(folder, "care-call", "care-makeup")
    bank = folder / "questions" / "care.yaml"

    output = reimport(runner, folder)

    db.session.expire_all()
    assert question("care-call").retired
    assert not question("care-gift-one").retired and not question("care-browser-new").retired
    assert not question("care-makeup").retired  # a browser edit is never thrown away by a file
    assert (f"{bank}:1: question care-makeup was edited in the browser on {clock.now().date().isoformat()}; "
            f"kept that version; use --prefer-files to retire it") in output
    assert "1 retired" in output and "module content or quiz settings changed (care quiz)" in output
    assert output.rstrip().endswith("banks: 2 changed, 1 conflict kept, see above")

    reimport(runner, folder, "--prefer-files")
    db.session.expire_all()
    assert question("care-makeup").retired and not question("care-gift-one").retired


def test_a_question_put_back_into_the_folder_returns(runner, folder, trainer):
    original = (folder / "questions" / "care.yaml").read_text()
    remove_from_file(folder, "care-call")
    reimport(runner, folder)
    assert question("care-call").retired
    (folder / "questions" / "care.yaml").write_text(original)
    assert reimport(runner, folder).rstrip().endswith("banks: 1 changed, 0 conflicts kept")
    db.session.expire_all()
    assert not question("care-call").retired and len(versions("care-call")) == 1


def test_exporting_the_course_folder_from_the_studio_and_reimporting_changes_nothing(client, runner, folder,
                                                                                    trainer, tmp_path):
    edit_spf_in_browser(client)
    upload_gift(client)
    course = db.session.scalar(select(Course))
    page = client.get("/author/files/").get_data(as_text=True)
    assert f"/author/files/courses/{course.id}.yaml.zip" in page
    response = client.get(f"/author/files/courses/{course.id}.yaml.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        archive.extractall(tmp_path / "exported")
    exported = tmp_path / "exported" / "tiny-course"
    count = version_count()

    output = reimport(runner, exported)

    assert output.rstrip().endswith("banks: 0 changed, 0 conflicts kept")
    assert version_count() == count and versions("care-spf")[-1].origin == "browser"
    assert not question("care-gift-one").retired
    # The exported folder is now what the files say: editing it there is a plain new version.
    change_file(exported, "Sunscreen every day after treatment.", "SPF 50 every day after treatment.")
    output = reimport(runner, exported)
    assert output.rstrip().endswith("banks: 1 changed, 0 conflicts kept")
    assert [v.origin for v in versions("care-spf")] == ["folder", "browser", "folder"]


def test_the_studio_shows_where_each_version_came_from(client, folder, trainer):
    edit_spf_in_browser(client)
    upload_gift(client)
    care = module_of(db.session.scalar(select(Course)), "care")
    page = client.get(f"/author/modules/{care.id}").get_data(as_text=True)
    for label in ("course folder", "browser", "uploaded file"):
        assert f'<span class="origin">{label}</span>' in page
    history = client.get(f"/author/questions/{question('care-spf').id}/history").get_data(as_text=True)
    assert "from the course folder" in history and "in the browser by" in history


def test_a_course_zip_upload_counts_as_an_upload_and_a_changed_folder_reports_it(app, folder, tmp_path):
    import_courses(None, [load_course(folder)])
    upload = tmp_path / "upload"
    shutil.copytree(folder, upload)
    change_file(upload, "Sun protection matters after treatment.", "Uploaded SPF wording.")
    [uploaded] = import_courses(make_user("trainer"), [load_course(upload)], origin="upload")
    assert uploaded.questions_changed == 1 and not uploaded.conflicts
    change_file(folder, "Sun protection matters after treatment.", "Folder SPF wording.")

    [report] = import_courses(None, [load_course(folder)])

    assert [str(c) for c in report.conflicts] == [
        f"{folder / 'questions' / 'care.yaml'}:3: question care-spf was changed by an uploaded file on "
        f"{clock.now().date().isoformat()}; kept that version; use --prefer-files to replace it"]
    assert [(v.origin, v.content["stem"]) for v in versions("care-spf")] == [
        ("folder", "Sun protection matters after treatment."), ("upload", "Uploaded SPF wording.")]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "banks.import")
                               .order_by(AuditEvent.id.desc())).first()
    assert "1 conflict kept" in event.details["summary"]


def test_make_run_imports_the_course_folders_with_the_command_that_prints_the_summary():
    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/flask banks import question_banks" in recipe


def test_an_export_taken_before_a_newer_draft_keeps_the_draft(client, runner, folder, trainer, tmp_path):
    edit_spf_in_browser(client)
    course = db.session.scalar(select(Course))
    response = client.get(f"/author/files/courses/{course.id}.yaml.zip")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        archive.extractall(tmp_path / "exported")
    exported = tmp_path / "exported" / "tiny-course"
    spf = question("care-spf")
    draft = {"type": "true_false", "stem": "A draft saved after the export.",
             "explanation": "Fresh skin is sensitive to UV.",
             "source": "S1", "tags": "", "difficulty": "", "answer": "true", "based_on": "2"}
    assert client.post(f"/author/questions/{spf.id}", data=draft).status_code == 302

    # The exported file holds version 2, which the browser made: nothing new, so no conflict.
    assert reimport(runner, exported).rstrip().endswith("banks: 0 changed, 0 conflicts kept")
    assert [(v.origin, v.published_dt is None) for v in versions("care-spf")] == [
        ("folder", False), ("browser", False), ("browser", True)]
    # A later change to that file meets the newer draft: a conflict, the draft is kept.
    change_file(exported, "Sunscreen every day after treatment.", "SPF 50 every day after treatment.")
    assert conflict_line(exported, 3, "care-spf") in reimport(runner, exported)
    assert versions("care-spf")[-1].content["stem"] == "A draft saved after the export."


def test_module_content_and_quiz_settings_edited_in_the_studio_survive_a_reimport(client, runner, folder, trainer):
    course = db.session.scalar(select(Course))
    care, basics = module_of(course, "care"), module_of(course, "basics")
    studio_md = "# Care\n\nEdited in the studio.\n"
    assert client.post(f"/author/modules/{care.id}/content", data={"content_md": studio_md}).status_code == 302
    quiz = {"draw": "2", "draw_by_tag": "", "pass_percent": "70", "time_limit_minutes": "",
            "attempts_before_cooldown": "2", "cooldown_hours": "24", "show_answers": "after_pass"}
    assert client.post(f"/author/modules/{care.id}/quiz", data=quiz).status_code == 302

    assert reimport(runner, folder).rstrip().endswith("banks: 0 changed, 0 conflicts kept")
    db.session.expire_all()
    care = module_of(db.session.scalar(select(Course)), "care")
    assert care.content_md == studio_md and (care.draw, care.pass_percent) == (2, 70)

    # The files change: the studio's edits are kept and listed; basics, untouched in the studio, follows its file.
    (folder / "modules" / "02-care.md").write_text("# Care\n\nChanged in git.\n")
    (folder / "modules" / "01-basics.md").write_text("# Basics\n\nChanged in git too.\n")
    course_yaml = folder / "course.yaml"
    course_yaml.write_text(course_yaml.read_text().replace("pass_percent: 60", "pass_percent: 65"))
    output = reimport(runner, folder)
    assert (f"{folder / 'modules' / '02-care.md'}:1: module care's content was edited in the studio since the last "
            "import; kept that version; use --prefer-files to replace it") in output
    quiz_line = course_yaml.read_text().splitlines().index("    quiz:", 20) + 1
    assert (f"{course_yaml}:{quiz_line}: module care's quiz settings were edited in the studio since the last "
            "import; kept that version; use --prefer-files to replace it") in output
    assert output.rstrip().endswith("banks: 1 changed, 2 conflicts kept, see above")
    db.session.expire_all()
    care, basics = (module_of(db.session.scalar(select(Course)), slug) for slug in ("care", "basics"))
    assert care.content_md == studio_md and care.pass_percent == 70
    assert basics.content_md == "# Basics\n\nChanged in git too.\n"

    assert reimport(runner, folder, "--prefer-files").rstrip().endswith("banks: 2 changed, 0 conflicts kept")
    db.session.expire_all()
    care = module_of(db.session.scalar(select(Course)), "care")
    assert care.content_md == "# Care\n\nChanged in git.\n" and (care.draw, care.pass_percent) == (3, 65)


def test_a_question_moved_to_another_modules_bank_moves(runner, folder, trainer):
    care, basics = folder / "questions" / "care.yaml", folder / "questions" / "basics.yaml"
    block = care.read_text().split("\n  - id: ")[1]  # care-spf, unchanged
    remove_from_file(folder, "care-spf")
    basics.write_text(basics.read_text().rstrip("\n") + "\n  - id: " + block.rstrip("\n") + "\n")

    output = reimport(runner, folder)

    db.session.expire_all()
    assert question("care-spf").module.slug == "basics" and len(versions("care-spf")) == 1
    assert output.rstrip().endswith("banks: 2 changed, 0 conflicts kept")  # the question, and care's draw
