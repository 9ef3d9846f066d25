"""The quiz page for keyboard and screen-reader users on a phone-sized screen, on a timed quiz."""
from __future__ import annotations

import pytest

from tests.browser.quiz_steps import sign_in, start_quiz

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="browser tests need the Python 'playwright' package").expect

PHONE = {"width": 375, "height": 667}

COVERED = """() => {
  const el = document.activeElement, bar = document.getElementById('quiz-status').getBoundingClientRect();
  const r = el.getBoundingClientRect();
  return {tag: el.tagName + ' ' + (el.name || el.textContent.trim()),
          covered: r.top < bar.bottom - 1 || r.bottom > innerHeight + 1};
}"""


@pytest.fixture
def phone_page(new_context):
    context = new_context()
    page = context.new_page()
    page.set_viewport_size(PHONE)
    return page


def test_the_timer_bar_is_compact_and_never_covers_the_focused_element(phone_page, learner):
    page = phone_page
    sign_in(page, learner)
    start_quiz(page, "tiny-course", "basics")  # timed: ten minutes
    bar = page.locator("#quiz-status")
    expect(page.locator("#timer")).to_be_visible()
    box = bar.bounding_box()
    assert box["height"] <= 0.12 * PHONE["height"], f"the sticky bar takes {box['height']:.0f}px of a phone screen"

    page.locator("#submit-attempt").focus()
    seen = []
    for _ in range(60):  # back up through every control of the quiz: each one lands below the sticky bar
        page.keyboard.press("Shift+Tab")
        if not page.evaluate("() => !!document.activeElement.closest('#quiz-form')"):
            break
        seen.append(page.evaluate(COVERED))
    assert len(seen) > 5
    assert [s["tag"] for s in seen if s["covered"]] == []


def test_each_question_group_is_described_by_its_stem(page, learner):
    sign_in(page, learner)
    start_quiz(page, "tiny-course", "basics")
    questions = page.locator("fieldset.question")
    expect(questions).to_have_count(4)
    for i in range(4):
        question = questions.nth(i)
        position = question.get_attribute("data-position")
        stem = " ".join(question.locator(".stem").inner_text().split())
        expect(question).to_have_accessible_description(stem)
        # The legend stays the group's short name; the stem is read with it as the description.
        expect(page.get_by_role("group", name=f"Question {position} ")).to_have_count(1)
