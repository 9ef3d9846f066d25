"""The permission helpers themselves refuse, whatever a view's decorator does in front of them."""
from datetime import date, timedelta

import pytest
from flask_login import AnonymousUserMixin

from tests.factories import make_assessor, make_clinic, make_user
from trainer import security
from trainer.models import Attempt
from trainer.models.practical import AssessorRegistration
from trainer.services import ServiceError
from trainer.services.certificates import revoke_certificate


@pytest.fixture
def people(app):
    """Two clinics: a manager and a learner in each, and a trainer and an admin belonging to none."""
    north, south = make_clinic("North"), make_clinic("South")
    return {
        "north": north, "south": south,
        "manager": make_user("manager", "learner", clinic=north), "learner": make_user(clinic=north),
        "foreign_manager": make_user("manager", clinic=south), "foreign_learner": make_user(clinic=south),
        "trainer": make_user("trainer"), "admin": make_user("admin"),
    }


def test_roles_need_a_signed_in_person_holding_one_of_them(people):
    assert security.has_role(people["trainer"], "admin", "trainer")
    assert not security.has_role(people["trainer"], "admin", "manager")
    assert not security.has_role(AnonymousUserMixin(), "learner")
    assert not security.has_role(None, "learner")


def test_a_trainer_manages_no_clinic_and_a_manager_only_their_own(people):
    north, south = people["north"].id, people["south"].id
    assert not security.can_manage_clinic(people["trainer"], north)
    assert not security.can_manage_clinic(people["trainer"], south)
    assert security.can_manage_clinic(people["manager"], north)
    assert not security.can_manage_clinic(people["manager"], south)
    assert not security.can_manage_clinic(people["manager"], None)
    assert not security.can_manage_clinic(people["learner"], north)
    assert security.can_manage_clinic(people["admin"], south) and security.can_manage_clinic(people["admin"], None)


def test_a_manager_without_a_clinic_manages_no_clinic_and_has_no_api(people):
    homeless = people["foreign_manager"]
    assert security.can_use_manager_api(homeless)
    homeless.clinic_id = None
    assert not security.can_manage_clinic(homeless, None)
    assert not security.can_use_manager_api(homeless)
    assert not security.can_use_manager_api(people["admin"]) and not security.can_use_manager_api(people["learner"])


def test_who_sees_a_person(people):
    learner = people["learner"]
    assert security.can_view_person(learner, learner)
    assert security.can_view_person(people["manager"], learner)
    assert security.can_view_person(people["trainer"], learner)
    assert security.can_view_person(people["admin"], learner)
    assert not security.can_view_person(people["foreign_manager"], learner)
    assert not security.can_view_person(people["foreign_learner"], learner)
    assert not security.can_view_person(people["admin"], None)


def test_an_attempt_is_seen_by_those_who_see_its_person_and_taken_only_by_its_owner(people):
    learner = people["learner"]
    attempt = Attempt(user_id=learner.id, user=learner)
    assert security.can_view_attempt(people["manager"], attempt)
    assert not security.can_view_attempt(people["foreign_manager"], attempt)
    assert not security.can_view_attempt(people["admin"], None)
    assert security.can_take_attempt(learner, attempt)
    assert not security.can_take_attempt(people["admin"], attempt)
    assert not security.can_take_attempt(learner, None)


def test_authoring_administration_and_the_audit_trail(people):
    assert security.can_author(people["trainer"]) and security.can_author(people["admin"])
    assert not security.can_author(people["manager"])
    assert security.can_administer(people["admin"]) and not security.can_administer(people["trainer"])
    assert security.can_read_audit_trail(people["admin"]) and not security.can_read_audit_trail(people["trainer"])
    assert security.can_manage_assessors(people["admin"]) and not security.can_manage_assessors(people["manager"])
    assert security.can_log_cases(people["learner"]) and not security.can_log_cases(people["trainer"])


def test_role_rank_is_the_highest_role_held(people):
    assert security.role_rank(people["learner"]) == 0
    assert security.role_rank(people["manager"]) == 1
    assert security.role_rank(people["trainer"]) == 2
    assert security.role_rank(people["admin"]) == 3


def test_managers_cannot_revoke_certificates_and_only_admins_reinstate(people):
    assert security.can_revoke_certificates(people["trainer"]) and security.can_revoke_certificates(people["admin"])
    assert not security.can_revoke_certificates(people["manager"])
    assert not security.can_revoke_certificates(people["learner"])
    assert security.can_reinstate_certificates(people["admin"])
    assert not security.can_reinstate_certificates(people["trainer"])


def test_the_certificate_service_refuses_a_manager_before_looking_at_the_certificate(people):
    # No certificate is needed: the permission check comes first, so a manager learns nothing.
    with pytest.raises(ServiceError, match="Only trainers and admins can revoke"):
        revoke_certificate(people["manager"], None, "Revoked by a manager")


def test_accommodations_are_set_by_the_persons_manager_a_trainer_or_an_admin(people):
    learner = people["learner"]
    assert security.can_set_accommodations(people["manager"], learner)
    assert security.can_set_accommodations(people["trainer"], people["foreign_learner"])
    assert security.can_set_accommodations(people["admin"], people["trainer"])
    assert not security.can_set_accommodations(people["foreign_manager"], learner)
    assert not security.can_set_accommodations(people["manager"], people["manager"])  # never oneself
    assert not security.can_set_accommodations(people["manager"], people["trainer"])  # never a higher role
    assert not security.can_set_accommodations(people["trainer"], people["admin"])
    assert not security.can_set_accommodations(people["learner"], people["foreign_learner"])
    assert not security.can_set_accommodations(people["admin"], None)


def test_accounts_are_changed_by_their_manager_or_an_admin_never_a_trainer(people):
    learner = people["learner"]
    for check in (security.can_change_account, security.can_send_password_reset):
        assert check(people["manager"], learner)
        assert check(people["admin"], people["trainer"])
        assert not check(people["trainer"], learner)  # trainers manage no clinic
        assert not check(people["foreign_manager"], learner)
        assert not check(people["admin"], people["admin"])  # never oneself
        assert not check(people["admin"], None)
    peer = make_user("manager", clinic=people["north"])
    assert security.can_change_account(people["manager"], peer)  # an equal role is within reach
    people["learner"].role_rows.clear()
    assert security.role_rank(learner) == 0
    assert security.can_change_account(people["manager"], learner)  # no role at all ranks lowest


def test_a_manager_grants_only_roles_up_to_their_own_in_their_own_clinic(people):
    north, south = people["north"].id, people["south"].id
    assert security.can_grant_roles(people["manager"], ["learner", "manager"], north)
    assert security.can_grant_roles(people["manager"], [], north)
    assert not security.can_grant_roles(people["manager"], ["learner", "trainer"], north)
    assert not security.can_grant_roles(people["manager"], ["learner"], south)
    assert not security.can_grant_roles(people["trainer"], ["learner"], north)
    assert security.can_grant_roles(people["admin"], ["admin"], None)


@pytest.fixture
def assessor(people):
    person = make_assessor([people["north"]], expires_on="2027-06-30")
    registration = AssessorRegistration.query.filter_by(user_id=person.id).one()
    return person, registration


def test_a_registration_counts_once_verified_until_its_expiry_day(assessor):
    _, registration = assessor
    last_day = date(2027, 6, 30)
    assert security.registration_is_current(registration, last_day)
    assert not security.registration_is_current(registration, last_day + timedelta(days=1))
    assert not security.registration_is_current(None, last_day)
    registration.verified_dt = None
    assert not security.registration_is_current(registration, last_day)


def test_an_assessor_assesses_only_their_clinics_people_never_themself(people, assessor):
    person, registration = assessor
    today = date(2027, 1, 1)
    assert security.can_assess(person, people["learner"], registration, today)
    assert not security.can_assess(person, people["foreign_learner"], registration, today)
    assert not security.can_assess(person, person, registration, today)
    assert not security.can_assess(person, people["learner"], registration, date(2027, 7, 1))
    assert not security.can_assess(person, people["learner"], None, today)
    assert not security.can_assess(person, None, registration, today)
    other = make_assessor([people["north"]])
    assert not security.can_assess(other, people["learner"], registration, today)  # someone else's registration
    assert not security.can_assess(people["manager"], people["learner"], registration, today)  # not an assessor
    people["learner"].clinic_id = None
    assert not security.can_assess(person, people["learner"], registration, today)


def test_a_practical_record_is_seen_by_the_person_their_manager_admins_and_their_assessors(people, assessor):
    person, registration = assessor
    learner = people["learner"]
    assert security.can_view_practical_record(learner, learner, None)
    assert security.can_view_practical_record(people["manager"], learner, None)
    assert security.can_view_practical_record(people["admin"], learner, None)
    assert security.can_view_practical_record(person, learner, registration)
    assert not security.can_view_practical_record(person, people["foreign_learner"], registration)
    assert not security.can_view_practical_record(person, learner, None)
    assert not security.can_view_practical_record(people["trainer"], learner, None)  # photos of clients
    assert not security.can_view_practical_record(people["foreign_manager"], learner, None)
    assert not security.can_view_practical_record(AnonymousUserMixin(), learner, None)
    assert not security.can_view_practical_record(None, learner, None)
    assert not security.can_view_practical_record(learner, None, None)
    other = make_assessor([people["north"]])
    assert not security.can_view_practical_record(other, learner, registration)
    learner.clinic_id = None
    assert not security.can_view_practical_record(person, learner, registration)
