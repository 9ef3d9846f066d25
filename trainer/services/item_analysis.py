"""Item analysis of a module's quiz: graded attempts read from the database, statistics from trainer.analysis.

What goes in, so the numbers can be reproduced:

* Attempts: the module's submitted attempts, optionally only each person's first (attempt
  number 1), optionally only those submitted within a period of whole days (UTC, both ends
  inclusive). Open attempts never count.
* Items are keyed by the question's stable key, so every version of a question pools into
  one row. `fraction` is the credit the attempt question was graded with (unanswered counts
  as 0).
* Choices (single and multiple only): a pick is recorded as the *text* of the choice in the
  version the learner was shown. The distractor table lists the newest version's choices
  first, then any text only earlier versions had (marked, and counted only where those
  versions were shown); a text counts as a key if the newest version marks it correct, or,
  for an earlier-only text, if the version that had it did. When the versions seen offer
  different choices the row says so: counts then mix versions, and a choice added later was
  simply not there to pick in older attempts. To judge a changed question on its own, start
  the period at the date its newest version was published (shown on the page).

Everything is read in a fixed number of queries, whatever the number of attempts.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select

from trainer.analysis.item_statistics import GradedAttempt, ItemResponse, QuestionInfo, QuizAnalysis, analyse_quiz
from trainer.extensions import db
from trainer.models import Attempt, AttemptQuestion, Module, Question, QuestionVersion
from trainer.models.attempts import SUBMITTED
from trainer.services.catalog import newest_versions_by_question

#: A question is flagged only once this many attempts have seen it; fewer say little.
MIN_ATTEMPTS_FOR_FLAGS = 10
CHOICE_TYPES = ("single", "multiple")
STEM_PREVIEW_CHARS = 160


@dataclass(frozen=True)
class AttemptSelection:
    """Which graded attempts the analysis reads."""

    start: date | None = None
    end: date | None = None
    first_attempts_only: bool = True


@dataclass(frozen=True)
class QuestionDetails:
    """What the report shows about a question besides its statistics."""

    question_id: int
    key: str
    #: The module the question belongs to now (it may have moved since it was answered).
    module_id: int
    retired: bool
    type: str
    stem_preview: str
    #: Number of the newest published version (or the newest seen) and when it was published.
    newest_version: int
    newest_published_dt: datetime | None
    #: Version numbers the selected attempts were shown, ascending.
    versions_seen: tuple[int, ...] = ()
    #: True when the versions seen (and the newest) do not all offer the same choice texts.
    choices_differ: bool = False
    #: Choice texts that only earlier versions had.
    earlier_only_choices: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ModuleAnalysis:
    module: Module
    selection: AttemptSelection
    analysis: QuizAnalysis
    #: question key -> details, for every row of `analysis.items`
    questions: dict[str, QuestionDetails]
    min_attempts_for_flags: int


def analyse_module(module: Module, selection: AttemptSelection = AttemptSelection(),
                   min_attempts_for_flags: int = MIN_ATTEMPTS_FOR_FLAGS) -> ModuleAnalysis:
    """Analyse the module quiz's graded attempts chosen by `selection` (four queries)."""
    chosen = _selected_attempts(module, selection)
    rows = db.session.execute(
        select(Attempt.id, Attempt.user_id, AttemptQuestion.question_version_id, AttemptQuestion.response,
               AttemptQuestion.fraction)
        .join(AttemptQuestion, AttemptQuestion.attempt_id == Attempt.id)
        .where(Attempt.id.in_(chosen))
        .order_by(Attempt.id, AttemptQuestion.position)
    ).all()
    shown = {v.id: v for v in db.session.scalars(
        select(QuestionVersion).where(QuestionVersion.id.in_(
            select(AttemptQuestion.question_version_id).where(AttemptQuestion.attempt_id.in_(chosen))
        ))
    )}
    seen_question_ids = {v.question_id for v in shown.values()}
    questions = list(db.session.scalars(
        select(Question)
        .where(or_(Question.id.in_(seen_question_ids),
                   (Question.module_id == module.id) & Question.retired.is_(False)))
        # The module's own questions in bank order, then any that moved away or were retired.
        .order_by((Question.module_id != module.id), Question.retired, Question.position, Question.key)
    ))
    newest = _newest_published_versions([q.id for q in questions])

    by_question: dict[int, list[QuestionVersion]] = defaultdict(list)
    for version in shown.values():
        by_question[version.question_id].append(version)
    infos, details = [], {}
    for question in questions:
        seen_versions = sorted(by_question.get(question.id, []), key=lambda v: v.number)
        latest = newest.get(question.id) or (seen_versions[-1] if seen_versions else None)
        if latest is None:
            continue  # a question with neither a published version nor answers has nothing to show
        info, detail = _describe(question, latest, seen_versions)
        infos.append(info)
        details[question.key] = detail

    keys = {q.id: q.key for q in questions}
    attempts = _graded_attempts(rows, shown, keys)
    analysis = analyse_quiz(attempts, infos, min_attempts_for_flags=min_attempts_for_flags)
    return ModuleAnalysis(module=module, selection=selection, analysis=analysis, questions=details,
                          min_attempts_for_flags=min_attempts_for_flags)


def _selected_attempts(module: Module, selection: AttemptSelection):
    """A subquery of the ids of the attempts the selection takes."""
    conditions = [Attempt.module_id == module.id, Attempt.state == SUBMITTED]
    if selection.first_attempts_only:
        conditions.append(Attempt.number == 1)
    if selection.start is not None:
        conditions.append(Attempt.submitted_dt >= datetime.combine(selection.start, time.min))
    if selection.end is not None:
        conditions.append(Attempt.submitted_dt < datetime.combine(selection.end + timedelta(days=1), time.min))
    return select(Attempt.id).where(*conditions)


def _newest_published_versions(question_ids: list[int]) -> dict[int, QuestionVersion]:
    if not question_ids:
        return {}
    return newest_versions_by_question(QuestionVersion.question_id.in_(question_ids), published_only=True)


def _choice_texts(content: dict) -> list[str]:
    if content.get("type") not in CHOICE_TYPES:
        return []
    return [str(choice.get("text", "")) for choice in content.get("choices") or []]


def _correct_texts(content: dict) -> set[str]:
    if content.get("type") not in CHOICE_TYPES:
        return set()
    return {str(choice.get("text", "")) for choice in content.get("choices") or [] if choice.get("correct")}


def _describe(question: Question, latest: QuestionVersion,
              seen_versions: list[QuestionVersion]) -> tuple[QuestionInfo, QuestionDetails]:
    """The analysis input for one question (labels as documented above) and what the page shows."""
    labels = _choice_texts(latest.content)
    correct = _correct_texts(latest.content)
    earlier_only: list[str] = []
    # Newest first, so a text that changed correctness takes the most recent verdict.
    for version in reversed(seen_versions):
        for text in _choice_texts(version.content):
            if text not in labels and text not in earlier_only:
                earlier_only.append(text)
                if text in _correct_texts(version.content):
                    correct.add(text)
    choice_sets = {tuple(_choice_texts(v.content)) for v in [*seen_versions, latest]}
    stem = " ".join(str(latest.content.get("stem", "")).split())
    if len(stem) > STEM_PREVIEW_CHARS:
        stem = stem[:STEM_PREVIEW_CHARS - 1].rstrip() + "…"
    info = QuestionInfo(key=question.key, choice_labels=tuple(labels + earlier_only),
                        correct_labels=tuple(label for label in labels + earlier_only if label in correct))
    detail = QuestionDetails(
        question_id=question.id, key=question.key, module_id=question.module_id, retired=question.retired,
        type=str(latest.content.get("type", "")), stem_preview=stem, newest_version=latest.number,
        newest_published_dt=latest.published_dt, versions_seen=tuple(v.number for v in seen_versions),
        choices_differ=len(choice_sets) > 1, earlier_only_choices=frozenset(earlier_only),
    )
    return info, detail


def _picked_texts(content: dict, response) -> tuple[str, ...]:
    """The texts of the choices a canonical single/multiple response picked."""
    texts = _choice_texts(content)
    if not texts or response is None:
        return ()
    indices = response if isinstance(response, list) else [response]
    return tuple(texts[i] for i in indices if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(texts))


def _graded_attempts(rows, shown: dict[int, QuestionVersion], keys: dict[int, str]) -> list[GradedAttempt]:
    items: dict[int, dict[str, ItemResponse]] = defaultdict(dict)
    users: dict[int, int] = {}
    for attempt_id, user_id, version_id, response, fraction in rows:
        version = shown[version_id]
        credit = min(max(float(fraction or 0.0), 0.0), 1.0)
        items[attempt_id][keys[version.question_id]] = ItemResponse(credit, _picked_texts(version.content, response))
        users[attempt_id] = user_id
    return [GradedAttempt(attempt_id=attempt_id, user_id=users[attempt_id], items=responses)
            for attempt_id, responses in items.items()]
