"""Authoring service: every save is a draft version, publishing feeds new attempts, history never changes."""
import random

import pytest
from sqlalchemy import func, select

from tests.conftest import TINY_COURSE
from tests.factories import import_course, make_user, module_of, take_attempt
from trainer.extensions import db
from trainer.models import AttemptQuestion, AuditEvent, Question, QuestionVersion
from trainer.quiz.grading import grade_attempt
from trainer.services import Forbidden, ServiceError, authoring
from trainer.services.attempts import current_versions, start_attempt


@pytest.fixture
def course(app):
    return import_course(TINY_COURSE)


@pytest.fixture
def trainer(app):
    return make_user("trainer")


def question(course, key) -> Question:
    return db.session.scalar(select(Question).where(Question.course_id == course.id, Question.key == key))


def newest(q) -> QuestionVersion:
    return authoring.newest_version(q)


def edited(q, **changes) -> dict:
    return {**newest(q).content, **changes}


def events(action) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_saving_an_edit_adds_a_draft_version_by_the_trainer(course, trainer):
    spf = question(course, "care-spf")
    version = authoring.save_question(trainer, spf, edited(spf, stem="Is daily SPF 30 needed after treatment?"))
    assert version.number == 2 and version.published_dt is None and version.author_id == trainer.id
    assert version.content["stem"] == "Is daily SPF 30 needed after treatment?"
    assert [v.number for v in spf.versions] == [1, 2]
    assert spf.versions[0].content["stem"] == "Sun protection matters after treatment."  # v1 untouched
    # A draft is not what attempts draw.
    assert dict((q.key, v.number) for q, v in current_versions(module_of(course, "care")))["care-spf"] == 1
    assert events("author.question_save")[0].details == {"version": 2}


def test_saving_unchanged_content_adds_no_version_and_no_event(course, trainer):
    spf = question(course, "care-spf")
    assert authoring.save_question(trainer, spf, dict(newest(spf).content)) is None
    # The editor sends defaults explicitly (critical false, empty tags): still the same content.
    assert authoring.save_question(trainer, spf, {**newest(spf).content, "critical": False, "tags": []}) is None
    assert db.session.scalar(select(func.count()).select_from(QuestionVersion)
                             .where(QuestionVersion.question_id == spf.id)) == 1
    assert events("author.question_save") == []


def test_publish_makes_new_attempts_draw_the_draft(course, trainer):
    care = module_of(course, "care")  # draws all three questions
    spf = question(course, "care-spf")
    draft = authoring.save_question(trainer, spf, edited(spf, stem="New wording"))
    before = start_attempt(make_user(), care, rng=random.Random(1))
    assert {aq.version.content["stem"] for aq in before.questions} >= {"Sun protection matters after treatment."}
    authoring.publish_question(trainer, spf, draft.number)
    assert draft.published_dt is not None
    after = start_attempt(make_user(), care, rng=random.Random(1))
    shown = {aq.version.question.key: aq.version for aq in after.questions}
    assert shown["care-spf"].id == draft.id and shown["care-spf"].content["stem"] == "New wording"
    assert events("author.question_publish")[0].details == {"version": 2}


def test_a_past_attempt_still_reviews_and_grades_against_its_old_version(course, trainer, client):
    care = module_of(course, "care")
    learner = make_user()
    attempt = take_attempt(learner, care, correct=True)
    spf_item = next(aq for aq in attempt.questions if aq.version.question.key == "care-spf")
    old_version_id = spf_item.question_version_id
    spf = question(course, "care-spf")
    # Flip the key: under the new version the learner's "true" would be wrong.
    authoring.publish_question(trainer, spf, authoring.save_question(
        trainer, spf, edited(spf, stem="Sun protection can be skipped after treatment.", answer=False)).number)
    db.session.expire_all()
    items = db.session.scalars(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)).all()
    spf_item = next(aq for aq in items if aq.version.question.key == "care-spf")
    assert spf_item.question_version_id == old_version_id and spf_item.version.content["answer"] is True
    grade = grade_attempt([(aq.version.content, aq.response) for aq in items], attempt.pass_percent)
    assert grade.score_percent == attempt.score_percent == 100.0
    client.post("/login", data={"email": learner.email, "password": "correct horse battery"})
    html = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "Sun protection matters after treatment." in html and "can be skipped" not in html


def test_add_question_creates_a_draft_at_the_end_of_the_module(course, trainer):
    care = module_of(course, "care")
    data = {"id": "care-cold", "type": "true_false", "stem": "Cool compresses can ease redness.", "answer": True,
            "explanation": "Cooling soothes.", "source": "S1", "tags": ["comfort"]}
    added = authoring.add_question(trainer, care, data)
    assert added.key == "care-cold" and added.position == 4 and not added.retired
    (version,) = added.versions
    assert version.number == 1 and version.published_dt is None and version.author_id == trainer.id
    assert "care-cold" not in {q.key for q, _ in current_versions(care)}
    authoring.publish_question(trainer, added)
    assert "care-cold" in {q.key for q, _ in current_versions(care)}
    assert [e.subject for e in events("author.question_add")] == ["question:tiny-course/care-cold"]


def test_invalid_questions_are_refused_with_the_validate_messages_and_nothing_is_saved(course, trainer):
    care = module_of(course, "care")
    bad = {"id": "Care Bad", "type": "single", "stem": "", "explanation": "x", "source": "S9",
           "choices": [{"text": "A", "correct": True}, {"text": "a", "correct": True}], "difficulty": 7}
    with pytest.raises(authoring.InvalidInput) as caught:
        authoring.add_question(trainer, care, bad)
    problems = caught.value.problems
    assert problems["id"] == ["id must be lower-case letters, digits, '-', '_' or '.'"]
    assert problems["stem"] == ["missing stem"]
    assert problems["difficulty"] == ["difficulty must be 1, 2 or 3"]
    assert problems["choices"] == ["choice 2 repeats the text of another choice"]
    assert problems["source"] == ["a question's answer must rest on a tier A or B source"]
    with pytest.raises(authoring.InvalidInput) as caught:
        authoring.add_question(trainer, care, {**bad, "id": "care-spf", "stem": "s", "source": "S7", "difficulty": 1})
    assert caught.value.problems["id"] == ["duplicate id 'care-spf' (already used in the module 'Care')"]
    assert caught.value.problems["source"] == ["source S7 is not listed in course.yaml 'sources'"]
    assert db.session.scalar(select(func.count()).select_from(Question)) == 9
    assert db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("author.%"))) == 0


def test_markdown_with_script_is_refused_in_questions_and_module_content(course, trainer):
    spf = question(course, "care-spf")
    with pytest.raises(authoring.InvalidInput) as caught:
        authoring.save_question(trainer, spf, edited(spf, explanation="Fine.\n\n<script>alert(1)</script>"))
    assert caught.value.problems["explanation"] == [
        "explanation: raw HTML is not allowed in Markdown; it would be removed"]
    assert len(spf.versions) == 1
    care = module_of(course, "care")
    original = care.content_md
    with pytest.raises(authoring.InvalidInput) as caught:
        authoring.update_module_content(trainer, care, "# Care\n\n<script>alert(1)</script>\n")
    assert caught.value.problems["content_md"] == ["line 3: raw HTML is not allowed in Markdown; it would be removed"]
    with pytest.raises(authoring.InvalidInput) as caught:
        authoring.update_module_content(trainer, care, "[click](javascript:alert(1))\n\n![](../media/missing.png)\n")
    assert "line 3: image not found in media/: ../media/missing.png" in caught.value.problems["content_md"]
    assert "line 3: image ../media/missing.png needs alt text: ![what it shows](../media/missing.png)" \
        in caught.value.problems["content_md"]
    db.session.refresh(care)
    assert care.content_md == original


def test_module_content_is_saved_and_audited(course, trainer):
    care = module_of(course, "care")
    assert authoring.update_module_content(trainer, care, "# Care\n\n![Layers](../media/layers.svg)\n")
    assert care.content_md.startswith("# Care")
    assert not authoring.update_module_content(trainer, care, care.content_md)  # unchanged: no event
    assert len(events("author.module_content")) == 1


def test_quiz_settings_follow_the_course_rules_and_the_published_bank(course, trainer):
    basics = module_of(course, "basics")
    good = {"draw": 5, "draw_by_tag": {"safety": 2}, "pass_percent": 80, "time_limit_minutes": None,
            "attempts_before_cooldown": 3, "cooldown_hours": 0, "show_answers": "always"}
    assert authoring.update_quiz_settings(trainer, basics, good)
    assert (basics.draw, basics.draw_by_tag, basics.time_limit_minutes, basics.show_answers) == (
        5, {"safety": 2}, None, "always")
    (event,) = events("author.quiz_settings")
    assert event.details["changes"]["draw"] == [4, 5]
    with pytest.raises(authoring.InvalidInput) as caught:
        authoring.update_quiz_settings(trainer, basics, {**good, "draw": 7, "pass_percent": 0, "cooldown_hours": "x",
                                                         "draw_by_tag": {"safety": 3, "nope": 1},
                                                         "show_answers": "never"})
    problems = caught.value.problems
    assert problems["pass_percent"] == ["pass_percent must be a whole number from 1 to 100"]
    assert problems["cooldown_hours"] == ["cooldown_hours must be 0 or more"]
    assert problems["show_answers"] == ["show_answers must be 'after_pass' or 'always'"]
    with pytest.raises(authoring.InvalidInput) as caught:
        authoring.update_quiz_settings(trainer, basics, {**good, "draw": 7, "draw_by_tag": {"safety": 3, "nope": 1}})
    problems = caught.value.problems
    assert problems["draw"] == ["quiz draws 7 questions but the module has 6 published questions"]
    assert problems["draw_by_tag"] == ["draw_by_tag asks for 1 'nope' questions but the module has 0 published",
                                       "draw_by_tag asks for 3 'safety' questions but the module has 2 published"]
    with pytest.raises(authoring.InvalidInput) as caught:
        authoring.update_quiz_settings(trainer, basics, {**good, "draw": 1, "draw_by_tag": {"safety": 2}})
    assert caught.value.problems["draw_by_tag"] == ["draw_by_tag asks for more questions than the quiz draws"]
    with pytest.raises(authoring.InvalidInput) as caught:
        authoring.update_quiz_settings(trainer, basics, {**good, "draw_by_tag": "safety two"})
    assert caught.value.problems["draw_by_tag"] == ["draw_by_tag must map tags to whole numbers"]
    assert basics.draw == 5 and len(events("author.quiz_settings")) == 1


def test_retire_removes_from_drawing_but_keeps_history(course, trainer):
    basics = module_of(course, "basics")
    attempt = take_attempt(make_user(), basics, seed=3)
    shown = attempt.questions[0].version.question
    assert authoring.set_retired(trainer, shown, True)
    assert shown.key not in {q.key for q, _ in current_versions(basics)}
    assert db.session.get(Question, shown.id).versions  # nothing deleted
    assert attempt.questions[0].version.question_id == shown.id
    for seed in range(5):
        fresh = start_attempt(make_user(), basics, rng=random.Random(seed))
        assert shown.key not in {aq.version.question.key for aq in fresh.questions}
    assert not authoring.set_retired(trainer, shown, True)  # already retired: no second event
    assert authoring.set_retired(trainer, shown, False)
    assert shown.key in {q.key for q, _ in current_versions(basics)}
    assert [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("author.%")))] == [
        "author.question_retire", "author.question_unretire"]


def test_retire_and_publish_refuse_to_leave_the_quiz_short(course, trainer):
    care = module_of(course, "care")  # draws 3 of 3
    with pytest.raises(ServiceError, match="would leave the quiz short"):
        authoring.set_retired(trainer, question(course, "care-spf"), True)
    basics = module_of(course, "basics")  # needs one "safety" question; two have the tag
    authoring.set_retired(trainer, question(course, "basics-single-use"), True)
    infection = question(course, "basics-infection-signs")
    authoring.save_question(trainer, infection, edited(infection, tags=["signs"]))
    with pytest.raises(ServiceError, match="'safety'"):
        authoring.publish_question(trainer, infection)
    assert not question(course, "care-spf").retired and newest(infection).published_dt is None
    assert care and basics


def test_reorder_swaps_neighbours_among_active_questions(course, trainer):
    care = module_of(course, "care")
    keys = lambda: [q.key for q in db.session.scalars(  # noqa: E731
        select(Question).where(Question.module_id == care.id, Question.retired.is_(False)).order_by(Question.position))]
    assert keys() == ["care-spf", "care-makeup", "care-call"]
    assert authoring.move_question(trainer, question(course, "care-call"), "up")
    assert keys() == ["care-spf", "care-call", "care-makeup"]
    assert authoring.move_question(trainer, question(course, "care-spf"), "down")
    assert keys() == ["care-call", "care-spf", "care-makeup"]
    assert not authoring.move_question(trainer, question(course, "care-call"), "up")  # already first
    assert len(events("author.question_move")) == 2
    with pytest.raises(ServiceError):
        authoring.move_question(trainer, question(course, "care-call"), "sideways")


def test_an_edit_based_on_an_older_version_is_refused(course, trainer):
    spf = question(course, "care-spf")
    authoring.save_question(trainer, spf, edited(spf, stem="First edit"), based_on=1)
    with pytest.raises(authoring.EditConflict):
        authoring.save_question(make_user("trainer"), spf, edited(spf, stem="Second edit"), based_on=1)
    with pytest.raises(authoring.EditConflict):
        authoring.publish_question(trainer, spf, number=1)
    assert [v.content["stem"] for v in spf.versions] == ["Sun protection matters after treatment.", "First edit"]


def test_publishing_without_a_draft_is_refused(course, trainer):
    with pytest.raises(ServiceError, match="no draft"):
        authoring.publish_question(trainer, question(course, "care-spf"))


def test_learners_and_managers_cannot_author(course):
    spf = question(course, "care-spf")
    care = module_of(course, "care")
    for person in (make_user("learner"), make_user("manager")):
        with pytest.raises(Forbidden):
            authoring.save_question(person, spf, edited(spf, stem="x"))
        with pytest.raises(Forbidden):
            authoring.update_module_content(person, care, "# hacked")
        with pytest.raises(Forbidden):
            authoring.set_retired(person, spf, True)
        with pytest.raises(Forbidden):
            authoring.move_question(person, spf, "down")
        with pytest.raises(Forbidden):
            authoring.publish_question(person, spf)
    assert len(spf.versions) == 1 and not spf.retired


def test_history_lists_every_version_with_a_diff(course, trainer):
    spf = question(course, "care-spf")
    authoring.save_question(trainer, spf, edited(spf, stem="Use SPF `<b>` daily.", tags=["sun"]))
    history = authoring.version_history(spf)
    assert [e.version.number for e in history] == [2, 1]
    assert history[0].author.id == trainer.id and history[1].author is None
    assert "-stem: Sun protection matters after treatment." in history[0].diff
    assert "+stem: Use SPF `<b>` daily." in history[0].diff
    assert any(line.startswith("+tags") for line in history[0].diff)
    assert history[1].diff == []


def test_every_author_write_leaves_an_audit_event(course, trainer):
    care = module_of(course, "care")
    spf = question(course, "care-spf")
    authoring.update_module_content(trainer, care, "# Care again\n")
    authoring.update_quiz_settings(trainer, care, {"draw": 2, "draw_by_tag": {}, "pass_percent": 60,
                                                   "time_limit_minutes": 5, "attempts_before_cooldown": 2,
                                                   "cooldown_hours": 24, "show_answers": "after_pass"})
    authoring.add_question(trainer, care, {"id": "care-new", "type": "short_answer", "stem": "Name it.",
                                           "answers": ["SPF"], "explanation": "Sunscreen.", "source": "S1"})
    authoring.save_question(trainer, spf, edited(spf, stem="Changed"))
    authoring.publish_question(trainer, spf)
    authoring.set_retired(trainer, spf, True)
    authoring.set_retired(trainer, spf, False)
    authoring.move_question(trainer, spf, "up")
    actions = [(e.action, e.actor_id) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("author.%")).order_by(AuditEvent.id))]
    assert actions == [(a, trainer.id) for a in (
        "author.module_content", "author.quiz_settings", "author.question_add", "author.question_save",
        "author.question_publish", "author.question_retire", "author.question_unretire", "author.question_move")]
