"""The command line: one clear sentence and a non-zero exit on errors; imports all-or-nothing."""
import shutil

from sqlalchemy import func, select

from tests.conftest import ROOT, TINY_COURSE
from trainer.extensions import db
from trainer.models import Clinic, Question, QuestionVersion, User


def test_validate_reports_ok_and_problems(runner, tmp_path):
    result = runner.invoke(args=["banks", "validate", str(TINY_COURSE)])
    assert result.exit_code == 0 and "tiny-course: OK (2 modules, 9 questions)" in result.output
    broken = tmp_path / "broken"
    shutil.copytree(TINY_COURSE, broken)
    (broken / "questions" / "care.yaml").write_text("format: trainer-bank/1\nquestions: [\n")
    result = runner.invoke(args=["banks", "validate", str(broken)])
    assert result.exit_code == 1
    assert f"{broken / 'questions' / 'care.yaml'}:3: not valid YAML" in result.output
    assert "Traceback" not in result.output


def test_import_is_all_or_nothing_and_versions_changes(runner, tmp_path):
    good = tmp_path / "good"
    shutil.copytree(TINY_COURSE, good)
    assert runner.invoke(args=["banks", "import", str(good)]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(QuestionVersion)) == 9

    bank = good / "questions" / "care.yaml"
    bank.write_text(bank.read_text().replace("Sun protection matters after treatment.",
                                             "Daily SPF matters after treatment."))
    result = runner.invoke(args=["banks", "import", str(good)])
    assert "1 new versions, 8 unchanged" in result.output
    versions = db.session.scalars(select(QuestionVersion).join(Question).where(Question.key == "care-spf")
                                  .order_by(QuestionVersion.number)).all()
    assert [v.number for v in versions] == [1, 2] and "Daily SPF" in versions[1].content["stem"]
    assert "Sun protection" in versions[0].content["stem"]  # history never changes

    broken = tmp_path / "broken"
    shutil.copytree(good, broken)
    (broken / "questions" / "care.yaml").write_text(bank.read_text().replace("Daily SPF", "Changed again"))
    (broken / "questions" / "basics.yaml").write_text("not: [valid")
    result = runner.invoke(args=["banks", "import", str(broken)])
    assert result.exit_code == 1 and "Nothing was imported." in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(QuestionVersion)) == 10


def test_shipped_question_banks_validate(runner):
    result = runner.invoke(args=["banks", "validate", str(ROOT / "question_banks")])
    assert result.exit_code == 0, result.output


def test_clinics_and_users_create(runner, monkeypatch):
    assert runner.invoke(args=["clinics", "create", "North Clinic"]).exit_code == 0
    result = runner.invoke(args=["clinics", "create", "north clinic"])
    assert result.exit_code == 1 and "already exists" in result.output
    monkeypatch.setenv("TRAINER_PASSWORD", "a long enough password")
    result = runner.invoke(args=["users", "create", "Sam@Example.org", "--name", "Sam Smith", "--role", "learner",
                                 "--role", "manager", "--clinic", "North Clinic"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert user.email == "sam@example.org" and user.roles == {"learner", "manager"}
    assert user.clinic == db.session.scalar(select(Clinic))
    result = runner.invoke(args=["users", "create", "x@example.org", "--name", "X", "--clinic", "Nowhere"])
    assert result.exit_code == 1 and "no clinic named 'Nowhere'" in result.output
    result = runner.invoke(args=["users", "create", "not-an-email", "--name", "X", "--role", "trainer"])
    assert result.exit_code == 1 and "not a valid email" in result.output and "Traceback" not in result.output
    monkeypatch.setenv("TRAINER_PASSWORD", "short")
    result = runner.invoke(args=["users", "create", "y@example.org", "--name", "Y", "--role", "trainer"])
    assert result.exit_code == 1 and "at least 12 characters" in result.output


def test_demo_setup_only_on_an_empty_database(runner, monkeypatch):
    monkeypatch.setenv("TRAINER_DEMO_PASSWORD", "demo-password-123")
    result = runner.invoke(args=["demo", "setup"])
    assert result.exit_code == 0
    assert "practitioner@demo.clinic" in result.output and "demo-password-123" in result.output
    assert {r for u in db.session.scalars(select(User)) for r in u.roles} == {"learner", "manager", "trainer", "admin",
                                                                             "assessor"}
    again = runner.invoke(args=["demo", "setup"])
    assert "were not created again" in again.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 5
    from trainer.services.practical import registration_of
    assessor = db.session.scalar(select(User).where(User.email == "assessor@demo.clinic"))
    assert registration_of(assessor).verified_dt is not None  # the demo assessor can sign off at once


def test_bank_file_import_export_and_regrade_commands(runner, tmp_path):
    from tests.factories import import_course as import_course_folder
    from tests.factories import make_user, module_of, take_attempt

    folder = tmp_path / "course"
    shutil.copytree(TINY_COURSE, folder)
    course = import_course_folder(folder)
    learner = make_user()
    take_attempt(learner, module_of(course, "care"))

    out = tmp_path / "export"
    result = runner.invoke(args=["banks", "export", "tiny-course", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0 and (out / "care.csv").is_file()
    csv_text = (out / "care.csv").read_text(encoding="utf-8-sig")
    (out / "care.csv").write_text(csv_text.replace("Fever with spreading redness can mean infection.",
                                                   "Fever with spreading redness can mean an infection."),
                                  encoding="utf-8")
    result = runner.invoke(args=["banks", "import", str(out / "care.csv"), "--format", "csv",
                                 "--into", "tiny-course/care"])
    assert result.exit_code == 0 and "1 new versions" in result.output, result.output
    result = runner.invoke(args=["banks", "import", str(out / "care.csv"), "--format", "csv"])
    assert result.exit_code == 1 and "--into COURSE/MODULE" in result.output
    result = runner.invoke(args=["banks", "export", "tiny-course", "--format", "gift", "--out", str(tmp_path / "g")])
    assert result.exit_code == 0
    assert "left out basics/basics-phases: ordering questions have no GIFT form" in result.output
    assert "1 question(s) left out" in result.output and (tmp_path / "g" / "basics.gift").is_file()

    bank = folder / "questions" / "care.yaml"
    bank.write_text(bank.read_text().replace("    answer: true\n", "    answer: false\n", 1))
    import_course_folder(folder)
    result = runner.invoke(args=["attempts", "regrade", "--module", "tiny-course/care", "--dry-run"])
    assert result.exit_code == 0 and "100% -> 66.67%" in result.output and "1 result(s) would change" in result.output
    # The person responsible must be allowed to regrade (tests/services/test_actor_checks.py): a trainer.
    trainer = make_user("trainer")
    result = runner.invoke(args=["attempts", "regrade", "--module", "tiny-course/care", "--by", trainer.email])
    assert "1 result(s) changed" in result.output
    assert "0 result(s) would change" in runner.invoke(args=["attempts", "regrade", "--module", "tiny-course/care",
                                                              "--dry-run"]).output
    result = runner.invoke(args=["attempts", "regrade", "--module", "nope"])
    assert result.exit_code == 1 and "COURSE/MODULE" in result.output


def test_demo_seed_builds_real_attempts(runner, monkeypatch):
    from tests.factories import import_course as import_course_folder
    from trainer.models import Attempt

    import_course_folder(TINY_COURSE)
    monkeypatch.setenv("TRAINER_DEMO_PASSWORD", "seeded-password")
    result = runner.invoke(args=["demo", "seed", "--clinics", "2", "--staff", "3", "--attempts", "2", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 6
    attempts = db.session.scalars(select(Attempt)).all()
    assert attempts and all(a.state == "submitted" and a.score_percent is not None for a in attempts)
    again = runner.invoke(args=["demo", "seed", "--clinics", "2", "--staff", "3", "--attempts", "2", "--seed", "7"])
    assert again.exit_code == 1 and "already exists" in again.output
