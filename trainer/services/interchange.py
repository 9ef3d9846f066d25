"""Moving banks in and out: a GIFT or CSV file into one module, and a course out as YAML, GIFT or CSV."""
from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select

from trainer.banks.csv_bank import csv_unsupported, parse_csv, write_csv
from trainer.banks.gift import gift_unsupported, parse_gift, write_gift
from trainer.banks.records import BankFormatError, BankProblem, ParsedQuestion
from trainer.banks.yaml_bank import MAX_FILE_BYTES, parse_bank, write_bank
from trainer.extensions import db
from trainer.models import Course, CourseMedia, Module, Question
from trainer.quiz.types import validate_question
from trainer.rendering import question_markdown_problems
from trainer.services import NotFound, ServiceError
from trainer.services.attempts import current_versions
from trainer.services.catalog import ImportReport, apply_question
from trainer.services.audit import record_event

READERS = {"gift": parse_gift, "csv": parse_csv, "yaml": parse_bank}
FORMATS = ("yaml", "gift", "csv")


def find_module(course_slug: str, module_slug: str) -> Module:
    module = db.session.scalar(select(Module).join(Course).where(Course.slug == course_slug, Module.slug == module_slug,
                                                                 Module.retired.is_(False)))
    if module is None:
        raise NotFound(f"There is no module {course_slug}/{module_slug}.")
    return module


def read_bank_file(text: str, path: str, file_format: str) -> list[ParsedQuestion]:
    """Parse and check one bank file; raise BankFormatError with every problem."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise BankFormatError([BankProblem(path, 1, f"file is larger than {MAX_FILE_BYTES // 1024} KiB")])
    questions, problems = READERS[file_format](text, path)
    seen: dict[str, int] = {}
    for pq in questions:
        for problem in validate_question(pq.data):
            problems.append(BankProblem(path, pq.line_of(problem.field), problem.message))
        # The same sanitising policy as the course folder and the editor.
        for key, mp in question_markdown_problems(pq.data):
            problems.append(BankProblem(path, pq.line_of(key), f"{key}: {mp.message}"))
        qid = pq.data.get("id") if isinstance(pq.data, dict) else None
        if qid in seen:
            problems.append(BankProblem(path, pq.line, f"duplicate id '{qid}' (first at line {seen[qid]})"))
        elif isinstance(qid, str):
            seen[qid] = pq.line
    if problems:
        raise BankFormatError(sorted(problems, key=lambda p: p.line))
    return questions


def import_bank_file(actor, module: Module, questions: list[ParsedQuestion]) -> ImportReport:
    """Add or update these questions in one module, all or nothing (others in the module stay)."""
    taken = {q.key: q for q in db.session.scalars(select(Question).where(Question.course_id == module.course_id))}
    clashes = [pq for pq in questions if pq.data["id"] in taken and taken[pq.data["id"]].module_id != module.id]
    if clashes:
        raise BankFormatError([BankProblem(pq.path, pq.line, f"id '{pq.data['id']}' already belongs to another module")
                               for pq in clashes])
    report = ImportReport(module.course.slug)
    try:
        start = max((q.position for q in taken.values() if q.module_id == module.id), default=0)
        for offset, pq in enumerate(questions, start=1):
            apply_question(module, pq.data, start + offset, report)
        record_event(actor, "banks.import", f"module:{module.course.slug}/{module.slug}", summary=report.summary())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def _course_yaml(course: Course) -> dict:
    modules = []
    for number, module in enumerate(course.modules, start=1):
        quiz = {"draw": module.draw, "pass_percent": module.pass_percent}
        if module.draw_by_tag:
            quiz["draw_by_tag"] = module.draw_by_tag
        if module.time_limit_minutes:
            quiz["time_limit_minutes"] = module.time_limit_minutes
        quiz.update(attempts_before_cooldown=module.attempts_before_cooldown, cooldown_hours=module.cooldown_hours)
        if module.show_answers != "after_pass":
            quiz["show_answers"] = module.show_answers
        modules.append({"slug": module.slug, "title": module.title, "content": f"modules/{number:02d}-{module.slug}.md",
                        "questions": f"questions/{module.slug}.yaml", "quiz": quiz})
    data = {"format": "trainer-course/1", "slug": course.slug, "title": course.title, "summary": course.summary,
            "certificate": {"valid_for_days": course.valid_for_days, "renewal_window_days": course.renewal_window_days}}
    if course.sources:
        data["sources"] = course.sources
    data["modules"] = modules
    return data


def export_course(course_slug: str, file_format: str, out_dir: Path) -> list[Path]:
    """Write the course's current questions (YAML: the whole course folder); return the files written."""
    course = db.session.scalar(select(Course).where(Course.slug == course_slug))
    if course is None:
        raise NotFound(f"There is no course '{course_slug}'.")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for number, module in enumerate(course.modules, start=1):
        questions = [version.content for _, version in current_versions(module)]
        if file_format == "yaml":
            target = out_dir / "questions" / f"{module.slug}.yaml"
            content = out_dir / "modules" / f"{number:02d}-{module.slug}.md"
            content.parent.mkdir(parents=True, exist_ok=True)
            content.write_text(module.content_md, encoding="utf-8")
            written.append(content)
            text = write_bank(questions)
        else:
            unsupported = gift_unsupported if file_format == "gift" else csv_unsupported
            problems = [f"{q['id']}: {why}" for q in questions if (why := unsupported(q))]
            if problems:
                raise ServiceError(f"{module.slug} has questions {file_format.upper()} cannot express: " + "; ".join(problems))
            target = out_dir / f"{module.slug}.{file_format}"
            text = write_gift(questions) if file_format == "gift" else write_csv(questions)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8-sig" if file_format == "csv" and not text.startswith("\ufeff") else "utf-8")
        written.append(target)
    if file_format == "yaml":
        (out_dir / "course.yaml").write_text(yaml.safe_dump(_course_yaml(course), sort_keys=False, allow_unicode=True),
                                             encoding="utf-8")
        written.append(out_dir / "course.yaml")
        for media in db.session.scalars(select(CourseMedia).where(CourseMedia.course_id == course.id)):
            path = out_dir / "media" / media.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(media.data)
            written.append(path)
    return written
