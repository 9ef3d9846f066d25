"""The reads the learner, manager and admin pages use (moved out of the views into services)."""
from datetime import timedelta

from tests.conftest import TINY_COURSE
from tests.factories import import_course, make_clinic, make_user, module_of, take_attempt
from trainer import clock
from trainer.extensions import db
from trainer.services.accounts import all_accounts, clinics_taking_people, clinics_with_headcount, set_clinic_archived
from trainer.services.attempts import module_attempts, start_attempt
from trainer.services.audit import AuditFilters, audit_actions, audit_events_page
from trainer.services.catalog import find_active_module, find_course_media
from trainer.services.register import attempts_of, certificates_of, open_attempts_of


def test_a_persons_attempts_and_certificates_newest_first(app):
    course = import_course(TINY_COURSE)
    basics, care = module_of(course, "basics"), module_of(course, "care")
    learner, other = make_user(), make_user()
    first = take_attempt(learner, basics, correct=False)
    clock.freeze(clock.now() + timedelta(minutes=5))
    second = take_attempt(learner, care)
    clock.freeze(clock.now() + timedelta(minutes=5))
    third = take_attempt(learner, basics)
    clock.freeze(clock.now() + timedelta(minutes=5))
    open_one = start_attempt(learner, care)
    take_attempt(other, basics)
    assert [a.id for a in attempts_of(learner)] == [open_one.id, third.id, second.id, first.id]
    at_basics, at_care = module_attempts(learner, basics), module_attempts(learner, care)
    assert [a.id for a in at_basics.submitted] == [third.id, first.id] and at_basics.open_attempt is None
    assert at_care.open_attempt == open_one and [a.id for a in at_care.submitted] == [second.id]
    assert open_attempts_of(learner) == [open_one] and open_attempts_of(other) == []
    assert [c.user_id for c in certificates_of(learner)] == [learner.id]


def test_a_retired_module_is_not_found_and_media_belongs_to_its_course(app):
    course = import_course(TINY_COURSE)
    care = module_of(course, "care")
    assert find_active_module("tiny-course", "care") == care
    care.retired = True
    db.session.commit()
    assert find_active_module("tiny-course", "care") is None
    assert find_course_media("tiny-course", "layers.svg").course_id == course.id
    assert find_course_media("no-such-course", "layers.svg") is None


def test_clinics_with_headcount_and_clinics_taking_people(app):
    admin = make_user("admin")
    north, south = make_clinic("North"), make_clinic("South")
    make_user(clinic=north), make_user(clinic=north), make_user(clinic=south)
    set_clinic_archived(admin, south, True)
    assert [(c.name, n) for c, n in clinics_with_headcount()] == [("North", 2), ("South", 1)]
    assert clinics_taking_people() == [north]
    assert clinics_taking_people(keeping=south.id) == [north, south]
    assert admin in all_accounts()


def test_audit_events_page_filters_by_action_and_actor(app):
    admin = make_user("admin", email="root@chain.example")
    make_clinic("Quiet")
    set_clinic_archived(admin, make_clinic("Noisy"), True)
    events, actors = audit_events_page(AuditFilters(actor="root@chain"), page=1)
    assert [e.actor_id for e in events.items] == [admin.id] and actors == {admin.id: admin}
    assert "clinics.create" in audit_actions()
    only_creates, _ = audit_events_page(AuditFilters(action="clinics.create"), page=1)
    assert {e.action for e in only_creates.items} == {"clinics.create"}
