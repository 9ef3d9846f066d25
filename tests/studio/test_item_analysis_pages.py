"""Item analysis of a module quiz: numbers from hand-worked attempts, filters, flags, CSV, queries, access."""
import csv
import io
import random
import shutil
from datetime import date, datetime

import pytest
from flask import url_for

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, correct_form, import_course, make_clinic, make_user, module_of, wrong_form
from trainer import clock
from trainer.services.attempts import save_answer, start_attempt, submit_attempt
from trainer.services.item_analysis import AttemptSelection, analyse_module

KEYS = ("care-spf", "care-makeup", "care-call")
MAKEUP_KEY = "After about a day, per the clinic's protocol"


def login(client, user):
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


@pytest.fixture
def trainer_client(app):
    client = app.test_client()
    login(client, make_user("trainer"))
    return client


@pytest.fixture
def care(app):
    """The care module: every attempt draws all three of its questions."""
    return module_of(import_course(TINY_COURSE), "care")


def answer(user, module, right: set[str], seed: int = 1):
    """Take and submit an attempt that answers exactly the questions in `right` correctly."""
    attempt = start_attempt(user, module, rng=random.Random(seed))
    for aq in sorted(attempt.questions, key=lambda a: a.position):
        form = correct_form(aq) if aq.version.content["id"] in right else wrong_form(aq)
        save_answer(user, attempt.id, aq.position, form, seq=1)
    return submit_attempt(user, attempt.id)


#: Six learners: everyone gets care-spf, four care-makeup, two care-call (the two who get it get everything).
PATTERNS = [set(KEYS), set(KEYS), {"care-spf", "care-makeup"}, {"care-spf", "care-makeup"}, {"care-spf"}, {"care-spf"}]


def six_learners(module):
    clinic = make_clinic()
    for seed, right in enumerate(PATTERNS, start=1):
        answer(make_user("learner", clinic=clinic), module, right, seed=seed)


def test_statistics_of_a_hand_worked_dataset(app, care):
    six_learners(care)
    report = analyse_module(care)
    items = {item.question_key: item for item in report.analysis.items}
    assert [item.question_key for item in report.analysis.items] == list(KEYS)
    assert {key: items[key].times_seen for key in KEYS} == dict.fromkeys(KEYS, 6)
    # facility = share of right answers
    assert items["care-spf"].facility == 1.0
    assert items["care-makeup"].facility == pytest.approx(4 / 6)
    assert items["care-call"].facility == pytest.approx(2 / 6)
    # worked by hand: item [1,1,1,1,0,0] against rest scores [1,1,.5,.5,.5,.5] gives r = (1/3) / (2/3)
    assert items["care-makeup"].discrimination == pytest.approx(0.5)
    assert items["care-call"].discrimination == pytest.approx(0.5)
    assert items["care-spf"].discrimination is None  # no variance: undefined, not zero
    # thirds of six are two attempts: the two who got everything, the two who got only care-spf
    makeup = {choice.label: choice for choice in items["care-makeup"].choices}
    assert (makeup["Straight away"].picked_by_top_third, makeup["Straight away"].picked_by_bottom_third,
            makeup["Straight away"].picked_overall) == (0, 2, 2)
    assert makeup[MAKEUP_KEY].is_key and makeup[MAKEUP_KEY].picked_overall == 4
    assert not items["care-spf"].choices  # true/false has no distractor table
    quiz = report.analysis.quiz
    assert quiz.attempt_count == 6
    assert quiz.mean_percent == pytest.approx(200 / 3) and quiz.median_percent == pytest.approx(200 / 3)
    assert quiz.sd_percent == pytest.approx((4 * (100 / 3) ** 2 / 5) ** 0.5)
    # item variances 0, 2/9, 2/9; totals 3,3,2,2,1,1 have variance 2/3: alpha = 3/2 * (1 - (4/9)/(2/3)) = 0.5
    assert quiz.cronbach_alpha == pytest.approx(0.5) and quiz.kr20 == pytest.approx(0.5)
    assert quiz.standard_error_percent == pytest.approx(quiz.sd_percent * 0.5 ** 0.5)
    assert report.analysis.flags == []  # six attempts are too few to flag anything


def test_the_page_shows_the_statistics_and_the_histogram(app, care, trainer_client):
    six_learners(care)
    response = trainer_client.get(f"/author/analysis/modules/{care.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("<strong>6</strong> attempts", "66.7%", "0.67", "0.33", "0.50", "Cronbach", "KR-20",
                 "standard error of measurement", '<svg xmlns="http://www.w3.org/2000/svg"', 'data-count="2"',
                 "Straight away", "Mild tightness", 'id="q-care-makeup"'):
        assert text in html, text
    assert "<script" not in html.split('<main id="main">')[1]


def ten_learners_all_right_on(care, everyone_right_on="care-spf"):
    clinic = make_clinic()
    for n in range(10):
        right = {everyone_right_on} | ({"care-makeup", "care-call"} if n % 2 else set())
        answer(make_user("learner", clinic=clinic), care, right, seed=n)


def test_flags_appear_with_a_link_to_the_question_editor(app, care, trainer_client):
    ten_learners_all_right_on(care)
    report = analyse_module(care)
    codes = {(flag.question_key, flag.code) for flag in report.analysis.flags}
    assert ("care-spf", "too_easy") in codes
    html = trainer_client.get(f"/author/analysis/modules/{care.id}").get_data(as_text=True)
    assert "Almost everyone answers this correctly (facility 1.00 over 10" in html
    spf = report.questions["care-spf"]
    editors = [e for e in ("author.question", "author.edit_question") if e in app.view_functions]
    if editors:
        editor = url_for(editors[0], question_id=spf.question_id, _external=False)
        assert str(spf.question_id) in editor
    else:
        editor = url_for("author.module", module_id=care.id, _external=False)
    assert f'class="edit-question" href="{editor}"' in html


def test_a_distractor_nobody_picks_is_flagged(app, care):
    clock.freeze(datetime(2026, 1, 10, 12, 0))
    clinic = make_clinic()
    for n in range(10):  # half get everything right, half only care-spf: "Straight away" is picked
        answer(make_user("learner", clinic=clinic), care, set(KEYS) if n % 2 else {"care-spf"}, seed=n)
    flags = {(f.question_key, f.code) for f in analyse_module(care).analysis.flags}
    assert ("care-makeup", "unused_distractor") not in flags and ("care-spf", "too_easy") in flags
    clock.freeze(datetime(2026, 2, 10, 12, 0))
    clinic = make_clinic()
    for n in range(10):  # now everyone gets care-makeup right in a fresh period
        answer(make_user("learner", clinic=clinic), care, {"care-makeup"}, seed=n)
    later = AttemptSelection(start=clock.now().date())
    flags = {(f.question_key, f.code) for f in analyse_module(care, later).analysis.flags}
    assert ("care-makeup", "unused_distractor") in flags


def test_first_attempts_only_by_default_and_all_attempts_on_request(app, care, trainer_client):
    retaker, other = make_user("learner"), make_user("learner")
    answer(retaker, care, set(), seed=1)
    answer(retaker, care, set(KEYS), seed=2)
    answer(other, care, set(KEYS), seed=3)
    first = analyse_module(care)
    everything = analyse_module(care, AttemptSelection(first_attempts_only=False))
    assert first.analysis.quiz.attempt_count == 2 and first.analysis.items[0].facility == pytest.approx(0.5)
    assert everything.analysis.quiz.attempt_count == 3 and everything.analysis.items[0].facility == pytest.approx(2 / 3)
    page = trainer_client.get(f"/author/analysis/modules/{care.id}").get_data(as_text=True)
    assert "<strong>2</strong> attempts" in page
    html = trainer_client.get(f"/author/analysis/modules/{care.id}?attempts=all").get_data(as_text=True)
    assert "<strong>3</strong> attempts" in html and 'checked id="attempts-1"' in html


def test_the_period_filter_takes_whole_days_at_both_ends(app, care, trainer_client):
    clock.freeze(datetime(2026, 1, 10, 23, 30))
    answer(make_user("learner"), care, set(KEYS), seed=1)
    clock.freeze(datetime(2026, 3, 10, 8, 0))
    answer(make_user("learner"), care, set(), seed=2)
    answer(make_user("learner"), care, {"care-spf"}, seed=3)

    def count(**args):
        response = trainer_client.get(f"/author/analysis/modules/{care.id}", query_string=args)
        assert response.status_code == 200
        return analyse_module(care, AttemptSelection(start=args.get("start") and date.fromisoformat(args["start"]),
                                                     end=args.get("end") and date.fromisoformat(args["end"])))\
            .analysis.quiz.attempt_count, response.get_data(as_text=True)

    assert count()[0] == 3
    n, html = count(end="2026-01-10")
    assert n == 1 and "<strong>1</strong> attempts" in html
    n, html = count(start="2026-03-10", end="2026-03-10")
    assert n == 2 and "<strong>2</strong> attempts" in html
    n, html = count(start="2026-02-01", end="2026-02-28")
    assert n == 0 and "No graded attempts match" in html
    response = trainer_client.get(f"/author/analysis/modules/{care.id}?start=2026-03-01&end=2026-01-01")
    assert response.status_code == 400 and "The end date is before the start date." in response.get_data(as_text=True)
    assert trainer_client.get(f"/author/analysis/modules/{care.id}?start=yesterday").status_code == 400
    assert trainer_client.get(f"/author/analysis/modules/{care.id}?start=&end=").status_code == 200


def test_versions_of_a_question_pool_under_its_key(app, care, tmp_path):
    clinic = make_clinic()
    for n in range(3):
        answer(make_user("learner", clinic=clinic), care, {"care-spf"}, seed=n)
    changed = tmp_path / "tiny-course"
    shutil.copytree(TINY_COURSE, changed)
    bank = changed / "questions" / "care.yaml"
    bank.write_text(bank.read_text().replace("Straight away", "Immediately after the session"))
    import_course(changed)
    for n in range(3):
        answer(make_user("learner", clinic=clinic), care, {"care-spf"}, seed=n)
    report = analyse_module(care)
    item = next(i for i in report.analysis.items if i.question_key == "care-makeup")
    assert item.times_seen == 6
    picks = {choice.label: choice.picked_overall for choice in item.choices}
    assert picks == {MAKEUP_KEY: 0, "Immediately after the session": 3, "Straight away": 3}
    details = report.questions["care-makeup"]
    assert details.versions_seen == (1, 2) and details.choices_differ
    assert details.earlier_only_choices == {"Straight away"} and details.newest_version == 2
    assert report.questions["care-spf"].versions_seen == (1,) and not report.questions["care-spf"].choices_differ


def test_the_page_marks_pooled_versions(app, care, trainer_client, tmp_path):
    answer(make_user("learner"), care, set(), seed=1)
    changed = tmp_path / "tiny-course"
    shutil.copytree(TINY_COURSE, changed)
    bank = changed / "questions" / "care.yaml"
    bank.write_text(bank.read_text().replace("Straight away", "Immediately after the session"))
    import_course(changed)
    answer(make_user("learner"), care, set(), seed=2)
    html = trainer_client.get(f"/author/analysis/modules/{care.id}?attempts=all").get_data(as_text=True)
    assert "Several versions were answered" in html and "earlier version only" in html
    assert "Analyse only since v2" in html


def test_statistics_csv_export_parses_and_defuses_formulas(app, trainer_client, tmp_path):
    folder = tmp_path / "tiny-course"
    shutil.copytree(TINY_COURSE, folder)
    bank = folder / "questions" / "care.yaml"
    bank.write_text(bank.read_text().replace("After about a day, per the clinic's protocol", "+1 day, per protocol"))
    care = module_of(import_course(folder), "care")
    clinic = make_clinic()
    for seed, right in enumerate(PATTERNS, start=1):
        answer(make_user("learner", clinic=clinic), care, right, seed=seed)
    response = trainer_client.get(f"/author/analysis/modules/{care.id}/statistics.csv?attempts=all")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Content-Disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["question", "times_seen", "facility", "discrimination"]
    by_key = {row[0]: row for row in rows[1:]}
    assert set(by_key) == set(KEYS)
    assert by_key["care-makeup"][1] == "6" and float(by_key["care-makeup"][2]) == pytest.approx(0.6667)
    assert float(by_key["care-call"][3]) == pytest.approx(0.5)
    assert by_key["care-makeup"][6].startswith("'+1 day, per protocol*: 2/0/4")
    page = trainer_client.get(f"/author/analysis/modules/{care.id}?attempts=all").get_data(as_text=True)
    assert f"/author/analysis/modules/{care.id}/statistics.csv?attempts=all" in page


def test_the_csv_export_refuses_a_bad_period(app, care, trainer_client):
    response = trainer_client.get(f"/author/analysis/modules/{care.id}/statistics.csv?start=2026-02-01&end=2026-01-01")
    assert response.status_code == 400


def test_a_quiz_without_attempts_says_so(app, care, trainer_client):
    html = trainer_client.get(f"/author/analysis/modules/{care.id}").get_data(as_text=True)
    assert "No graded attempts match" in html
    rows = list(csv.reader(io.StringIO(
        trainer_client.get(f"/author/analysis/modules/{care.id}/statistics.csv").data.decode("utf-8-sig"))))
    assert [row[:2] for row in rows[1:]] == [[key, "0"] for key in KEYS]


def test_open_attempts_are_not_analysed(app, care):
    answer(make_user("learner"), care, set(KEYS), seed=1)
    start_attempt(make_user("learner"), care, rng=random.Random(2))
    assert analyse_module(care).analysis.quiz.attempt_count == 1


def _statements(client, count_queries, url):
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


@pytest.mark.parametrize("suffix", ["?attempts=all", "/statistics.csv?attempts=all"])
def test_the_query_count_does_not_grow_with_attempts(app, care, trainer_client, count_queries, suffix):
    url = f"/author/analysis/modules/{care.id}{suffix}"
    clinic = make_clinic()

    def add_people(people):
        for n in range(people):
            learner = make_user("learner", clinic=clinic)
            for attempt in range(2):
                answer(learner, care, set(KEYS[: (n + attempt) % 4]), seed=n * 10 + attempt)

    add_people(1)
    small = _statements(trainer_client, count_queries, url)
    add_people(8)
    assert _statements(trainer_client, count_queries, url) == small
    assert small <= 8


def test_unknown_modules_are_404(app, trainer_client):
    assert trainer_client.get("/author/analysis/modules/9999").status_code == 404
    assert trainer_client.get("/author/analysis/modules/9999/statistics.csv").status_code == 404


@pytest.mark.parametrize("roles", [("learner",), ("manager",)])
def test_learners_and_managers_cannot_see_item_analysis(app, care, roles):
    client = app.test_client()
    login(client, make_user(*roles))
    assert client.get(f"/author/analysis/modules/{care.id}").status_code == 403
    assert client.get(f"/author/analysis/modules/{care.id}/statistics.csv").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(app, care, client):
    response = client.get(f"/author/analysis/modules/{care.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admins_see_item_analysis(app, care):
    client = app.test_client()
    login(client, make_user("admin"))
    assert client.get(f"/author/analysis/modules/{care.id}").status_code == 200
