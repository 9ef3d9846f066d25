"""Export a course and read it back; import GIFT and CSV files into a module, all or nothing."""
import pytest
from sqlalchemy import func, select

from tests.conftest import TINY_COURSE
from tests.factories import import_course, module_of
from trainer.banks.course_folder import load_course
from trainer.banks.records import BankFormatError
from trainer.extensions import db
from trainer.models import QuestionVersion
from trainer.services.interchange import export_course, import_bank_file, read_bank_file


def test_yaml_export_round_trips_the_course(app, tmp_path):
    import_course(TINY_COURSE)
    export_course("tiny-course", "yaml", tmp_path / "out")
    original, exported = load_course(TINY_COURSE), load_course(tmp_path / "out")
    assert [m.slug for m in exported.modules] == [m.slug for m in original.modules]
    for a, b in zip(original.modules, exported.modules, strict=True):
        assert [q.data for q in a.questions] == [q.data for q in b.questions]
        assert a.quiz == b.quiz and a.content_md == b.content_md
    assert exported.media == original.media and exported.sources == original.sources


def test_gift_export_writes_what_it_can_and_lists_the_ordering_question(app, tmp_path):
    import_course(TINY_COURSE)
    result = export_course("tiny-course", "gift", tmp_path / "gift")
    assert {f.name for f in result.files} == {"basics.gift", "care.gift"}
    assert result.left_out == ["basics/basics-phases: ordering questions have no GIFT form"]
    written = read_bank_file((tmp_path / "gift" / "basics.gift").read_text(), "basics.gift", "gift")
    assert len(written.questions) == 5
    csv_result = export_course("tiny-course", "csv", tmp_path / "csv")
    assert {f.name for f in csv_result.files} == {"basics.csv", "care.csv"} and csv_result.left_out == []


GIFT = """// imported from Moodle
::care-new-one::[markdown]Which product belongs on freshly needled skin?{
=A sterile product made for the device#Right: made for intradermal exposure.
~Any vitamin C serum#Not made for the dermis.
####Only products intended for intradermal exposure.}

::care-new-two::Redness usually settles within a few days.{T####Mild redness is expected.}
"""


def test_gift_file_imports_into_a_module_and_versions_changes(app):
    course = import_course(TINY_COURSE)
    care = module_of(course, "care")
    questions = read_bank_file(GIFT, "moodle.gift", "gift")
    report = import_bank_file(None, care, questions)
    assert report.questions_added == 2
    again = import_bank_file(None, care,
                             read_bank_file(GIFT.replace("a few days", "two or three days"), "m.gift", "gift"))
    assert again.questions_changed == 1 and again.questions_unchanged == 1


def test_a_gift_file_of_only_unsupported_questions_imports_nothing_and_names_lines(app):
    course = import_course(TINY_COURSE)
    before = db.session.scalar(select(func.count()).select_from(QuestionVersion))
    with pytest.raises(BankFormatError) as info:
        read_bank_file("::essay::Describe it.{}\n\n::note::This section covers safety.\n", "moodle.gift", "gift")
    assert [(p.line, p.message.split(" (")[0]) for p in info.value.problems] == [
        (1, "essay questions"), (3, "description questions")]
    assert db.session.scalar(select(func.count()).select_from(QuestionVersion)) == before and course


def test_a_yaml_bank_file_with_a_problem_imports_nothing(app):
    import_course(TINY_COURSE)
    text = (TINY_COURSE / "questions" / "care.yaml").read_text().replace("format: trainer-bank/1", "format: other/1")
    with pytest.raises(BankFormatError) as info:
        read_bank_file(text, "care.yaml", "yaml")
    assert [p.message for p in info.value.problems] == ["format must be 'trainer-bank/1'"]


def test_csv_export_writes_the_rest_and_lists_a_numerical_question(app, tmp_path):
    course = import_course(TINY_COURSE)
    gift = '// trainer: {"source": "S1"}\n::care-depth::Depth for the forehead in mm?{#0.25:0.05####Thin skin.}\n'
    import_bank_file(None, module_of(course, "care"), read_bank_file(gift, "depth.gift", "gift"))

    result = export_course("tiny-course", "csv", tmp_path / "csv")
    assert result.left_out == ["care/care-depth: numerical questions have no CSV columns"]
    care = read_bank_file((tmp_path / "csv" / "care.csv").read_text(encoding="utf-8-sig"), "care.csv", "csv")
    assert [q.data["id"] for q in care.questions] == ["care-spf", "care-makeup", "care-call"]
    gift_result = export_course("tiny-course", "gift", tmp_path / "gift")
    assert "care/care-depth" not in " ".join(gift_result.left_out)
