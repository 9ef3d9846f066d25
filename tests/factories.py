"""Small factory functions for test data, built through the real services."""
from __future__ import annotations

import itertools
import random

from sqlalchemy import select

from trainer.banks.course_folder import load_course
from trainer.extensions import db
from trainer.models import Attempt, Course, Module
from trainer.services.accounts import create_clinic, create_user
from trainer.services.attempts import save_answer, start_attempt, submit_attempt
from trainer.services.catalog import import_courses

PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


def make_clinic(name: str | None = None):
    return create_clinic(None, name or f"Clinic {next(_numbers)}")


def make_user(*roles: str, clinic=None, name: str | None = None, email: str | None = None):
    n = next(_numbers)
    roles = roles or ("learner",)
    if clinic is None and {"learner", "manager"} & set(roles):
        clinic = make_clinic()
    return create_user(None, email or f"person{n}@example.org", name or f"Person {n}", PASSWORD, list(roles), clinic)


def import_course(path) -> Course:
    spec = load_course(path)
    import_courses(None, [spec])
    return db.session.scalar(select(Course).where(Course.slug == spec.slug))


def module_of(course: Course, slug: str) -> Module:
    return next(m for m in course.modules if m.slug == slug)


class FormData(dict):
    """A stand-in for request.form with the two methods question types use."""

    def getlist(self, key):
        value = self.get(key)
        return [] if value is None else value if isinstance(value, list) else [value]


def correct_form(aq) -> FormData:
    """Form fields that answer an attempt question correctly (display positions, as the page sends)."""
    q, order, name = aq.version.content, aq.display_order, f"q{aq.position}"
    kind = q["type"]
    if kind == "single":
        return FormData({name: str(order.index(next(i for i, c in enumerate(q["choices"]) if c.get("correct"))))})
    if kind == "multiple":
        return FormData({name: [str(order.index(i)) for i, c in enumerate(q["choices"]) if c.get("correct")]})
    if kind == "true_false":
        return FormData({name: "true" if q["answer"] else "false"})
    if kind == "matching":
        return FormData({f"{name}-{pos}": str(order["right"].index(left)) for pos, left in enumerate(order["left"])})
    if kind == "ordering":
        return FormData({f"{name}-{pos}": str(idx + 1) for pos, idx in enumerate(order)})
    if kind == "numerical":
        return FormData({name: str(q["answers"][0]["value"])})
    first = q["answers"][0]
    return FormData({name: first if isinstance(first, str) else first["text"]})


def wrong_form(aq) -> FormData:
    """Form fields that answer an attempt question wrongly."""
    q, order, name = aq.version.content, aq.display_order, f"q{aq.position}"
    kind = q["type"]
    if kind in ("single", "multiple"):
        wrong = next(i for i, c in enumerate(q["choices"]) if not c.get("correct"))
        return FormData({name: str(order.index(wrong))})
    if kind == "true_false":
        return FormData({name: "false" if q["answer"] else "true"})
    if kind == "matching":
        n = len(order["left"])
        return FormData({f"{name}-{pos}": str(order["right"].index((left + 1) % n))
                         for pos, left in enumerate(order["left"])})
    if kind == "ordering":
        n = len(order)
        return FormData({f"{name}-{pos}": str(n - idx) for pos, idx in enumerate(order)})
    if kind == "numerical":
        return FormData({name: str(q["answers"][0]["value"] + q["answers"][0].get("tolerance", 0) + 1000)})
    return FormData({name: "certainly not this"})


def take_attempt(user, module: Module, correct: bool | int = True, seed: int = 1) -> Attempt:
    """Start, answer (all right, all wrong, or the first N right) and submit an attempt."""
    attempt = start_attempt(user, module, rng=random.Random(seed))
    for i, aq in enumerate(sorted(attempt.questions, key=lambda a: a.position)):
        right = correct if isinstance(correct, bool) else i < correct
        save_answer(user, attempt.id, aq.position, correct_form(aq) if right else wrong_form(aq), seq=1)
    return submit_attempt(user, attempt.id)


PRACTICAL_SECTION = """
practical:
  logbook:
    min_cases: 3
    min_indications: 2
    min_observed: 1
    indications: [acne-scars, fine-lines, striae]
  renewal:
    observed_cases: 1
  competencies:
    - id: facial
      title: Facial microneedling
      checklist:
        - id: consent
          step: Takes informed consent
          module: basics
          sources: [S1]
        - id: depth
          step: Chooses a depth within the device labelling
          module: care
"""


def practical_course_dir(tmp_path):
    """A copy of the tiny course with a `practical` section (3 cases, 2 indications, 1 observed)."""
    import shutil

    from tests.conftest import TINY_COURSE

    target = tmp_path / "tiny-course"
    shutil.copytree(TINY_COURSE, target)
    with open(target / "course.yaml", "a") as f:
        f.write(PRACTICAL_SECTION)
    return target


def case_fields(**overrides) -> dict:
    """A complete, valid logbook entry as a form would send it."""
    fields = {"treated_on": "2026-11-20", "client_ref": "C-1042", "fitzpatrick": "III", "indication": "acne-scars",
              "areas": "cheeks: 1.0\nforehead: 0.5", "device": "SkinPen Precision", "cartridge_lot": "LOT-2211A",
              "rescreen_done": "y", "consent_recorded": "y", "glide": "SkinPen Lift HG hydrogel",
              "aftercare_given": "y", "adverse_event": "", "adverse_action": "", "notes": "",
              "supervisor": "Dr A. Supervisor"}
    fields.update(overrides)
    return fields


def make_assessor(clinics, verified=True, expires_on="2027-12-31", name=None):
    """An assessor account with a recorded (and by default verified) registration in `clinics`."""
    from trainer.services.practical import record_registration, verify_registration

    admin = make_user("admin")
    assessor = make_user("assessor", clinic=clinics[0], name=name)
    registration = record_registration(admin, assessor, "NMC", f"PIN-{assessor.id:05d}", expires_on, clinics)
    if verified:
        verify_registration(admin, registration)
    return assessor


ALL_COMPETENT = {"consent": "competent", "depth": "competent"}


def tiny_jpeg(gps: bool = False) -> bytes:
    """A small JPEG photo; with `gps`, it carries EXIF with a camera model and a GPS position."""
    import io

    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 150, 140))
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x0110] = "Clinic Phone 12"  # Model
        exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPSInfo
        image.save(out, format="JPEG", exif=exif)
    else:
        image.save(out, format="JPEG")
    return out.getvalue()
