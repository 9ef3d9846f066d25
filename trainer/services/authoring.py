"""Authoring in the browser: module content, quiz settings, and questions saved as draft versions.

Every write checks `can_author`, runs one transaction and records an `author.*` audit event.
Saving a question never changes a version: it adds a draft (or nothing, when the content is
the newest version's), and publishing makes the newest draft the version new attempts draw.
Past attempts point at the version ids they showed, so nothing here can change them.

The checks are the ones `flask banks validate` runs (trainer/banks/course_folder.py), called
with one line number per form field so that each message lands next to the field it concerns.
The quiz preview reads and grades in memory only: it never adds, changes or audits a row.
"""
from __future__ import annotations

import difflib
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from trainer import clock
from trainer.banks.course_folder import _check_markdown, _check_questions, _check_quiz, _Checker
from trainer.banks.publish_rules import publish_problems
from trainer.banks.records import BankProblem, ParsedQuestion
from trainer.banks.yaml_bank import write_bank
from trainer.extensions import db
from trainer.models import CourseMedia, Module, Question, QuestionVersion, User
from trainer.quiz.drawing import Candidate, draw_questions
from trainer.quiz.grading import Grade, grade_attempt
from trainer.quiz.types import InvalidResponse, normalise_question, question_type
from trainer.security import can_author
from trainer.services import Forbidden, NotFound, ServiceError
from trainer.services.attempts import current_versions
from trainer.services.audit import record_event
from trainer.services.catalog import QUIZ_FIELDS, content_hash

#: Every key a question may have, in the order the editor shows them.
QUESTION_FIELDS = ("id", "type", "stem", "choices", "scoring", "answer", "pairs", "order", "answers", "explanation",
                   "feedback", "source", "tags", "difficulty", "critical")
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


def _by_field(problems: list[BankProblem], fields: tuple[str, ...]) -> dict[str, list[str]]:
    """Undo the one-line-per-field numbering: line N is fields[N-1]; anything else is general."""
    result: dict[str, list[str]] = {}
    for problem in problems:
        name = fields[problem.line - 1] if 1 <= problem.line <= len(fields) else GENERAL
        result.setdefault(name, []).append(problem.message)
    return result


def _field_lines(fields: tuple[str, ...]) -> dict[str, int]:
    return {name: number for number, name in enumerate(fields, start=1)}


def newest_version(question: Question) -> QuestionVersion | None:
    return db.session.scalar(select(QuestionVersion).where(QuestionVersion.question_id == question.id)
                             .order_by(QuestionVersion.number.desc()).limit(1))


def newest_versions(module: Module) -> list[tuple[Question, QuestionVersion]]:
    """The module's non-retired questions with their newest version, draft or published (one query)."""
    newest = (select(QuestionVersion.question_id, func.max(QuestionVersion.number).label("number"))
              .group_by(QuestionVersion.question_id).subquery())
    rows = db.session.execute(
        select(Question, QuestionVersion)
        .join(newest, newest.c.question_id == Question.id)
        .join(QuestionVersion,
              (QuestionVersion.question_id == Question.id) & (QuestionVersion.number == newest.c.number))
        .where(Question.module_id == module.id, Question.retired.is_(False))
        .order_by(Question.position, Question.id)
    ).all()
    return [(q, v) for q, v in rows]


def _draw_shortfalls(draw: int, draw_by_tag: Mapping[str, int], contents: list[dict]) -> dict[str, str]:
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


def _refuse_if_quiz_breaks(module: Module, replace: dict[int, dict | None], what: str) -> None:
    """Refuse a change that would leave the quiz unable to draw what it asks for (when it still could)."""
    pool = {q.id: v.content for q, v in current_versions(module)}
    before = _draw_shortfalls(module.draw, module.draw_by_tag or {}, list(pool.values()))
    for question_id, content in replace.items():
        if content is None:
            pool.pop(question_id, None)
        else:
            pool[question_id] = content
    after = _draw_shortfalls(module.draw, module.draw_by_tag or {}, list(pool.values()))
    new = [message for key, message in after.items() if key not in before]
    if new:
        _refuse(ServiceError(f"{what} would leave the quiz short ({'; '.join(new)}). "
                             "Change the quiz settings first, or add and publish another question."))


# --- module content -----------------------------------------------------------------------------

def module_content_problems(module: Module, content_md: str) -> list[str]:
    """What `flask banks validate` says about this Markdown: raw HTML, unsafe links, missing images."""
    checker = _Checker(Path("."))
    media = dict.fromkeys(db.session.scalars(select(CourseMedia.name).where(CourseMedia.course_id == module.course_id)))
    _check_markdown(checker, Path("content"), content_md, media)
    return [f"line {p.line}: {p.message}" for p in checker.problems]


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

def quiz_settings_problems(module: Module, settings: Mapping[str, Any]) -> dict[str, list[str]]:
    """The course.yaml quiz rules, plus: the published, non-retired questions can give what the quiz draws."""
    checker = _Checker(Path("."))
    quiz = _check_quiz(checker, Path("quiz"), dict(settings), _field_lines(QUIZ_FIELDS), 0)
    problems = _by_field(checker.problems, QUIZ_FIELDS)
    if quiz is None:
        return problems
    if sum(quiz.draw_by_tag.values()) > quiz.draw:
        problems.setdefault("draw_by_tag", []).append("draw_by_tag asks for more questions than the quiz draws")
    contents = [v.content for _, v in current_versions(module)]
    for key, message in _draw_shortfalls(quiz.draw, quiz.draw_by_tag, contents).items():
        problems.setdefault(key.split(":", 1)[0], []).append(message)
    return problems


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

def question_problems(module: Module, data: Mapping, question: Question | None = None) -> dict[str, list[str]]:
    """The messages `flask banks validate` gives for this question, keyed by the field they concern.

    `question` is the one being edited (None when adding one, which also checks that the id is free).
    """
    checker = _Checker(Path("."))
    parsed = ParsedQuestion(dict(data), 0, "", _field_lines(QUESTION_FIELDS))
    _check_questions(checker, [parsed], module.course.sources or None)
    problems = _by_field(checker.problems, QUESTION_FIELDS)
    key = data.get("id")
    if question is None and isinstance(key, str):
        taken = db.session.scalar(select(Question).where(Question.course_id == module.course_id, Question.key == key))
        if taken is not None:
            problems.setdefault("id", []).append(
                f"duplicate id '{key}' (already used in the module '{taken.module.title}')")
    elif question is not None and key != question.key:
        problems.setdefault("id", []).append("the id of a saved question cannot change")
    return problems


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
        _refuse(EditConflict(
            "Someone saved this question at the same moment; nothing was saved. Reload and try again."))
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


# --- the review queue: drafts waiting to be completed and published ------------------------------

@dataclass(frozen=True)
class ReviewItem:
    question: Question
    draft: QuestionVersion
    #: What the publishing rules still ask for ("no explanation", "no source"); empty: ready to publish.
    missing: list[str]


def review_queue() -> list[tuple[Module, list[ReviewItem]]]:
    """Every draft waiting to be published, per module, with what it still lacks (two queries)."""
    newest = (select(QuestionVersion.question_id, func.max(QuestionVersion.number).label("number"))
              .group_by(QuestionVersion.question_id).subquery())
    rows = db.session.execute(
        select(Question, QuestionVersion, Module)
        .join(newest, newest.c.question_id == Question.id)
        .join(QuestionVersion,
              (QuestionVersion.question_id == Question.id) & (QuestionVersion.number == newest.c.number))
        .join(Module, Module.id == Question.module_id)
        .where(QuestionVersion.published_dt.is_(None), Question.retired.is_(False), Module.retired.is_(False))
        .order_by(Module.course_id, Module.position, Question.position, Question.id)
        .options(selectinload(Module.course))
    ).all()
    queue: dict[int, tuple[Module, list[ReviewItem]]] = {}
    for question, draft, module in rows:
        missing = [p.message for p in publish_problems(draft.content, module.course.sources or None)]
        queue.setdefault(module.id, (module, []))[1].append(ReviewItem(question, draft, missing))
    return list(queue.values())


# --- reading: the module's questions and version history -----------------------------------------

@dataclass(frozen=True)
class QuestionRow:
    question: Question
    newest: QuestionVersion
    #: The version new attempts draw; None while only drafts exist.
    published: QuestionVersion | None

    @property
    def has_draft(self) -> bool:
        return self.newest.published_dt is None


def module_questions(module: Module) -> list[QuestionRow]:
    """Every question of the module (retired ones last) with its newest and its published version."""
    questions = list(db.session.scalars(select(Question).where(Question.module_id == module.id)
                                        .order_by(Question.retired, Question.position, Question.id)))
    ids = [q.id for q in questions]
    if not ids:
        return []

    def newest_by_question(published_only: bool) -> dict[int, QuestionVersion]:
        newest = select(QuestionVersion.question_id, func.max(QuestionVersion.number).label("number")) \
            .where(QuestionVersion.question_id.in_(ids))
        if published_only:
            newest = newest.where(QuestionVersion.published_dt.is_not(None))
        numbers = newest.group_by(QuestionVersion.question_id).subquery()
        return {v.question_id: v for v in db.session.scalars(select(QuestionVersion).join(
            numbers,
            (numbers.c.question_id == QuestionVersion.question_id) & (numbers.c.number == QuestionVersion.number)))}

    newest, published = newest_by_question(False), newest_by_question(True)
    return [QuestionRow(q, newest[q.id], published.get(q.id)) for q in questions if q.id in newest]


def content_yaml(content: Mapping) -> str:
    """The question as it would be exported to a bank file (the lines the history compares)."""
    text = write_bank([dict(content)])
    # Keep the question only: drop the bank header and the list item's "- " and indent.
    lines = text.split("questions:\n", 1)[-1].splitlines()
    return "\n".join(line[2:] if line.startswith(("- ", "  ")) else line for line in lines) + "\n"


def content_diff(old: Mapping | None, new: Mapping) -> list[str]:
    """Unified-diff lines from one version's content to the next (plain text; templates escape it)."""
    before = content_yaml(old).splitlines() if old is not None else []
    return list(difflib.unified_diff(before, content_yaml(new).splitlines(), "before", "after", lineterm="", n=2))


@dataclass
class HistoryEntry:
    version: QuestionVersion
    #: Who saved it; None for a version imported from a file.
    author: User | None
    #: The change from the previous version (empty for the first version).
    diff: list[str] = field(default_factory=list)
    yaml: str = ""

    @property
    def is_draft(self) -> bool:
        return self.version.published_dt is None


def version_history(question: Question) -> list[HistoryEntry]:
    """Every version of the question, newest first, each with its diff from the one before."""
    versions = list(db.session.scalars(select(QuestionVersion).where(QuestionVersion.question_id == question.id)
                                       .order_by(QuestionVersion.number)))
    author_ids = {v.author_id for v in versions if v.author_id is not None}
    authors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(author_ids)))} if author_ids else {}
    entries, previous = [], None
    for version in versions:
        entries.append(HistoryEntry(version, authors.get(version.author_id) if version.author_id else None,
                                    content_diff(previous, version.content) if previous is not None else [],
                                    content_yaml(version.content)))
        previous = version.content
    return list(reversed(entries))


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
    notes = list(_draw_shortfalls(module.draw, module.draw_by_tag or {}, contents).values())
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
