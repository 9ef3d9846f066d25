"""A copy of the tiny course with a `practical` section, for the practical-competence tests."""
import pytest

from tests.factories import practical_course_dir


@pytest.fixture
def practical_dir(tmp_path):
    """The tiny course folder with a practical section appended."""
    return practical_course_dir(tmp_path)
