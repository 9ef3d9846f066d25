"""Starting an attempt reads and draws outside SQLite's write lock (`@writes_late`) and still starts one."""
import threading

from sqlalchemy import func, select

from tests.conftest import TINY_COURSE, make_app
from tests.factories import import_course, make_user, module_of
from trainer.database import read_mostly
from trainer.extensions import db
from trainer.models import Attempt
from trainer.services.attempts import start_attempt


def test_simultaneous_starts_give_each_learner_one_attempt_and_nobody_an_error(app, database_url):
    course = import_course(TINY_COURSE)
    learners = [make_user().id for _ in range(3)]
    db.session.commit()
    worker_app = make_app(database_url)
    started, errors = [], []
    barrier = threading.Barrier(3 * 3)

    def start(user_id):
        with worker_app.app_context():
            from trainer.models import Module, User
            try:
                user = db.session.get(User, user_id)
                module = db.session.scalar(select(Module).where(Module.slug == "basics"))
                db.session.rollback()
                barrier.wait(timeout=60)
                read_mostly(True)  # as the start request runs: it takes the write lock only to write
                started.append((user_id, start_attempt(user, module).id))
            except Exception as exc:  # reported below; a thread must never die silently
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start, args=(user_id,)) for user_id in learners for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with worker_app.app_context():
        db.engine.dispose()
    assert errors == []
    # Three clicks each: every learner's three starts return their one attempt.
    assert sorted({user_id for user_id, _ in started}) == sorted(learners) and len(started) == 9
    assert all(len({a for u, a in started if u == user_id}) == 1 for user_id in learners)
    db.session.expire_all()
    module_id = module_of(course, "basics").id
    assert db.session.scalar(select(func.count()).select_from(Attempt).where(Attempt.module_id == module_id)) == 3
