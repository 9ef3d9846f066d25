"""The logbook and the DOPS sign-off on a 390 px phone in a real Chromium: no sideways scrolling, forms work."""
from __future__ import annotations

import re

import pytest
import yaml

from tests.factories import (
    PASSWORD,
    case_fields,
    import_course,
    make_assessor,
    make_clinic,
    make_user,
    practical_course_dir,
)

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
SLUG = "tiny-practical"


@pytest.fixture
def people(in_app, tmp_path):
    """A practical copy of the tiny course under its own slug, a learner and their clinic's assessor."""
    folder = practical_course_dir(tmp_path / "src")
    spec = yaml.safe_load((folder / "course.yaml").read_text())
    spec["slug"], spec["title"] = SLUG, "Tiny Practical Course"
    (folder / "course.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    with in_app():
        import_course(folder)
        clinic = make_clinic()
        learner = make_user("learner", clinic=clinic, name="Phone Learner")
        assessor = make_assessor([clinic], name="Phone Assessor")
        return {"learner": (learner.id, learner.email), "assessor": (assessor.id, assessor.email)}


def phone_page(new_context, email):
    page = new_context().new_page()
    page.set_viewport_size(PHONE)
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.endswith("/login"))
    return page


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_learner_logs_a_case_and_assessor_signs_on_a_phone(new_context, people):
    learner_id, learner_email = people["learner"]
    page = phone_page(new_context, learner_email)
    page.goto(f"/practical/{SLUG}/cases/new")
    assert no_sideways_scroll(page)
    fields = case_fields(client_ref="PH-001")
    page.get_by_label("Date of treatment").fill(fields["treated_on"])
    page.get_by_label("Client reference").fill(fields["client_ref"])
    page.get_by_label("Fitzpatrick skin type").select_option("III")
    page.get_by_label("Indication", exact=True).select_option("acne-scars")
    page.get_by_label("Areas and needle depth").fill(fields["areas"])
    page.get_by_label("Device", exact=True).fill(fields["device"])
    page.get_by_label("Cartridge lot number").fill(fields["cartridge_lot"])
    page.get_by_label("Glide medium used").fill(fields["glide"])
    page.get_by_label("Contraindications re-screened").check()
    page.get_by_label("Consent recorded").check()
    page.get_by_label("Aftercare instructions given").check()
    page.get_by_label("Supervised by").fill(fields["supervisor"])
    page.get_by_role("button", name="Log the case").click()
    page.wait_for_url(re.compile(r"/practical/cases/\d+$"))
    assert "PH-001" in page.inner_text("h1") and no_sideways_scroll(page)

    assessor_id, assessor_email = people["assessor"]
    page = phone_page(new_context, assessor_email)
    page.goto("/practical/queue")
    page.get_by_role("link", name=re.compile("PH-001")).click()
    page.get_by_label("Decision").select_option("verify")
    page.get_by_role("button", name="Save review").click()
    page.goto(f"/practical/{SLUG}/people/{learner_id}/dops")
    assert no_sideways_scroll(page)
    for group in page.locator("fieldset.rating").all():
        group.get_by_label("Competent", exact=True).check()
    page.get_by_label("Observed case").select_option(index=1)
    page.get_by_label("Feedback for the practitioner").fill("Careful depth choice; good aseptic set-up.")
    page.get_by_label(re.compile("final sign-off")).check()
    page.get_by_role("button", name="Sign and lock").click()
    page.wait_for_url(re.compile(rf"/practical/{SLUG}/people/{learner_id}$"))
    assert "final sign-off" in page.inner_text("main") and no_sideways_scroll(page)
