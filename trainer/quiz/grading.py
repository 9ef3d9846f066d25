"""Grading an attempt: a pure function of the questions shown and the answers saved."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trainer.quiz.types import question_type


@dataclass(frozen=True)
class Grade:
    fractions: list[float]
    score_percent: float
    passed: bool
    #: Keys of critical questions not fully right; any one of them fails the attempt.
    missed_critical: list[str]


def grade_attempt(items: list[tuple[dict, Any]], pass_percent: int) -> Grade:
    """Score each (question, response) pair; pass needs the pass mark and every critical question right."""
    fractions = [question_type(q["type"]).score(q, response) for q, response in items]
    score = round(100.0 * sum(fractions) / len(fractions), 2) if fractions else 0.0
    missed = [q["id"] for (q, _), f in zip(items, fractions, strict=True) if q.get("critical") and f < 1.0]
    return Grade(fractions, score, score >= pass_percent and not missed, missed)
