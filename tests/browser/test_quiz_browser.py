"""The quiz page in a real Chromium: autosave, resume, a dropped network, the countdown, keyboard use, no key leak."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import yaml

from tests.browser.quiz_steps import (
    ATTEMPT_URL,
    RESULT_URL,
    attempt_id_of,
    attempt_question,
    canonical,
    go_offline,
    go_online,
    sign_in,
    slow_network,
    start_quiz,
)
from tests.conftest import TINY_COURSE
from tests.factories import correct_form
from trainer.extensions import db
from trainer.models import Attempt

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="browser tests need the Python 'playwright' package").expect


# Every request takes this long, as on a clinic's Wi-Fi: saves are still on their way while the learner acts.
LATENCY_MS = 300


# --- helpers --------------------------------------------------------------------------------

def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the focused element matches the CSS selector."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {selector!r}")


def focused(page, expression: str):
    return page.evaluate(f"() => {{ const el = document.activeElement; return {expression}; }}")


# --- 1. autosave and resume -----------------------------------------------------------------

def test_answer_is_autosaved_and_survives_reload_and_a_new_tab(new_context, learner, in_app):
    context = new_context()
    slow_network(context, LATENCY_MS)
    page = context.new_page()
    sign_in(page, learner)
    attempt_id = start_quiz(page, "tiny-timed", "care")

    q1 = page.locator("#question-1")
    expect(q1.locator("input[type=radio]:checked")).to_have_count(0)
    expect(page.locator("#save-state-1")).to_have_text("")
    q1.locator("label").nth(1).click()
    expect(page.locator("#save-state-1")).to_have_text("Saved")
    radio = q1.locator("input[type=radio]").nth(1)
    expect(radio).to_be_checked()
    value = radio.get_attribute("value")

    page.reload()
    expect(q1.locator(f"input[type=radio][value='{value}']")).to_be_checked()
    expect(q1.locator("input[type=radio]:checked")).to_have_count(1)
    expect(page.locator("#save-state-1")).to_have_text("Saved")
    expect(page.locator("#quiz-status")).to_contain_text("1 of 3 answered")

    with in_app():
        aq = attempt_question(attempt_id, 1)
        assert aq.response is not None and aq.response == canonical(aq, value)
        assert aq.response_seq == 1
        assert all(attempt_question(attempt_id, p).response is None for p in (2, 3))

    context.close()  # the tab (and its cookies) are gone
    context = new_context()
    slow_network(context, LATENCY_MS)
    page = context.new_page()
    sign_in(page, learner)
    page.goto("/learn/tiny-timed/care")
    expect(page.get_by_role("button", name="Start the quiz")).to_have_count(0)
    page.get_by_role("link", name=re.compile(r"Resume attempt")).click()
    page.wait_for_url(re.compile(rf"/attempts/{attempt_id}$"))
    q1 = page.locator("#question-1")
    expect(q1.locator(f"input[type=radio][value='{value}']")).to_be_checked()
    expect(q1.locator("input[type=radio]:checked")).to_have_count(1)
    expect(page.locator("#save-state-1")).to_have_text("Saved")


# --- 2. a dropped network -------------------------------------------------------------------

def test_save_retries_after_the_network_comes_back(new_context, learner, in_app):
    context = new_context()
    page = context.new_page()
    sign_in(page, learner)
    attempt_id = start_quiz(page, "tiny-timed", "care")
    q1, state = page.locator("#question-1"), page.locator("#save-state-1")

    q1.locator("label").nth(0).click()
    expect(state).to_have_text("Saved")
    first = q1.locator("input[type=radio]").nth(0).get_attribute("value")
    second = q1.locator("input[type=radio]").nth(1).get_attribute("value")

    go_offline(context)
    try:
        # A first answer to another question, and a change to the saved one.
        answer_2 = page.locator("#question-2 input[type=radio]").nth(0).get_attribute("value")
        page.locator("#question-2 label").nth(0).click()
        q1.locator("label").nth(1).click()
        expect(state).to_contain_text("Not saved, retrying", timeout=10_000)
        expect(page.locator("#save-state-2")).to_contain_text("Not saved, retrying")
        with in_app():  # the changes have not reached the server
            aq = attempt_question(attempt_id, 1)
            assert aq.response == canonical(aq, first) and aq.response_seq == 1
            assert attempt_question(attempt_id, 2).response is None
        # The page keeps trying: a retry goes out (and fails) while the network is still down.
        with page.expect_event("requestfailed", predicate=lambda r: r.url.endswith("/answers/2"), timeout=10_000):
            pass
        expect(state).to_contain_text("Not saved, retrying")
    finally:
        go_online(context)

    expect(state).to_have_text("Saved", timeout=20_000)
    expect(page.locator("#save-state-2")).to_have_text("Saved", timeout=20_000)
    with in_app():
        aq = attempt_question(attempt_id, 1)
        assert aq.response == canonical(aq, second)
        assert aq.response_seq == 2
        aq = attempt_question(attempt_id, 2)
        assert aq.response == canonical(aq, answer_2)
    page.reload()
    expect(q1.locator(f"input[type=radio][value='{second}']")).to_be_checked()
    expect(page.locator("#quiz-status")).to_contain_text("2 of 3 answered")


# --- 3. the countdown reaches zero ----------------------------------------------------------

def test_timed_quiz_submits_itself_at_the_deadline(page, learner, in_app):
    slow_network(page.context, LATENCY_MS)
    sign_in(page, learner)
    attempt_id = start_quiz(page, "tiny-timed", "basics")

    timer, announcer = page.locator("#timer"), page.locator("#timer-announcer")
    # The per-second countdown is not a live region; a separate announcer speaks at thresholds.
    assert timer.get_attribute("aria-live") is None
    assert page.locator("#quiz-status").get_attribute("aria-live") is None
    assert announcer.get_attribute("aria-live") in ("assertive", "polite")
    # A one-minute quiz opens with under a minute left, so the one-minute notice is given at once.
    expect(announcer).to_have_text("1 minute left.", timeout=3_000)
    expect(timer).to_have_text(re.compile(r"^0:[0-5]\d$"))
    before = timer.text_content()
    page.wait_for_timeout(2_100)
    assert timer.text_content() < before, "the countdown does not tick"

    # Answer one choice question correctly and wait for the autosave.
    with in_app():
        attempt = db.session.get(Attempt, attempt_id)
        deadline = attempt.deadline_dt
        assert deadline - attempt.started_dt == timedelta(minutes=1)
        choice = next(aq for aq in sorted(attempt.questions, key=lambda a: a.position)
                      if aq.version.content["type"] in ("single", "true_false", "multiple"))
        position, answer = choice.position, correct_form(choice)[f"q{choice.position}"]
    for value in answer if isinstance(answer, list) else [answer]:
        page.locator(f"#question-{position} input[name='q{position}'][value='{value}']").check()
    expect(page.locator(f"#save-state-{position}")).to_have_text("Saved")
    with in_app():
        assert attempt_question(attempt_id, position).response is not None

    # Nobody touches the page again: the countdown runs out and the page submits itself.
    page.wait_for_url(RESULT_URL, timeout=80_000)
    assert page.url.endswith(f"/attempts/{attempt_id}/result")
    expect(page.locator("section.result")).to_contain_text("Submitted")

    with in_app():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.state == "submitted"
        assert attempt.submitted_by in ("deadline", "learner")
        # Not before the time was up (the page rounds to whole seconds) and not long after it.
        assert deadline - timedelta(seconds=2) <= attempt.submitted_dt <= deadline + timedelta(seconds=30)
        items = {aq.position: aq for aq in attempt.questions}
        assert items[position].response is not None
        assert items[position].fraction == 1.0, "the answer saved before the deadline did not count"
        assert all(aq.fraction == 0.0 and aq.response is None for p, aq in items.items() if p != position)
        assert attempt.score_percent == pytest.approx(25.0)
        submitted_by = attempt.submitted_by
    if submitted_by == "deadline":
        expect(page.locator("section.result")).to_contain_text("at the time limit")
    else:
        # Recorded as the learner's own submission: the page cannot say it was the time limit.
        expect(page.locator("section.result")).not_to_contain_text("at the time limit")


# --- 4. keyboard only -----------------------------------------------------------------------

def test_care_quiz_can_be_completed_with_the_keyboard_alone(page, learner, in_app):
    slow_network(page.context, LATENCY_MS)
    page.goto("/login")
    tab_to(page, "input[name=email]")
    page.keyboard.type(learner.email)
    page.keyboard.press("Tab")
    assert focused(page, "el.name") == "password"
    page.keyboard.type(learner.password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/learn$"))

    page.goto("/learn/tiny-timed/care")
    tab_to(page, "form[action$='/attempts'] button[type=submit]")
    assert focused(page, "el.textContent.trim()") == "Start the quiz"
    page.keyboard.press("Enter")
    page.wait_for_url(ATTEMPT_URL)
    attempt_id = attempt_id_of(page)

    with in_app():
        answers = {aq.position: correct_form(aq)[f"q{aq.position}"]
                   for aq in db.session.get(Attempt, attempt_id).questions}
    assert sorted(answers) == [1, 2, 3]

    for position in (1, 2, 3):
        tab_to(page, f"#question-{position} input[type=radio]")
        values = page.locator(f"#question-{position} input[type=radio]").evaluate_all(
            "els => els.map(e => e.value)")
        assert focused(page, "el.value") == values[0]  # no radio checked yet: Tab lands on the first
        page.keyboard.press("Space")
        for _ in range(values.index(answers[position])):
            page.keyboard.press("ArrowDown")
        assert focused(page, "el.checked && el.value") == answers[position]
        expect(page.locator(f"#save-state-{position}")).to_have_text("Saved")

    tab_to(page, "#submit-attempt")
    page.keyboard.press("Enter")
    page.wait_for_url(RESULT_URL)
    expect(page.locator("h1")).to_have_text("Care: Passed")
    expect(page.locator("section.result")).to_contain_text("100%")

    with in_app():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.state == "submitted" and attempt.submitted_by == "learner"
        assert all(aq.response is not None for aq in attempt.questions)
        assert [aq.fraction for aq in attempt.questions] == [1.0, 1.0, 1.0]


# --- 5. the page never carries the key ------------------------------------------------------

def test_quiz_page_carries_no_answer_key(page, learner, in_app):
    bank = yaml.safe_load((TINY_COURSE / "questions" / "basics.yaml").read_text())["questions"]
    secrets = [q["explanation"] for q in bank]
    secrets += [c["feedback"] for q in bank for c in q.get("choices", []) if c.get("feedback")]
    assert "The channels start wound healing." in secrets
    assert "Fine needles make channels that trigger healing." in secrets

    sign_in(page, learner)
    attempt_id = start_quiz(page, "tiny-course", "basics")
    html = page.content()

    with in_app():
        drawn = [aq.version.content for aq in sorted(db.session.get(Attempt, attempt_id).questions,
                                                     key=lambda a: a.position)]
    assert len(drawn) == 4
    for q in drawn:  # the page does show the questions...
        assert q["stem"].split(".")[0] in html
    for text in secrets:  # ...but none of the feedback or explanations
        assert text not in html, f"the quiz page leaks {text!r}"
    short = next((q for q in drawn if q["type"] == "short_answer"), None)
    if short:
        for accepted in short["answers"]:
            assert accepted.lower() not in html.lower()

    leaks = page.locator("#quiz-form").evaluate("""form => Array.from(form.querySelectorAll('*'))
        .flatMap(el => Array.from(el.attributes).map(a => `${el.tagName.toLowerCase()} ${a.name}="${a.value}"`))
        .filter(s => /correct|answer_key|feedback|explanation/i.test(s))""")
    assert leaks == []
    inputs = page.locator("input, select, option").evaluate_all(
        "els => els.flatMap(el => Array.from(el.attributes).map(a => a.name + '=' + a.value))")
    assert inputs and not [a for a in inputs if "correct" in a.lower()]

    # The autosave reply says only whether the answer was stored, never whether it was right.
    first_choice = page.locator(
        "fieldset.question:has(input[type=radio]), fieldset.question:has(input[type=checkbox])").first
    with page.expect_response(re.compile(r"/answers/\d+$")) as reply:
        first_choice.locator("input[type=radio], input[type=checkbox]").first.check()
    assert reply.value.status == 200
    assert set(reply.value.json()) == {"saved", "seq", "message"}
