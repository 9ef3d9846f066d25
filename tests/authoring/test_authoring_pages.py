"""Authoring pages: the editor shows validate's messages next to fields, history escapes, preview writes nothing."""
import re
from types import SimpleNamespace

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, correct_form, import_course, make_user, module_of, take_attempt
from trainer.extensions import db
from trainer.models import Attempt, AttemptQuestion, AuditEvent, Question, QuestionVersion
from trainer.services import authoring


def login(client, user):
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


@pytest.fixture
def course(app):
    return import_course(TINY_COURSE)


@pytest.fixture
def trainer(client, course):
    user = make_user("trainer")
    login(client, user)
    return user


def question(course, key) -> Question:
    return db.session.scalar(select(Question).where(Question.course_id == course.id, Question.key == key))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def author_events() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("author.%")))


def field_error(html: str, field: str) -> str:
    """The problems listed next to one field (the element the field's aria-describedby names)."""
    match = re.search(rf'<ul class="error field-problems" id="{field}-error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def authoring_urls(course):
    basics = module_of(course, "basics")
    q = question(course, "basics-term")
    return [
        ("GET", "/author/"), ("GET", f"/author/modules/{basics.id}"),
        ("GET", f"/author/modules/{basics.id}/content"), ("POST", f"/author/modules/{basics.id}/content"),
        ("GET", f"/author/modules/{basics.id}/quiz"), ("POST", f"/author/modules/{basics.id}/quiz"),
        ("GET", f"/author/modules/{basics.id}/questions/new"), ("POST", f"/author/modules/{basics.id}/questions"),
        ("GET", f"/author/questions/{q.id}"), ("POST", f"/author/questions/{q.id}"),
        ("POST", f"/author/questions/{q.id}/publish"), ("POST", f"/author/questions/{q.id}/retire"),
        ("POST", f"/author/questions/{q.id}/unretire"), ("POST", f"/author/questions/{q.id}/move/up"),
        ("GET", f"/author/questions/{q.id}/history"),
        ("GET", f"/author/modules/{basics.id}/preview"), ("POST", f"/author/modules/{basics.id}/preview"),
    ]


@pytest.mark.parametrize("role", ["learner", "manager"])
def test_learners_and_managers_get_403_on_every_authoring_page(app, client, course, role):
    login(client, make_user(role))
    events = count(AuditEvent)
    for method, url in authoring_urls(course):
        response = client.open(url, method=method, data={"content_md": "# x", "draw": "1", "stem": "x"})
        assert response.status_code == 403, f"{method} {url}"
    assert count(AuditEvent) == events and count(QuestionVersion) == 9


def test_anonymous_visitors_are_sent_to_sign_in(app, client, course):
    for method, url in authoring_urls(course):
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"], f"{method} {url}"


def test_unknown_ids_are_404_and_empty_forms_are_400_never_500(client, course, trainer):
    for method, url in authoring_urls(course):
        missing = re.sub(r"/(modules|questions)/\d+", r"/\1/99999", url)
        if missing != url:
            assert client.open(missing, method=method).status_code == 404, f"{method} {missing}"
        response = client.open(url, method=method)
        assert response.status_code in (200, 302, 400), f"{method} {url}: {response.status_code}"
    assert client.post(f"/author/questions/{question(course, 'care-spf').id}/move/sideways").status_code == 404


def test_admins_author_too(client, course):
    login(client, make_user("admin"))
    assert client.get(f"/author/modules/{module_of(course, 'care').id}").status_code == 200


def test_module_page_lists_questions_with_versions_and_buttons(client, course, trainer):
    spf = question(course, "care-spf")
    authoring.save_question(trainer, spf, {**authoring.newest_version(spf).content, "stem": "Edited"})
    html = client.get(f"/author/modules/{module_of(course, 'care').id}").get_data(as_text=True)
    assert "care-spf" in html and "care-makeup" in html and "Publish v2" in html
    assert html.count('name="csrf_token"') >= 7  # every button is a POST form with a token
    assert client.get("/author/").status_code == 200


def test_editor_shows_each_problem_next_to_its_field_keeps_the_input_and_saves_nothing(client, course, trainer):
    makeup = question(course, "care-makeup")
    form = {"type": "single", "stem": "", "explanation": "Because <script>alert(1)</script>", "source": "S9",
            "tags": "aftercare", "difficulty": "2", "based_on": "1", "action": "save",
            "choices-0-text": "After a day", "choices-0-correct": "1", "choices-0-feedback": "Kept feedback",
            "choices-1-text": "", "choices-2-text": "Straight away", "choices-2-correct": "1"}
    response = client.post(f"/author/questions/{makeup.id}", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "missing stem" in field_error(html, "stem")
    assert "explanation: raw HTML is not allowed in Markdown; it would be removed" in field_error(html, "explanation")
    assert "a single question needs exactly one correct choice" in field_error(html, "choices")
    assert "a question&#39;s answer must rest on a tier A or B source" in field_error(html, "source")
    assert 'aria-describedby="stem-error"' in html
    # What the trainer typed comes back (blank rows closed up), escaped.
    assert 'value="After a day"' in html and 'value="Kept feedback"' in html and 'value="Straight away"' in html
    assert "Because &lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert 'name="choices-1-text" value="Straight away"' in html
    assert len(makeup.versions) == 1 and author_events() == 0


def test_editing_through_the_form_saves_a_draft_and_publishing_puts_it_in_use(client, course, trainer):
    makeup = question(course, "care-makeup")
    page = client.get(f"/author/questions/{makeup.id}").get_data(as_text=True)
    assert 'value="After about a day, per the clinic&#39;s protocol"' in page and 'name="based_on" value="1"' in page
    form = {"type": "single", "stem": "When may make-up go back on?\r\n",
            "explanation": "Give the channels time to close.",
            "source": "S1", "tags": "", "difficulty": "", "based_on": "1",
            "choices-0-text": "After about a day, per the clinic's protocol", "choices-0-correct": "1",
            "choices-1-text": "Straight away", "choices-1-feedback": "The channels are still open.",
            "choices-2-text": "", "choices-3-text": "  "}
    response = client.post(f"/author/questions/{makeup.id}", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    v2 = authoring.newest_version(makeup)
    assert v2.number == 2 and v2.published_dt is None and v2.author_id == trainer.id
    assert v2.content == {
        "id": "care-makeup", "type": "single", "stem": "When may make-up go back on?\n",
        "choices": [{"text": "After about a day, per the clinic's protocol", "correct": True},
                    {"text": "Straight away", "feedback": "The channels are still open."}],
        "explanation": "Give the channels time to close.", "source": "S1"}
    # The same form again is no change: no version 3.
    assert client.post(f"/author/questions/{makeup.id}", data={**form, "based_on": "2"}).status_code == 302
    assert len(db.session.get(Question, makeup.id).versions) == 2
    page = client.get(f"/author/questions/{makeup.id}").get_data(as_text=True)
    assert "Publish version 2" in page
    response = client.post(f"/author/questions/{makeup.id}/publish", data={"version": "2", "back": "question"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/author/questions/{makeup.id}")
    db.session.expire_all()
    assert authoring.newest_version(makeup).published_dt is not None


def test_a_stale_editor_gets_a_conflict_and_keeps_its_text(client, course, trainer):
    spf = question(course, "care-spf")
    authoring.save_question(make_user("trainer"), spf, {**authoring.newest_version(spf).content, "stem": "Theirs"})
    form = {"type": "true_false", "stem": "Mine", "explanation": "Fresh skin is sensitive to UV.", "source": "S1",
            "answer": "true", "based_on": "1"}
    response = client.post(f"/author/questions/{spf.id}", data=form)
    assert response.status_code == 409
    assert "Version 2 was saved after you opened version 1" in response.get_data(as_text=True)
    assert ">\nMine</textarea>" in response.get_data(as_text=True)
    assert [v.content["stem"] for v in db.session.get(Question, spf.id).versions][-1] == "Theirs"


NEW_QUESTIONS = {
    "single": ({"choices-0-text": "Yes", "choices-0-correct": "1", "choices-1-text": "No"},
               {"choices": [{"text": "Yes", "correct": True}, {"text": "No"}]}),
    "multiple": ({"choices-0-text": "Pus", "choices-0-correct": "1", "choices-1-text": "Fever",
                  "choices-1-correct": "1",
                  "choices-2-text": "Tightness", "choices-2-feedback": "Normal", "scoring": "partial"},
                 {"choices": [{"text": "Pus", "correct": True}, {"text": "Fever", "correct": True},
                              {"text": "Tightness", "feedback": "Normal"}], "scoring": "partial"}),
    "true_false": ({"answer": "false"}, {"answer": False}),
    "matching": ({"pairs-0-left": "Pen", "pairs-0-right": "Depth", "pairs-1-left": "Roller", "pairs-1-right": "Drum"},
                 {"pairs": [{"left": "Pen", "right": "Depth"}, {"left": "Roller", "right": "Drum"}]}),
    "ordering": ({"order-0": "Cleanse", "order-1": "Numb", "order-2": "Treat"},
                 {"order": ["Cleanse", "Numb", "Treat"]}),
    "short_answer": ({"answers-0": "collagen", "answers-1": "Collagen I"}, {"answers": ["collagen", "Collagen I"]}),
}


@pytest.mark.parametrize("kind", sorted(NEW_QUESTIONS))
def test_every_type_can_be_added_through_the_form(client, course, trainer, kind):
    care = module_of(course, "care")
    page = client.get(f"/author/modules/{care.id}/questions/new?type={kind}").get_data(as_text=True)
    assert f'<option value="{kind}" selected>' in page
    rows, expected = NEW_QUESTIONS[kind]
    form = {"id": f"care-{kind.replace('_', '-')}", "type": kind, "stem": "Stem?", "explanation": "Why.",
            "source": "S1", "tags": "a, b", "difficulty": "3", "critical": "1", "feedback": "Well done.", **rows}
    response = client.post(f"/author/modules/{care.id}/questions", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    added = question(course, form["id"])
    assert added.position == 4
    (version,) = added.versions
    assert version.content == {"id": form["id"], "type": kind, "stem": "Stem?", "explanation": "Why.", "source": "S1",
                               "tags": ["a", "b"], "difficulty": 3, "critical": True, "feedback": "Well done.",
                               **expected}
    assert version.published_dt is None
    page = client.get(f"/author/questions/{added.id}").get_data(as_text=True)
    for value in (v for k, v in rows.items() if k != "scoring" and not k.endswith("correct")):
        if kind != "true_false":
            assert f'value="{value}"' in page


def test_changing_the_type_refreshes_the_form_without_saving(client, course, trainer):
    care = module_of(course, "care")
    response = client.post(f"/author/modules/{care.id}/questions",
                           data={"id": "care-x", "type": "matching", "stem": "Typed stem", "action": "refresh"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="pairs-0-left"' in html and ">\nTyped stem</textarea>" in html
    assert question(course, "care-x") is None
    response = client.post(f"/author/modules/{care.id}/questions", data={"id": "care-spf", "type": "true_false",
                                                                        "stem": "s",
                                                                         "explanation": "e", "answer": "true"})
    assert response.status_code == 400
    assert "duplicate id &#39;care-spf&#39;" in field_error(response.get_data(as_text=True), "id")


def test_module_content_preview_is_sanitised_and_a_script_is_refused(client, course, trainer):
    care = module_of(course, "care")
    original = care.content_md
    page = client.get(f"/author/modules/{care.id}/content").get_data(as_text=True)
    assert "<article class=\"content\">" in page
    evil = "# Care\r\n\r\nHello <script>alert('x')</script>\r\n\r\n[x](javascript:alert(1))"
    response = client.post(f"/author/modules/{care.id}/content", data={"content_md": evil, "action": "preview"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert" not in html and 'href="javascript' not in html
    assert "line 3: raw HTML is not allowed in Markdown; it would be removed" in field_error(html, "content_md")
    response = client.post(f"/author/modules/{care.id}/content", data={"content_md": evil, "action": "save"})
    assert response.status_code == 400 and "<script>alert" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert module_of(course, "care").content_md == original
    good = "# Care\r\n\r\n**Sun protection** every day.\r\n\r\n![Skin layers](../media/layers.svg)\r\n"
    response = client.post(f"/author/modules/{care.id}/content", data={"content_md": good, "action": "save"})
    assert response.status_code == 302
    db.session.expire_all()
    assert module_of(course, "care").content_md == good.replace("\r\n", "\n")
    assert author_events() == 1


def test_quiz_settings_form_shows_messages_next_to_fields(client, course, trainer):
    basics = module_of(course, "basics")
    form = {"draw": "9", "draw_by_tag": "safety: 1, devices two", "pass_percent": "101", "time_limit_minutes": "",
            "attempts_before_cooldown": "2", "cooldown_hours": "24", "show_answers": "after_pass"}
    response = client.post(f"/author/modules/{basics.id}/quiz", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "draw_by_tag must map tags to whole numbers" in field_error(html, "draw_by_tag")
    assert "pass_percent must be a whole number from 1 to 100" in field_error(html, "pass_percent")
    assert 'value="safety: 1, devices two"' in html
    response = client.post(f"/author/modules/{basics.id}/quiz", data={**form, "draw_by_tag": "safety: 1",
                                                                      "pass_percent": "80"})
    assert "quiz draws 9 questions but the module has 6 published questions" in field_error(
        response.get_data(as_text=True), "draw")
    response = client.post(f"/author/modules/{basics.id}/quiz", data={
        **form, "draw": "5", "draw_by_tag": "safety: 2, devices: 1", "pass_percent": "80"})
    assert response.status_code == 302
    db.session.expire_all()
    basics = module_of(course, "basics")
    assert (basics.draw, basics.draw_by_tag, basics.pass_percent, basics.time_limit_minutes) == (
        5, {"safety": 2, "devices": 1}, 80, None)
    page = client.get(f"/author/modules/{basics.id}/quiz").get_data(as_text=True)
    assert 'value="safety: 2, devices: 1"' in page


def test_history_page_shows_the_change_and_escapes_html(client, course, trainer):
    makeup = question(course, "care-makeup")
    content = authoring.newest_version(makeup).content
    authoring.save_question(trainer, makeup, {**content, "choices": [
        {**content["choices"][0]}, {"text": '<script>alert("owned")</script>'}]})
    html = client.get(f"/author/questions/{makeup.id}/history").get_data(as_text=True)
    assert "Version 2" in html and "Version 1" in html
    assert f"in the browser by {trainer.name}" in html and "from the course folder" in html
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert re.search(r'<span class="add">\+- text: .*&lt;script&gt;', html)
    assert re.search(r'<span class="del">-- text: Straight away</span>', html)


def test_retire_unretire_and_move_buttons(client, course, trainer):
    care = module_of(course, "care")
    makeup, call = question(course, "care-makeup"), question(course, "care-call")
    assert client.post(f"/author/questions/{call.id}/move/up").status_code == 302
    db.session.expire_all()
    assert question(course, "care-call").position < question(course, "care-makeup").position
    response = client.post(f"/author/questions/{makeup.id}/retire")
    assert response.status_code == 302  # refused (the quiz draws all three) and said why
    assert "would leave the quiz short" in client.get(response.headers["Location"]).get_data(as_text=True)
    authoring.update_quiz_settings(trainer, care, {"draw": 2, "draw_by_tag": {}, "pass_percent": 60,
                                                   "time_limit_minutes": None, "attempts_before_cooldown": 2,
                                                   "cooldown_hours": 24, "show_answers": "after_pass"})
    assert client.post(f"/author/questions/{makeup.id}/retire").status_code == 302
    db.session.expire_all()
    assert question(course, "care-makeup").retired
    html = client.get(f"/author/modules/{care.id}").get_data(as_text=True)
    assert "Retired questions" in html and "Bring back" in html
    assert client.post(f"/author/questions/{makeup.id}/unretire").status_code == 302
    db.session.expire_all()
    assert not question(course, "care-makeup").retired


def _drawn(app, html):
    token = re.search(r'name="drawn" value="([^"]+)"', html).group(1)
    return token, URLSafeSerializer(app.secret_key, salt="quiz-preview").loads(token)


def test_preview_draws_like_an_attempt_and_grades_without_writing_anything(app, client, course, trainer):
    take_attempt(make_user(), module_of(course, "basics"))
    basics = module_of(course, "basics")
    before = (count(Attempt), count(AttemptQuestion), count(AuditEvent), count(QuestionVersion))
    html = client.get(f"/author/modules/{basics.id}/preview").get_data(as_text=True)
    assert html.count('class="question"') == 4
    for q in db.session.scalars(select(QuestionVersion)):
        assert q.content["explanation"] not in html  # as a learner sees it: no explanation before submitting
    token, drawn = _drawn(app, html)
    assert drawn["module"] == basics.id and len(drawn["items"]) == 4
    answers = {}
    for position, (version_id, order) in enumerate(drawn["items"], start=1):
        item = SimpleNamespace(version=db.session.get(QuestionVersion, version_id),
                               display_order=order, position=position)
        answers.update(correct_form(item))
    response = client.post(f"/author/modules/{basics.id}/preview", data={"drawn": token, **answers})
    result = response.get_data(as_text=True)
    assert response.status_code == 200 and "Passed" in result and "100%" in result and "Nothing was recorded" in result
    response = client.post(f"/author/modules/{basics.id}/preview", data={"drawn": token})
    assert response.status_code == 200 and "Not passed" in response.get_data(as_text=True)
    assert (count(Attempt), count(AttemptQuestion), count(AuditEvent), count(QuestionVersion)) == before


def test_preview_with_drafts_shows_the_draft_and_refuses_tampering(app, client, course, trainer):
    care = module_of(course, "care")
    spf = question(course, "care-spf")
    authoring.save_question(trainer, spf, {**authoring.newest_version(spf).content, "stem": "Draft wording here"})
    assert "Draft wording here" not in client.get(f"/author/modules/{care.id}/preview").get_data(as_text=True)
    html = client.get(f"/author/modules/{care.id}/preview?drafts=1").get_data(as_text=True)
    assert "Draft wording here" in html
    token, drawn = _drawn(app, html)
    other = module_of(course, "basics")
    forged = URLSafeSerializer("not-the-key", salt="quiz-preview").dumps(drawn)
    before = (count(Attempt), count(AttemptQuestion), count(AuditEvent))
    assert client.post(f"/author/modules/{care.id}/preview", data={"drawn": forged}).status_code == 400
    assert client.post(f"/author/modules/{care.id}/preview", data={"drawn": token[:-2]}).status_code == 400
    assert client.post(f"/author/modules/{other.id}/preview", data={"drawn": token}).status_code == 400
    basics_version = authoring.newest_version(question(course, "basics-term")).id
    foreign = URLSafeSerializer(app.secret_key, salt="quiz-preview").dumps(
        {**drawn, "items": [[basics_version, []]]})
    assert client.post(f"/author/modules/{care.id}/preview", data={"drawn": foreign}).status_code == 400
    # An answer that is not an option: the quiz comes back with the message, status 400.
    response = client.post(f"/author/modules/{care.id}/preview",
                           data={"drawn": token, **{f"q{p}": "7" for p in range(1, 4)}})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'name="drawn"' in html
    assert "That option is not part of this question." in html and "Answer true or false." in html
    assert (count(Attempt), count(AttemptQuestion), count(AuditEvent)) == before


def test_forms_without_a_csrf_token_are_refused_and_change_nothing(csrf_app, course):
    client = csrf_app.test_client()
    user = make_user("trainer")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    spf = question(course, "care-spf")
    for url in (f"/author/questions/{spf.id}/retire", f"/author/questions/{spf.id}/move/down",
                f"/author/modules/{spf.module_id}/content"):
        assert client.post(url, data={"content_md": "# x"}).status_code == 400
    html = client.get(f"/author/modules/{spf.module_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post(f"/author/questions/{spf.id}/move/down", data={"csrf_token": token}).status_code == 302
    assert author_events() == 1 and not question(course, "care-spf").retired


def test_module_page_queries_do_not_grow_with_the_bank(client, course, trainer, count_queries):
    care = module_of(course, "care")
    url = f"/author/modules/{care.id}"
    db.session.expire_all()  # requests share the test's session: start each count from a cold one
    with count_queries() as small:
        assert client.get(url).status_code == 200
    for n in range(6):
        authoring.add_question(trainer, care, {"id": f"care-extra-{n}", "type": "true_false", "stem": "S?",
                                               "answer": True, "explanation": "E.", "source": "S1"})
    db.session.expire_all()
    with count_queries() as large:
        html = client.get(url).get_data(as_text=True)
    assert "care-extra-5" in html
    assert len(large) == len(small)


def test_each_editor_problem_lands_on_the_field_it_concerns_and_others_on_top(client, course, trainer):
    """The validator keys problems by field name: scoring, tags, difficulty and id each get their own message;
    a problem with a key the editor has no field for is listed at the top of the form."""
    care = module_of(course, "care")
    form = {"id": "Care X", "type": "multiple", "stem": "Which?", "explanation": "Why.", "source": "S1",
            "scoring": "most", "difficulty": "7",
            "choices-0-text": "A", "choices-0-correct": "1", "choices-1-text": "B"}
    html = client.post(f"/author/modules/{care.id}/questions", data=form).get_data(as_text=True)
    assert "scoring must be" in field_error(html, "scoring") and "scoring must be" not in field_error(html, "choices")
    assert "difficulty must be 1, 2 or 3" in field_error(html, "difficulty")
    assert "id must be lower-case" in field_error(html, "id")
    assert "difficulty must be" not in field_error(html, "id") and 'id="general-error"' not in html
    problems = authoring.question_problems(care, {"id": "care-x", "type": "true_false", "stem": "s", "answer": True,
                                                  "explanation": "e", "source": "S1", "feedback_right": 3})
    assert problems == {"": ["feedback_right must be text"]}
