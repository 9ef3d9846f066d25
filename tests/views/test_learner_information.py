"""What a learner is told: the attempt rules before a first attempt, attempts left after a failure, and a
result page that leads on (back to the module, try again or when it opens, topics in words)."""
from __future__ import annotations

import random
import re
import shutil

import pytest
import yaml

from tests.conftest import TINY_COURSE
from tests.factories import (
    PASSWORD,
    FormData,
    correct_form,
    import_course,
    make_user,
    module_of,
    take_attempt,
    wrong_form,
)
from trainer.services.attempts import save_answer, start_attempt, submit_attempt


def login(client, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})


@pytest.fixture
def course(app, tmp_path):
    """The tiny course with a hyphenated topic tag on a safety-critical question."""
    folder = shutil.copytree(TINY_COURSE, tmp_path / "tiny")
    bank = folder / "questions" / "basics.yaml"
    data = yaml.safe_load(bank.read_text())
    for q in data["questions"]:
        if q["id"] == "basics-single-use":
            q["tags"] = ["infection-control"]
    bank.write_text(yaml.safe_dump(data, sort_keys=False))
    return import_course(folder)


def missing_only_a_critical(user, module, seed=3):
    attempt = start_attempt(user, module, rng=random.Random(seed))
    missed = False
    for aq in sorted(attempt.questions, key=lambda a: a.position):
        wrong = aq.version.content.get("critical") and not missed
        missed = missed or bool(wrong)
        save_answer(user, attempt.id, aq.position, FormData(wrong_form(aq) if wrong else correct_form(aq)), seq=1)
    return submit_attempt(user, attempt.id)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_module_page_states_the_attempt_rules_before_the_first_attempt(client, course):
    learner = make_user("learner")
    login(client, learner)
    page = text_of(client.get(f"/learn/{course.slug}/basics").get_data(as_text=True))
    assert "4 questions, pass mark 75%" in page and "Time limit 10 minutes" in page
    assert "After every 2 attempts, wait 24 hours before the next" in page
    assert "Safety-critical questions must be answered correctly to pass, whatever the score" in page


def test_attempts_left_after_a_failure_and_when_the_next_opens(client, course):
    learner = make_user("learner")
    basics = module_of(course, "basics")
    first = take_attempt(learner, basics, correct=False)
    login(client, learner)
    module_page = text_of(client.get(f"/learn/{course.slug}/basics").get_data(as_text=True))
    assert "1 attempt left before a 24-hour wait" in module_page
    result = client.get(f"/attempts/{first.id}/result").get_data(as_text=True)
    assert "1 attempt left before a 24-hour wait" in text_of(result)
    assert re.search(rf'<form method="post" action="/learn/{course.slug}/basics/attempts"[^>]*>.*?'
                     r'<button type="submit">Try again</button>', result, re.S)
    assert re.search(rf'<a [^>]*href="/learn/{course.slug}/basics">Back to the module</a>', result)

    second = take_attempt(learner, basics, correct=False, seed=2)
    result = text_of(client.get(f"/attempts/{second.id}/result").get_data(as_text=True))
    assert "Try again" not in result
    assert re.search(r"The next attempt opens on \d+ \w+ \d{4} at \d\d:\d\d", result)


def test_failed_for_a_missed_critical_question_says_so_first_with_topics_in_words(client, course):
    learner = make_user("learner")
    attempt = missing_only_a_critical(learner, module_of(course, "basics"))
    assert attempt.score_percent >= attempt.pass_percent and not attempt.passed
    login(client, learner)
    html = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    main = html.split('<main id="main">', 1)[1]
    reason = main.index("missed a safety-critical question")
    assert reason < main.index('class="score"')
    topics = re.search(r"Review: ([^.<]+)\.", main).group(1)
    assert "-" not in topics and ("infection control" in topics or "safety" in topics)


def test_passed_result_leads_back_to_the_module_and_offers_no_retry(client, course):
    learner = make_user("learner")
    attempt = take_attempt(learner, module_of(course, "basics"))
    login(client, learner)
    html = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    assert re.search(rf'<a [^>]*href="/learn/{course.slug}/basics">Back to the module</a>', html)
    assert "Try again" not in html


def test_a_manager_reading_a_result_gets_no_learner_actions(client, course):
    from tests.factories import make_clinic
    clinic = make_clinic()
    learner = make_user("learner", clinic=clinic)
    manager = make_user("manager", clinic=clinic)
    attempt = take_attempt(learner, module_of(course, "basics"), correct=False)
    login(client, manager)
    html = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "Try again" not in html and "attempt left" not in html


def test_failed_review_shows_explanations_only_where_the_answer_was_right(client, course):
    learner = make_user("learner")
    attempt = missing_only_a_critical(learner, module_of(course, "basics"))
    login(client, learner)
    html = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    for aq in attempt.questions:
        explanation = aq.version.content["explanation"]
        if (aq.fraction or 0) >= 1:
            assert explanation in html  # the learner already holds this key
        else:
            assert explanation not in html
    assert "Revisit: infection control" in html


def test_revoked_certificate_shows_the_reason_and_what_to_do_next(client, course):
    from trainer.extensions import db
    from trainer.models import Certificate
    from trainer.services.certificates import revoke_certificate

    learner = make_user("learner")
    for module in course.modules:
        take_attempt(learner, module)
    certificate = db.session.query(Certificate).filter_by(user_id=learner.id).one()
    revoke_certificate(make_user("admin"), certificate, "Trained on a withdrawn device")
    login(client, learner)
    home = text_of(client.get("/learn").get_data(as_text=True))
    assert "revoked expires" not in home
    assert re.search(r"Your certificate was revoked on \d+ \w+ \d{4} ?: Trained on a withdrawn device\. "
                     r"Talk to your clinic manager", home)
    page = text_of(client.get(f"/certificates/{certificate.code}").get_data(as_text=True))
    assert "Reason Trained on a withdrawn device" in page and "Talk to your clinic manager" in page
