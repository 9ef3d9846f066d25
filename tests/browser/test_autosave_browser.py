"""Autosave in Chromium on a timed quiz, as learners meet it: the countdown runs beside the saves.

Each test puts the page under one real condition (a failed request, a slow network, no network,
an ended session) and waits for the page to settle at "Saved", then checks the database.
"""
from __future__ import annotations

import re

import pytest

from tests.browser.quiz_steps import (
    ATTEMPT_URL,
    RESULT_URL,
    attempt_question,
    canonical,
    fill_sign_in,
    go_offline,
    go_online,
    sign_in,
    slow_network,
    start_quiz,
)
from trainer.extensions import db
from trainer.models import Attempt

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="browser tests need the Python 'playwright' package").expect

COURSE, MODULE = "tiny-timed", "care"  # three choice questions, a 20-minute limit
SAVE_URL = re.compile(r"/attempts/\d+/answers/\d+$")


def choose(page, position: int, index: int) -> str:
    """Pick the index-th choice of a question; return its form value."""
    question = page.locator(f"#question-{position}")
    question.locator("label").nth(index).click()
    return question.locator("input[type=radio]").nth(index).get_attribute("value")


def test_a_save_that_fails_once_is_sent_again_without_touching_the_page(new_context, learner, in_app):
    context = new_context()
    page = context.new_page()
    sign_in(page, learner)
    attempt_id = start_quiz(page, COURSE, MODULE)
    expect(page.locator("#timer")).to_be_visible()
    choose(page, 1, 0)  # the learner's first answer goes through
    expect(page.locator("#save-state-1")).to_have_text("Saved")
    failures = []

    def fail_first_save(route):
        if not failures:
            failures.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()
    page.route(re.compile(r"/answers/2$"), fail_first_save)

    value = choose(page, 2, 1)  # the network blips on the second
    state = page.locator("#save-state-2")
    expect(state).to_contain_text("Not saved, retrying")
    # Nobody touches the page again: the retry must go out on its own and be acknowledged.
    expect(state).to_have_text("Saved", timeout=15_000)
    assert len(failures) == 1
    with in_app():
        aq = attempt_question(attempt_id, 2)
        assert aq.response == canonical(aq, value) and aq.response_seq == 1


def test_every_answer_ends_saved_when_each_request_takes_800_ms(new_context, learner, in_app):
    context = new_context()
    page = context.new_page()
    sign_in(page, learner)
    attempt_id = start_quiz(page, COURSE, MODULE)
    slow_network(context, 800)

    # Answer quickly, and change the first answer while its save is still on the way.
    values = {1: choose(page, 1, 0), 2: choose(page, 2, 1), 3: choose(page, 3, 0)}
    values[1] = choose(page, 1, 1)
    for position in (1, 2, 3):
        expect(page.locator(f"#save-state-{position}")).to_have_text("Saved", timeout=20_000)
    expect(page.locator("#quiz-status")).to_contain_text("3 of 3 answered")
    with in_app():
        for position, value in values.items():
            aq = attempt_question(attempt_id, position)
            assert aq.response == canonical(aq, value), position
        assert attempt_question(attempt_id, 1).response_seq == 2


def test_an_answer_given_offline_is_restored_and_stored_when_the_page_is_opened_again(new_context, learner, in_app):
    context = new_context()
    page = context.new_page()
    sign_in(page, learner)
    attempt_id = start_quiz(page, COURSE, MODULE)
    first = choose(page, 1, 0)
    expect(page.locator("#save-state-1")).to_have_text("Saved")

    go_offline(context)
    second = choose(page, 2, 1)
    changed = choose(page, 1, 1)
    expect(page.locator("#save-state-2")).to_contain_text("Not saved, retrying")
    expect(page.locator("#save-state-1")).to_contain_text("Not saved, retrying")
    page.close()  # the tab is closed before the network came back
    with in_app():  # nothing of it reached the server
        assert attempt_question(attempt_id, 1).response == canonical(attempt_question(attempt_id, 1), first)
        assert attempt_question(attempt_id, 2).response is None

    go_online(context)
    page = context.new_page()
    page.goto(f"/attempts/{attempt_id}")
    for position, value in ((1, changed), (2, second)):
        expect(page.locator(f"#question-{position} input[type=radio][value='{value}']")).to_be_checked()
        expect(page.locator(f"#save-state-{position}")).to_have_text("Saved", timeout=15_000)
    expect(page.locator("#quiz-status")).to_contain_text("2 of 3 answered")
    with in_app():
        for position, value in ((1, changed), (2, second)):
            aq = attempt_question(attempt_id, position)
            assert aq.response == canonical(aq, value)
            assert aq.response_seq == (2 if position == 1 else 1)

    # Acknowledged answers are not kept in the browser: opening the page again sends nothing.
    saves = []
    page.on("request", lambda request: saves.append(request.url) if SAVE_URL.search(request.url) else None)
    page.reload()
    expect(page.locator("#save-state-2")).to_have_text("Saved")
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('trainer-answer:'))") == []
    assert saves == []


def test_the_answered_count_follows_the_answers(page, learner):
    sign_in(page, learner)
    start_quiz(page, COURSE, MODULE)
    status = page.locator("#quiz-status")
    expect(status).to_contain_text("0 of 3 answered")
    choose(page, 1, 0)
    expect(status).to_contain_text("1 of 3 answered")
    choose(page, 1, 1)  # changing an answer does not count twice
    choose(page, 3, 0)
    expect(status).to_contain_text("2 of 3 answered")
    expect(page.locator("#save-state-3")).to_have_text("Saved")


def test_submit_with_unanswered_questions_asks_first(page, learner, in_app):
    sign_in(page, learner)
    attempt_id = start_quiz(page, COURSE, MODULE)
    choose(page, 2, 0)
    expect(page.locator("#save-state-2")).to_have_text("Saved")

    messages = []

    def answer(dialog):
        messages.append(dialog.message)
        dialog.dismiss() if len(messages) == 1 else dialog.accept()
    page.on("dialog", answer)

    page.get_by_role("button", name="Submit attempt").click()
    expect(page.locator("#question-1")).to_be_visible()  # dismissed: still on the quiz
    assert messages == ["2 questions have no answer. Submit anyway?"]
    assert ATTEMPT_URL.search(page.url)
    with in_app():
        assert db.session.get(Attempt, attempt_id).state == "open"

    page.get_by_role("button", name="Submit attempt").click()
    page.wait_for_url(RESULT_URL)
    assert len(messages) == 2
    with in_app():
        assert db.session.get(Attempt, attempt_id).state == "submitted"


def test_a_submit_made_while_signed_out_lands_on_the_attempt_after_sign_in(new_context, learner, in_app):
    context = new_context()
    page = context.new_page()
    sign_in(page, learner)
    attempt_id = start_quiz(page, COURSE, MODULE)
    choose(page, 1, 0)
    expect(page.locator("#save-state-1")).to_have_text("Saved")

    context.clear_cookies()  # the session ended (expired, or signed out elsewhere)
    second = choose(page, 2, 1)
    expect(page.locator("#save-state-2")).to_contain_text("signed out")
    expect(page.locator("#signed-out-notice")).to_be_visible()
    page.on("dialog", lambda dialog: dialog.accept())  # one question is empty, one unsaved
    page.get_by_role("button", name="Submit attempt").click()

    page.wait_for_url(re.compile(r"/login\?"))
    fill_sign_in(page, learner)
    page.wait_for_url(re.compile(rf"/attempts/{attempt_id}\?interrupted=submit$"))
    expect(page.get_by_role("alert")).to_contain_text("not submitted yet")
    expect(page.locator(f"#question-2 input[type=radio][value='{second}']")).to_be_checked()
    expect(page.locator("#save-state-2")).to_have_text("Saved")
    with in_app():
        assert db.session.get(Attempt, attempt_id).state == "open"
        aq = attempt_question(attempt_id, 2)
        assert aq.response == canonical(aq, second)

    page.get_by_role("button", name="Submit attempt").click()
    page.wait_for_url(RESULT_URL)
    with in_app():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.state == "submitted"
        assert sum(aq.response is not None for aq in attempt.questions) == 2


def test_answers_given_while_signed_out_are_saved_once_signed_in_in_another_tab(new_context, learner, in_app):
    context = new_context()
    page = context.new_page()
    sign_in(page, learner)
    attempt_id = start_quiz(page, COURSE, MODULE)
    choose(page, 1, 0)
    expect(page.locator("#save-state-1")).to_have_text("Saved")

    context.clear_cookies()  # the session ended
    second = choose(page, 2, 1)
    expect(page.locator("#save-state-2")).to_contain_text("signed out")

    other = context.new_page()  # the learner signs in again in another tab, then comes back
    sign_in(other, learner)
    page.bring_to_front()
    # The quiz tab was opened under the old session: it fetches the new form token and sends the answer.
    expect(page.locator("#save-state-2")).to_have_text("Saved", timeout=20_000)
    with in_app():
        aq = attempt_question(attempt_id, 2)
        assert aq.response == canonical(aq, second)


def test_leaving_the_page_with_an_unsaved_answer_asks_first(new_context, learner):
    context = new_context()
    page = context.new_page()
    sign_in(page, learner)
    start_quiz(page, COURSE, MODULE)
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()
    page.on("dialog", stay)

    go_offline(context)
    choose(page, 1, 0)
    expect(page.locator("#save-state-1")).to_contain_text("Not saved, retrying")
    page.close(run_before_unload=True)
    expect(page.locator("#question-1")).to_be_visible()  # the learner chose to stay
    assert dialogs == ["beforeunload"]

    go_online(context)
    expect(page.locator("#save-state-1")).to_have_text("Saved", timeout=20_000)
    with page.expect_event("close"):  # nothing unsaved: the page closes without asking
        page.close(run_before_unload=True)
    assert dialogs == ["beforeunload"]


def test_retries_wait_longer_each_time_up_to_30_seconds_and_never_stop(new_context, learner, in_app):
    context = new_context()
    page = context.new_page()
    page.clock.install()  # the page's timers run on a clock the test moves, so no test time is spent waiting
    sign_in(page, learner)
    attempt_id = start_quiz(page, COURSE, MODULE)
    page.route(re.compile(r"/answers/1$"), lambda route: route.abort("connectionrefused"))

    with page.expect_event("requestfailed"):
        value = choose(page, 1, 0)
    # After each failure the page waits 1, 2, 4, 8, 16 seconds, then 30 seconds at most, for ever.
    for wait_ms in (1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000):
        with page.expect_event("requestfailed", timeout=5_000):
            page.clock.run_for(wait_ms)
        expect(page.locator("#save-state-1")).to_contain_text("Not saved, retrying")

    page.unroute(re.compile(r"/answers/1$"))
    with page.expect_response(re.compile(r"/answers/1$")):
        page.clock.run_for(30_000)
    expect(page.locator("#save-state-1")).to_have_text("Saved")
    with in_app():
        aq = attempt_question(attempt_id, 1)
        assert aq.response == canonical(aq, value)
