"""Importing courses: all-or-nothing; a changed question becomes a new version; files never overwrite browser work."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Row, Select, Subquery, bindparam, func, select
from sqlalchemy.orm import contains_eager

from trainer import clock
from trainer.banks.course_folder import CourseSpec, ModuleSpec
from trainer.banks.records import ParsedQuestion
from trainer.extensions import db
from trainer.models import Course, CourseMedia, Module, Question, QuestionVersion
from trainer.quiz.types import normalise_question
from trainer.security import can_author, is_operator
from trainer.services import Forbidden
from trainer.services.audit import record_event


def content_hash(question: dict | str) -> str:
    """A stable fingerprint of JSON content: a question, a module's Markdown or quiz settings
    (key order does not matter)."""
    return hashlib.sha256(json.dumps(question, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


#: Where a question version came from (QuestionVersion.origin).
ORIGINS = ("folder", "browser", "upload")
_ORIGIN_WORDS = {"browser": "edited in the browser", "upload": "changed by an uploaded file",
                 "folder": "changed by another course folder"}


@dataclass(frozen=True)
class Conflict:
    """A file change that met a newer version made elsewhere; the import kept that version."""

    path: str
    line: int
    key: str
    origin: str
    edited_dt: datetime
    #: The question was removed from the file (rather than changed in it).
    removed: bool = False

    def __str__(self) -> str:
        verb = "retire" if self.removed else "replace"
        return (f"{self.path}:{self.line}: question {self.key} was {_ORIGIN_WORDS[self.origin]} on "
                f"{self.edited_dt.date().isoformat()}; kept that version; use --prefer-files to {verb} it")


@dataclass(frozen=True)
class ModuleConflict:
    """A changed module content file or quiz setting that met a newer edit in the studio; the edit was kept."""

    path: str
    line: int
    slug: str
    #: "content" (the Markdown) or "quiz" (the quiz settings in course.yaml).
    part: str

    def __str__(self) -> str:
        what = "content was" if self.part == "content" else "quiz settings were"
        return (f"{self.path}:{self.line}: module {self.slug}'s {what} edited in the studio since the last import; "
                f"kept that version; use --prefer-files to replace it")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass
class ImportReport:
    """What one course's import did, for the command line, the studio's message and the audit trail."""

    course_slug: str
    course_created: bool = False
    questions_added: int = 0
    questions_changed: int = 0
    questions_unchanged: int = 0
    questions_retired: list[str] = field(default_factory=list)
    #: Retired questions that are back in their course folder.
    questions_restored: int = 0
    #: "slug content" / "slug quiz" for each module part this import changed.
    modules_updated: list[str] = field(default_factory=list)
    conflicts: list[Conflict | ModuleConflict] = field(default_factory=list)
    #: Keys of the questions this import added, versioned, retired or brought back.
    changed_keys: set[str] = field(default_factory=set)

    def summary(self) -> str:
        verb = "created" if self.course_created else "updated"
        text = (f"{self.course_slug}: {verb}; {self.questions_added} new questions, "
                f"{self.questions_changed} new versions, {self.questions_unchanged} unchanged")
        if self.questions_restored:
            text += f", {self.questions_restored} back in the bank"
        if self.questions_retired:
            text += f", {len(self.questions_retired)} retired (no longer in the bank)"
        if self.modules_updated:
            text += f", module content or quiz settings changed ({', '.join(self.modules_updated)})"
        if self.conflicts:
            text += f", {_plural(len(self.conflicts), 'conflict')} kept"
        return text


def totals_line(reports: list[ImportReport]) -> str:
    """One line for the whole run, as `make run` prints it: "banks: 0 changed, 2 conflicts kept, see above"."""
    changed = sum(len(r.changed_keys) + len(r.modules_updated) for r in reports)
    conflicts = sum(len(r.conflicts) for r in reports)
    return f"banks: {changed} changed, {_plural(conflicts, 'conflict')} kept" + (", see above" if conflicts else "")


# Built once: every learner's module page and start runs it (see _STANDING in services/attempts.py).
_ACTIVE_MODULE = (select(Module).join(Course).where(
    Course.slug == bindparam("course_slug"), Module.slug == bindparam("module_slug"), Module.retired.is_(False))
    .options(contains_eager(Module.course)))  # the module pages show the course: no second query


def find_active_module(course_slug: str, module_slug: str) -> Module | None:
    """The module at this address, unless it was retired."""
    return db.session.scalar(_ACTIVE_MODULE, {"course_slug": course_slug, "module_slug": module_slug})


def find_course_media(course_slug: str, name: str) -> CourseMedia | None:
    return db.session.scalar(select(CourseMedia).join(Course, Course.id == CourseMedia.course_id)
                             .where(Course.slug == course_slug, CourseMedia.name == name))


def newest_version_numbers(*conditions: ColumnElement[bool], published_only: bool) -> Subquery:
    """(question_id, number) of each question's newest version. `published_only`: the newest published one,
    which new attempts draw and regrades grade against (a newer draft waits for review); otherwise the newest
    of any state, which authors edit. `conditions` on QuestionVersion narrow it."""
    if published_only:
        conditions = (QuestionVersion.published_dt.is_not(None), *conditions)
    return (select(QuestionVersion.question_id, func.max(QuestionVersion.number).label("number"))
            .where(*conditions).group_by(QuestionVersion.question_id).subquery())


def newest_versions_by_question(*conditions: ColumnElement[bool], published_only: bool) -> dict[int, QuestionVersion]:
    """question id -> its newest version (one query); the arguments as for `newest_version_numbers`."""
    newest = newest_version_numbers(*conditions, published_only=published_only)
    return {v.question_id: v for v in db.session.scalars(select(QuestionVersion).join(
        newest, (newest.c.question_id == QuestionVersion.question_id) & (newest.c.number == QuestionVersion.number)))}


def _module_newest_versions(module_id, published_only: bool, *columns) -> Select:
    """SELECT `columns` of the module's non-retired questions in bank order, joined to each one's newest
    version; those without a published version are left out when `published_only`."""
    newest = newest_version_numbers(published_only=published_only)
    return (select(*columns)
            .select_from(Question)
            .join(newest, newest.c.question_id == Question.id)
            .join(QuestionVersion,
                  (QuestionVersion.question_id == Question.id) & (QuestionVersion.number == newest.c.number))
            .where(Question.module_id == module_id, Question.retired.is_(False))
            .order_by(Question.position, Question.id))


def module_questions_with_newest_version(module: Module, *, published_only: bool
                                          ) -> list[tuple[Question, QuestionVersion]]:
    """The module's non-retired questions in bank order, each with its newest version (one query); those
    without a published version are left out when `published_only`."""
    rows = db.session.execute(_module_newest_versions(module.id, published_only, Question, QuestionVersion)).all()
    return [(q, v) for q, v in rows]


_DRAWABLE_VERSIONS = _module_newest_versions(bindparam("module_id"), True, Question.key,
                                             QuestionVersion.id.label("version_id"), QuestionVersion.content_hash)


def module_drawable_versions(module_id: int) -> list[Row]:
    """(key, version_id, content_hash) of what a new attempt draws from, as plain rows: no objects to build,
    the content comes from the version cache (the start of an attempt is the exam's rush hour), and the
    statement is built once."""
    return list(db.session.execute(_DRAWABLE_VERSIONS, {"module_id": module_id}).all())


def apply_question(module: Module, data: dict, position: int, report: ImportReport,
                   questions: dict | None = None, latest: dict | None = None, origin: str = "upload",
                   publish: bool = True) -> Question:
    """Create the question or, when its content changed, add a version from `origin`; counts go into report.

    The content given wins: this is for imports a trainer asks for (an upload), and for course
    folder changes that `_import_from_folder` has already found to be safe. With `publish=False`
    the new version is a draft that needs review: never drawn until published.
    """
    data = normalise_question(data)
    if questions is None:
        questions = {q.key: q
                     for q in db.session.scalars(select(Question).where(Question.course_id == module.course_id))}
    question = questions.get(data["id"])
    if question is None:
        question = Question(course_id=module.course_id, key=data["id"], module_id=module.id, position=position)
        db.session.add(question)
        db.session.flush()
        questions[data["id"]] = question
        report.questions_added += 1
        report.changed_keys.add(question.key)
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
            report.changed_keys.add(question.key)
        else:
            report.questions_unchanged += 1
        return question
    if current is not None:
        report.questions_changed += 1
        report.changed_keys.add(question.key)
    version = QuestionVersion(question_id=question.id, number=(current.number + 1) if current else 1,
                              content=data, content_hash=digest, published_dt=clock.now() if publish else None,
                              origin=origin)
    db.session.add(version)
    if latest is not None:
        latest[question.id] = version
    return question


def _made_elsewhere(question: Question, digest: str) -> bool:
    """Whether a browser edit or an upload already made exactly this content (an exported folder catching up)."""
    return db.session.scalar(select(QuestionVersion.id).where(
        QuestionVersion.question_id == question.id, QuestionVersion.content_hash == digest,
        QuestionVersion.origin != "folder").limit(1)) is not None


def _is_the_files_own(question: Question, current: QuestionVersion | None) -> bool:
    """Whether the newest version is still what the course folder last gave (nobody changed it since)."""
    if current is None:
        return True
    if question.file_hash is None:
        return current.origin == "folder"
    return current.content_hash == question.file_hash


def _import_from_folder(module: Module, parsed: ParsedQuestion, position: int, report: ImportReport,
                        questions: dict, latest: dict, prefer_files: bool) -> None:
    """The provenance rule: a course folder changes only what came from files.

    - The file holds what it held at the last import: nothing to do, whatever was done since
      in the browser (edits, retiring, reordering) stays.
    - The file changed and the newest version is still the file's own (or equals the file):
      the file's content becomes the newest version.
    - The file changed but a newer version was made since in the browser or by an upload: a
      conflict; that version is kept unless `prefer_files`, which adds the file's as a new version.
    """
    data = normalise_question(parsed.data)
    digest = content_hash(data)
    question = questions.get(data["id"])
    if question is not None and question.file_hash == digest:
        if question.module_id != module.id:  # moved to another module's bank: the studio cannot do that
            question.module_id, question.position = module.id, position
            report.changed_keys.add(question.key)
        report.questions_unchanged += 1
        return
    current = latest.get(question.id) if question is not None else None
    if question is not None and current is not None and current.content_hash != digest and not prefer_files \
            and not _is_the_files_own(question, current):
        if _made_elsewhere(question, digest):
            # The file caught up with an earlier browser version (an export); the newer edit stays.
            question.file_hash = digest
            report.questions_unchanged += 1
        else:
            report.conflicts.append(Conflict(parsed.path, parsed.line, question.key,
                                             current.origin, current.created_dt))
        return
    restored = question is not None and question.retired
    question = apply_question(module, data, position, report, questions, latest, origin="folder")
    question.file_hash = digest
    if restored:
        report.questions_restored += 1
        report.changed_keys.add(question.key)


#: A module's quiz settings: given by course.yaml, edited in the studio.
QUIZ_FIELDS = ("draw", "draw_by_tag", "pass_percent", "time_limit_minutes", "attempts_before_cooldown",
               "cooldown_hours", "show_answers")


def _apply_module_files(module: Module, mspec: ModuleSpec, report: ImportReport, origin: str,
                        prefer_files: bool) -> None:
    """The same rule for a module's Markdown and quiz settings, which the studio edits in place.

    A part the folder gives as it did last time is left alone; a changed part replaces what the
    folder gave before, but a newer studio edit is kept (a conflict) unless `prefer_files`.
    """
    exists = module.id is not None
    parts: tuple[tuple[str, str | dict, str | dict | None, tuple[str, int]], ...] = (
        ("content", mspec.content_md, module.content_md if exists else None, mspec.content_at),
        ("quiz", {k: getattr(mspec.quiz, k) for k in QUIZ_FIELDS},
         {k: getattr(module, k) for k in QUIZ_FIELDS} if exists else None, mspec.quiz_at),
    )
    for part, given, current, (path, line) in parts:
        given_hash = content_hash(given)
        file_hash = getattr(module, f"{part}_file_hash")
        if origin == "folder" and file_hash == given_hash:
            continue
        current_hash = None if current is None else content_hash(current)
        if origin == "folder" and not prefer_files and file_hash is not None \
                and current_hash not in (file_hash, given_hash):
            report.conflicts.append(ModuleConflict(path or "course.yaml", line, module.slug, part))
            continue
        if exists and current_hash != given_hash:  # a new module is reported with its course
            report.modules_updated.append(f"{module.slug} {part}")
        if isinstance(given, str):  # the Markdown
            module.content_md = given
        else:
            for key, value in given.items():
                setattr(module, key, value)
        if origin == "folder":
            setattr(module, f"{part}_file_hash", given_hash)


def _bank_path(spec: CourseSpec, module_slug: str) -> str:
    """The bank file a module's questions came from, for a conflict about a removed question."""
    for mspec in sorted(spec.modules, key=lambda m: m.slug != module_slug):
        for parsed in mspec.questions:
            return parsed.path
    return f"{spec.slug}/course.yaml"


def _retire_removed(spec: CourseSpec, questions: dict, latest: dict, in_bank: set[str], report: ImportReport,
                    origin: str, prefer_files: bool) -> None:
    """Retire questions their course folder no longer holds; questions from elsewhere never are."""
    for key, question in questions.items():
        if key in in_bank or question.retired or question.file_hash is None:
            continue
        current = latest[question.id]  # every question has a version
        if origin == "folder" and not prefer_files and not _is_the_files_own(question, current):
            report.conflicts.append(Conflict(_bank_path(spec, question.module.slug), 1, key, current.origin,
                                             current.created_dt, removed=True))
            continue
        question.retired = True  # never deleted: past attempts still point at its versions
        if origin == "folder":
            question.file_hash = None  # put back into the folder later, it returns
        report.questions_retired.append(key)
        report.changed_keys.add(key)


def _apply_course(spec: CourseSpec, origin: str, prefer_files: bool) -> ImportReport:
    course = db.session.scalar(select(Course).where(Course.slug == spec.slug))
    report = ImportReport(spec.slug, course_created=course is None)
    if course is None:
        course = Course(slug=spec.slug)
        db.session.add(course)
    course.title, course.summary, course.sources = spec.title, spec.summary, spec.sources
    course.practical = spec.practical
    course.valid_for_days, course.renewal_window_days = spec.valid_for_days, spec.renewal_window_days
    db.session.flush()

    modules = {m.slug: m for m in db.session.scalars(select(Module).where(Module.course_id == course.id))}
    questions = {q.key: q for q in db.session.scalars(select(Question).where(Question.course_id == course.id))}
    latest = newest_versions_by_question(
        QuestionVersion.question_id.in_(select(Question.id).where(Question.course_id == course.id)),
        published_only=False)
    # Park existing modules at positions past the end so re-ordering never collides.
    for offset, parked in enumerate(modules.values(), start=1):
        parked.position, parked.retired = 1000 + offset, True
    in_bank = set()
    for position, mspec in enumerate(spec.modules, start=1):
        module = modules.get(mspec.slug)
        if module is None:
            module = Module(course_id=course.id, slug=mspec.slug)
            db.session.add(module)
        module.position, module.title, module.retired = position, mspec.title, False
        _apply_module_files(module, mspec, report, origin, prefer_files)
        db.session.flush()
        for qpos, parsed in enumerate(mspec.questions, start=1):
            in_bank.add(parsed.data["id"])
            if origin == "folder":
                _import_from_folder(module, parsed, qpos, report, questions, latest, prefer_files)
            else:
                apply_question(module, parsed.data, qpos, report, questions, latest, origin=origin)
    _retire_removed(spec, questions, latest, in_bank, report, origin, prefer_files)
    existing_media = {m.name: m
                      for m in db.session.scalars(select(CourseMedia).where(CourseMedia.course_id == course.id))}
    for name, (content_type, data) in spec.media.items():
        media = existing_media.get(name) or CourseMedia(course_id=course.id, name=name)
        media.content_type, media.data = content_type, data
        db.session.add(media)
    return report


def require_bank_importer(actor) -> None:
    """Course folders and bank files are imported by trainers, admins and the operator at the command line."""
    if not (is_operator(actor) or can_author(actor)):
        raise Forbidden("Only trainers and admins can import courses and question banks.")


def import_courses(actor, specs: list[CourseSpec], origin: str = "folder",
                   prefer_files: bool = False) -> list[ImportReport]:
    """Import every course in one transaction: either all of them land or none does.

    `origin` "folder" (the command line, `make run`) keeps newer browser edits and uploads and
    reports conflicts, unless `prefer_files`; "upload" (a course ZIP a trainer uploads) wins.
    """
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    require_bank_importer(actor)
    try:
        reports = [_apply_course(spec, origin, prefer_files) for spec in specs]
        for report in reports:
            record_event(actor, "banks.import", f"course:{report.course_slug}", summary=report.summary())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return reports
