"""A question type is self-contained: a toy type registered here, with its class and one editor template and
nothing else, is offered by the editor, checked, saved, shown again and round-trips through CSV and Moodle XML;
GIFT, which tells types apart by the shape of their answers alone, refuses it with a reason."""
from typing import ClassVar

import pytest
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select

from tests.authoring.test_authoring_pages import field_error, login
from tests.conftest import TINY_COURSE
from tests.factories import import_course, make_user, module_of
from trainer.banks.csv_bank import csv_unsupported, parse_csv, write_csv
from trainer.banks.gift import gift_unsupported, write_gift
from trainer.banks.moodle_xml import moodle_xml_unsupported, parse_moodle_xml, write_moodle_xml
from trainer.extensions import db
from trainer.models import Question
from trainer.quiz.types import QUESTION_TYPES, EditorField, FieldProblem, QuestionType, normalise_question


class Keyword(QuestionType):
    """Type one keyword; right when it is the keyword (case and spacing ignored)."""

    name, label = "keyword", "Type the keyword"
    own_keys: ClassVar[set[str]] = {"keyword"}
    editor_template = "toy/keyword.html"
    editor_fields = (EditorField("keyword", "text"),)
    csv_columns = ("choice_N",)

    def validate_own(self, q):
        keyword = q.get("keyword")
        if not isinstance(keyword, str) or not keyword.strip():
            return [FieldProblem("keyword", "a keyword question needs its keyword")]
        return []

    def read_form(self, q, order, form, name):
        return (form.get(name) or "").strip() or None

    def score(self, q, response):
        return 1.0 if response and response.casefold() == q["keyword"].casefold() else 0.0

    def from_csv(self, cells):
        return {"keyword": cells.get("choice_1")}

    def to_csv(self, q):
        return {"choice_1": q["keyword"]}

    # Moodle XML: as a question plugin of its own would write it, the keyword as its one answer.
    moodle_qtype = "keyword"

    def to_moodle_xml(self, q, xml):
        return xml.answer(100, q["keyword"], None, plain=True)

    def from_moodle_xml(self, source):
        keywords = [text for _, fraction, text, _ in source.answers() if fraction == 100]
        if len(keywords) != 1:
            source.problem("a keyword question needs exactly one answer worth 100%")
        return {"type": "keyword", "keyword": keywords[0] if keywords else ""}


KEYWORD_TEMPLATE = """{% from "author/_macros.html" import problems_for, invalid %}
<div class="field"><label for="keyword">Keyword</label>
<input id="keyword" name="keyword" type="text" value="{{ fields.keyword }}"
  {{- invalid(problems, 'keyword', 'keyword') }}>
{{ problems_for(problems, 'keyword', 'keyword') }}</div>
"""


@pytest.fixture
def keyword_type(app, monkeypatch):
    monkeypatch.setitem(QUESTION_TYPES, "keyword", Keyword())
    monkeypatch.setattr(app.jinja_env, "loader",
                        ChoiceLoader([DictLoader({"toy/keyword.html": KEYWORD_TEMPLATE}), app.jinja_env.loader]))
    return QUESTION_TYPES["keyword"]


def test_a_toy_type_round_trips_through_the_editor_and_csv(app, client, keyword_type):
    course = import_course(TINY_COURSE)
    login(client, make_user("trainer"))
    care = module_of(course, "care")
    page = client.get(f"/author/modules/{care.id}/questions/new?type=keyword").get_data(as_text=True)
    assert '<option value="keyword" selected>' in page and 'name="keyword"' in page

    form = {"id": "care-keyword", "type": "keyword", "stem": "The protein needling stimulates?",
            "explanation": "Needling starts wound healing.", "source": "S1", "tags": "biology", "keyword": " "}
    response = client.post(f"/author/modules/{care.id}/questions", data=form)
    assert response.status_code == 400
    assert "a keyword question needs its keyword" in field_error(response.get_data(as_text=True), "keyword")

    response = client.post(f"/author/modules/{care.id}/questions", data={**form, "keyword": " collagen "})
    assert response.status_code == 302, response.get_data(as_text=True)
    added = db.session.scalar(select(Question).where(Question.course_id == course.id, Question.key == "care-keyword"))
    (version,) = added.versions
    assert version.content == {"id": "care-keyword", "type": "keyword", "stem": "The protein needling stimulates?",
                               "explanation": "Needling starts wound healing.", "source": "S1", "tags": ["biology"],
                               "keyword": "collagen"}
    assert 'value="collagen"' in client.get(f"/author/questions/{added.id}").get_data(as_text=True)

    assert csv_unsupported(version.content) is None
    questions, problems = parse_csv(write_csv([version.content]))
    assert problems == [] and [normalise_question(q.data) for q in questions] == [version.content]

    assert moodle_xml_unsupported(version.content) is None
    exported = write_moodle_xml([version.content])
    assert '<question type="keyword">' in exported
    questions, problems = parse_moodle_xml(exported)
    assert problems == [] and [normalise_question(q.data) for q in questions] == [version.content]

    # GIFT has no syntax for a new type: its export refuses the question with the reason.
    assert gift_unsupported(version.content) == "keyword questions have no GIFT form"
    with pytest.raises(ValueError, match="'care-keyword': keyword questions have no GIFT form"):
        write_gift([version.content])


def test_moodle_xml_reports_a_toy_types_problem_at_its_question(keyword_type):
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="keyword">
    <name><text>k1</text></name>
    <questiontext format="html"><text>The protein needling stimulates?</text></questiontext>
    <answer fraction="50"><text>collagen</text></answer>
  </question>
</quiz>
"""
    questions, problems = parse_moodle_xml(xml, "toy.xml")
    assert questions == []
    assert [(p.path, p.line, p.message) for p in problems] == [
        ("toy.xml", 3, "a keyword question needs exactly one answer worth 100%")]


def test_csv_reports_a_toy_types_unused_column_and_lists_it_among_the_types(keyword_type):
    header = "id,type,stem,choice_1,match_1\n"
    questions, problems = parse_csv(header + "k1,keyword,Stem,collagen,elastin\nk2,essay,Stem,x,\n")
    assert questions == []
    assert [p.message for p in problems] == [
        "column match_1 is not used by keyword questions; leave it empty",
        "type must be one of single, multiple, true_false, matching, ordering, short_answer, keyword (not 'essay')",
    ]
