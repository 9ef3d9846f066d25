"""The shipped microneedling course meets the curriculum's bar (issue 3)."""
import re
from collections import Counter

import pytest

from tests.conftest import ROOT
from trainer.banks.course_folder import cited_source_keys, load_course
from trainer.rendering import image_references, media_name

COURSE = ROOT / "question_banks" / "microneedling"


@pytest.fixture(scope="module")
def spec():
    return load_course(COURSE)


def test_three_modules_with_enough_questions(spec):
    assert [m.slug for m in spec.modules] == ["procedure", "safety", "aftercare"]
    for module in spec.modules:
        assert len(module.questions) >= 40, module.slug
    assert sum(len(m.questions) for m in spec.modules) >= 120


def test_quiz_settings(spec):
    for module in spec.modules:
        quiz = module.quiz
        assert quiz.draw == 15 and quiz.pass_percent == 80
        assert 20 <= quiz.time_limit_minutes <= 25  # about 90 seconds a question
        tags = Counter(t for q in module.questions for t in q.data.get("tags", []))
        for tag, minimum in quiz.draw_by_tag.items():
            assert tags[tag] >= 2 * minimum, f"{module.slug}: too few '{tag}' questions for a varied draw"


def test_every_question_is_explained_and_sourced_from_tier_a_or_b(spec):
    for module in spec.modules:
        for q in module.questions:
            assert q.data["explanation"].strip()
            keys = cited_source_keys(q.data["source"])
            assert keys and all(spec.sources[k]["tier"] in ("A", "B") for k in keys), q.data["id"]


def test_scenarios_criticals_and_type_mix(spec):
    questions = [q.data for m in spec.modules for q in m.questions]
    for module in spec.modules:
        scenarios = [q for q in module.questions if re.search(r"\b(client|patient)\b", q.data["stem"], re.I)]
        assert len(scenarios) * 3 >= len(module.questions), module.slug
    assert sum(1 for q in questions if q.get("critical")) >= 12
    assert {"single", "multiple", "true_false", "matching", "ordering"} <= {q["type"] for q in questions}
    assert all(q.get("scoring") in ("all_or_nothing", "partial") for q in questions if q["type"] == "multiple")


def test_no_all_or_none_of_the_above(spec):
    for module in spec.modules:
        for q in module.questions:
            for choice in q.data.get("choices", []):
                assert not re.search(r"(all|none) of the above", choice["text"], re.I), q.data["id"]


def test_modules_have_length_key_points_and_diagrams_with_alt_text(spec):
    for module in spec.modules:
        words = len(re.findall(r"[A-Za-z0-9’'-]+", module.content_md))
        assert 1500 <= words <= 3200, f"{module.slug}: {words} words"
        assert re.search(r"^## Key points", module.content_md, re.M), module.slug
        images = image_references(module.content_md)
        assert images, module.slug
        for image in images:
            assert image.alt and media_name(image.src) in spec.media


def test_sources_file_lists_the_references(spec):
    text = (COURSE / "SOURCES.md").read_text()
    for key in {k for m in spec.modules for q in m.questions for k in cited_source_keys(q.data["source"])}:
        assert re.search(rf"\b{key}\b", text), key
