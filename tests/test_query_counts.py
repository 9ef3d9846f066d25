"""Pages that list people or attempts run the same number of statements whatever the data size."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT, TINY_COURSE
from tests.factories import PASSWORD, correct_form, import_course, make_clinic, make_user, module_of, take_attempt
from trainer import clock
from trainer.extensions import db


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



def _second_course(tmp_path):
    import shutil

    folder = tmp_path / "second-course"
    shutil.copytree(TINY_COURSE, folder)
    yaml = folder / "course.yaml"
    yaml.write_text(yaml.read_text().replace("slug: tiny-course", "slug: second-course")
                    .replace("title: Tiny Course", "title: Second Course"))
    return import_course(folder)


def test_a_persons_progress_pages_run_as_many_statements_for_two_courses_as_for_one(app, count_queries, tmp_path):
    from trainer.services.staff import assign_course

    course = import_course(TINY_COURSE)
    clinic = make_clinic()
    learner, manager = make_user("learner", clinic=clinic), make_user("manager", clinic=clinic)
    take_attempt(learner, module_of(course, "care"), correct=True, seed=1)
    pages = (("/learn", learner), (f"/manage/people/{learner.id}", manager))
    one = {url: _count(app.test_client(), count_queries, url, user) for url, user in pages}
    second = _second_course(tmp_path)
    take_attempt(learner, module_of(second, "care"), correct=False, seed=2)
    assign_course(manager, second, [learner], clock.now().date() + timedelta(days=30))
    two = {url: _count(app.test_client(), count_queries, url, user) for url, user in pages}
    assert two == one


def test_review_queue_query_count_does_not_grow_with_drafts(app, count_queries):
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


# --- issue 16/17: the exam's hot paths run a fixed, small number of statements ---------------

SHIPPED_COURSE = ROOT / "question_banks" / "microneedling"


def _started(learner, module, seed=1):
    import random

    from trainer.services.attempts import start_attempt

    return start_attempt(learner, module, rng=random.Random(seed))


@pytest.fixture
def small_and_large_papers(app):
    """Two open attempts: one of 3 questions (the tiny course's care quiz), one of 15 (the shipped course)."""
    small_course, large_course = import_course(TINY_COURSE), import_course(SHIPPED_COURSE)
    small_learner, large_learner = make_user("learner"), make_user("learner")
    small = _started(small_learner, module_of(small_course, "care"))
    large = _started(large_learner, module_of(large_course, "procedure"))
    assert (len(small.questions), len(large.questions)) == (3, 15)
    return [(small_learner, small), (large_learner, large)]


def test_quiz_page_query_count_is_the_same_for_3_and_15_questions(app, count_queries, small_and_large_papers):
    counts = []
    for learner, attempt in small_and_large_papers:
        client = app.test_client()
        _count(client, count_queries, f"/attempts/{attempt.id}", learner)  # reads the versions' content once
        counts.append(_count(client, count_queries, f"/attempts/{attempt.id}", learner))
    assert counts[0] == counts[1] <= 3  # the user, the attempt with its module and course, its questions


def test_the_quiz_page_reads_a_question_versions_content_once_per_process(app, count_queries, small_and_large_papers):
    learner, attempt = small_and_large_papers[1]
    client = app.test_client()
    client.post("/login", data={"email": learner.email, "password": PASSWORD})
    first = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    with count_queries() as statements:
        again = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert not [s for s in statements if re.search(r"question_versions(_\d+)?\.content\b(?!_hash)", s)]
    def without_timer(html):
        return re.sub(r'data-ms-left="\d+"', "", html)
    assert without_timer(first) == without_timer(again) and again.count('class="stem"') == 15


def test_result_page_query_count_is_the_same_for_3_and_15_questions(app, count_queries, small_and_large_papers):
    from trainer.services.attempts import submit_attempt

    counts = []
    for learner, attempt in small_and_large_papers:
        submit_attempt(learner, attempt.id)
        counts.append(_count(app.test_client(), count_queries, f"/attempts/{attempt.id}/result", learner))
    assert counts[0] == counts[1]


def test_autosave_reads_and_updates_only_the_question_saved(app, count_queries, small_and_large_papers):
    from trainer.models import AttemptQuestion

    counts = []
    for learner, attempt in small_and_large_papers:
        client = app.test_client()
        aq = attempt.questions[0]
        form = correct_form(aq)
        attempt_id, position, item_id = attempt.id, aq.position, aq.id
        client.post("/login", data={"email": learner.email, "password": PASSWORD})
        with count_queries() as statements:
            response = client.post(f"/attempts/{attempt_id}/answers/{position}", data={**form, "seq": "1"})
        assert response.get_json()["saved"] is True
        db.session.expire_all()
        assert db.session.get(AttemptQuestion, item_id).response_seq == 1
        writes = [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
        assert len(writes) == 1 and writes[0].lstrip().upper().startswith("UPDATE ATTEMPT_QUESTIONS")
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 3  # the user, the one question, the guarded UPDATE


def test_a_stale_save_is_refused_with_one_more_read(app, count_queries, small_and_large_papers):
    learner, attempt = small_and_large_papers[1]
    aq = attempt.questions[0]
    form, url = correct_form(aq), f"/attempts/{attempt.id}/answers/{aq.position}"
    client = app.test_client()
    client.post("/login", data={"email": learner.email, "password": PASSWORD})
    assert client.post(url, data={**form, "seq": "5"}).get_json()["saved"] is True
    with count_queries() as statements:
        late = client.post(url, data={**form, "seq": "4"}).get_json()  # an older save arriving after a newer one
    assert (late["saved"], late["seq"]) == (False, 5) and "newer answer" in late["message"]
    assert len(statements) <= 4  # the user, the question, the guarded UPDATE (no row), the stored sequence number


def test_module_page_query_count_does_not_grow_with_past_attempts(app, count_queries):
    course = import_course(TINY_COURSE)
    learner = make_user("learner")
    client = app.test_client()
    take_attempt(learner, module_of(course, "care"), correct=False, seed=1)
    small = _count(client, count_queries, "/learn/tiny-course/care", learner)
    for seed in range(2, 6):
        _later()
        take_attempt(learner, module_of(course, "care"), correct=False, seed=seed)
    large = _count(client, count_queries, "/learn/tiny-course/care", learner)
    assert large == small


def _add_staff(clinic, count):
    """Staff rows straight into the database: the register, not account creation, is what is measured."""
    from trainer.models import User, UserRole

    password_hash = db.session.scalar(select(User.password_hash).limit(1))
    start = db.session.scalar(select(func.count()).select_from(User))
    for n in range(count):
        db.session.add(User(email=f"staff{start + n}@example.org", name=f"Staff {start + n:04d}",
                            password_hash=password_hash, clinic_id=clinic.id, role_rows=[UserRole(role="learner")]))
    db.session.commit()


def test_manager_console_query_count_is_the_same_for_5_and_200_people(app, count_queries):
    course = import_course(TINY_COURSE)
    clinic = make_clinic()
    manager = make_user("manager", clinic=clinic)
    client = app.test_client()
    _populate(course, clinic, people=2, attempts_each=1)
    _add_staff(clinic, 2)  # with the manager: 5 people
    small = _count(client, count_queries, "/manage/", manager)
    _add_staff(clinic, 195)
    large = _count(client, count_queries, "/manage/", manager)
    assert large == small


def test_the_signed_in_user_and_roles_load_in_one_statement(app, count_queries):
    learner = make_user("learner", "manager")
    client = app.test_client()
    client.post("/login", data={"email": learner.email, "password": PASSWORD})
    db.session.commit()
    # A fresh app context, as each request in a real server has: nothing of the account is cached yet.
    with app.app_context(), count_queries() as statements:
        assert client.get("/account").status_code == 200
    account_reads = [s for s in statements if re.search(r"\bFROM (users|user_roles)\b", s)]
    assert len(account_reads) == 1 and "user_roles" in account_reads[0]


def test_starting_an_attempt_runs_as_many_statements_for_3_questions_as_for_15(app, count_queries):
    small_course, large_course = import_course(TINY_COURSE), import_course(SHIPPED_COURSE)
    counts = []
    for course, module in ((small_course, "care"), (large_course, "procedure")):
        url = f"/learn/{course.slug}/{module}/attempts"
        for learner in (make_user("learner"), make_user("learner")):  # the first start fills the version cache
            client = app.test_client()
            client.post("/login", data={"email": learner.email, "password": PASSWORD})
            with count_queries() as statements:
                response = client.post(url)
            assert response.status_code == 302 and "/attempts/" in response.headers["Location"]
        counts.append(len(statements))
    # The user, the module, the person's standing there, the pool, the questions they have seen, the standing again
    # under the write lock, the attempt, its questions (one executemany).
    assert counts[0] == counts[1] <= 8


def test_module_page_runs_as_many_statements_after_two_attempts_as_before_any(app, count_queries):
    course = import_course(SHIPPED_COURSE)
    procedure = module_of(course, "procedure")
    fresh, practised = make_user("learner"), make_user("learner")
    for seed in (1, 2):  # two: the shipped module's cooldown starts after two
        take_attempt(practised, procedure, correct=False, seed=seed)
    counts = []
    for learner in (fresh, practised):
        counts.append(_count(app.test_client(), count_queries, f"/learn/{course.slug}/procedure", learner))
    assert counts[0] == counts[1] <= 3  # the user, the module with its course, the person's attempts there
