"""Authoring writes: module content, quiz settings, and questions saved as draft versions.

Every write checks `can_author`, runs one transaction and records an `author.*` audit event.
Saving a question never changes a version: it adds a draft (or nothing, when the content is
the newest version's), and publishing makes the newest draft the version new attempts draw.
Past attempts point at the version ids they showed, so nothing here can change them.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from trainer import clock
from trainer.banks.publish_rules import publish_problems
from trainer.extensions import db
from trainer.models import Module, Question, QuestionVersion
from trainer.quiz.types import normalise_question
from trainer.security import can_author
from trainer.services import Forbidden, ServiceError
from trainer.services.attempts import current_versions
from trainer.services.audit import record_event
from trainer.services.authoring.checks import (
    EditConflict,
    InvalidInput,
    draw_shortfalls,
    module_content_problems,
    question_problems,
    quiz_settings_problems,
)
from trainer.services.authoring.reads import newest_version
from trainer.services.catalog import QUIZ_FIELDS, content_hash

# --- helpers ------------------------------------------------------------------------------------

def _require_author(actor) -> None:
    if not can_author(actor):
        raise Forbidden("Only trainers and admins can edit courses and question banks.")


def _commit() -> None:
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _refuse(error: ServiceError) -> NoReturn:
    # Release the transaction (and SQLite's write lock) before telling the person why.
    db.session.rollback()
    raise error


def _module_subject(module: Module) -> str:
    return f"module:{module.course.slug}/{module.slug}"


def _question_subject(question: Question) -> str:
    return f"question:{question.module.course.slug}/{question.key}"



def _refuse_if_quiz_breaks(module: Module, replace: dict[int, dict | None], what: str) -> None:
    """Refuse a change that would leave the quiz unable to draw what it asks for (when it still could)."""
    pool = {q.id: v.content for q, v in current_versions(module)}
    before = draw_shortfalls(module.draw, module.draw_by_tag or {}, list(pool.values()))
    for question_id, content in replace.items():
        if content is None:
            pool.pop(question_id, None)
        else:
            pool[question_id] = content
    after = draw_shortfalls(module.draw, module.draw_by_tag or {}, list(pool.values()))
    new = [message for key, message in after.items() if key not in before]
    if new:
        _refuse(ServiceError(f"{what} would leave the quiz short ({'; '.join(new)}). "
                             "Change the quiz settings first, or add and publish another question."))


# --- module content -----------------------------------------------------------------------------

def update_module_content(actor, module: Module, content_md: str) -> bool:
    """Replace the module's Markdown; refuse anything the sanitiser would change. False when unchanged."""
    _require_author(actor)
    problems = module_content_problems(module, content_md)
    if problems:
        _refuse(InvalidInput({"content_md": problems}))
    if content_md == module.content_md:
        db.session.rollback()
        return False
    before = len(module.content_md or "")
    module.content_md = content_md
    record_event(actor, "author.module_content", _module_subject(module), characters_before=before,
                 characters_after=len(content_md))
    _commit()
    return True


# --- quiz settings ------------------------------------------------------------------------------

def update_quiz_settings(actor, module: Module, settings: Mapping[str, Any]) -> bool:
    """Apply the quiz settings (draw, draw_by_tag, pass mark, time limit, retakes). False when unchanged.

    Attempts already started keep their own pass mark and deadline (copied at start).
    """
    _require_author(actor)
    problems = quiz_settings_problems(module, settings)
    if problems:
        _refuse(InvalidInput(problems))
    changes = {}
    for key in QUIZ_FIELDS:
        old, new = getattr(module, key), settings[key]
        if old != new:
            changes[key] = [old, new]
            setattr(module, key, new)
    if not changes:
        db.session.rollback()
        return False
    record_event(actor, "author.quiz_settings", _module_subject(module), changes=changes)
    _commit()
    return True


# --- questions ----------------------------------------------------------------------------------

def add_question(actor, module: Module, data: Mapping) -> Question:
    """Add a question at the end of the module with a draft version 1 (not drawn until published)."""
    _require_author(actor)
    data = normalise_question(data)
    problems = question_problems(module, data)
    if problems:
        _refuse(InvalidInput(problems))
    position = (db.session.scalar(select(func.max(Question.position)).where(Question.module_id == module.id)) or 0) + 1
    question = Question(course_id=module.course_id, module_id=module.id, key=data["id"], position=position)
    try:
        db.session.add(question)
        db.session.flush()
        db.session.add(QuestionVersion(question_id=question.id, number=1, content=data, content_hash=content_hash(data),
                                       published_dt=None, author_id=actor.id, origin="browser"))
        record_event(actor, "author.question_add", _question_subject(question), version=1, type=data["type"])
        db.session.commit()
    except IntegrityError:
        _refuse(InvalidInput({"id": [f"duplicate id '{data['id']}' (someone added it a moment ago)"]}))
    return question


def save_question(actor, question: Question, data: Mapping, based_on: int | None = None) -> QuestionVersion | None:
    """Save the edited question as a new draft version; None when it equals the newest version.

    `based_on` is the version number the editor started from: if someone has saved a newer
    version since, nothing is saved (EditConflict) rather than silently replacing their work.
    """
    _require_author(actor)
    data = normalise_question(data)
    problems = question_problems(question.module, data, question)
    if problems:
        _refuse(InvalidInput(problems))
    newest = newest_version(question)
    digest = content_hash(data)
    if newest is not None and newest.content_hash == digest:
        db.session.rollback()
        return None
    if newest is not None and based_on is not None and newest.number != based_on:
        _refuse(EditConflict(f"Version {newest.number} was saved after you opened version {based_on}; nothing was "
                             "saved. Your text is kept below: compare it with the history, then save again."))
    number = (newest.number + 1) if newest else 1
    version = QuestionVersion(question_id=question.id, number=number, content=data, content_hash=digest,
                              published_dt=None, author_id=actor.id, origin="browser")
    try:
        db.session.add(version)
        record_event(actor, "author.question_save", _question_subject(question), version=number)
        db.session.commit()
    except IntegrityError:
        _refuse(EditConflict("Someone saved this question at the same moment; nothing was saved. "
                             "Reload and try again."))
    return version


def publish_question(actor, question: Question, number: int | None = None) -> QuestionVersion:
    """Make the newest draft the version new attempts draw (`number`: the draft the trainer looked at)."""
    _require_author(actor)
    newest = newest_version(question)
    if newest is None or newest.published_dt is not None:
        _refuse(ServiceError("There is no draft to publish: the newest version is already published."))
    if number is not None and newest.number != number:
        _refuse(EditConflict(f"Version {newest.number} was saved after the version {number} you meant to publish; "
                             "nothing was published. Look at the history, then publish again."))
    missing = publish_problems(newest.content, question.module.course.sources or None)
    if missing:
        _refuse(ServiceError(f"Version {newest.number} needs review before it can be published: "
                             f"{'; '.join(p.message for p in missing)}. Complete it in the editor, then publish."))
    if not question.retired:
        _refuse_if_quiz_breaks(question.module, {question.id: newest.content}, f"Publishing version {newest.number}")
    newest.published_dt = clock.now()
    record_event(actor, "author.question_publish", _question_subject(question), version=newest.number)
    _commit()
    return newest


def set_retired(actor, question: Question, retired: bool) -> bool:
    """Retire a question (no longer drawn; versions and answers kept) or bring it back. False when unchanged."""
    _require_author(actor)
    if question.retired == retired:
        db.session.rollback()
        return False
    if retired:
        _refuse_if_quiz_breaks(question.module, {question.id: None}, "Retiring this question")
    else:
        # Back at the end of the list, so it never lands on top of an active question's position.
        question.position = (db.session.scalar(
            select(func.max(Question.position)).where(Question.module_id == question.module_id)) or 0) + 1
    question.retired = retired
    record_event(actor, "author.question_retire" if retired else "author.question_unretire",
                 _question_subject(question))
    _commit()
    return True


def move_question(actor, question: Question, direction: str) -> bool:
    """Swap the question with its neighbour ("up" or "down") among the module's active questions."""
    _require_author(actor)
    if direction not in ("up", "down"):
        _refuse(ServiceError("Move a question up or down."))
    if question.retired:
        _refuse(ServiceError("Bring the question back before moving it."))
    questions = list(db.session.scalars(select(Question).where(Question.module_id == question.module_id)
                                        .order_by(Question.position, Question.id)))
    active = [q for q in questions if not q.retired]
    index = active.index(question)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(active):
        db.session.rollback()
        return False
    active[index], active[other] = active[other], active[index]
    # Renumber the whole list: imports can leave equal positions behind, and a swap must be visible.
    for position, q in enumerate(active + [q for q in questions if q.retired], start=1):
        q.position = position
    record_event(actor, "author.question_move", _question_subject(question), direction=direction,
                 position=question.position)
    _commit()
    return True
