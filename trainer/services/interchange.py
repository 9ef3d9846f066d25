"""Moving banks in and out: a GIFT, CSV or Moodle XML file into one module, and a course out as
YAML, GIFT, CSV or Moodle XML.

A bank file imports question by question: a question that cannot be graded here (an essay, a
broken line) is refused with its line and the rest imports; a question that can be graded but
lacks what the course requires (publish_rules.py) is imported as a draft "needs review" and is
never drawn until a trainer completes and publishes it. An export writes every question the
format can express and lists the ones it cannot.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from trainer.banks.csv_bank import csv_unsupported, parse_csv, write_csv
from trainer.banks.gift import gift_unsupported, parse_gift, write_gift
from trainer.banks.moodle_xml import (
    moodle_xml_unsupported,
    parse_moodle_xml,
    parse_moodle_xml_with_media,
    write_moodle_xml,
)
from trainer.banks.publish_rules import publish_problems
from trainer.banks.records import BankFormatError, BankProblem, ParsedQuestion
from trainer.banks.yaml_bank import MAX_FILE_BYTES, parse_bank, write_bank
from trainer.extensions import db
from trainer.models import Course, CourseMedia, Module, Question
from trainer.quiz.types import validate_question
from trainer.services import NotFound
from trainer.services.attempts import current_versions
from trainer.services.audit import record_event
from trainer.services.catalog import ImportReport, apply_question, require_bank_importer

READERS = {"gift": parse_gift, "csv": parse_csv, "yaml": parse_bank, "moodlexml": parse_moodle_xml}
WRITERS = {"gift": (gift_unsupported, write_gift), "csv": (csv_unsupported, write_csv),
           "moodlexml": (moodle_xml_unsupported, write_moodle_xml)}
EXTENSIONS = {"yaml": "yaml", "gift": "gift", "csv": "csv", "moodlexml": "xml"}
#: Formats whose ids come from Moodle's question names, which Moodle does not keep unique.
MOODLE_FORMATS = ("gift", "moodlexml")


def find_module(course_slug: str, module_slug: str) -> Module:
    module = db.session.scalar(select(Module).join(Course).where(Course.slug == course_slug, Module.slug == module_slug,
                                                                 Module.retired.is_(False)))
    if module is None:
        raise NotFound(f"There is no module {course_slug}/{module_slug}.")
    return module


@dataclass
class BankRead:
    """A bank file as read: the questions to import, and what was refused or is worth a look."""

    questions: list[ParsedQuestion]
    #: Questions not imported (and why), each at its line.
    refused: list[BankProblem] = field(default_factory=list)
    #: Kept, but worth a look (a file link Moodle held, a converted encoding).
    warnings: list[BankProblem] = field(default_factory=list)
    #: Images the file carried (Moodle XML): name -> (content type, bytes), stored as course media.
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class BankFileReport(ImportReport):
    """What an import of bank files did, with one line per draft, refusal and warning."""

    drafts: list[BankProblem] = field(default_factory=list)
    refused: list[BankProblem] = field(default_factory=list)
    warnings: list[BankProblem] = field(default_factory=list)

    def summary(self) -> str:
        text = super().summary()
        if self.drafts:
            text += f"; {len(self.drafts)} imported as drafts that need review"
        if self.refused:
            text += f"; {len(self.refused)} not imported"
        return text

    def lines(self) -> list[str]:
        """`path:line: message` for every draft, refusal and warning, in file order."""
        notes = self.drafts + self.refused + self.warnings
        return [str(p) for p in sorted(notes, key=lambda p: (p.path, p.line))]


def decode_bank_bytes(data: bytes, path: str) -> tuple[str, list[BankProblem]]:
    """The text of an uploaded or local bank file, and a notice when it had to be converted.

    UTF-8 (with or without a byte order mark) and UTF-16 with a byte order mark are read as
    they are; a file that is not UTF-8 but reads as Windows-1252 (what Excel and Notepad save
    on Windows) is converted with a notice; anything else is refused at the first line that is
    neither. A replacement character (U+FFFD) is refused: it means text was lost before."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, notes = data.decode("utf-16"), list[BankProblem]()
    else:
        try:
            text, notes = data.decode("utf-8-sig"), []
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise BankFormatError([BankProblem(path, line, "the file is not UTF-8 text; in a spreadsheet, save it "
                                                               "as \"CSV UTF-8\"; in a text editor, choose the UTF-8 "
                                                               "encoding")]) from None
            notes = [BankProblem(path, line, "the file is not UTF-8: it was read as Windows-1252 and converted; "
                                             "check accented letters and symbols", kind="warning")]
    if "\ufffd" in text:
        line = text.count("\n", 0, text.index("\ufffd")) + 1
        raise BankFormatError([BankProblem(path, line, "the file holds the replacement character \ufffd (text lost "
                                                       "by an earlier conversion); fix the line and save it as UTF-8")])
    return text, notes


def read_bank_file(text: str, path: str, file_format: str) -> BankRead:
    """Parse one bank file; refuse (with its line) each question that cannot be stored and graded.

    Raises BankFormatError when nothing at all can be imported (too large, not a bank, every
    question refused)."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise BankFormatError([BankProblem(path, 1, f"file is larger than {MAX_FILE_BYTES // 1024} KiB")])
    media: dict[str, tuple[str, bytes]] = {}
    if file_format == "moodlexml":
        parsed, problems, media = parse_moodle_xml_with_media(text, path)
    else:
        parsed, problems = READERS[file_format](text, path)
    refused = [p for p in problems if p.kind != "warning"]
    warnings = [p for p in problems if p.kind == "warning"]
    questions: list[ParsedQuestion] = []
    seen: dict[str, int] = {}
    for pq in parsed:
        structural = validate_question(pq.data)
        if structural:
            refused.extend(BankProblem(path, pq.line_of(p.field), p.message) for p in structural)
            continue
        qid = pq.data["id"]
        if qid in seen and file_format in MOODLE_FORMATS:
            # Moodle's question names are not unique (and untitled questions repeat): number the repeats.
            number = 2
            while f"{qid}-{number}" in seen:
                number += 1
            warnings.append(BankProblem(path, pq.line, f"the id '{qid}' is taken by the question at line {seen[qid]}; "
                                                       f"this one is imported as '{qid}-{number}'", kind="warning"))
            qid = pq.data["id"] = f"{qid}-{number}"
        if qid in seen:
            refused.append(BankProblem(path, pq.line, f"duplicate id '{qid}' (first at line {seen[qid]})"))
            continue
        seen[qid] = pq.line
        questions.append(pq)
    if not questions or (refused and file_format == "yaml"):
        # Our own YAML bank stays all or nothing, like a course folder: it is written by hand, not exported by Moodle.
        raise BankFormatError(sorted(refused, key=lambda p: p.line)
                              or [BankProblem(path, 1, "the file holds no questions")])
    return BankRead(questions, sorted(refused, key=lambda p: p.line), warnings, media)


def _store_media(course: Course, read: BankRead) -> None:
    """Keep the file's images as course media; a name already taken by another image gets a new name."""
    existing = {m.name: m for m in db.session.scalars(select(CourseMedia).where(CourseMedia.course_id == course.id))}
    for name, (content_type, data) in read.media.items():
        target = name
        if name in existing and existing[name].data != data:
            stem, dot, suffix = name.rpartition(".")
            target = f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}.{suffix}"
            for pq in read.questions:
                pq.data = json.loads(json.dumps(pq.data).replace(f"media/{name}", f"media/{target}"))
        if target not in existing:
            media = CourseMedia(course_id=course.id, name=target, content_type=content_type, data=data)
            db.session.add(media)
            existing[target] = media


def draft_line(pq: ParsedQuestion, sources: dict | None) -> BankProblem | None:
    """`path:line: imported as a draft: no explanation; no source` when the question cannot be published yet."""
    missing = publish_problems(pq.data, sources)
    if not missing:
        return None
    return BankProblem(pq.path, pq.line, "imported as a draft: " + "; ".join(p.message for p in missing),
                       kind="warning")


def import_bank_file(actor, module: Module, read: BankRead | list[ParsedQuestion]) -> BankFileReport:
    """Add or update these questions in one module in one transaction (others in the module stay).

    Questions missing what the course requires become drafts that need review."""
    require_bank_importer(actor)
    if not isinstance(read, BankRead):
        read = BankRead(list(read))
    questions = read.questions
    taken = {q.key: q for q in db.session.scalars(select(Question).where(Question.course_id == module.course_id))}
    clashes = [pq for pq in questions if pq.data["id"] in taken and taken[pq.data["id"]].module_id != module.id]
    if clashes:
        raise BankFormatError([BankProblem(pq.path, pq.line, f"id '{pq.data['id']}' already belongs to another module")
                               for pq in clashes])
    report = BankFileReport(module.course.slug, refused=list(read.refused), warnings=list(read.warnings))
    sources = module.course.sources or None
    try:
        _store_media(module.course, read)
        start = max((q.position for q in taken.values() if q.module_id == module.id), default=0)
        for offset, pq in enumerate(questions, start=1):
            draft = draft_line(pq, sources)
            if draft:
                report.drafts.append(draft)
            apply_question(module, pq.data, start + offset, report, origin="upload", publish=draft is None)
        record_event(actor, "banks.import", f"module:{module.course.slug}/{module.slug}", summary=report.summary(),
                     drafts=len(report.drafts), refused=len(report.refused))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def _course_yaml(course: Course) -> dict:
    modules = []
    for number, module in enumerate(course.modules, start=1):
        quiz: dict[str, Any] = {"draw": module.draw, "pass_percent": module.pass_percent}
        if module.draw_by_tag:
            quiz["draw_by_tag"] = module.draw_by_tag
        if module.time_limit_minutes:
            quiz["time_limit_minutes"] = module.time_limit_minutes
        quiz.update(attempts_before_cooldown=module.attempts_before_cooldown, cooldown_hours=module.cooldown_hours)
        if module.show_answers != "after_pass":
            quiz["show_answers"] = module.show_answers
        modules.append({"slug": module.slug, "title": module.title, "content": f"modules/{number:02d}-{module.slug}.md",
                        "questions": f"questions/{module.slug}.yaml", "quiz": quiz})
    data: dict[str, Any] = {
        "format": "trainer-course/1", "slug": course.slug, "title": course.title, "summary": course.summary,
        "certificate": {"valid_for_days": course.valid_for_days, "renewal_window_days": course.renewal_window_days}}
    if course.sources:
        data["sources"] = course.sources
    data["modules"] = modules
    if course.practical:
        data["practical"] = course.practical
    return data


@dataclass
class CourseExport:
    """The files an export wrote, and the questions it left out because the format cannot hold them."""

    files: list[Path]
    #: "module/question-id: why", one per question left out.
    left_out: list[str] = field(default_factory=list)


def bank_file_text(questions: list[dict], file_format: str, course: Course | None = None) -> tuple[str, list[str]]:
    """One bank written in `file_format`, and "question-id: why" for each question it cannot hold.

    Moodle XML embeds the course's images that the questions show."""
    if file_format == "yaml":
        return write_bank(questions), []
    unsupported, write = WRITERS[file_format]
    left_out = [f"{q['id']}: {why}" for q in questions if (why := unsupported(q))]
    kept = [q for q in questions if not unsupported(q)]
    if file_format == "moodlexml":
        media = {} if course is None else {m.name: (m.content_type, m.data) for m in db.session.scalars(
            select(CourseMedia).where(CourseMedia.course_id == course.id))}
        return write_moodle_xml(kept, media), left_out
    return write(kept), left_out


def export_course(course_slug: str, file_format: str, out_dir: Path) -> CourseExport:
    """Write the course's current questions (YAML: the whole course folder); list what the format cannot hold."""
    course = db.session.scalar(select(Course).where(Course.slug == course_slug))
    if course is None:
        raise NotFound(f"There is no course '{course_slug}'.")
    out_dir.mkdir(parents=True, exist_ok=True)
    result = CourseExport([])
    for number, module in enumerate(course.modules, start=1):
        questions = [version.content for _, version in current_versions(module)]
        if file_format == "yaml":
            target = out_dir / "questions" / f"{module.slug}.yaml"
            content = out_dir / "modules" / f"{number:02d}-{module.slug}.md"
            content.parent.mkdir(parents=True, exist_ok=True)
            content.write_text(module.content_md, encoding="utf-8")
            result.files.append(content)
        else:
            target = out_dir / f"{module.slug}.{EXTENSIONS[file_format]}"
        text, left_out = bank_file_text(questions, file_format, course)
        result.left_out.extend(f"{module.slug}/{why}" for why in left_out)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text,
                          encoding="utf-8-sig" if file_format == "csv" and not text.startswith("\ufeff") else "utf-8")
        result.files.append(target)
    if file_format == "yaml":
        (out_dir / "course.yaml").write_text(yaml.safe_dump(_course_yaml(course), sort_keys=False, allow_unicode=True),
                                             encoding="utf-8")
        result.files.append(out_dir / "course.yaml")
        for media in db.session.scalars(select(CourseMedia).where(CourseMedia.course_id == course.id)):
            path = out_dir / "media" / media.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(media.data)
            result.files.append(path)
    return result
