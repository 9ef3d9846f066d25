"""One query answers "which version do new attempts draw and regrades grade against": the newest
published one, a newer draft aside."""
from tests.conftest import TINY_COURSE
from tests.factories import import_course, make_user, module_of
from trainer.models import QuestionVersion
from trainer.services.attempts import current_versions
from trainer.services.authoring import save_question
from trainer.services.catalog import newest_versions_by_question


def test_a_newer_draft_is_not_the_newest_published_version(app):
    care = module_of(import_course(TINY_COURSE), "care")
    question, published = current_versions(care)[0]
    content = dict(published.content, stem=published.content["stem"] + " (being revised)")
    draft = save_question(make_user("trainer"), question, content, based_on=published.number)
    assert draft.number == published.number + 1 and draft.published_dt is None
    by_question = newest_versions_by_question(QuestionVersion.question_id == question.id, published_only=True)
    assert by_question == {question.id: published}
    assert dict(current_versions(care))[question] == published


def test_every_question_of_a_module_gets_its_newest_published_version(app):
    care = module_of(import_course(TINY_COURSE), "care")
    drawn = current_versions(care)
    by_question = newest_versions_by_question(QuestionVersion.question_id.in_([q.id for q, _ in drawn]),
                                              published_only=True)
    assert by_question == {q.id: v for q, v in drawn}


def test_newest_of_any_state_is_the_draft_authors_edit(app):
    care = module_of(import_course(TINY_COURSE), "care")
    question, published = current_versions(care)[0]
    content = dict(published.content, stem=published.content["stem"] + " (being revised)")
    draft = save_question(make_user("trainer"), question, content, based_on=published.number)
    in_question = QuestionVersion.question_id == question.id
    assert newest_versions_by_question(in_question, published_only=False) == {question.id: draft}
    assert newest_versions_by_question(in_question, published_only=True) == {question.id: published}
