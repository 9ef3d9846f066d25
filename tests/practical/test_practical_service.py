"""Practical competence through the services: logbook, review, DOPS sign-off and certification."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import (
    ALL_COMPETENT,
    case_fields,
    import_course,
    make_assessor,
    make_clinic,
    make_user,
    module_of,
    take_attempt,
)
from trainer import clock
from trainer.extensions import db
from trainer.models import AuditEvent, Certificate, DopsObservation, LogbookCase
from trainer.models.practical import SignedRecordLocked
from trainer.services import Forbidden, ServiceError
from trainer.services.practical import (
    CaseInvalid,
    assessor_queue,
    log_case,
    practical_progress,
    record_registration,
    review_case,
    sign_dops,
    signoff_for_certificate,
)


@pytest.fixture
def setting(app, practical_dir):
    clock.freeze(datetime(2026, 12, 1, 9, 0))
    course = import_course(practical_dir)
    clinic = make_clinic()
    learner = make_user("learner", clinic=clinic)
    assessor = make_assessor([clinic], name="Nurse Able")
    return course, clinic, learner, assessor


def certificates():
    return db.session.scalars(select(Certificate)).all()


def log_and_verify(learner, course, assessor, indications):
    cases = []
    for i, indication in enumerate(indications):
        case = log_case(learner, course, case_fields(client_ref=f"C-{100 + i}", indication=indication))
        review_case(assessor, case, verified=True, comment="")
        cases.append(case)
    return cases


def test_certificate_waits_for_the_logbook_and_the_final_signoff(setting):
    course, clinic, learner, assessor = setting
    take_attempt(learner, module_of(course, "basics"))
    take_attempt(learner, module_of(course, "care"))
    assert certificates() == []  # theory passed, practical not started

    cases = log_and_verify(learner, course, assessor, ["acne-scars", "acne-scars", "fine-lines"])
    assert certificates() == []  # logbook complete, no sign-off yet
    sign_dops(assessor, learner, course, "facial", ALL_COMPETENT, "competent", "Formative: good technique.",
              case=cases[0])
    assert certificates() == []  # an observation that is not the final sign-off
    signoff = sign_dops(assessor, learner, course, "facial", ALL_COMPETENT, "competent_with_supervision",
                        "Safe; keep working under supervision on depth.", case=cases[1], final=True)
    [certificate] = certificates()
    assert signoff_for_certificate(certificate) == signoff
    assert (signoff.assessor_name, signoff.registration_body,
            signoff.requires_supervision) == ("Nurse Able", "NMC", True)


def test_a_course_without_practical_certifies_on_quizzes_alone(app):
    from tests.conftest import TINY_COURSE
    course = import_course(TINY_COURSE)
    learner = make_user()
    take_attempt(learner, module_of(course, "basics"))
    take_attempt(learner, module_of(course, "care"))
    assert len(certificates()) == 1


def test_final_signoff_not_yet_competent_issues_nothing(setting):
    course, clinic, learner, assessor = setting
    take_attempt(learner, module_of(course, "basics"))
    take_attempt(learner, module_of(course, "care"))
    cases = log_and_verify(learner, course, assessor, ["acne-scars", "fine-lines", "striae"])
    sign_dops(assessor, learner, course, "facial", ALL_COMPETENT, "not_yet_competent",
              "Depth too deep on the forehead.",
              case=cases[0], final=True)
    assert certificates() == []


def test_progress_counts_only_verified_cases(setting):
    course, clinic, learner, assessor = setting
    log_and_verify(learner, course, assessor, ["acne-scars"])
    returned = log_case(learner, course, case_fields(client_ref="C-7", indication="striae"))
    review_case(assessor, returned, verified=False, comment="Lot number is missing a digit.")
    log_case(learner, course, case_fields(client_ref="C-8", indication="fine-lines"))
    progress = practical_progress(learner.id, course)
    assert (progress.verified_cases, progress.indications) == (1, frozenset({"acne-scars"}))
    assert db.session.get(LogbookCase, returned.id).review_comment == "Lot number is missing a digit."
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"practical.case.log", "practical.case.verify", "practical.case.return"} <= actions


@pytest.mark.parametrize("who", ["learner", "manager", "other_clinic_assessor", "self", "unverified", "expired"])
def test_forged_signoffs_are_refused(setting, who):
    course, clinic, learner, assessor = setting
    if who == "learner":
        actor, person = make_user("learner", clinic=clinic), learner
    elif who == "manager":
        actor, person = make_user("manager", clinic=clinic), learner
    elif who == "other_clinic_assessor":
        actor, person = make_assessor([make_clinic()]), learner
    elif who == "self":
        # An assessor who is also a learner in the clinic they assess in.
        actor = make_assessor([clinic])
        actor.role_rows.append(type(actor.role_rows[0])(role="learner"))
        db.session.commit()
        person = actor
    elif who == "unverified":
        actor, person = make_assessor([clinic], verified=False), learner
    else:
        actor, person = make_assessor([clinic], expires_on="2026-12-31"), learner
        clock.freeze(datetime(2027, 1, 1, 9, 0))
    with pytest.raises(Forbidden):
        sign_dops(actor, person, course, "facial", ALL_COMPETENT, "competent", "Looks fine to me.", final=True)
    case = log_case(learner, course, case_fields()) if who != "self" else None
    if case is not None:
        with pytest.raises(Forbidden):
            review_case(actor, case, verified=True, comment="")
    assert db.session.scalars(select(DopsObservation)).all() == []


def test_signed_dops_is_locked_and_audited(setting):
    course, clinic, learner, assessor = setting
    dops = sign_dops(assessor, learner, course, "facial", ALL_COMPETENT, "competent", "Good, careful technique.")
    dops.overall = "not_yet_competent"
    with pytest.raises(SignedRecordLocked):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(DopsObservation, dops.id).overall == "competent"
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert {"practical.registration.record", "practical.registration.verify", "practical.dops.sign"} <= set(actions)


def test_dops_must_rate_every_step(setting):
    course, clinic, learner, assessor = setting
    with pytest.raises(ServiceError, match="Rate every step"):
        sign_dops(assessor, learner, course, "facial", {"consent": "competent"}, "competent", "Good technique overall.")


def test_a_case_is_reviewed_once(setting):
    course, clinic, learner, assessor = setting
    other = make_assessor([clinic])
    case = log_case(learner, course, case_fields())
    review_case(assessor, case, verified=True, comment="")
    with pytest.raises(ServiceError, match="already been reviewed"):
        review_case(other, case, verified=False, comment="Not convinced.")


def test_bad_case_entries_get_a_message_per_field(setting):
    course, clinic, learner, assessor = setting
    with pytest.raises(CaseInvalid) as info:
        log_case(learner, course, case_fields(client_ref="Jane Smith", areas="cheeks: 4", indication="tattoo",
                                              treated_on="2027-01-05", adverse_event="PIH", adverse_action="",
                                              fitzpatrick="VII"))
    assert set(info.value.problems) == {"client_ref", "areas", "indication", "treated_on", "adverse_action",
                                        "fitzpatrick"}
    assert "never a name" in info.value.problems["client_ref"]
    assert db.session.scalars(select(LogbookCase)).all() == []


def test_queue_is_oldest_first_and_only_the_assessors_clinics(setting):
    course, clinic, learner, assessor = setting
    elsewhere = make_user("learner", clinic=make_clinic())
    first = log_case(learner, course, case_fields(client_ref="C-1"))
    clock.freeze(clock.now() + timedelta(minutes=5))
    log_case(elsewhere, course, case_fields(client_ref="C-2"))
    second = log_case(learner, course, case_fields(client_ref="C-3"))
    assert [c.id for c in assessor_queue(assessor)] == [first.id, second.id]


def test_changing_a_registration_needs_verifying_again(setting):
    course, clinic, learner, assessor = setting
    admin = make_user("admin")
    record_registration(admin, assessor, "NMC", "PIN-CHANGED", "2027-12-31", [clinic])
    with pytest.raises(Forbidden):
        sign_dops(assessor, learner, course, "facial", ALL_COMPETENT, "competent", "Good technique overall.")


def test_renewal_keeps_the_signoff_and_waits_for_one_observed_treatment(setting):
    course, clinic, learner, assessor = setting
    for module in course.modules:
        take_attempt(learner, module)
    cases = log_and_verify(learner, course, assessor, ["acne-scars", "fine-lines", "striae"])
    sign_dops(assessor, learner, course, "facial", ALL_COMPETENT, "competent", "Competent, independent.",
              case=cases[0], final=True)
    [first] = certificates()
    clock.freeze(first.expires_dt - timedelta(days=30))  # inside the renewal window
    for module in course.modules:
        take_attempt(learner, module)
    assert len(certificates()) == 1  # quizzes retaken, no refresher observation yet
    sign_dops(assessor, learner, course, "facial", ALL_COMPETENT, "competent", "Refresher observation: safe.")
    renewed = [c for c in certificates() if c.id != first.id]
    assert len(renewed) == 1 and db.session.get(Certificate, first.id).superseded_by_id == renewed[0].id
    assert signoff_for_certificate(renewed[0]).feedback == "Competent, independent."  # the practical record is kept


def test_the_database_refuses_to_change_a_signed_dops(setting):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    course, clinic, learner, assessor = setting
    sign_dops(assessor, learner, course, "facial", ALL_COMPETENT, "competent", "Good, careful technique.")
    with pytest.raises(DatabaseError, match="a signed DOPS is locked"):
        db.session.execute(text("UPDATE dops_observations SET overall = 'not_yet_competent'"))
    db.session.rollback()


def test_signed_off_first_the_last_quiz_pass_issues_the_certificate(setting):
    course, clinic, learner, assessor = setting
    cases = log_and_verify(learner, course, assessor, ["acne-scars", "fine-lines", "striae"])
    sign_dops(assessor, learner, course, "facial", ALL_COMPETENT, "competent", "Competent and independent.",
              case=cases[0], final=True)
    take_attempt(learner, module_of(course, "basics"))
    assert certificates() == []
    take_attempt(learner, module_of(course, "care"))
    [certificate] = certificates()
    assert signoff_for_certificate(certificate).overall == "competent"
