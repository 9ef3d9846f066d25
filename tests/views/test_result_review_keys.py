"""Invariant 5 on the result page: before a pass the view hands the template no key at all."""
from contextlib import contextmanager

import pytest
from flask import template_rendered

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_user
from trainer.extensions import db
from trainer.models import Attempt, Module


@pytest.fixture
def learner_in_quiz(app, client):
    import_course(TINY_COURSE)
    learner = make_user()
    client.post("/login", data={"email": learner.email, "password": PASSWORD})
    response = client.post("/learn/tiny-course/basics/attempts")
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return learner, db.session.get(Attempt, attempt_id), None


@contextmanager
def captured_contexts(app):
    contexts: list[dict] = []

    def record(sender, template, context, **extra):
        contexts.append(context)

    template_rendered.connect(record, app)
    try:
        yield contexts
    finally:
        template_rendered.disconnect(record, app)


def _key_texts(content: dict) -> list[str]:
    """What only someone who knows the answer could write: keys, per-choice feedback, explanations."""
    texts = [content["explanation"]]
    for choice in content.get("choices", []):
        if choice.get("feedback"):
            texts.append(choice["feedback"])
    texts += [a if isinstance(a, str) else a["text"] for a in content.get("answers", [])]
    texts += [pair["right"] for pair in content.get("pairs", [])]
    if "order" in content:
        texts.append(repr(list(content["order"])))
    return texts


def test_failed_result_passes_the_template_no_key_feedback_or_explanation(app, client, learner_in_quiz):
    _, attempt, _ = learner_in_quiz
    client.post(f"/attempts/{attempt.id}/submit")  # nothing answered: a fail
    with captured_contexts(app) as contexts:
        response = client.get(f"/attempts/{attempt.id}/result")
    assert response.status_code == 200
    reviews = contexts[0]["reviews"]
    assert len(reviews) == len(attempt.questions)
    context_text = repr(reviews)
    for aq in attempt.questions:
        for text in _key_texts(aq.version.content):
            assert text not in context_text
    for review in reviews:
        for option in review["review"].get("options", []):
            assert option["correct"] is None and option["feedback"] is None


def test_result_with_answers_always_shown_passes_the_keys(app, client, learner_in_quiz):
    _, attempt, _ = learner_in_quiz
    db.session.get(Module, attempt.module_id).show_answers = "always"
    db.session.commit()
    client.post(f"/attempts/{attempt.id}/submit")
    with captured_contexts(app) as contexts:
        html = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "(correct)" in html
    context_text = repr(contexts[0]["reviews"])
    for aq in attempt.questions:
        assert aq.version.content["explanation"] in context_text
