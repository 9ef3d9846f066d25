"""The quiz preview: draw, read and grade in memory only; it never adds, changes or audits a row.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from trainer.extensions import db
from trainer.models import Module, Question, QuestionVersion
from trainer.quiz.drawing import Candidate, draw_questions
from trainer.quiz.grading import Grade, grade_attempt
from trainer.quiz.types import InvalidResponse, question_type
from trainer.services import NotFound
from trainer.services.attempts import current_versions
from trainer.services.authoring.checks import draw_shortfalls
from trainer.services.authoring.reads import newest_versions

# --- quiz preview: read and grade in memory, never write ------------------------------------------

@dataclass(frozen=True)
class PreviewItem:
    position: int
    version: QuestionVersion
    display_order: Any


def draw_preview(module: Module, include_drafts: bool, rng: random.Random) -> tuple[list[PreviewItem], list[str]]:
    """Draw questions the way a new attempt does (drafts too when asked); notes say what falls short."""
    pool = newest_versions(module) if include_drafts else current_versions(module)
    contents = [v.content for _, v in pool]
    notes = list(draw_shortfalls(module.draw, module.draw_by_tag or {}, contents).values())
    by_key = {q.key: v for q, v in pool}
    keys = draw_questions([Candidate(q.key, frozenset(v.content.get("tags") or [])) for q, v in pool],
                          min(module.draw, len(pool)), module.draw_by_tag or {}, rng)
    items = [PreviewItem(position, by_key[key], question_type(by_key[key].content["type"]).display_order(
        by_key[key].content, rng)) for position, key in enumerate(keys, start=1)]
    return items, notes


def load_preview(module: Module, drawn: list[tuple[int, Any]]) -> list[PreviewItem]:
    """The drawn questions again from (version id, display order) pairs; NotFound if one is not the module's."""
    ids = [version_id for version_id, _ in drawn]
    versions = {v.id: v for v in db.session.scalars(
        select(QuestionVersion).join(Question).where(QuestionVersion.id.in_(ids), Question.module_id == module.id)
        .options(selectinload(QuestionVersion.question)))}
    if not drawn or len(versions) != len(set(ids)):
        raise NotFound("These questions are not part of this module's quiz.")
    return [PreviewItem(position, versions[version_id], order)
            for position, (version_id, order) in enumerate(drawn, start=1)]


@dataclass
class PreviewResult:
    grade: Grade | None
    #: Canonical response per position (None = unanswered).
    responses: dict[int, Any]
    #: Why an answer could not be read, per position; when any, there is no grade.
    problems: dict[int, str]


def grade_preview(module: Module, items: list[PreviewItem], form) -> PreviewResult:
    """Read the answers as the attempt page would and grade them; nothing is stored."""
    responses, problems = {}, {}
    for item in items:
        content = item.version.content
        try:
            responses[item.position] = question_type(content["type"]).read_form(
                content, item.display_order, form, f"q{item.position}")
        except InvalidResponse as exc:
            responses[item.position], problems[item.position] = None, str(exc)
    if problems:
        return PreviewResult(None, responses, problems)
    grade = grade_attempt([(item.version.content, responses[item.position]) for item in items], module.pass_percent)
    return PreviewResult(grade, responses, problems)
