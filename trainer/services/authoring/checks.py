"""What keeps a module's content, quiz settings or a question from being saved: the checks
`flask banks validate` runs (trainer/banks/course_folder.py), keyed by the editor field each concerns,
plus the rules that need the database (a free id, enough published questions for the draw).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from trainer.banks.course_folder import check_markdown, check_question, check_quiz_settings
from trainer.extensions import db
from trainer.models import CourseMedia, Module, Question
from trainer.quiz.types import QUESTION_TYPES, FieldProblem
from trainer.services import ServiceError
from trainer.services.attempts import current_versions
from trainer.services.catalog import QUIZ_FIELDS

#: The editor's fields every question has; each type adds its own (QuestionType.editor_fields).
COMMON_FIELDS = ("id", "type", "stem", "explanation", "feedback", "source", "tags", "difficulty", "critical")
#: Problems that concern no single field (shown at the top of the form).
GENERAL = ""


class InvalidInput(ServiceError):
    """The data breaks a rule; nothing was saved. `problems` maps each field to its messages."""

    def __init__(self, problems: dict[str, list[str]],
                 message: str = "Nothing was saved: fix the problems shown next to the fields."):
        super().__init__(message)
        self.problems = problems


class EditConflict(ServiceError):
    """Someone saved a newer version since the form was opened; nothing was saved."""



def _by_field(problems: list[FieldProblem], fields: tuple[str, ...]) -> dict[str, list[str]]:
    """Messages per editor field; a problem about a key the editor has no field for is general."""
    result: dict[str, list[str]] = {}
    for problem in problems:
        result.setdefault(problem.field if problem.field in fields else GENERAL, []).append(problem.message)
    return result


def draw_shortfalls(draw: int, draw_by_tag: Mapping[str, int], contents: list[dict]) -> dict[str, str]:
    """What the draw settings ask for and these questions cannot give, keyed "draw" or "draw_by_tag:<tag>"."""
    shortfalls = {}
    if draw > len(contents):
        shortfalls["draw"] = f"quiz draws {draw} questions but the module has {len(contents)} published questions"
    counts = Counter(tag for c in contents for tag in (c.get("tags") or []) if isinstance(tag, str))
    for tag, minimum in sorted(draw_by_tag.items()):
        if counts[tag] < minimum:
            shortfalls[f"draw_by_tag:{tag}"] = (f"draw_by_tag asks for {minimum} '{tag}' questions but the module "
                                                f"has {counts[tag]} published")
    return shortfalls



def module_content_problems(module: Module, content_md: str) -> list[str]:
    """What `flask banks validate` says about this Markdown: raw HTML, unsafe links, missing images."""
    media = set(db.session.scalars(select(CourseMedia.name).where(CourseMedia.course_id == module.course_id)))
    return [f"line {p.line}: {p.message}" for p in check_markdown(content_md, media)]



def quiz_settings_problems(module: Module, settings: Mapping[str, Any]) -> dict[str, list[str]]:
    """The course.yaml quiz rules, plus: the published, non-retired questions can give what the quiz draws."""
    quiz, found = check_quiz_settings(dict(settings))
    problems = _by_field(found, QUIZ_FIELDS)
    if quiz is None:
        return problems
    if sum(quiz.draw_by_tag.values()) > quiz.draw:
        problems.setdefault("draw_by_tag", []).append("draw_by_tag asks for more questions than the quiz draws")
    contents = [v.content for _, v in current_versions(module)]
    for key, message in draw_shortfalls(quiz.draw, quiz.draw_by_tag, contents).items():
        problems.setdefault(key.split(":", 1)[0], []).append(message)
    return problems



def question_problems(module: Module, data: Mapping, question: Question | None = None) -> dict[str, list[str]]:
    """The messages `flask banks validate` gives for this question, keyed by the field they concern.

    `question` is the one being edited (None when adding one, which also checks that the id is free).
    """
    kind = data.get("type")
    qtype = QUESTION_TYPES.get(kind) if isinstance(kind, str) else None
    fields = COMMON_FIELDS + tuple(f.key for f in qtype.editor_fields) if qtype else COMMON_FIELDS
    problems = _by_field(check_question(dict(data), module.course.sources or None), fields)
    key = data.get("id")
    if question is None and isinstance(key, str):
        taken = db.session.scalar(select(Question).where(Question.course_id == module.course_id, Question.key == key))
        if taken is not None:
            problems.setdefault("id", []).append(
                f"duplicate id '{key}' (already used in the module '{taken.module.title}')")
    elif question is not None and key != question.key:
        problems.setdefault("id", []).append("the id of a saved question cannot change")
    return problems
