"""Loading a course folder: every problem reported as path:line: message."""
import shutil

import pytest

from tests.conftest import TINY_COURSE
from trainer.banks.course_folder import check_markdown, check_question, check_quiz_settings, load_course
from trainer.banks.records import BankFormatError


@pytest.fixture
def course_dir(tmp_path):
    target = tmp_path / "tiny-course"
    shutil.copytree(TINY_COURSE, target)
    return target


def problems_of(folder):
    with pytest.raises(BankFormatError) as info:
        load_course(folder)
    return [str(p) for p in info.value.problems]


def test_tiny_course_loads_with_all_types():
    spec = load_course(TINY_COURSE)
    assert spec.slug == "tiny-course" and [m.slug for m in spec.modules] == ["basics", "care"]
    assert {q.data["type"] for q in spec.modules[0].questions} == {"single", "multiple", "true_false", "ordering",
                                                                   "matching", "short_answer"}
    assert spec.modules[0].quiz.draw_by_tag == {"safety": 1} and spec.modules[1].quiz.time_limit_minutes is None
    assert "layers.svg" in spec.media


def test_question_problems_point_at_the_line_of_the_field(course_dir):
    bank = course_dir / "questions" / "care.yaml"
    text = bank.read_text().replace("    answer: true\n", "    answer: sometimes\n", 1)
    bank.write_text(text)
    line = text.splitlines().index("    answer: sometimes") + 1
    assert problems_of(course_dir) == [f"{bank}:{line}: a true_false question needs 'answer: true' or 'answer: false'"]


def test_not_yaml_at_all(course_dir):
    bank = course_dir / "questions" / "care.yaml"
    bank.write_text("format: trainer-bank/1\nquestions:\n  - id: x\n   type: [unclosed\n")
    [problem] = problems_of(course_dir)
    assert problem.startswith(f"{bank}:") and "not valid YAML" in problem


def test_yaml_tags_that_construct_objects_are_refused(course_dir):
    bank = course_dir / "questions" / "care.yaml"
    bank.write_text("format: trainer-bank/1\nquestions: !!python/object/apply:os.system ['echo hi']\n")
    [problem] = problems_of(course_dir)
    assert f"{bank}:2: not valid YAML" in problem


def test_many_problems_are_all_reported(course_dir):
    bank = course_dir / "questions" / "basics.yaml"
    text = bank.read_text()
    text = text.replace("id: basics-term", "id: basics-mechanism")  # duplicate id
    text = text.replace("    stem: Put the healing phases in order.\n", "")  # missing stem
    bank.write_text(text)
    (course_dir / "media" / "layers.svg").unlink()  # image referenced by the module
    course = course_dir / "course.yaml"
    course.write_text(course.read_text().replace("draw: 3", "draw: 9").replace("source_list", ""))
    found = problems_of(course_dir)
    assert any("duplicate id 'basics-mechanism'" in p for p in found)
    assert any("missing stem" in p for p in found)
    assert any("01-basics.md:5: image not found in media/: ../media/layers.svg" in p for p in found)
    assert any("quiz draws 9 questions but its bank has 3" in p for p in found)


def test_draw_by_tag_needs_enough_tagged_questions(course_dir):
    course = course_dir / "course.yaml"
    course.write_text(course.read_text().replace("draw_by_tag: {safety: 1}", "draw_by_tag: {safety: 3}"))
    assert any("draw_by_tag asks for 3 'safety' questions but the bank has 2" in p for p in problems_of(course_dir))


def test_sources_must_be_listed_and_tier_a_or_b(course_dir):
    bank = course_dir / "questions" / "care.yaml"
    text = bank.read_text()
    bank.write_text(text.replace("source: S1", "source: S9", 1).replace("source: S1", "source: S77", 1))
    found = problems_of(course_dir)
    assert any("must rest on a tier A or B source" in p for p in found)
    assert any("source S77 is not listed" in p for p in found)


def test_markdown_that_the_sanitiser_would_strip_is_reported(course_dir):
    md = course_dir / "modules" / "02-care.md"
    md.write_text("# Care\n\nFine.\n\n<script>alert('x')</script>\n")
    assert problems_of(course_dir) == [f"{md}:5: raw HTML is not allowed in Markdown; it would be removed"]


def test_images_need_alt_text(course_dir):
    md = course_dir / "modules" / "02-care.md"
    md.write_text("# Care\n\n![](../media/layers.svg)\n")
    assert problems_of(course_dir) == [
        f"{md}:3: image ../media/layers.svg needs alt text: ![what it shows](../media/layers.svg)"]


def test_unknown_keys_and_missing_files(course_dir):
    course = course_dir / "course.yaml"
    course.write_text(course.read_text().replace("title: Tiny Course", "title: Tiny Course\ncolour: blue")
                      .replace("modules/02-care.md", "modules/missing.md"))
    found = problems_of(course_dir)
    assert f"{course}:4: unknown key 'colour'" in found
    assert any("file not found: modules/missing.md" in p for p in found)


def test_svg_with_script_is_refused(course_dir):
    (course_dir / "media" / "layers.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>')
    assert any("event handler" in p for p in problems_of(course_dir))


def test_content_paths_must_stay_inside_the_course_folder(course_dir):
    course = course_dir / "course.yaml"
    course.write_text(course.read_text().replace("modules/02-care.md", "../../../../etc/hostname"))
    assert any("files must be inside the course folder" in p for p in problems_of(course_dir))


def test_one_question_is_checked_with_each_problem_keyed_by_its_field():
    question = {"id": "Bad Id", "type": "multiple", "stem": "Which?", "scoring": "most",
                "choices": [{"text": "A", "correct": True}, {"text": "B"}], "difficulty": 7}
    problems = {(p.field, p.message) for p in check_question(question, {"S1": {"citation": "x", "tier": "A"}})}
    assert problems == {
        ("id", "id must be lower-case letters, digits, '-', '_' or '.'"),
        ("scoring", "scoring must be 'all_or_nothing', 'partial' or 'weighted'"),
        ("difficulty", "difficulty must be 1, 2 or 3"),
        ("explanation", "no explanation"),
        ("source", "no source"),
    }


def test_quiz_settings_are_checked_with_each_problem_keyed_by_its_setting():
    settings, problems = check_quiz_settings({"draw": 0, "pass_percent": 80, "shuffle": True})
    assert settings is None
    assert [(p.field, p.message) for p in problems] == [("shuffle", "unknown quiz setting 'shuffle'"),
                                                        ("draw", "draw must be a whole number from 1 to 500")]
    settings, problems = check_quiz_settings({"draw": 3, "pass_percent": 80})
    assert problems == [] and (settings.draw, settings.cooldown_hours) == (3, 24)
    assert check_quiz_settings(None)[1][0].field == ""


def test_markdown_is_checked_against_the_media_names_given():
    text = "# Care\n\n![Layers](../media/layers.svg)\n\n![](../media/gone.png)\n\n<b>bold</b>\n"
    assert [(p.line, p.message) for p in check_markdown(text, {"layers.svg"})] == [
        (7, "raw HTML is not allowed in Markdown; it would be removed"),
        (5, "image not found in media/: ../media/gone.png"),
        (5, "image ../media/gone.png needs alt text: ![what it shows](../media/gone.png)"),
    ]
