"""The question editor in Chromium, with CSRF on: change the type, get its fields, fill rows, save a draft."""
from sqlalchemy import select

from tests.factories import PASSWORD, make_user
from trainer.extensions import db
from trainer.models import Course, Module, Question


def test_a_trainer_switches_the_type_fills_the_rows_and_saves_a_matching_draft(in_app, page):
    with in_app():
        email = make_user("trainer").email
        care_id = db.session.scalar(select(Module.id).join(Course).where(Course.slug == "tiny-course",
                                                                         Module.slug == "care"))
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"/author/modules/{care_id}/questions/new")
    page.get_by_label("Id").fill("care-tools")
    page.get_by_label("Question (Markdown)").fill("Match each tool with what it sets.")
    page.get_by_label("Type").select_option("matching")
    page.get_by_role("button", name="Update the form (type, more rows)").click()
    # The refreshed form has the matching rows and keeps what was typed.
    page.get_by_label("Pair 1 left").fill("Pen")
    assert page.get_by_label("Question (Markdown)").input_value() == "Match each tool with what it sets."
    page.get_by_label("Pair 1 right").fill("Needle depth")
    page.get_by_label("Pair 2 left").fill("Roller")
    page.get_by_label("Pair 2 right").fill("Drum size")
    page.get_by_label("Explanation (Markdown): why the right answer is right").fill("Each tool sets one thing.")
    page.get_by_label("Source").fill("S1")
    page.get_by_role("button", name="Add the question (draft)").click()
    page.get_by_text("Added care-tools as a draft (version 1).").wait_for()

    with in_app():
        (version,) = db.session.scalar(select(Question).where(Question.key == "care-tools")).versions
        assert version.content["type"] == "matching" and version.content["pairs"] == [
            {"left": "Pen", "right": "Needle depth"}, {"left": "Roller", "right": "Drum size"}]
