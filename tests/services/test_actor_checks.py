"""Services that take an actor check it: someone without the permission gets Forbidden and nothing changes.

None stands for the operator at the command line (flask banks import, flask users create, flask attempts
regrade without --by), who may do what the commands offer.
"""
import shutil

import pytest
from sqlalchemy import func, select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_clinic, make_user, module_of, take_attempt
from trainer.banks.course_folder import load_course
from trainer.extensions import db
from trainer.models import AuditEvent, GradeHistory, QuestionVersion, User
from trainer.services import Forbidden
from trainer.services.accounts import create_user
from trainer.services.catalog import import_courses
from trainer.services.interchange import import_bank_file, read_bank_file
from trainer.services.regrade import regrade_module

GIFT = ('// trainer: {"source": "S1"}\n'
        "::care-new::Redness usually settles within a few days.{T####Mild redness is expected.}\n")


def _versions() -> int:
    return db.session.scalar(select(func.count(QuestionVersion.id)))


@pytest.mark.parametrize("roles", [("learner",), ("manager",), ("assessor",)])
def test_only_trainers_admins_and_the_operator_import_course_folders(app, tmp_path, roles):
    folder = tmp_path / "course"
    shutil.copytree(TINY_COURSE, folder)
    before = _versions()
    with pytest.raises(Forbidden):
        import_courses(make_user(*roles), [load_course(folder)], origin="upload")
    assert _versions() == before == 0
    assert import_courses(make_user("trainer"), [load_course(folder)], origin="upload")[0].course_slug == "tiny-course"
    assert import_courses(None, [load_course(folder)])  # the operator at the command line


@pytest.mark.parametrize("roles", [("learner",), ("manager",), ("assessor",)])
def test_only_trainers_admins_and_the_operator_import_a_bank_file(app, roles):
    care = module_of(import_course(TINY_COURSE), "care")
    before = _versions()
    with pytest.raises(Forbidden):
        import_bank_file(make_user(*roles), care, read_bank_file(GIFT, "x.gift", "gift"))
    assert _versions() == before
    assert import_bank_file(make_user("trainer"), care, read_bank_file(GIFT, "x.gift", "gift")).questions_added == 1
    assert import_bank_file(None, care, read_bank_file(GIFT, "x.gift", "gift")).questions_added == 0


@pytest.mark.parametrize("roles", [("learner",), ("manager",), ("trainer",), ("assessor",)])
def test_only_admins_and_the_operator_create_accounts(app, roles):
    clinic = make_clinic()
    with pytest.raises(Forbidden):
        create_user(make_user(*roles), "new@example.org", "New Person", PASSWORD, ["learner"], clinic)
    assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None
    assert create_user(make_user("admin"), "new@example.org", "New Person", PASSWORD, ["learner"], clinic).id
    assert create_user(None, "other@example.org", "Other Person", PASSWORD, ["learner"], clinic).id


@pytest.mark.parametrize("roles", [("learner",), ("manager",), ("assessor",)])
def test_only_trainers_admins_and_the_operator_regrade(app, roles):
    care = module_of(import_course(TINY_COURSE), "care")
    take_attempt(make_user(), care)
    actor = make_user(*roles)
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    for dry_run in (True, False):
        with pytest.raises(Forbidden):
            regrade_module(actor, care, dry_run=dry_run)
    assert db.session.scalars(select(GradeHistory)).all() == []
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events
    assert regrade_module(make_user("trainer"), care, dry_run=False).unchanged == 1
    assert regrade_module(None, care, dry_run=True).unchanged == 1


def test_regrade_by_a_learner_on_the_command_line_is_one_sentence_and_exit_1(app, runner):
    care = module_of(import_course(TINY_COURSE), "care")
    learner = make_user()
    take_attempt(learner, care)
    result = runner.invoke(args=["attempts", "regrade", "--module", "tiny-course/care", "--by", learner.email])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip() == "Error: Only trainers and admins can regrade attempts."
    assert db.session.scalars(select(GradeHistory)).all() == []
