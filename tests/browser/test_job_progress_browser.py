"""A background job's page in Chromium on a phone: the bar follows the job without a reload, then Download."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.factories import PASSWORD, make_clinic, make_user
from tests.jobs.conftest import certified_staff
from trainer import clock
from trainer.extensions import db
from trainer.models import Course, Job
from trainer.models.jobs import RUNNING
from trainer.services.jobs import run_job


@pytest.fixture
def queued_live_app(live_app):
    """Jobs wait in the queue (a file) instead of running in the request: the test plays the worker."""
    live_app.extensions["huey"].immediate = False
    yield live_app
    live_app.extensions["huey"].immediate = True


def test_the_job_page_follows_progress_and_offers_the_file_on_a_phone(queued_live_app, in_app, new_context):
    from playwright.sync_api import expect  # here: without playwright the module still collects, and skips

    with in_app():
        clinic = make_clinic()
        manager = make_user("manager", clinic=clinic)
        course = db.session.scalar(select(Course).where(Course.slug == "tiny-course"))
        certified_staff(clinic, course, 5)
        email = manager.email
    page = new_context().new_page()
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto("/manage/")
    page.get_by_role("button", name="All certificates (ZIP)").click()
    page.wait_for_url("**/jobs/*")
    job_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator("#job-state").inner_text() == "Waiting for a worker…"
    assert page.locator("#job-refresh").is_visible() and not page.locator("#job-download").is_visible()

    with in_app():  # a worker got part-way, then died (its heartbeat is old)
        db.session.execute(update(Job).where(Job.id == job_id).values(
            status=RUNNING, runs=1, progress_done=2, progress_total=5,
            heartbeat_dt=clock.now() - timedelta(hours=1)))
        db.session.commit()
    expect(page.locator("#job-state")).to_have_text("Preparing: 2 of 5")
    assert page.eval_on_selector("#job-progress", "bar => [bar.value, bar.max]") == [2, 5]

    with in_app():  # the next worker takes it up and finishes
        run_job(job_id)
    expect(page.locator("#job-state")).to_have_text("Ready.")
    assert page.eval_on_selector("#job-progress", "bar => [bar.value, bar.max]") == [5, 5]
    assert not page.locator("#job-refresh").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    with page.expect_download() as download:
        page.locator("#job-download").click()
    name = download.value.suggested_filename
    assert name.startswith("certificates-") and name.endswith(".zip")
