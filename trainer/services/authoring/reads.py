"""Authoring reads: the module's questions with their newest and published versions, the review
queue, and a question's version history. Nothing here writes.
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from trainer.banks.publish_rules import publish_problems
from trainer.banks.yaml_bank import write_bank
from trainer.extensions import db
from trainer.models import Module, Question, QuestionVersion, User
from trainer.services.catalog import (
    module_questions_with_newest_version,
    newest_version_numbers,
    newest_versions_by_question,
)


def newest_version(question: Question) -> QuestionVersion | None:
    """The question's newest version, draft or published."""
    in_question = QuestionVersion.question_id == question.id
    return newest_versions_by_question(in_question, published_only=False).get(question.id)


def newest_versions(module: Module) -> list[tuple[Question, QuestionVersion]]:
    """The module's non-retired questions with their newest version, draft or published (one query)."""
    return module_questions_with_newest_version(module, published_only=False)


# --- the review queue: drafts waiting to be completed and published ------------------------------

@dataclass(frozen=True)
class ReviewItem:
    question: Question
    draft: QuestionVersion
    #: What the publishing rules still ask for ("no explanation", "no source"); empty: ready to publish.
    missing: list[str]


def review_queue() -> list[tuple[Module, list[ReviewItem]]]:
    """Every draft waiting to be published, per module, with what it still lacks (two queries)."""
    newest = newest_version_numbers(published_only=False)
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

    in_module = QuestionVersion.question_id.in_(ids)
    newest = newest_versions_by_question(in_module, published_only=False)
    published = newest_versions_by_question(in_module, published_only=True)
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
        entries.append(HistoryEntry(version, authors.get(version.author_id) if version.author_id is not None else None,
                                    content_diff(previous, version.content) if previous is not None else [],
                                    content_yaml(version.content)))
        previous = version.content
    return list(reversed(entries))


# --- the author's pages -------------------------------------------------------------------------------

@dataclass(frozen=True)
class BankCounts:
    #: Non-retired questions per module id.
    questions: dict[int, int]
    #: Versions (drafts and published, retired questions too) per module id.
    versions: dict[int, int]


def bank_counts() -> BankCounts:
    """How many questions and versions each module's bank holds (two grouped queries)."""
    questions = dict(db.session.execute(
        select(Question.module_id, func.count()).where(Question.retired.is_(False)).group_by(Question.module_id)
    ).all())
    versions = dict(db.session.execute(
        select(Question.module_id, func.count(QuestionVersion.id)).join(QuestionVersion)
        .group_by(Question.module_id)
    ).all())
    return BankCounts(questions, versions)


def draft_needs(module: Module, rows: list[QuestionRow]) -> dict[int, list[str]]:
    """What each draft still lacks before it may be published (the rules of the Publish button), by question id."""
    sources = module.course.sources or None
    return {r.question.id: [p.message for p in publish_problems(r.newest.content, sources)]
            for r in rows if r.has_draft}


def question_version(question: Question, number: int) -> QuestionVersion | None:
    """Version `number` of the question; None when it has no such version."""
    return db.session.scalar(select(QuestionVersion).where(QuestionVersion.question_id == question.id,
                                                           QuestionVersion.number == number))
