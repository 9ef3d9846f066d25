"""Regrades and notification runs as background jobs from the command line (`--background`)."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_user, module_of, take_attempt
from tests.jobs.conftest import signed_in
from trainer.extensions import db
from trainer.models import Job
from trainer.models.jobs import DONE


def _only_job() -> Job:
    db.session.rollback()
    return db.session.scalars(select(Job)).one()


def test_a_background_notification_run_is_a_job_with_its_summary(app, clinic_world):
    result = app.test_cli_runner().invoke(args=["notify", "--background"])
    assert result.exit_code == 0, result.output
    job = _only_job()
    assert result.output.startswith(f"Queued job {job.id} (notify)")
    assert (job.kind, job.status, job.requested_by_id) == ("notify", DONE, None)
    assert job.summary.startswith("Sent ") and "to the outbox" in job.summary
    page = signed_in(app, clinic_world["people"]["admin"]).get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Notification run" in page and job.summary in page
    assert signed_in(app, clinic_world["people"]["manager"]).get(f"/jobs/{job.id}").status_code == 404


def test_a_background_regrade_is_a_job_run_by_the_named_trainer(app, clinic_world):
    course, trainer = clinic_world["course"], clinic_world["people"]["trainer"]
    take_attempt(clinic_world["people"]["learner"], module_of(course, "basics"))
    result = app.test_cli_runner().invoke(args=["attempts", "regrade", "--module", "tiny-course/basics",
                                                "--by", trainer.email, "--background"])
    assert result.exit_code == 0, result.output
    job = _only_job()
    assert (job.kind, job.status, job.requested_by_id) == ("regrade", DONE, trainer.id)
    assert job.summary == "0 result(s) changed, 1 unchanged."
    assert signed_in(app, trainer).get(f"/jobs/{job.id}.json").get_json()["summary"] == job.summary


def test_a_background_regrade_needs_a_trainer_and_no_dry_run(app, clinic_world):
    runner = app.test_cli_runner()
    for extra in (["--dry-run", "--by", clinic_world["people"]["trainer"].email], []):
        result = runner.invoke(args=["attempts", "regrade", "--module", "tiny-course/basics", "--background", *extra])
        assert result.exit_code == 1 and "drop --dry-run and give --by EMAIL" in result.output
    manager = make_user("manager", clinic=clinic_world["home"])
    result = runner.invoke(args=["attempts", "regrade", "--module", "tiny-course/basics", "--background",
                                 "--by", manager.email])
    assert result.exit_code == 1 and "You may not start this job." in result.output
    assert db.session.scalar(select(Job.id)) is None
