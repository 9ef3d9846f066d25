"""Regrading: a dry run lists changes; applying keeps the old result in history and is audited."""
import re
import shutil

from sqlalchemy import select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, FormData, import_course, make_user, module_of
from trainer.extensions import db
from trainer.models import Attempt, AuditEvent, GradeHistory
from trainer.services.attempts import save_answer, start_attempt, submit_attempt
from trainer.services.regrade import regrade_module


def _answer_care(learner, module, spf_answer: str):
    attempt = start_attempt(learner, module)
    for aq in attempt.questions:
        q = aq.version.content
        if q["id"] == "care-spf":
            form = FormData({f"q{aq.position}": spf_answer})
        else:
            right = next(i for i, c in enumerate(q["choices"]) if c.get("correct"))
            form = FormData({f"q{aq.position}": str(aq.display_order.index(right))})
        save_answer(learner, attempt.id, aq.position, form, seq=1)
    return submit_attempt(learner, attempt.id)


def test_regrade_after_a_key_is_corrected(app, tmp_path):
    folder = tmp_path / "course"
    shutil.copytree(TINY_COURSE, folder)
    care = module_of(import_course(folder), "care")
    admin = make_user("admin")
    said_true, said_false = make_user(), make_user()
    first = _answer_care(said_true, care, "true")
    second = _answer_care(said_false, care, "false")
    assert (first.score_percent, second.score_percent) == (100.0, 66.67)

    bank = folder / "questions" / "care.yaml"
    bank.write_text(bank.read_text().replace("    answer: true\n", "    answer: false\n", 1))
    import_course(folder)

    preview = regrade_module(admin, care, dry_run=True)
    assert {(c.attempt_id, c.old_score, c.new_score) for c in preview.changes} == {(first.id, 100.0, 66.67),
                                                                                   (second.id, 66.67, 100.0)}
    db.session.expire_all()
    assert db.session.get(Attempt, first.id).score_percent == 100.0  # a dry run changes nothing
    assert db.session.scalars(select(GradeHistory)).all() == []

    applied = regrade_module(admin, care, dry_run=False)
    assert len(applied.changes) == 2
    db.session.expire_all()
    assert db.session.get(Attempt, first.id).score_percent == 66.67
    history = db.session.scalar(select(GradeHistory).where(GradeHistory.attempt_id == first.id))
    assert history.score_percent == 100.0 and history.replaced_by_id == admin.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attempts.regrade"))
    assert event.actor_id == admin.id and sorted(event.details["changed"]) == sorted([first.id, second.id])
    # The attempt still shows the version it showed; grading points at the corrected one.
    shown = next(aq for aq in db.session.get(Attempt, first.id).questions if aq.version.content["id"] == "care-spf")
    assert shown.version.number == 1 and shown.graded_version.number == 2
    assert regrade_module(admin, care, dry_run=True).changes == []


def test_the_result_page_reviews_a_regraded_question_against_the_corrected_key(app, tmp_path):
    folder = tmp_path / "course"
    shutil.copytree(TINY_COURSE, folder)
    care = module_of(import_course(folder), "care")
    learner = make_user()
    attempt = _answer_care(learner, care, "false")
    bank = folder / "questions" / "care.yaml"
    bank.write_text(bank.read_text().replace("    answer: true\n", "    answer: false\n", 1))
    import_course(folder)
    regrade_module(make_user("admin"), care, dry_run=False)

    client = app.test_client()
    client.post("/login", data={"email": learner.email, "password": PASSWORD})
    page = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "100%" in page and "Passed" in page
    assert page.count("Regraded against version 2 of this question") == 1
    # The key shown is the corrected one: the learner's "False" is marked as the correct answer.
    assert re.search(r"False <em>\(your answer\)</em> <strong>\(correct\)</strong>", page)
    assert not re.search(r"True <strong>\(correct\)</strong>", page)
