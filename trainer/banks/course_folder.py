"""Loading and checking a whole course folder: course.yaml, module Markdown, banks and media.

`load_course` either returns a complete CourseSpec or raises BankFormatError carrying every
problem found, each as `path:line: message`. Nothing here touches the database.

The browser editor checks one piece at a time with the same rules, keyed by field instead of line:
`check_question`, `check_quiz_settings` and `check_markdown`.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.banks.practical import check_practical
from trainer.banks.publish_rules import SOURCE_TIERS_FOR_KEYS, cited_source_keys, publish_problems  # noqa: F401
from trainer.banks.records import BankFormatError, BankProblem, ParsedQuestion
from trainer.banks.svg import svg_problem
from trainer.banks.yaml_bank import child_node, load_yaml, mapping_key_lines, parse_bank
from trainer.quiz.types import FieldProblem, validate_question
from trainer.rendering import MarkdownProblem, image_references, markdown_problems, media_name

COURSE_FORMAT = "trainer-course/1"
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
MEDIA_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp"}
MAX_MEDIA_BYTES = 2 * 1024 * 1024
QUIZ_DEFAULTS: dict[str, Any] = {"draw_by_tag": {}, "time_limit_minutes": None, "attempts_before_cooldown": 2,
                                 "cooldown_hours": 24, "show_answers": "after_pass"}
QUIZ_SETTINGS = ("draw", "pass_percent", "draw_by_tag", "time_limit_minutes", "attempts_before_cooldown",
                 "cooldown_hours", "show_answers")


@dataclass
class QuizSettings:
    draw: int
    pass_percent: int
    draw_by_tag: dict[str, int] = field(default_factory=dict)
    time_limit_minutes: int | None = None
    attempts_before_cooldown: int = 2
    cooldown_hours: int = 24
    #: When the review shows the correct answers: "after_pass" or "always".
    show_answers: str = "after_pass"


@dataclass
class ModuleSpec:
    slug: str
    title: str
    content_md: str
    quiz: QuizSettings
    questions: list[ParsedQuestion]
    #: Where the content and the quiz settings were read ("path", line), for messages about them.
    content_at: tuple[str, int] = ("", 1)
    quiz_at: tuple[str, int] = ("", 1)


@dataclass
class CourseSpec:
    slug: str
    title: str
    summary: str
    valid_for_days: int
    renewal_window_days: int
    sources: dict[str, dict]
    modules: list[ModuleSpec]
    #: media file name -> (content type, bytes)
    media: dict[str, tuple[str, bytes]]
    #: The checked `practical` section (competencies, logbook, renewal); None when the course has none.
    practical: dict | None = None


def _is_int(value, low: int, high: int | None = None) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high)


class _Checker:
    """Collects problems while reading one course folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[BankProblem] = []

    def add(self, path: Path | str, line: int, message: str) -> None:
        self.problems.append(BankProblem(str(path), line, message))

    def read_text(self, path: Path, line_ref: tuple[Path, int]) -> str | None:
        if not path.resolve().is_relative_to(self.folder.resolve()):
            self.add(*line_ref, "files must be inside the course folder")
            return None
        if not path.is_file():
            self.add(*line_ref,
                     f"file not found: {path.relative_to(self.folder) if path.is_relative_to(self.folder) else path}")
            return None
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.add(path, 1, "file is not UTF-8 text")
            return None


def check_quiz_settings(quiz) -> tuple[QuizSettings | None, list[FieldProblem]]:
    """The course.yaml rules for one module's quiz settings, each problem keyed by the setting it concerns
    ("" when it concerns the settings as a whole); the settings are None when any rule is broken."""
    if not isinstance(quiz, dict):
        return None, [FieldProblem("", "module needs a 'quiz' mapping (draw, pass_percent ...)")]
    problems = [FieldProblem(key, f"unknown quiz setting '{key}'") for key in quiz if key not in QUIZ_SETTINGS]
    rules = {
        "draw": (lambda v: _is_int(v, 1, 500), "draw must be a whole number from 1 to 500"),
        "pass_percent": (lambda v: _is_int(v, 1, 100), "pass_percent must be a whole number from 1 to 100"),
        "time_limit_minutes": (lambda v: v is None or _is_int(v, 1, 1440), "time_limit_minutes must be 1 to 1440"),
        "attempts_before_cooldown": (lambda v: _is_int(v, 1, 100), "attempts_before_cooldown must be 1 to 100"),
        "cooldown_hours": (lambda v: _is_int(v, 0, 24 * 365), "cooldown_hours must be 0 or more"),
        "show_answers": (lambda v: v in ("after_pass", "always"), "show_answers must be 'after_pass' or 'always'"),
        "draw_by_tag": (lambda v: isinstance(v, dict)
                        and all(isinstance(k, str) and _is_int(n, 1) for k, n in v.items()),
                        "draw_by_tag must map tags to whole numbers"),
    }
    problems += [FieldProblem(key, f"quiz is missing '{key}'") for key in ("draw", "pass_percent") if key not in quiz]
    problems += [FieldProblem(key, message) for key, (rule, message) in rules.items()
                 if key in quiz and not rule(quiz[key])]
    if problems:
        return None, problems
    return QuizSettings(**{**QUIZ_DEFAULTS, **quiz}), []


def _check_quiz(checker: _Checker, path: Path, quiz, lines: dict[str, int], module_line: int) -> QuizSettings | None:
    settings, problems = check_quiz_settings(quiz)
    for problem in problems:
        checker.add(path, lines.get(problem.field, module_line), problem.message)
    return settings


def check_question(question, sources: dict | None) -> list[FieldProblem]:
    """Structure (validate_question) and the publishing rules (publish_rules.py) for one question,
    each problem keyed by the question's field it concerns: what a course folder must pass to publish."""
    problems = validate_question(question)
    if isinstance(question, dict):
        problems += publish_problems(question, sources)
    return problems


def _check_questions(checker: _Checker, questions: list[ParsedQuestion], sources: dict | None) -> None:
    for pq in questions:
        for problem in check_question(pq.data, sources):
            checker.add(pq.path, pq.line_of(problem.field), problem.message)


def _check_draw(checker: _Checker, path: Path, line: int, quiz: QuizSettings, questions: list[ParsedQuestion]) -> None:
    usable = [pq.data for pq in questions if isinstance(pq.data, dict)]
    if quiz.draw > len(usable):
        checker.add(path, line, f"quiz draws {quiz.draw} questions but its bank has {len(usable)}")
    tag_counts = Counter(tag for q in usable if isinstance(q.get("tags"), list)
                         for tag in q["tags"] if isinstance(tag, str))
    for tag, minimum in quiz.draw_by_tag.items():
        if tag_counts[tag] < minimum:
            checker.add(path, line,
                        f"draw_by_tag asks for {minimum} '{tag}' questions but the bank has {tag_counts[tag]}")
    if sum(quiz.draw_by_tag.values()) > quiz.draw:
        checker.add(path, line, "draw_by_tag asks for more questions than the quiz draws")


def check_markdown(text: str, media_names: Collection[str]) -> list[MarkdownProblem]:
    """What the sanitiser would change in module Markdown (raw HTML, unsafe links), and images that are
    not among the course's `media_names` or have no alt text; each problem with its line in `text`."""
    problems = list(markdown_problems(text))
    for ref in image_references(text):
        name = media_name(ref.src)
        if ref.src.startswith(("http://", "https://")):
            continue
        if name is None or name not in media_names:
            problems.append(MarkdownProblem(ref.line, f"image not found in media/: {ref.src}"))
        if not ref.alt:
            problems.append(MarkdownProblem(ref.line, f"image {ref.src} needs alt text: ![what it shows]({ref.src})"))
    return problems


def _read_media(checker: _Checker) -> dict[str, tuple[str, bytes]]:
    media: dict[str, tuple[str, bytes]] = {}
    media_dir = checker.folder / "media"
    if not media_dir.is_dir():
        return media
    for path in sorted(media_dir.iterdir()):
        if not path.is_file():
            continue
        content_type = MEDIA_TYPES.get(path.suffix.lower())
        if content_type is None:
            checker.add(path, 1, f"media files must be one of {', '.join(sorted(MEDIA_TYPES))}")
        elif path.stat().st_size > MAX_MEDIA_BYTES:
            checker.add(path, 1, f"media file is larger than {MAX_MEDIA_BYTES // 1024} KiB")
        else:
            data = path.read_bytes()
            problem = svg_problem(data) if content_type == "image/svg+xml" else None
            if problem:
                checker.add(path, 1, problem)
            media[path.name] = (content_type, data)
    return media


def load_course(folder: str | Path) -> CourseSpec:
    """Read and check a course folder; raise BankFormatError with every problem found."""
    folder = Path(folder)
    checker = _Checker(folder)
    course_path = folder / "course.yaml"
    if not course_path.is_file():
        raise BankFormatError([BankProblem(str(course_path), 1, "no course.yaml in this folder")])
    data, node, problems = load_yaml(course_path.read_text(encoding="utf-8", errors="replace"), str(course_path))
    if problems:
        raise BankFormatError(problems)
    if not isinstance(data, dict):
        raise BankFormatError([BankProblem(str(course_path), 1, "course.yaml must be a mapping")])
    lines = mapping_key_lines(node)
    allowed = {"format", "slug", "title", "summary", "certificate", "sources", "modules", "practical"}
    for key in data:
        if key not in allowed:
            checker.add(course_path, lines.get(key, 1), f"unknown key '{key}'")
    if data.get("format") != COURSE_FORMAT:
        checker.add(course_path, lines.get("format", 1), f"format must be '{COURSE_FORMAT}'")
    if not (isinstance(data.get("slug"), str) and SLUG_PATTERN.match(data["slug"])):
        checker.add(course_path, lines.get("slug", 1), "slug must be lower-case letters, digits and '-'")
    if not (isinstance(data.get("title"), str) and data["title"].strip()):
        checker.add(course_path, lines.get("title", 1), "missing title")
    cert = data.get("certificate") or {}
    cert_lines = mapping_key_lines(child_node(node, "certificate"))
    if (not isinstance(cert, dict) or not _is_int(cert.get("valid_for_days"), 1)
            or not _is_int(cert.get("renewal_window_days"), 0)):
        checker.add(course_path, lines.get("certificate", 1),
                    "certificate needs valid_for_days (1 or more) and renewal_window_days (0 or more)")
        cert = {}
    elif cert["renewal_window_days"] >= cert["valid_for_days"]:
        checker.add(course_path, cert_lines.get("renewal_window_days", 1),
                    "renewal_window_days must be shorter than valid_for_days")
    sources = data.get("sources")
    if sources is not None and (not isinstance(sources, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("citation"), str) and v.get("tier") in ("A", "B", "C")
        for v in sources.values()
    )):
        checker.add(course_path, lines.get("sources", 1), "each source needs a 'citation' and a 'tier' of A, B or C")
        sources = {}
    media = _read_media(checker)
    modules_data = data.get("modules")
    modules_node = child_node(node, "modules")
    modules: list[ModuleSpec] = []
    if not isinstance(modules_data, list) or not modules_data:
        checker.add(course_path, lines.get("modules", 1), "a course needs a list of modules")
        modules_data = []
    seen_slugs: set[str] = set()
    seen_ids: dict[str, str] = {}
    for mod, mod_node in zip(modules_data, getattr(modules_node, "value", []), strict=False):
        mline = mod_node.start_mark.line + 1
        if not isinstance(mod, dict):
            checker.add(course_path, mline, "each module must be a mapping")
            continue
        mlines = mapping_key_lines(mod_node)
        for key in mod:
            if key not in ("slug", "title", "content", "questions", "quiz"):
                checker.add(course_path, mlines.get(key, mline), f"unknown module key '{key}'")
        slug = mod.get("slug")
        if not (isinstance(slug, str) and SLUG_PATTERN.match(slug)):
            checker.add(course_path, mlines.get("slug", mline),
                        "module slug must be lower-case letters, digits and '-'")
        elif slug in seen_slugs:
            checker.add(course_path, mlines.get("slug", mline), f"module slug '{slug}' is used twice")
        else:
            seen_slugs.add(slug)
        if not (isinstance(mod.get("title"), str) and mod["title"].strip()):
            checker.add(course_path, mlines.get("title", mline), "module needs a title")
        content_md, content_path = "", None
        if isinstance(mod.get("content"), str):
            content_path = folder / mod["content"]
            content_md = checker.read_text(content_path, (course_path, mlines.get("content", mline))) or ""
            for mp in check_markdown(content_md, media):
                checker.add(content_path, mp.line, mp.message)
        else:
            checker.add(course_path, mlines.get("content", mline),
                        "module needs 'content': the path of its Markdown file")
        questions: list[ParsedQuestion] = []
        bank_readable = False
        if isinstance(mod.get("questions"), str):
            bank_path = folder / mod["questions"]
            text = checker.read_text(bank_path, (course_path, mlines.get("questions", mline)))
            if text is not None:
                questions, bank_problems = parse_bank(text, str(bank_path))
                checker.problems.extend(bank_problems)
                bank_readable = not bank_problems
                _check_questions(checker, questions, sources)
                for pq in questions:
                    qid = pq.data.get("id") if isinstance(pq.data, dict) else None
                    if isinstance(qid, str):
                        if qid in seen_ids:
                            checker.add(pq.path, pq.line_of("id"), f"duplicate id '{qid}' (first at {seen_ids[qid]})")
                        else:
                            seen_ids[qid] = f"{pq.path}:{pq.line}"
        else:
            checker.add(course_path, mlines.get("questions", mline),
                        "module needs 'questions': the path of its bank file")
        quiz = _check_quiz(checker, course_path, mod.get("quiz"), mapping_key_lines(child_node(mod_node, "quiz")),
                           mlines.get("quiz", mline))
        if quiz is not None and bank_readable:
            _check_draw(checker, course_path, mlines.get("quiz", mline), quiz, questions)
            # An invalid slug is a problem already: this spec is never returned.
            modules.append(ModuleSpec(slug if isinstance(slug, str) else "", mod.get("title", ""), content_md, quiz,
                                      questions,
                                      content_at=(str(content_path) if content_path else "", 1),
                                      quiz_at=(str(course_path), mlines.get("quiz", mline))))
    practical = None
    if "practical" in data:
        practical, practical_problems = check_practical(
            data["practical"], child_node(node, "practical"), str(course_path),
            {m["slug"] for m in modules_data if isinstance(m, dict) and isinstance(m.get("slug"), str)},
            set(sources) if sources is not None else None)
        checker.problems.extend(practical_problems)
    if checker.problems:
        raise BankFormatError(checker.problems)
    return CourseSpec(
        slug=data["slug"], title=data["title"].strip(), summary=str(data.get("summary") or "").strip(),
        valid_for_days=cert["valid_for_days"], renewal_window_days=cert["renewal_window_days"],
        sources=sources or {}, modules=modules, media=media, practical=practical,
    )
