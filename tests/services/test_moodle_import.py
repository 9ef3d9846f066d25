"""Moodle's own GIFT and XML files import: drafts for review instead of refusals, refusals only by line.

The files in tests/fixtures/moodle are copies of Moodle's fixtures and documentation examples
(see the README there).
"""
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import TINY_COURSE
from tests.factories import import_course, make_user, module_of
from trainer.extensions import db
from trainer.models import CourseMedia, Question, QuestionVersion
from trainer.services import ServiceError, authoring
from trainer.services.attempts import current_versions
from trainer.services.interchange import import_bank_file, read_bank_file

MOODLE = Path(__file__).resolve().parent.parent / "fixtures" / "moodle"

# file -> (questions imported, refused lines with the start of their message)
EXPECTED = {
    "gift/examples.txt": (43, []),
    "gift/questions.gift.txt": (8, [(2, "essay questions ({}) are not gradable here")]),
    "gift/questions_in_category.gift.txt": (4, []),
    "xml/nested_categories_with_questions.xml": (4, [(55, "essay questions are not gradable here")]),
    "xml/documented_examples.xml": (7, [(290, "essay questions are not gradable here"),
                                        (318, "description items are not questions")]),
}


def read(name: str):
    return read_bank_file((MOODLE / name).read_text(encoding="utf-8"), name,
                          "gift" if name.startswith("gift/") else "moodlexml")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_moodle_fixture_imports_and_only_ungradable_types_are_refused_by_line(app, name):
    course = import_course(TINY_COURSE)
    care = module_of(course, "care")
    count, refused = EXPECTED[name]

    bank = read(name)
    report = import_bank_file(None, care, bank)

    assert [(p.line, p.message[:len(m)]) for p, (_, m) in zip(report.refused, refused, strict=False)] == refused
    assert len(report.refused) == len(refused) and len(bank.questions) == count
    assert report.questions_added == count
    # The tiny course lists sources; Moodle questions carry none: every one waits for review, none is drawn.
    assert len(report.drafts) == count and all("no source" in p.message for p in report.drafts)
    assert all(str(p).startswith(f"{name}:{p.line}: imported as a draft: ") for p in report.drafts)
    drawn = {q.key for q, _ in current_versions(care)}
    assert not drawn & {pq.data["id"] for pq in bank.questions}


def test_a_draft_lists_what_is_missing_and_publishing_applies_the_course_rules(app):
    course = import_course(TINY_COURSE)
    care = module_of(course, "care")
    trainer = make_user("trainer")
    report = import_bank_file(None, care, read("gift/questions.gift.txt"))

    tf_draft = next(p for p in report.drafts if p.line == 41)
    assert tf_draft.message == "imported as a draft: no source"
    colours = next(p for p in report.drafts if p.line == 22)
    assert colours.message == "imported as a draft: no explanation; no source"

    question = db.session.scalar(select(Question).where(Question.key == "colours"))
    with pytest.raises(ServiceError, match="needs review before it can be published: no explanation; no source"):
        authoring.publish_question(trainer, question)
    draft = authoring.newest_version(question)
    completed = {**draft.content, "explanation": "Yellow lies between orange and green.", "source": "S1"}
    authoring.save_question(trainer, question, completed)
    authoring.publish_question(trainer, question)
    assert "colours" in {q.key for q, _ in current_versions(care)}
    queue = {item.question.key: item.missing for _, items in authoring.review_queue() for item in items}
    assert "colours" not in queue and queue["q1"] == ["no source"]


def test_a_question_meeting_the_course_rules_is_published_at_once(app):
    course = import_course(TINY_COURSE)
    care = module_of(course, "care")
    gift = ("// trainer: {\"source\": \"S1\"}\n::care-depth::Depth for the forehead in mm?{#0.25:0.05"
            "####Thin skin over bone.}\n")
    report = import_bank_file(None, care, read_bank_file(gift, "depth.gift", "gift"))

    assert report.drafts == [] and report.questions_added == 1
    [version] = [v for q, v in current_versions(care) if q.key == "care-depth"]
    assert version.content["answers"] == [{"value": 0.25, "tolerance": 0.05}]


def test_a_source_on_a_tier_c_citation_is_a_draft_too(app):
    course = import_course(TINY_COURSE)
    gift = "// trainer: {\"source\": \"S9\"}\n::care-blog::A blog says so.{T####Because.}\n"
    report = import_bank_file(None, module_of(course, "care"), read_bank_file(gift, "blog.gift", "gift"))

    assert [p.message for p in report.drafts] == [
        "imported as a draft: a question's answer must rest on a tier A or B source"]


def test_moodle_xml_images_become_course_media_and_the_stem_shows_them(app):
    course = import_course(TINY_COURSE)
    report = import_bank_file(None, module_of(course, "care"), read("xml/documented_examples.xml"))

    media = db.session.scalar(select(CourseMedia).where(CourseMedia.name == "depth.png"))
    assert media is not None and media.content_type == "image/png" and media.data.startswith(b"\x89PNG")
    version = db.session.scalar(select(QuestionVersion).join(Question).where(Question.key == "mn-depth-01"))
    assert "![Depth chart](media/depth.png)" in version.content["stem"]
    assert report.questions_added == 7


def test_an_image_name_taken_by_another_picture_is_stored_under_a_new_name(app):
    course = import_course(TINY_COURSE)
    db.session.add(CourseMedia(course_id=course.id, name="depth.png", content_type="image/png", data=b"other"))
    db.session.commit()
    import_bank_file(None, module_of(course, "care"), read("xml/documented_examples.xml"))

    names = set(db.session.scalars(select(CourseMedia.name).where(CourseMedia.course_id == course.id)))
    version = db.session.scalar(select(QuestionVersion).join(Question).where(Question.key == "mn-depth-01"))
    renamed = next(n for n in names if n.startswith("depth-"))
    assert f"media/{renamed}" in version.content["stem"]
    assert db.session.scalar(select(CourseMedia.data).where(CourseMedia.name == "depth.png")) == b"other"
