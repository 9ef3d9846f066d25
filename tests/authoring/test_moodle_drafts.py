"""Drafts from Moodle in the studio: the review queue, publishing by the course rules, and an editor
that never silently changes how an imported question grades."""
import re

import pytest
from sqlalchemy import select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_user, module_of
from trainer.extensions import db
from trainer.models import Question
from trainer.services import ServiceError, authoring
from trainer.services.attempts import current_versions
from trainer.services.interchange import import_bank_file, read_bank_file

WEIGHTED = """::care-depth-choice::Which depth suits the forehead?{
=0.25 mm#Right.
~%50%0.5 mm#Acceptable on thicker skin.
~2 mm#Far too deep.
####Thin skin over bone.}

::care-depth-number::Depth for the forehead in mm?{#0.25:0.05####Thin skin over bone.}
"""


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


def question(key) -> Question:
    return db.session.scalar(select(Question).where(Question.key == key))


def test_the_browser_editor_cannot_save_or_publish_a_question_without_a_source(client, course, trainer):
    care = module_of(course, "care")
    form = {"id": "care-nosource", "type": "true_false", "stem": "Sunscreen matters after treatment.",
            "explanation": "The skin is more sensitive to UV.", "source": "", "tags": "", "difficulty": "",
            "answer": "true"}
    response = client.post(f"/author/modules/{care.id}/questions", data=form)

    assert response.status_code == 400 and "no source" in response.get_data(as_text=True)
    assert question("care-nosource") is None


def test_publishing_a_draft_that_needs_review_is_refused_with_what_is_missing(client, course, trainer):
    import_bank_file(None, module_of(course, "care"), read_bank_file(WEIGHTED, "moodle.gift", "gift"))
    draft = question("care-depth-choice")

    response = client.post(f"/author/questions/{draft.id}/publish", data={"version": "1", "back": "question"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Version 1 needs review before it can be published: no source." in page
    assert "care-depth-choice" not in {q.key for q, _ in current_versions(module_of(course, "care"))}


def test_the_review_queue_lists_drafts_per_module_with_what_they_lack(client, course, trainer):
    import_bank_file(None, module_of(course, "care"), read_bank_file(WEIGHTED, "moodle.gift", "gift"))
    authoring.save_question(trainer, question("care-spf"),
                            {**authoring.newest_version(question("care-spf")).content, "stem": "Edited."})

    html = client.get("/author/review").get_data(as_text=True)
    assert "Tiny Course › <a" in html and "care-depth-choice" in html
    assert "<strong>Needs review:</strong> no source" in html and "Ready to publish" in html


def test_editing_an_imported_weighted_question_keeps_its_moodle_grading(client, course, trainer):
    import_bank_file(None, module_of(course, "care"), read_bank_file(WEIGHTED, "moodle.gift", "gift"))
    choice, number = question("care-depth-choice"), question("care-depth-number")

    page = client.get(f"/author/questions/{choice.id}").get_data(as_text=True)
    assert "Kept from Moodle" in page and "choice &#39;0.5 mm&#39; is worth 50%" in page
    form = {"type": "single", "stem": "Which depth suits the forehead?", "explanation": "Thin skin over bone.",
            "source": "S1", "tags": "", "difficulty": "", "based_on": "1",
            "choices-0-text": "0.25 mm", "choices-0-correct": "1", "choices-0-feedback": "Right.",
            "choices-1-text": "0.5 mm", "choices-1-feedback": "Acceptable on thicker skin.",
            "choices-2-text": "2 mm", "choices-2-feedback": "Far too deep."}
    assert client.post(f"/author/questions/{choice.id}", data=form).status_code == 302
    db.session.expire_all()
    saved = authoring.newest_version(choice).content
    assert saved["source"] == "S1" and [c.get("weight") for c in saved["choices"]] == [None, 50, None]

    form = {"type": "numerical", "stem": "Depth for the forehead in mm?", "explanation": "Thin skin over bone.",
            "source": "S1", "tags": "", "difficulty": "", "based_on": "1"}
    assert client.post(f"/author/questions/{number.id}", data=form).status_code == 302
    db.session.expire_all()
    assert authoring.newest_version(number).content["answers"] == [{"value": 0.25, "tolerance": 0.05}]
    authoring.publish_question(trainer, number)
    with pytest.raises(ServiceError, match="no draft to publish"):
        authoring.publish_question(trainer, number)


def test_previewing_with_drafts_grades_a_draft_without_an_explanation(app, client, course, trainer):
    care = module_of(course, "care")
    gift = "::care-nofeedback::Sunscreen is needed after treatment.{T}\n"  # Moodle's usual: no general feedback
    import_bank_file(None, care, read_bank_file(gift, "moodle.gift", "gift"))
    care.draw = 4
    db.session.commit()

    html = client.get(f"/author/modules/{care.id}/preview?drafts=1").get_data(as_text=True)
    token = re.search(r'name="drawn" value="([^"]+)"', html).group(1)
    response = client.post(f"/author/modules/{care.id}/preview", data={"drawn": token})
    assert response.status_code == 200 and "none yet: this draft needs review" in response.get_data(as_text=True)


def test_every_studio_page_opens_with_every_moodle_fixture_imported(client, course, trainer):
    from pathlib import Path

    moodle = Path(__file__).resolve().parent.parent / "fixtures" / "moodle"
    care = module_of(course, "care")
    for path in sorted(moodle.glob("*/*.*")):
        if path.suffix == ".md":
            continue
        fmt = "moodlexml" if path.suffix == ".xml" else "gift"
        import_bank_file(None, care, read_bank_file(path.read_text(), path.name, fmt))
    urls = ["/author/", "/author/review", "/author/files/", f"/author/modules/{care.id}",
            f"/author/modules/{care.id}/preview?drafts=1"]
    urls += [f"/author/files/modules/{care.id}.{fmt}" for fmt in ("yaml", "gift", "csv", "moodlexml")]
    for q in db.session.scalars(select(Question).where(Question.module_id == care.id)):
        urls += [f"/author/questions/{q.id}", f"/author/questions/{q.id}/history"]
    statuses = {url: client.get(url).status_code for url in urls}
    assert {url: status for url, status in statuses.items() if status != 200} == {}


def test_the_module_page_marks_drafts_that_need_review_instead_of_offering_publish(client, course, trainer):
    care = module_of(course, "care")
    import_bank_file(None, care, read_bank_file(WEIGHTED, "moodle.gift", "gift"))

    html = client.get(f"/author/modules/{care.id}").get_data(as_text=True)
    row = html[html.index('<code>care-depth-choice</code>'):]
    row = row[:row.index("</tr>")]
    assert "needs review" in row and "no source" in row and "Publish v1" not in row


def test_numerical_is_offered_in_the_editor_only_for_a_numerical_question(client, course, trainer):
    care = module_of(course, "care")
    import_bank_file(None, care, read_bank_file(WEIGHTED, "moodle.gift", "gift"))

    assert 'value="numerical"' not in client.get(f"/author/modules/{care.id}/questions/new").get_data(as_text=True)
    page = client.get(f"/author/questions/{question('care-depth-number').id}").get_data(as_text=True)
    assert 'value="numerical" selected' in page or 'value="numerical"' in page
    assert "answer 0.25 ± 0.05 is worth 100%" in page
