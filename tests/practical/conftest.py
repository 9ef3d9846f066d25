"""A copy of the tiny course with a `practical` section, for the practical-competence tests."""
import shutil

import pytest

from tests.conftest import TINY_COURSE

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


@pytest.fixture
def practical_dir(tmp_path):
    """The tiny course folder with a practical section appended."""
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
    from tests.factories import make_user
    from trainer.services.practical import record_registration, verify_registration

    admin = make_user("admin")
    assessor = make_user("assessor", clinic=clinics[0], name=name)
    registration = record_registration(admin, assessor, "NMC", f"PIN-{assessor.id:05d}", expires_on, clinics)
    if verified:
        verify_registration(admin, registration)
    return assessor


ALL_COMPETENT = {"consent": "competent", "depth": "competent"}
