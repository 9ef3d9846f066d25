"""Pages that list people or attempts run the same number of statements whatever the data size."""
from datetime import timedelta

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_clinic, make_user, module_of, take_attempt
from trainer import clock


def _later():
    """Step past any retake cooldown."""
    clock.freeze(clock.now() + timedelta(days=2))


def _populate(course, clinic, people, attempts_each):
    for _ in range(people):
        learner = make_user("learner", clinic=clinic)
        for n in range(attempts_each):
            _later()
            take_attempt(learner, module_of(course, "care"), correct=n % 2 == 0, seed=n)


def _count(client, count_queries, url, user):
    # Sign in afresh: populating moved the clock by days, past the idle timeout.
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def test_manager_register_query_count_does_not_grow(app, count_queries):
    course = import_course(TINY_COURSE)
    clinic = make_clinic()
    manager = make_user("manager", clinic=clinic)
    client = app.test_client()
    _populate(course, clinic, people=2, attempts_each=1)
    small = _count(client, count_queries, "/manage/", manager)
    _populate(course, clinic, people=8, attempts_each=2)
    large = _count(client, count_queries, "/manage/", manager)
    assert large == small


def test_learner_home_query_count_does_not_grow(app, count_queries):
    course = import_course(TINY_COURSE)
    learner = make_user("learner")
    client = app.test_client()
    take_attempt(learner, module_of(course, "care"), correct=False, seed=1)
    small = _count(client, count_queries, "/learn", learner)
    for seed in range(2, 6):
        _later()
        take_attempt(learner, module_of(course, "care"), correct=False, seed=seed)
    take_attempt(learner, module_of(course, "basics"), correct=False, seed=1)
    large = _count(client, count_queries, "/learn", learner)
    assert large == small


def test_review_queue_query_count_does_not_grow_with_drafts(app, count_queries):
    from tests.conftest import ROOT
    from trainer.services.interchange import import_bank_file, read_bank_file

    course = import_course(TINY_COURSE)
    trainer = make_user("trainer")
    client = app.test_client()
    client.post("/login", data={"email": trainer.email, "password": PASSWORD})
    moodle = ROOT / "tests" / "fixtures" / "moodle" / "gift"
    import_bank_file(None, module_of(course, "care"),
                     read_bank_file((moodle / "questions_in_category.gift.txt").read_text(), "a.gift", "gift"))
    small = _count(client, count_queries, "/author/review", trainer)
    import_bank_file(None, module_of(course, "basics"),
                     read_bank_file((moodle / "examples.txt").read_text(), "b.gift", "gift"))
    large = _count(client, count_queries, "/author/review", trainer)
    assert large == small
