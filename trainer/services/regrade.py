"""Regrading a module's past attempts against the current versions of their questions.

Invariant: an attempt keeps the versions it showed; a regrade is an explicit, audited action
with a dry run first, and every replaced result is kept in GradeHistory.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from trainer import clock
from trainer.extensions import db
from trainer.models import Attempt, AttemptQuestion, GradeHistory, Module, Question, QuestionVersion
from trainer.models.attempts import SUBMITTED
from trainer.quiz.grading import grade_attempt
from trainer.security import can_regrade, is_operator
from trainer.services import Forbidden
from trainer.services.audit import record_event
from trainer.services.catalog import newest_versions_by_question
from trainer.services.certificates import issue_certificate_if_complete, lock_certification

#: Keys whose length must not change for a saved response (indices) to mean the same thing.
_SHAPE_KEYS = ("choices", "pairs", "order")


@dataclass(frozen=True)
class RegradeChange:
    attempt_id: int
    person: str
    attempt_number: int
    old_score: float
    new_score: float
    old_passed: bool
    new_passed: bool


@dataclass
class RegradeReport:
    changes: list[RegradeChange] = field(default_factory=list)
    unchanged: int = 0
    #: (attempt id, question key, why it kept its old grading)
    kept: list[tuple[int, str, str]] = field(default_factory=list)


def _same_shape(old: dict, new: dict) -> bool:
    if old["type"] != new["type"]:
        return False
    return all(len(old.get(k) or []) == len(new.get(k) or []) for k in _SHAPE_KEYS)


def _latest_versions(module: Module) -> dict[int, QuestionVersion]:
    return newest_versions_by_question(
        QuestionVersion.question_id.in_(select(Question.id).where(Question.module_id == module.id)),
        published_only=True)


def regrade_module(actor, module: Module, *, dry_run: bool) -> RegradeReport:
    """Grade every submitted attempt of the module against current versions; apply unless dry_run."""
    if not (is_operator(actor) or can_regrade(actor)):
        raise Forbidden("Only trainers and admins can regrade attempts.")
    latest = _latest_versions(module)
    attempts = db.session.scalars(
        select(Attempt).where(Attempt.module_id == module.id, Attempt.state == SUBMITTED).order_by(Attempt.id)
        .options(selectinload(Attempt.questions).selectinload(AttemptQuestion.version), selectinload(Attempt.user))
    ).all()
    report = RegradeReport()
    passing = {}
    for attempt in attempts:
        plan = []
        for aq in attempt.questions:
            graded = aq.graded_version or aq.version
            target = latest.get(aq.version.question_id, graded)
            if target.id != graded.id and not _same_shape(graded.content, target.content):
                report.kept.append((attempt.id, graded.content["id"], "its options changed in number or type"))
                target = graded
            plan.append((aq, target))
        grade = grade_attempt([(target.content, aq.response) for aq, target in plan], attempt.pass_percent)
        if grade.score_percent == attempt.score_percent and grade.passed == attempt.passed:
            report.unchanged += 1
            continue
        assert attempt.score_percent is not None and attempt.passed is not None  # submitted attempts are graded
        report.changes.append(RegradeChange(attempt.id, f"{attempt.user.name} <{attempt.user.email}>", attempt.number,
                                            attempt.score_percent, grade.score_percent, attempt.passed, grade.passed))
        if dry_run:
            continue
        db.session.add(GradeHistory(
            attempt_id=attempt.id, score_percent=attempt.score_percent, passed=attempt.passed,
            fractions={str(aq.position): aq.fraction for aq in attempt.questions},
            version_ids={str(aq.position): aq.graded_version_id or aq.question_version_id for aq in attempt.questions},
            replaced_dt=clock.now(), replaced_by_id=getattr(actor, "id", None),
            reason="regrade against current versions"))
        for (aq, target), fraction in zip(plan, grade.fractions, strict=True):
            aq.fraction = fraction
            aq.graded_version_id = None if target.id == aq.question_version_id else target.id
        attempt.score_percent, attempt.passed = grade.score_percent, grade.passed
        attempt.missed_critical = grade.missed_critical
        db.session.flush()
        if grade.passed:
            passing[attempt.user_id] = attempt.user
    if not dry_run:
        # Every lock first, then the issues (each records an audit event, whose lock comes last).
        lock_certification(passing, module.course.id)
        for user in passing.values():
            issue_certificate_if_complete(user, module.course)
        record_event(actor, "attempts.regrade", f"module:{module.course.slug}/{module.slug}",
                     changed=[c.attempt_id for c in report.changes], unchanged=report.unchanged)
        db.session.commit()
    else:
        db.session.rollback()
    return report
