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
