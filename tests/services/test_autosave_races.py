"""The lean autosave (one read, one guarded UPDATE) racing a submit never loses an acknowledged answer."""
import random
import threading

from tests.conftest import TINY_COURSE, make_app
from tests.factories import correct_form, import_course, make_user, module_of
from trainer.database import read_mostly
from trainer.extensions import db
from trainer.models import Attempt, AttemptQuestion
from trainer.services.attempts import AttemptClosed, save_answer, start_attempt, submit_attempt


def test_saves_racing_a_submit_are_either_graded_or_refused(app, database_url):
    course = import_course(TINY_COURSE)
    attempts = []
    for seed in range(6):
        learner = make_user()
        attempt = start_attempt(learner, module_of(course, "basics"), rng=random.Random(seed))
        forms = {aq.position: correct_form(aq) for aq in attempt.questions}
        attempts.append((learner.id, attempt.id, forms))
    db.session.commit()
    worker_app = make_app(database_url)
    acknowledged, refused, errors = [], [], []

    def run(task):
        with worker_app.app_context():
            from trainer.models import User
            try:
                task(User)
            except Exception as exc:  # reported below; a thread must never die silently
                errors.append(repr(exc))
            finally:
                db.session.remove()

    def saver(user_id, attempt_id, forms, barrier):
        def task(User):
            user = db.session.get(User, user_id)
            db.session.rollback()
            barrier.wait(timeout=60)
            for position, form in forms.items():
                read_mostly(True)  # as each autosave request runs (@writes_late): it reads outside the write lock
                try:
                    if save_answer(user, attempt_id, position, form, seq=1).saved:
                        acknowledged.append((attempt_id, position))
                except AttemptClosed:
                    refused.append((attempt_id, position))
        return task

    def submitter(user_id, attempt_id, barrier):
        def task(User):
            user = db.session.get(User, user_id)
            db.session.rollback()
            barrier.wait(timeout=60)
            submit_attempt(user, attempt_id)
        return task

    threads = []
    for user_id, attempt_id, forms in attempts:
        barrier = threading.Barrier(2)
        threads += [threading.Thread(target=run, args=(saver(user_id, attempt_id, forms, barrier),)),
                    threading.Thread(target=run, args=(submitter(user_id, attempt_id, barrier),))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with worker_app.app_context():
        db.engine.dispose()
    assert errors == []
    assert len(acknowledged) + len(refused) == sum(len(forms) for _, _, forms in attempts)
    db.session.expire_all()
    for attempt_id, position in acknowledged:
        item = db.session.query(AttemptQuestion).filter_by(attempt_id=attempt_id, position=position).one()
        # Acknowledged before the submit graded: it counts (every save is a correct answer).
        assert item.fraction == 1.0, (attempt_id, position)
    for _, attempt_id, _ in attempts:
        assert db.session.get(Attempt, attempt_id).state == "submitted"
