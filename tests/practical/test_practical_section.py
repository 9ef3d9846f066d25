"""The `practical` section of course.yaml: parsed, validated with path:line errors, optional."""
import pytest

from tests.conftest import ROOT, TINY_COURSE
from trainer.banks.course_folder import load_course
from trainer.banks.records import BankFormatError


def problems_of(folder):
    with pytest.raises(BankFormatError) as info:
        load_course(folder)
    return [str(p) for p in info.value.problems]


def line_of(path, text):
    """The line of the last occurrence of `text` (a duplicate is reported where it repeats)."""
    lines = path.read_text().splitlines()
    return len(lines) - lines[::-1].index(text)


def test_a_course_without_practical_has_none():
    assert load_course(TINY_COURSE).practical is None


def test_practical_section_is_read(practical_dir):
    practical = load_course(practical_dir).practical
    assert practical["logbook"] == {"min_cases": 3, "min_indications": 2, "min_observed": 1,
                                    "indications": ["acne-scars", "fine-lines", "striae"]}
    assert practical["renewal"] == {"observed_cases": 1}
    [competency] = practical["competencies"]
    assert [s["id"] for s in competency["checklist"]] == ["consent", "depth"]
    assert competency["checklist"][1] == {"id": "depth", "step": "Chooses a depth within the device labelling",
                                          "module": "care", "sources": []}


def test_shipped_course_checklist_covers_the_procedure_and_traces_to_modules():
    spec = load_course(ROOT / "question_banks" / "microneedling")
    module_slugs = {m.slug for m in spec.modules}
    [competency] = spec.practical["competencies"]
    steps = {s["id"]: s for s in competency["checklist"]}
    assert set(steps) == {"consultation-consent", "contraindication-rescreen", "skin-prep-aseptic-setup",
                          "depth-within-labelling", "technique", "glide-medium", "sharps-disposal",
                          "aftercare-instructions", "documentation"}
    assert all(s["module"] in module_slugs and s["sources"] for s in steps.values())
    assert spec.practical["logbook"]["min_cases"] == 6 and spec.practical["logbook"]["min_indications"] == 2


@pytest.mark.parametrize("old, new, message", [
    ("    min_cases: 3\n", "    min_cases: 0\n", "min_cases must be a whole number from 1 to 500"),
    ("    min_observed: 1\n", "    min_observed: 5\n", "min_observed cannot be more than min_cases"),
    ("          module: care\n", "          module: nowhere\n",
     "step must name the module that teaches it (one of basics, care)"),
    ("          sources: [S1]\n", "          sources: [S77]\n", "source S77 is not listed in course.yaml 'sources'"),
    ("        - id: depth\n", "        - id: consent\n", "step id 'consent' is used twice in this checklist"),
    ("    min_indications: 2\n", "    min_indications: 2\n    grade: hard\n", "unknown logbook key 'grade'"),
])
def test_problems_point_at_the_line(practical_dir, old, new, message):
    path = practical_dir / "course.yaml"
    path.write_text(path.read_text().replace(old, new, 1))
    target = new.splitlines()[-1]
    assert problems_of(practical_dir) == [f"{path}:{line_of(path, target)}: {message}"]


def test_a_practical_section_without_competencies_is_refused(practical_dir):
    path = practical_dir / "course.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("  competencies:")])
    assert problems_of(practical_dir) == [
        f"{path}:{line_of(path, 'practical:') + 1}: practical needs a list of competencies"]


def test_yaml_export_keeps_the_practical_section(app, practical_dir, tmp_path):
    from tests.factories import import_course
    from trainer.services.interchange import export_course

    course = import_course(practical_dir)
    export_course(course.slug, "yaml", tmp_path / "out")
    assert load_course(tmp_path / "out").practical == load_course(practical_dir).practical
