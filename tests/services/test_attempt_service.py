"""Attempts: snapshot, saves with sequence numbers, idempotent submit, deadline, retake rules."""
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import TINY_COURSE, make_app
from tests.factories import FormData, correct_form, import_course, make_user, module_of, take_attempt, wrong_form
from trainer import clock
from trainer.extensions import db
from trainer.models import Attempt, AttemptQuestion, Certificate
from trainer.services import NotFound, ServiceError
from trainer.services.attempts import (
    AttemptClosed,
    close_expired_attempts,
    get_attempt_for_owner,
    save_answer,
    start_attempt,
    submit_attempt,
)


@pytest.fixture
def basics(app):
    return module_of(import_course(TINY_COURSE), "basics")


def test_start_draws_snapshots_and_honours_tags(basics):
    learner = make_user()
    attempt = start_attempt(learner, basics, rng=random.Random(4))
    assert len(attempt.questions) == 4
    assert sum(1 for aq in attempt.questions if "safety" in aq.version.content.get("tags", [])) >= 1
    assert attempt.deadline_dt == attempt.started_dt + timedelta(minutes=10)
    # Starting again returns the same open attempt (a double click does not burn one).
    assert start_attempt(learner, basics).id == attempt.id


def test_stale_save_never_overwrites_a_newer_one(basics):
    learner = make_user()
    attempt = start_attempt(learner, basics, rng=random.Random(1))
    aq = attempt.questions[0]
    right, wrong = correct_form(aq), wrong_form(aq)
    assert save_answer(learner, attempt.id, aq.position, right, seq=5).saved
    stale = save_answer(learner, attempt.id, aq.position, wrong, seq=4)
    assert not stale.saved and stale.seq == 5
    db.session.expire_all()
    stored = db.session.get(AttemptQuestion, aq.id)
    assert stored.response_seq == 5
    assert submit_attempt(learner, attempt.id).questions[0].fraction == 1.0


def test_submit_is_idempotent(basics):
    learner = make_user()
    first = take_attempt(learner, basics, correct=True)
    again = submit_attempt(learner, first.id)
    assert again.id == first.id and again.submitted_dt == first.submitted_dt and again.score_percent == 100.0
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0  # one module of two


def test_answers_to_a_submitted_attempt_are_refused(basics):
    learner = make_user()
    attempt = take_attempt(learner, basics, correct=False)
    with pytest.raises(AttemptClosed):
        save_answer(learner, attempt.id, 1, FormData({"q1": "0"}), seq=9)


def test_someone_elses_attempt_is_not_found(basics):
    owner, other = make_user(), make_user()
    attempt = start_attempt(owner, basics)
    for call in (lambda: save_answer(other, attempt.id, 1, FormData({}), seq=1),
                 lambda: submit_attempt(other, attempt.id),
                 lambda: get_attempt_for_owner(other, attempt.id)):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(NotFound):
        save_answer(owner, attempt.id, 99, FormData({}), seq=1)


def _invalid_form(aq) -> FormData:
    """Fields no answer to the question can be: choices out of range, or a text over the limit."""
    name = f"q{aq.position}"
    if aq.version.content["type"] == "short_answer":
        return FormData({name: "x" * 501})
    return FormData({name: "999", **{f"{name}-{i}": "999" for i in range(6)}})


def test_invalid_answer_changes_nothing(basics):
    learner = make_user()
    # A fixed draw that includes the short answer (any text is a valid short answer, so its
    # invalid form differs); every drawn question is checked, not whichever came first.
    attempt = start_attempt(learner, basics, rng=random.Random(1))
    assert "short_answer" in {aq.version.content["type"] for aq in attempt.questions}
    for aq in attempt.questions:
        save_answer(learner, attempt.id, aq.position, correct_form(aq), seq=1)
        with pytest.raises(ServiceError):
            save_answer(learner, attempt.id, aq.position, _invalid_form(aq), seq=2)
    db.session.expire_all()
    for aq in attempt.questions:
        stored = db.session.get(AttemptQuestion, aq.id)
        assert stored.response_seq == 1
    assert submit_attempt(learner, attempt.id).score_percent == 100.0


def test_deadline_grace_and_abandoned_attempt(basics):
    learner = make_user()
    start = clock.now()
    clock.freeze(start)
    attempt = start_attempt(learner, basics, rng=random.Random(2))
    aq = attempt.questions[0]
    save_answer(learner, attempt.id, aq.position, correct_form(aq), seq=1)
    # In-flight save 10 s after the deadline still counts (grace 30 s).
    clock.freeze(attempt.deadline_dt + timedelta(seconds=10))
    second = attempt.questions[1]
    assert save_answer(learner, attempt.id, second.position, correct_form(second), seq=1, grace_seconds=30).saved
    # After the grace: refused with a clear message, and the attempt is closed at its deadline.
    clock.freeze(attempt.deadline_dt + timedelta(seconds=31))
    with pytest.raises(AttemptClosed, match="Time is up"):
        save_answer(learner, attempt.id, 3, correct_form(attempt.questions[2]), seq=1, grace_seconds=30)
    closed = db.session.get(Attempt, attempt.id)
    assert closed.state == "submitted" and closed.submitted_by == "deadline"
    assert closed.submitted_dt == closed.deadline_dt and closed.score_percent == 50.0


def test_close_expired_for_a_scheduler(basics):
    learner = make_user()
    attempt = start_attempt(learner, basics)
    clock.freeze(attempt.deadline_dt + timedelta(minutes=5))
    assert close_expired_attempts() == 1
    assert close_expired_attempts() == 0
    assert db.session.get(Attempt, attempt.id).submitted_by == "deadline"


def test_cooldown_after_attempts_before_cooldown(basics):
    learner = make_user()
    take_attempt(learner, basics, correct=False, seed=1)
    take_attempt(learner, basics, correct=False, seed=2)
    with pytest.raises(ServiceError, match="next attempt opens"):
        start_attempt(learner, basics)
    clock.freeze(clock.now() + timedelta(hours=24, minutes=1))
    third = start_attempt(learner, basics)
    assert third.number == 3


def test_retake_prefers_unseen_questions(app):
    course = import_course(TINY_COURSE)
    care = module_of(course, "care")  # 3 questions, draws 3: nothing unseen to prefer; use basics
    basics = module_of(course, "basics")
    learner = make_user()
    first = take_attempt(learner, basics, correct=False, seed=3)
    second = start_attempt(learner, basics, rng=random.Random(5))
    first_keys = {aq.version.question.key for aq in first.questions}
    second_keys = {aq.version.question.key for aq in second.questions}
    assert len(second_keys - first_keys) == 2  # 6 questions, 4 drawn: both unseen ones are used
    assert care is not None


def test_passing_all_modules_issues_one_certificate(app):
    course = import_course(TINY_COURSE)
    learner = make_user()
    take_attempt(learner, module_of(course, "basics"))
    take_attempt(learner, module_of(course, "care"))
    certs = db.session.scalars(select(Certificate)).all()
    assert len(certs) == 1 and certs[0].score_percent == 100.0
    assert certs[0].expires_dt - certs[0].issued_dt == timedelta(days=365)


def _submit_concurrently(database_url, user_id, attempt_id, threads):
    """Submit one attempt from many threads at once, each with its own session and connection."""
    results, errors = [], []
    barrier = threading.Barrier(threads)
    app = make_app(database_url)

    def worker():
        with app.app_context():
            from trainer.models import User
            try:
                user = db.session.get(User, user_id)
                db.session.rollback()  # on SQLite a transaction may hold the write lock: end it before waiting
                barrier.wait(timeout=60)
                attempt = submit_attempt(user, attempt_id)
                results.append((attempt.state, attempt.score_percent, attempt.submitted_dt))
            except Exception as exc:  # reported below; a thread must never die silently
                errors.append(repr(exc))
            finally:
                db.session.remove()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    with app.app_context():
        db.engine.dispose()
    return results, errors


def test_many_concurrent_submits_give_exactly_one_graded_result(app, database_url):
    course = import_course(TINY_COURSE)
    learner = make_user()
    attempt = start_attempt(learner, module_of(course, "basics"), rng=random.Random(8))
    for aq in attempt.questions:
        save_answer(learner, attempt.id, aq.position, correct_form(aq), seq=1)
    attempt_id, user_id = attempt.id, learner.id
    db.session.commit()
    results, errors = _submit_concurrently(database_url, user_id, attempt_id, threads=50)
    assert errors == []
    assert len(results) == 50 and len(set(results)) == 1
    assert results[0][0] == "submitted" and results[0][1] == 100.0
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_interleaved_out_of_order_saves_keep_the_newest(app, database_url):
    course = import_course(TINY_COURSE)
    learner = make_user()
    attempt = start_attempt(learner, module_of(course, "basics"), rng=random.Random(8))
    aq = next(a for a in attempt.questions if a.version.content["type"] == "true_false") \
        if any(a.version.content["type"] == "true_false" for a in attempt.questions) else attempt.questions[0]
    attempt_id, user_id, position = attempt.id, learner.id, aq.position
    forms = {seq: (correct_form(aq) if seq % 2 == 0 else wrong_form(aq)) for seq in range(1, 21)}
    db.session.commit()
    seqs = list(range(1, 21))
    seqs_sorted = list(seqs)
    random.Random(3).shuffle(seqs)
    errors, saved = [], []
    # One app for all threads (building Flask apps in parallel trips a CPython 3.11 ast bug);
    # each thread's app context has its own session and connection.
    app2 = make_app(database_url)

    def worker(chunk):
        with app2.app_context():
            from trainer.models import User
            try:
                user = db.session.get(User, user_id)
                for seq in chunk:
                    save_answer(user, attempt_id, position, forms[seq], seq=seq)
                    saved.append(seq)
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(seqs[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with app2.app_context():
        db.engine.dispose()
    assert errors == [] and sorted(saved) == seqs_sorted
    db.session.expire_all()
    stored = db.session.get(AttemptQuestion, aq.id)
    assert stored.response_seq == 20  # seq 20 is even: the correct answer
    assert submit_attempt(learner, attempt_id).questions[position - 1].fraction == 1.0


def test_accommodations_give_extra_time_and_attempts(basics):
    from trainer.models import AuditEvent
    from trainer.services.staff import set_accommodations

    manager = make_user("manager")
    learner = make_user("learner", clinic=manager.clinic)
    set_accommodations(manager, learner, 1.5, 1)
    attempt = start_attempt(learner, basics)
    assert attempt.deadline_dt - attempt.started_dt == timedelta(minutes=15)
    submit_attempt(learner, attempt.id)
    take_attempt(learner, basics, correct=False, seed=2)
    third = take_attempt(learner, basics, correct=False, seed=3)  # 2 + 1 extra before the cooldown
    assert third.number == 3
    with pytest.raises(ServiceError, match="next attempt opens"):
        start_attempt(learner, basics)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "accommodations.set"))
    assert event.actor_id == manager.id and event.details["after"] == {"time_multiplier": 1.5, "extra_attempts": 1}


def test_a_manager_of_another_clinic_cannot_set_accommodations(basics):
    from trainer.services.staff import set_accommodations

    learner, stranger = make_user("learner"), make_user("manager")
    with pytest.raises(NotFound):
        set_accommodations(stranger, learner, 2.0, 0)
    with pytest.raises(ServiceError):
        set_accommodations(make_user("trainer"), learner, 3.0, 0)


def test_countdown_submit_at_the_deadline_is_recorded_as_the_deadline(basics):
    learner = make_user()
    start = clock.now()
    clock.freeze(start)
    attempt = start_attempt(learner, basics)
    clock.freeze(attempt.deadline_dt - timedelta(seconds=1))  # the page's clock ran a little fast
    submitted = submit_attempt(learner, attempt.id, time_up=True)
    assert submitted.submitted_by == "deadline" and submitted.submitted_dt == attempt.deadline_dt - timedelta(seconds=1)
    other = make_user()
    early = start_attempt(other, basics)
    clock.freeze(early.deadline_dt - timedelta(minutes=5))  # a forged flag long before the deadline
    assert submit_attempt(other, early.id, time_up=True).submitted_by == "learner"


def test_time_up_submit_leaves_out_a_half_given_answer(basics):
    from trainer.services.attempts import save_answers
    learner = make_user()
    attempt = start_attempt(learner, basics, rng=random.Random(5))
    aq = attempt.questions[0]
    bad = FormData({f"q{aq.position}": "999", **{f"q{aq.position}-{i}": "999" for i in range(6)}})
    results = save_answers(learner, attempt.id, {aq.position: 1}, bad, skip_invalid=True)
    assert results[aq.position].saved is False
    assert submit_attempt(learner, attempt.id).state == "submitted"


def test_renewal_issues_a_new_certificate_and_keeps_the_old_one(app):
    from trainer.services.certificates import certificate_state

    course = import_course(TINY_COURSE)
    learner = make_user()
    for module in course.modules:
        take_attempt(learner, module)
    first = db.session.scalar(select(Certificate))
    # Passing again while the certificate is comfortably valid does not churn certificates.
    clock.freeze(first.issued_dt + timedelta(days=100))
    for seed, module in enumerate(course.modules, start=10):
        take_attempt(learner, module, seed=seed)
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
    # Inside the renewal window (60 days before expiry) the retakes renew it.
    clock.freeze(first.expires_dt - timedelta(days=20))
    assert certificate_state(first) == "expiring"
    for seed, module in enumerate(course.modules, start=20):
        take_attempt(learner, module, seed=seed)
    certificates = db.session.scalars(select(Certificate).order_by(Certificate.id)).all()
    assert len(certificates) == 2
    old, new = certificates
    assert old.superseded_by_id == new.id and certificate_state(old) == "superseded"
    assert certificate_state(new) == "valid" and new.expires_dt == clock.now() + timedelta(days=365)
    # An expired certificate can be renewed the same way.
    clock.freeze(new.expires_dt + timedelta(days=3))
    assert certificate_state(new) == "expired"
    for seed, module in enumerate(course.modules, start=30):
        take_attempt(learner, module, seed=seed)
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 3


def test_certificate_codes_are_grouped_crockford_base32_easy_to_type_from_paper():
    import math
    import re

    from trainer.services.certificates import CODE_ALPHABET, CODE_LENGTH, new_certificate_code
    codes = {new_certificate_code() for _ in range(2000)}
    # Groups of four, no look-alike letters (I, L, O, U), never a leading '-' (read as a formula).
    assert len(codes) == 2000 and all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4})+", c) for c in codes)
    assert all(len(c.replace("-", "")) == CODE_LENGTH for c in codes)
    assert CODE_ALPHABET == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert CODE_LENGTH * math.log2(len(CODE_ALPHABET)) >= 80


def test_typed_codes_are_forgiven_and_old_codes_keep_working(app):
    from trainer.models import Certificate
    from trainer.services.certificates import find_certificate

    course = import_course(TINY_COURSE)
    learner = make_user("learner")
    for module in course.modules:
        take_attempt(learner, module)
    cert = db.session.scalar(select(Certificate))
    code = cert.code
    typed = code.replace("-", " ").lower().replace("0", "o").replace("1", "l")
    assert find_certificate(typed) == cert and find_certificate(code.replace("-", "")) == cert
    cert.code = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY"  # a code issued before grouped codes: exact, case and all
    db.session.commit()
    assert find_certificate("aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY") == cert
    assert find_certificate("AB3DE5FG7HJ9KL1MN3PQ5RS7TU9VW1XY") is None


def test_a_save_exactly_at_the_end_of_the_grace_still_counts(basics):
    learner = make_user()
    clock.freeze(clock.now())
    attempt = start_attempt(learner, basics, rng=random.Random(2))
    first, second = attempt.questions[0], attempt.questions[1]
    clock.freeze(attempt.deadline_dt + timedelta(seconds=30))
    assert save_answer(learner, attempt.id, first.position, correct_form(first), seq=1, grace_seconds=30).saved
    clock.freeze(attempt.deadline_dt + timedelta(seconds=30, microseconds=1))
    with pytest.raises(AttemptClosed, match="Time is up"):
        save_answer(learner, attempt.id, second.position, correct_form(second), seq=1, grace_seconds=30)


def test_the_default_grace_is_thirty_seconds(basics):
    learner = make_user()
    clock.freeze(clock.now())
    attempt = start_attempt(learner, basics, rng=random.Random(2))
    aq = attempt.questions[0]
    clock.freeze(attempt.deadline_dt + timedelta(seconds=30))
    assert save_answer(learner, attempt.id, aq.position, correct_form(aq), seq=1).saved
    clock.freeze(attempt.deadline_dt + timedelta(seconds=31))
    assert close_expired_attempts() == 1


def test_a_save_with_the_same_sequence_number_does_not_overwrite(basics):
    learner = make_user()
    attempt = start_attempt(learner, basics, rng=random.Random(1))
    aq = attempt.questions[0]
    assert save_answer(learner, attempt.id, aq.position, correct_form(aq), seq=5).saved
    repeat = save_answer(learner, attempt.id, aq.position, wrong_form(aq), seq=5)
    assert not repeat.saved and repeat.seq == 5
    assert submit_attempt(learner, attempt.id).questions[0].fraction == 1.0


def test_a_save_sent_again_after_its_reply_was_lost_is_acknowledged_not_called_stale(basics):
    learner = make_user()
    attempt = start_attempt(learner, basics, rng=random.Random(1))
    for aq in attempt.questions:  # every kind of answer: a JSON round trip must not make it look different
        assert save_answer(learner, attempt.id, aq.position, correct_form(aq), seq=3).saved
        again = save_answer(learner, attempt.id, aq.position, correct_form(aq), seq=3)
        assert again.saved and again.seq == 3, aq.version.content["type"]
    aq = attempt.questions[0]
    older = save_answer(learner, attempt.id, aq.position, correct_form(aq), seq=2)  # the same answer, but older
    assert not older.saved and older.seq == 3


def test_the_guarded_update_refuses_to_grade_a_submitted_attempt_again(basics):
    # Called without the row lock that normally orders submits: the UPDATE's own guard must hold.
    from trainer.services.attempts import _grade_and_close

    learner = make_user()
    attempt = take_attempt(learner, basics, correct=True)
    submitted_dt = attempt.submitted_dt
    assert _grade_and_close(attempt, submitted_by="deadline", submitted_dt=submitted_dt + timedelta(hours=1)) is False
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Attempt, attempt.id)
    assert again.submitted_by == "learner" and again.submitted_dt == submitted_dt and again.score_percent == 100.0


def test_a_countdown_submit_after_the_deadline_is_recorded_at_the_deadline(basics):
    learner = make_user()
    clock.freeze(clock.now())
    attempt = start_attempt(learner, basics)
    clock.freeze(attempt.deadline_dt + timedelta(seconds=3))  # the request arrived inside the grace
    submitted = submit_attempt(learner, attempt.id, time_up=True)
    assert submitted.submitted_by == "deadline" and submitted.submitted_dt == attempt.deadline_dt


def test_a_countdown_submit_is_trusted_from_five_seconds_before_the_deadline(basics):
    learner, other = make_user(), make_user()
    clock.freeze(clock.now())
    on_time, early = start_attempt(learner, basics), start_attempt(other, basics)
    clock.freeze(on_time.deadline_dt - timedelta(seconds=5))
    assert submit_attempt(learner, on_time.id, time_up=True).submitted_by == "deadline"
    clock.freeze(early.deadline_dt - timedelta(seconds=5, microseconds=1))
    assert submit_attempt(other, early.id, time_up=True).submitted_by == "learner"


def test_with_one_attempt_per_block_every_attempt_starts_a_cooldown(basics):
    basics.attempts_before_cooldown = 1
    db.session.commit()
    learner = make_user()
    for number in (1, 2, 3):
        clock.freeze(clock.now() + timedelta(hours=24, minutes=1))
        assert take_attempt(learner, basics, correct=False, seed=number).number == number
        with pytest.raises(ServiceError, match=f"You have used {number} attempts"):
            start_attempt(learner, basics)


def test_a_cooldown_follows_every_block_of_attempts_not_only_the_first(basics):
    from trainer.services.attempts import start_rule

    learner = make_user()
    assert start_rule(learner, basics).attempts_left == 2
    take_attempt(learner, basics, correct=False, seed=1)
    assert start_rule(learner, basics).attempts_left == 1
    take_attempt(learner, basics, correct=False, seed=2)
    refused = start_rule(learner, basics)
    assert not refused.allowed and refused.attempts_left == 0 and refused.block == 2
    assert refused.opens_dt == db.session.scalar(select(func.max(Attempt.submitted_dt))) + timedelta(hours=24)
    clock.freeze(refused.opens_dt - timedelta(seconds=1))
    assert not start_rule(learner, basics).allowed
    clock.freeze(refused.opens_dt)
    assert start_rule(learner, basics).allowed and start_rule(learner, basics).attempts_left == 2
    take_attempt(learner, basics, correct=False, seed=3)
    take_attempt(learner, basics, correct=False, seed=4)
    with pytest.raises(ServiceError, match="You have used 4 attempts"):
        start_attempt(learner, basics)


def test_a_module_without_a_cooldown_never_refuses_a_retake(basics):
    from trainer.services.attempts import start_rule

    basics.cooldown_hours = 0
    db.session.commit()
    learner = make_user()
    for seed in (1, 2, 3):
        take_attempt(learner, basics, correct=False, seed=seed)
    rule = start_rule(learner, basics)
    assert rule.allowed and rule.attempts_left is None


def test_opening_an_attempt_after_the_grace_closes_it_at_its_deadline(basics):
    learner = make_user()
    clock.freeze(clock.now())
    attempt = start_attempt(learner, basics, rng=random.Random(2))
    aq = attempt.questions[0]
    save_answer(learner, attempt.id, aq.position, correct_form(aq), seq=1)
    clock.freeze(attempt.deadline_dt + timedelta(seconds=30))
    assert get_attempt_for_owner(learner, attempt.id, grace_seconds=30).state == "open"
    clock.freeze(attempt.deadline_dt + timedelta(seconds=30, microseconds=1))
    closed = get_attempt_for_owner(learner, attempt.id, grace_seconds=30)
    assert closed.state == "submitted" and closed.submitted_by == "deadline"
    assert closed.submitted_dt == attempt.deadline_dt and closed.score_percent == 25.0
    db.session.rollback()
    assert db.session.get(Attempt, attempt.id).state == "submitted"  # committed, not only flushed


def test_the_scheduler_closes_only_attempts_past_deadline_and_grace(basics):
    early, late = make_user(), make_user()
    clock.freeze(clock.now())
    first = start_attempt(early, basics)
    clock.freeze(clock.now() + timedelta(minutes=1))
    second = start_attempt(late, basics)
    clock.freeze(first.deadline_dt + timedelta(seconds=30))
    assert close_expired_attempts(grace_seconds=30) == 0
    clock.freeze(first.deadline_dt + timedelta(seconds=31))
    assert close_expired_attempts(grace_seconds=30) == 1
    db.session.expire_all()
    assert db.session.get(Attempt, first.id).state == "submitted"
    assert db.session.get(Attempt, second.id).state == "open"
    clock.freeze(second.deadline_dt + timedelta(seconds=31))
    assert close_expired_attempts(grace_seconds=30) == 1
