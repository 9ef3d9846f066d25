"""A learner answers a numerical question (a depth in millimetres) in the browser's form and sees the review."""
import re

from sqlalchemy import select

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_user, module_of
from trainer.extensions import db
from trainer.models import Attempt
from trainer.services.interchange import import_bank_file, read_bank_file

GIFT = """// trainer: {"source": "S1", "unit": "mm"}
::care-depth::How deep (in mm) do you needle the forehead?{#0.25:0.05####Thin skin over bone.}
"""


def test_a_numerical_question_is_answered_saved_and_graded(app, client):
    course = import_course(TINY_COURSE)
    care = module_of(course, "care")
    report = import_bank_file(None, care, read_bank_file(GIFT, "depth.gift", "gift"))
    assert report.drafts == []
    care.draw = 4  # every question of the module, the numerical one included
    db.session.commit()
    learner = make_user()
    assert client.post("/login", data={"email": learner.email, "password": PASSWORD}).status_code == 302

    attempt_id = int(client.post("/learn/tiny-course/care/attempts").headers["Location"].rsplit("/", 1)[1])
    attempt = db.session.get(Attempt, attempt_id)
    aq = next(a for a in attempt.questions if a.version.content["type"] == "numerical")
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert re.search(rf'<input type="text" inputmode="decimal" id="q{aq.position}-text" name="q{aq.position}"', page)
    assert "0.25" not in page and "Thin skin over bone." not in page  # no key before submission

    refused = client.post(f"/attempts/{attempt_id}/answers/{aq.position}", data={f"q{aq.position}": "deep", "seq": "1"})
    assert refused.status_code == 400 and "Type a number" in refused.get_json()["error"]
    saved = client.post(f"/attempts/{attempt_id}/answers/{aq.position}", data={f"q{aq.position}": "0,3 mm", "seq": "2"})
    assert saved.get_json()["saved"] is True
    assert f'name="q{aq.position}" value="0.3"' in client.get(f"/attempts/{attempt_id}").get_data(as_text=True)

    client.post(f"/attempts/{attempt_id}/submit")
    db.session.expire_all()
    graded = db.session.scalar(select(Attempt).where(Attempt.id == attempt_id))
    assert next(a for a in graded.questions if a.position == aq.position).fraction == 1.0
    result = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "Your answer: 0.3 mm" in result
