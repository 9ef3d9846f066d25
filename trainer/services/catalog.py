"""Importing courses: all-or-nothing, and a changed question becomes a new version."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import select

from trainer.banks.course_folder import CourseSpec
from trainer import clock
from trainer.extensions import db
from trainer.quiz.types import normalise_question
from trainer.models import Course, CourseMedia, Module, Question, QuestionVersion
from trainer.services.audit import record_event


def content_hash(question: dict) -> str:
    """A stable fingerprint of a question's content (key order does not matter)."""
    return hashlib.sha256(json.dumps(question, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass
class ImportReport:
    course_slug: str
    course_created: bool = False
    questions_added: int = 0
    questions_changed: int = 0
    questions_unchanged: int = 0
    questions_retired: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verb = "created" if self.course_created else "updated"
        text = (f"{self.course_slug}: {verb}; {self.questions_added} new questions, "
                f"{self.questions_changed} new versions, {self.questions_unchanged} unchanged")
        if self.questions_retired:
            text += f", {len(self.questions_retired)} retired (no longer in the bank)"
        return text


def apply_question(module: Module, data: dict, position: int, report: ImportReport,
                   questions: dict | None = None, latest: dict | None = None, publish: bool = True) -> None:
    """Create the question or, when its content changed, add a version; counts go into report.

    With `publish=False` the new version is a draft that needs review: never drawn until published."""
    data = normalise_question(data)
    if questions is None:
        questions = {q.key: q for q in db.session.scalars(select(Question).where(Question.course_id == module.course_id))}
    question = questions.get(data["id"])
    if question is None:
        question = Question(course_id=module.course_id, key=data["id"], module_id=module.id, position=position)
        db.session.add(question)
        db.session.flush()
        questions[data["id"]] = question
        report.questions_added += 1
    else:
        question.module_id, question.position, question.retired = module.id, position, False
    if latest is not None:
        current = latest.get(question.id)
    else:
        current = db.session.scalar(select(QuestionVersion).where(QuestionVersion.question_id == question.id)
                                    .order_by(QuestionVersion.number.desc()).limit(1))
    digest = content_hash(data)
    if current is not None and current.content_hash == digest:
        if current.published_dt is None and publish:  # the file matches a draft: publishing it is the change
            current.published_dt = clock.now()
            report.questions_changed += 1
        else:
            report.questions_unchanged += 1
        return
    if current is not None:
        report.questions_changed += 1
    version = QuestionVersion(question_id=question.id, number=(current.number + 1) if current else 1,
                              content=data, content_hash=digest, published_dt=clock.now() if publish else None)
    db.session.add(version)
    if latest is not None:
        latest[question.id] = version


def _apply_course(spec: CourseSpec) -> ImportReport:
    course = db.session.scalar(select(Course).where(Course.slug == spec.slug))
    report = ImportReport(spec.slug, course_created=course is None)
    if course is None:
        course = Course(slug=spec.slug)
        db.session.add(course)
    course.title, course.summary, course.sources = spec.title, spec.summary, spec.sources
    course.valid_for_days, course.renewal_window_days = spec.valid_for_days, spec.renewal_window_days
    db.session.flush()

    modules = {m.slug: m for m in db.session.scalars(select(Module).where(Module.course_id == course.id))}
    questions = {q.key: q for q in db.session.scalars(select(Question).where(Question.course_id == course.id))}
    latest = {
        v.question_id: v for v in db.session.scalars(
            select(QuestionVersion).join(Question).where(Question.course_id == course.id)
            .order_by(QuestionVersion.number)
        )
    }
    # Park existing modules at positions past the end so re-ordering never collides.
    for offset, module in enumerate(modules.values(), start=1):
        module.position, module.retired = 1000 + offset, True
    in_bank = set()
    for position, mspec in enumerate(spec.modules, start=1):
        module = modules.get(mspec.slug)
        if module is None:
            module = Module(course_id=course.id, slug=mspec.slug)
            db.session.add(module)
        module.position, module.title, module.content_md = position, mspec.title, mspec.content_md
        module.retired = False
        quiz = mspec.quiz
        module.draw, module.draw_by_tag, module.pass_percent = quiz.draw, quiz.draw_by_tag, quiz.pass_percent
        module.time_limit_minutes = quiz.time_limit_minutes
        module.attempts_before_cooldown, module.cooldown_hours = quiz.attempts_before_cooldown, quiz.cooldown_hours
        module.show_answers = quiz.show_answers
        db.session.flush()
        for qpos, parsed in enumerate(mspec.questions, start=1):
            in_bank.add(parsed.data["id"])
            apply_question(module, parsed.data, qpos, report, questions, latest)
    for key, question in questions.items():
        if key not in in_bank and not question.retired:
            question.retired = True  # never deleted: past attempts still point at its versions
            report.questions_retired.append(key)
    existing_media = {m.name: m for m in db.session.scalars(select(CourseMedia).where(CourseMedia.course_id == course.id))}
    for name, (content_type, data) in spec.media.items():
        media = existing_media.get(name) or CourseMedia(course_id=course.id, name=name)
        media.content_type, media.data = content_type, data
        db.session.add(media)
    return report


def import_courses(actor, specs: list[CourseSpec]) -> list[ImportReport]:
    """Import every course in one transaction: either all of them land or none does."""
    try:
        reports = [_apply_course(spec) for spec in specs]
        for report in reports:
            record_event(actor, "banks.import", f"course:{report.course_slug}", summary=report.summary())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return reports
