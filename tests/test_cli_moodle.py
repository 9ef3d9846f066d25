"""`flask banks import/export --format moodlexml`, drafts and refusals by line, and file encodings."""
from pathlib import Path

from sqlalchemy import select

from tests.conftest import TINY_COURSE
from tests.factories import import_course
from trainer.extensions import db
from trainer.models import CourseMedia, Question, QuestionVersion
from trainer.services.interchange import read_bank_file

MOODLE = Path(__file__).resolve().parent / "fixtures" / "moodle"


def test_moodle_xml_imports_with_drafts_and_refusals_by_line_and_exports_again(runner, tmp_path):
    import_course(TINY_COURSE)
    source = MOODLE / "xml" / "documented_examples.xml"
    result = runner.invoke(args=["banks", "import", str(source), "--format", "moodlexml", "--into", "tiny-course/care"])

    assert result.exit_code == 0, result.output
    assert f"{source}:18: imported as a draft: no source" in result.output
    assert (f"{source}:290: essay questions are not gradable here; 'Consultation routine' was not imported"
            in result.output)
    assert "7 new questions" in result.output
    assert "7 imported as drafts that need review; 2 not imported" in result.output
    assert db.session.scalar(select(CourseMedia).where(CourseMedia.name == "depth.png")) is not None

    out = tmp_path / "xml"
    result = runner.invoke(args=["banks", "export", "tiny-course", "--format", "moodlexml", "--out", str(out)])
    assert result.exit_code == 0 and "left out" not in result.output
    exported = read_bank_file((out / "basics.xml").read_text(), "basics.xml", "moodlexml")
    assert "basics-phases" in [q.data["id"] for q in exported.questions]  # ordering travels as qtype_ordering
    assert '<question type="ordering">' in (out / "basics.xml").read_text()


def test_a_windows_1252_gift_file_is_converted_with_a_notice_never_with_replacement_characters(runner, tmp_path):
    import_course(TINY_COURSE)
    path = tmp_path / "notepad.gift"
    path.write_bytes("::care-creme::Is a crème with fragrance fine – straight away?{F####It irritates.}\n"
                     .encode("cp1252"))
    result = runner.invoke(args=["banks", "import", str(path), "--format", "gift", "--into", "tiny-course/care"])

    assert result.exit_code == 0, result.output
    assert f"{path}:1: the file is not UTF-8: it was read as Windows-1252 and converted" in result.output
    stem = db.session.scalar(select(QuestionVersion).join(Question).where(Question.key == "care-creme")).content["stem"]
    assert stem == "Is a crème with fragrance fine – straight away?" and "\ufffd" not in stem


def test_a_file_with_replacement_characters_is_refused_with_the_line(runner, tmp_path):
    import_course(TINY_COURSE)
    path = tmp_path / "damaged.gift"
    path.write_text("::a::Fine.{T####Yes.}\n\n::b::Cr\ufffdme?{F####No.}\n", encoding="utf-8")
    result = runner.invoke(args=["banks", "import", str(path), "--format", "gift", "--into", "tiny-course/care"])

    assert result.exit_code == 1 and f"{path}:3: the file holds the replacement character" in result.output
    assert "Nothing was imported." in result.output and "Traceback" not in result.output


def test_validate_shows_what_importing_a_moodle_file_would_do_and_changes_nothing(runner):
    import_course(TINY_COURSE)
    before = db.session.query(QuestionVersion).count()
    source = MOODLE / "gift" / "questions.gift.txt"
    result = runner.invoke(args=["banks", "validate", str(source), "--format", "gift", "--into", "tiny-course/care"])

    assert result.exit_code == 1
    assert f"{source}:2: essay questions ({{}}) are not gradable here; not imported" in result.output
    assert f"{source}:22: imported as a draft: no explanation; no source" in result.output
    assert (f"{source}: 0 would be published, 8 would be drafts that need review, 1 would not be imported"
            in result.output)
    assert db.session.query(QuestionVersion).count() == before

    fine = MOODLE.parent / "tiny-course" / "questions" / "care.yaml"
    result = runner.invoke(args=["banks", "validate", str(fine), "--format", "yaml", "--into", "tiny-course/care"])
    assert result.exit_code == 0 and "3 would be published, 0 would be drafts" in result.output
