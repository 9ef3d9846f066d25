"""What a question needs before learners may see it: the one place these rules live.

`flask banks validate` (course folders), the bank-file import (GIFT, CSV, Moodle XML), the
browser editor's Publish button and every other publishing path call `publish_problems`.
A question that can be graded but breaks one of these rules may be kept as a draft ("needs
review"); it is never drawn until a trainer completes and publishes it.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from trainer.quiz.types import FieldProblem
from trainer.rendering import markdown_problems

#: Source tiers a question's answer may rest on.
SOURCE_TIERS_FOR_KEYS = ("A", "B")


def cited_source_keys(source: str) -> list[str]:
    """The source keys a question's `source` names ("S14, S15" -> ["S14", "S15"])."""
    return [part.strip() for part in re.split(r"[,;]", source or "") if part.strip()]


def _texts(question: Mapping):
    """The question's texts that are rendered as Markdown (choices and their feedback are shown as plain text)."""
    for key in ("stem", "explanation", "feedback"):
        if isinstance(question.get(key), str):
            yield key, key, question[key]


def publish_problems(question: Mapping, sources: Mapping | None) -> list[FieldProblem]:
    """What keeps this (well-formed) question from being published in a course with these `sources`.

    `sources` is the course's list ({key: {"citation", "tier"}}); when the course lists none, a
    source is optional. Messages are short ("no explanation") so an import report can list them.
    """
    problems = []
    explanation = question.get("explanation")
    if not (isinstance(explanation, str) and explanation.strip()):
        problems.append(FieldProblem("explanation", "no explanation"))
    source = question.get("source")
    if sources:
        keys = cited_source_keys(source) if isinstance(source, str) else []
        unknown = [k for k in keys if k not in sources]
        if not keys:
            problems.append(FieldProblem("source", "no source"))
        elif unknown:
            problems.append(FieldProblem("source",
                                         f"source {', '.join(unknown)} is not listed in course.yaml 'sources'"))
        elif not any(sources[k].get("tier") in SOURCE_TIERS_FOR_KEYS for k in keys):
            problems.append(FieldProblem("source", "a question's answer must rest on a tier A or B source"))
    for field, label, text in _texts(question):
        for problem in markdown_problems(text):
            problems.append(FieldProblem(field, f"{label}: {problem.message}"))
    return problems
