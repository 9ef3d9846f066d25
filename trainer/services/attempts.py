"""Quiz attempts: start (draw + snapshot), save answers, submit exactly once, close at the deadline."""
from __future__ import annotations

import json
import random
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from trainer import clock
from trainer.database import begin_write, execute_dml, objects_kept
from trainer.extensions import db
from trainer.models import Attempt, AttemptQuestion, Module, Question, QuestionVersion
from trainer.models.attempts import OPEN, SUBMITTED
from trainer.quiz.drawing import Candidate, draw_questions
from trainer.quiz.grading import grade_attempt
from trainer.quiz.types import InvalidResponse, question_type
from trainer.security import can_take_attempt
from trainer.services import NotFound, ServiceError
from trainer.services.catalog import module_drawable_versions, module_questions_with_newest_version
from trainer.services.certificates import issue_certificate_if_complete
from trainer.time_zones import to_local

#: Seconds after the deadline during which an in-flight save still counts.
DEFAULT_GRACE_SECONDS = 30


class AttemptClosed(ServiceError):
    """The attempt no longer takes answers (submitted, or past its deadline)."""


@dataclass(frozen=True)
class StartRule:
    """Whether a person may start an attempt now, and if not, when they may."""

    allowed: bool
    reason: str = ""
    opens_dt: datetime | None = None
    #: Attempts this person may still start before a cooldown (None: the module has no cooldown).
    attempts_left: int | None = None
    #: Attempts per block before a cooldown, accommodations included.
    block: int = 0


def current_versions(module: Module) -> list[tuple[Question, QuestionVersion]]:
    """The module's drawable questions with their newest published version (one query)."""
    return module_questions_with_newest_version(module, published_only=True)


def open_attempt(user, module: Module) -> Attempt | None:
    return db.session.scalar(select(Attempt).where(
        Attempt.user_id == user.id, Attempt.module_id == module.id, Attempt.state == OPEN))


@dataclass(frozen=True)
class Standing:
    """Where a person stands at a module, from one aggregate over their attempts there."""

    open_attempt_id: int | None
    submitted: int
    last_submitted_dt: datetime | None
    last_number: int

    @classmethod
    def of(cls, attempts: list[Attempt]) -> Standing:
        """The same as `_STANDING` computes in SQL, from attempts already loaded."""
        submitted = [a for a in attempts if a.state == SUBMITTED]
        return cls(next((a.id for a in attempts if a.state == OPEN), None), len(submitted),
                   max((a.submitted_dt for a in submitted if a.submitted_dt is not None), default=None),
                   max((a.number for a in attempts), default=0))


# The exam's hot statements are built once, with bound parameters: building a SELECT in Python costs
# more CPU than SQLite takes to run these.
_PERSON_AT_MODULE = (Attempt.user_id == bindparam("user_id")) & (Attempt.module_id == bindparam("module_id"))
_STANDING = select(func.max(case((Attempt.state == OPEN, Attempt.id))),
                   func.count(case((Attempt.state == SUBMITTED, 1))),
                   func.max(case((Attempt.state == SUBMITTED, Attempt.submitted_dt))),
                   func.coalesce(func.max(Attempt.number), 0)).where(_PERSON_AT_MODULE)
_ATTEMPTS_AT_MODULE = select(Attempt).where(_PERSON_AT_MODULE).order_by(Attempt.number.desc())
_KEYS_SEEN = (select(Question.key).join(QuestionVersion)
              .join(AttemptQuestion, AttemptQuestion.question_version_id == QuestionVersion.id)
              .join(Attempt).where(_PERSON_AT_MODULE))


def _person_at(user, module: Module) -> dict:
    return {"user_id": user.id, "module_id": module.id}


def standing_at(user, module: Module) -> Standing:
    open_id, submitted, last_dt, last_number = db.session.execute(_STANDING, _person_at(user, module)).one()
    return Standing(open_id, submitted, last_dt, last_number)


def start_rule(user, module: Module, now: datetime | None = None, standing: Standing | None = None) -> StartRule:
    """Retake rules: after every `attempts_before_cooldown` attempts, wait `cooldown_hours`."""
    now = now or clock.now()
    standing = standing or standing_at(user, module)
    count, last_dt = standing.submitted, standing.last_submitted_dt
    # An accommodation's extra attempts widen every block of attempts before a cooldown.
    block = module.attempts_before_cooldown + (user.extra_attempts or 0)
    if not (module.cooldown_hours and block):
        return StartRule(True, block=block)
    if count and last_dt is not None and count % block == 0:
        opens = last_dt + timedelta(hours=module.cooldown_hours)
        if now < opens:
            local = to_local(opens, user)  # in the person's own time zone
            return StartRule(False, f"You have used {count} attempts. The next attempt opens on "
                                    f"{local.day} {local:%B %Y at %H:%M} {local.tzname()}.", opens, 0, block)
    return StartRule(True, attempts_left=block - count % block, block=block)


@dataclass(frozen=True)
class ModuleAttempts:
    """What the module page shows of a person's attempts there."""

    open_attempt: Attempt | None
    #: Submitted attempts, newest first.
    submitted: list[Attempt]
    rule: StartRule


def module_attempts(user, module: Module) -> ModuleAttempts:
    """The person's open and submitted attempts at the module and whether they may start one, in one query."""
    attempts = list(db.session.scalars(_ATTEMPTS_AT_MODULE, _person_at(user, module)))
    return ModuleAttempts(next((a for a in attempts if a.state == OPEN), None),
                          [a for a in attempts if a.state == SUBMITTED],
                          start_rule(user, module, standing=Standing.of(attempts)))


def _grace(grace_seconds: int | None) -> timedelta:
    return timedelta(seconds=DEFAULT_GRACE_SECONDS if grace_seconds is None else grace_seconds)


def _past_deadline(attempt: Attempt, grace_seconds: int | None) -> bool:
    return attempt.deadline_dt is not None and clock.now() > attempt.deadline_dt + _grace(grace_seconds)


def close_if_expired(attempt: Attempt, grace_seconds: int | None = None) -> bool:
    """Submit an abandoned attempt at its deadline with what was saved; True if it was closed now."""
    if attempt.state != OPEN or attempt.deadline_dt is None or not _past_deadline(attempt, grace_seconds):
        return False
    _grade_and_close(attempt, submitted_by="deadline", submitted_dt=attempt.deadline_dt)
    return True


def start_attempt(user, module: Module, rng: random.Random | None = None,
                  grace_seconds: int | None = None) -> Attempt:
    """Return the person's open attempt at the module, or draw and snapshot a new one."""
    if module.retired:
        raise NotFound("This module is no longer part of the course.")
    standing = standing_at(user, module)
    if standing.open_attempt_id is not None:
        existing = _lock_open_attempt(user, module)
        if existing is not None and _past_deadline(existing, grace_seconds) and begin_write(db.session):
            existing = _lock_open_attempt(user, module)  # closing it writes: read it again under the lock
        if existing is not None:
            if not close_if_expired(existing, grace_seconds):
                return existing
            db.session.commit()
        standing = standing_at(user, module)
    rule = start_rule(user, module, standing=standing)
    if not rule.allowed:
        raise ServiceError(rule.reason)
    pool = module_drawable_versions(module.id)
    if len(pool) < module.draw:
        raise ServiceError("This quiz has fewer questions than it draws; ask a trainer to fix the bank.")
    contents = _contents({row.version_id: row.content_hash for row in pool})
    seen_keys = set(db.session.scalars(_KEYS_SEEN, _person_at(user, module)))
    version_of = {row.key: row.version_id for row in pool}
    rng = rng or random.Random(secrets.randbits(64))
    keys = draw_questions(
        [Candidate(row.key, frozenset(contents[row.version_id].get("tags") or []), row.key in seen_keys)
         for row in pool],
        module.draw, module.draw_by_tag or {}, rng,
    )
    snapshot = []
    for position, key in enumerate(keys, start=1):
        content = contents[version_of[key]]
        snapshot.append({"position": position, "question_version_id": version_of[key], "response_seq": 0,
                         "display_order": question_type(content["type"]).display_order(content, rng)})
    # keep_loaded: the person and the module stay as read; what decides the start is read again below.
    if begin_write(db.session, keep_loaded=True):
        # The draw was read without the write lock (`@writes_late`); what decides the start is read again under it.
        standing = standing_at(user, module)
        if standing.open_attempt_id is not None:
            return db.session.get_one(Attempt, standing.open_attempt_id)
        rule = start_rule(user, module, standing=standing)
        if not rule.allowed:
            raise ServiceError(rule.reason)
    now = clock.now()
    attempt = Attempt(
        user_id=user.id, module_id=module.id, number=standing.last_number + 1, state=OPEN, started_dt=now,
        deadline_dt=now + timedelta(minutes=module.time_limit_minutes * (user.time_multiplier or 1.0))
        if module.time_limit_minutes else None,
        pass_percent=module.pass_percent,
    )
    db.session.add(attempt)
    try:
        db.session.flush()
        # The snapshot in one executemany, not one INSERT per question.
        db.session.execute(insert(AttemptQuestion), [{"attempt_id": attempt.id, **row} for row in snapshot])
        with objects_kept(db.session):  # the new attempt holds what was just written: no reload for its id
            db.session.commit()
    except IntegrityError:
        # Another request started one at the same moment (double click): use that one.
        db.session.rollback()
        existing = open_attempt(user, module)
        if existing is None:
            raise ServiceError("The attempt could not be started; please try again.") from None
        return existing
    return attempt


def _lock_open_attempt(user, module: Module) -> Attempt | None:
    return db.session.scalar(select(Attempt).where(
        Attempt.user_id == user.id, Attempt.module_id == module.id, Attempt.state == OPEN).with_for_update())


def _locked_attempt_for(user, attempt_id: int) -> Attempt:
    # The row lock (PostgreSQL) or the write lock (SQLite) orders saves and the submit. The person stays loaded;
    # the attempt is read afresh (populate_existing), whatever this session read of it before.
    begin_write(db.session, keep_loaded=True)
    attempt = db.session.scalar(select(Attempt).where(Attempt.id == attempt_id).with_for_update()
                                .execution_options(populate_existing=True))
    if attempt is None or not can_take_attempt(user, attempt):
        raise NotFound("There is no such attempt.")
    return attempt


@dataclass(frozen=True)
class SaveResult:
    saved: bool
    #: The sequence number now stored for the question (newer than the request's when stale).
    seq: int
    message: str


_SAVE_READ = (
    select(Attempt.user_id, Attempt.state, Attempt.deadline_dt, AttemptQuestion.id.label("item_id"),
           AttemptQuestion.display_order, QuestionVersion.content)
    .select_from(Attempt)
    .outerjoin(AttemptQuestion,
               (AttemptQuestion.attempt_id == Attempt.id) & (AttemptQuestion.position == bindparam("position")))
    .outerjoin(QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id)
    .where(Attempt.id == bindparam("attempt_id"))
    # Orders this save against a submit, which holds the row FOR UPDATE while it grades.
    .with_for_update(read=True, of=Attempt)
)


def _takes_answers(attempt_id: str, cutoff: str):
    """SQL: the attempt (bound as `attempt_id`) is open and its deadline with grace is not before `cutoff`."""
    return ((Attempt.id == bindparam(attempt_id)) & (Attempt.state == OPEN)
            & (Attempt.deadline_dt.is_(None) | (Attempt.deadline_dt >= bindparam(cutoff))))


# Every rule again in the WHERE clause (owner, open, deadline with its grace, newer sequence number). An UPDATE's
# parameters may not share a column's name, hence the b_ prefixes.
_SAVE_WRITE = (
    update(AttemptQuestion)
    .where(AttemptQuestion.id == bindparam("b_item_id"), AttemptQuestion.response_seq < bindparam("new_seq"),
           select(Attempt.id).where(_takes_answers("b_attempt_id", "b_cutoff"),
                                    Attempt.user_id == bindparam("b_user_id")).exists())
    .values(response=bindparam("new_response", type_=AttemptQuestion.response.type),
            response_seq=bindparam("new_seq"),
            answered_dt=bindparam("saved_dt", type_=AttemptQuestion.answered_dt.type))
    .execution_options(synchronize_session=False)
)


NEWER_ANSWER_KEPT = "A newer answer to this question was already saved."
# The sequence number and answer stored for a question, if its attempt still takes answers (read under the
# write lock).
_SEQ_IF_STILL_OPEN = (
    select(AttemptQuestion.response_seq, AttemptQuestion.response)
    .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
    .where(AttemptQuestion.id == bindparam("item_id"), _takes_answers("attempt_id", "cutoff"))
)


def save_answer(user, attempt_id: int, position: int, form, seq: int | None,
                grace_seconds: int | None = None) -> SaveResult:
    """Store one answer unless a newer save for the same question already arrived.

    The autosave: one read of that question (shared lock on the attempt row on PostgreSQL) and
    one UPDATE whose WHERE clause repeats every rule (owner, open, deadline, newer sequence number),
    so it is safe even where the read ran outside the write lock (SQLite, `@writes_late`).
    """
    user_id = user.id  # begin_write() below expires the session's objects
    row = db.session.execute(_SAVE_READ, {"attempt_id": attempt_id, "position": position}).one_or_none()
    if row is None or row.user_id != user_id:
        db.session.rollback()
        raise NotFound("There is no such attempt.")
    cutoff = clock.now() - _grace(grace_seconds)
    if row.state != OPEN or (row.deadline_dt is not None and row.deadline_dt < cutoff):
        db.session.rollback()
        return save_answers(user, attempt_id, {position: seq}, form, grace_seconds)[position]  # says why
    if row.item_id is None:
        db.session.rollback()
        raise NotFound("That question is not part of this attempt.")
    if seq is None:
        db.session.rollback()
        raise ServiceError("A save needs a sequence number.")
    try:
        response = question_type(row.content["type"]).read_form(row.content, row.display_order, form, f"q{position}")
    except InvalidResponse as exc:
        db.session.rollback()
        raise ServiceError(f"Question {position}: {exc}") from None
    begin_write(db.session)
    changed = execute_dml(db.session, _SAVE_WRITE, {
        "b_item_id": row.item_id, "new_seq": seq, "b_attempt_id": attempt_id, "b_user_id": user_id, "b_cutoff": cutoff,
        "new_response": response, "saved_dt": clock.now()}).rowcount
    if changed:
        db.session.commit()
        return SaveResult(True, seq, "Saved")
    # A newer save of this question won (two tabs, a retried request), or the attempt closed in between.
    stored = db.session.execute(_SEQ_IF_STILL_OPEN,
                                {"item_id": row.item_id, "attempt_id": attempt_id, "cutoff": cutoff}).one_or_none()
    db.session.rollback()
    if stored is not None and stored.response_seq == seq and stored.response == json.loads(json.dumps(response)):
        # This very save, sent again because its reply was lost (a dropped connection, a worker killed after
        # the commit): it is stored, and the page must not tell the learner another window won.
        return SaveResult(True, seq, "Saved")
    if stored is not None and stored.response_seq >= seq:
        return SaveResult(False, stored.response_seq, NEWER_ANSWER_KEPT)
    return save_answers(user, attempt_id, {position: seq}, form, grace_seconds)[position]  # closed: says why


def save_answers(user, attempt_id: int, seqs: Mapping[int, int | None], form, grace_seconds: int | None = None,
                 skip_invalid: bool = False) -> dict[int, SaveResult]:
    """Store the answers for the given positions (each with its sequence number) in one transaction.

    An answer the form does not describe properly stops everything, unless skip_invalid
    (used at the time limit), which leaves that question's saved answer as it was.
    """
    attempt = _locked_attempt_for(user, attempt_id)
    if attempt.state != OPEN:
        db.session.rollback()
        raise AttemptClosed("This attempt has been submitted; answers can no longer change.")
    if close_if_expired(attempt, grace_seconds):
        db.session.commit()
        raise AttemptClosed("Time is up: the attempt was submitted with the answers saved before the deadline.")
    items = {aq.position: aq for aq in attempt.questions}
    now = clock.now()
    results = {}
    for position, seq in seqs.items():
        aq = items.get(position)
        if aq is None:
            db.session.rollback()
            raise NotFound("That question is not part of this attempt.")
        if seq is None:
            db.session.rollback()
            raise ServiceError("A save needs a sequence number.")
        content = aq.version.content
        try:
            response = question_type(content["type"]).read_form(content, aq.display_order, form, f"q{position}")
        except InvalidResponse as exc:
            if skip_invalid:
                results[position] = SaveResult(False, aq.response_seq, f"Not saved: {exc}")
                continue
            db.session.rollback()
            raise ServiceError(f"Question {position}: {exc}") from None
        changed = execute_dml(db.session,
            update(AttemptQuestion)
            .where(AttemptQuestion.id == aq.id, AttemptQuestion.response_seq < seq)
            .values(response=response, response_seq=seq, answered_dt=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed:
            results[position] = SaveResult(True, seq, "Saved")
        else:
            results[position] = SaveResult(False, aq.response_seq, NEWER_ANSWER_KEPT)
    db.session.commit()
    return results


_SAVED_ANSWERS = (select(AttemptQuestion.id, AttemptQuestion.response, AttemptQuestion.question_version_id,
                         QuestionVersion.content_hash)
                  .join(QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id)
                  .where(AttemptQuestion.attempt_id == bindparam("attempt_id")).order_by(AttemptQuestion.position))
_SET_FRACTION = update(AttemptQuestion).where(AttemptQuestion.id == bindparam("b_id")).values(
    fraction=bindparam("b_fraction"))


def _grade_and_close(attempt: Attempt, submitted_by: str, submitted_dt: datetime) -> bool:
    """Grade on the saved answers and move open -> submitted; False if someone else already did."""
    # The answers as stored now (plain rows, never this session's older objects); contents from the version cache.
    items = db.session.execute(_SAVED_ANSWERS, {"attempt_id": attempt.id}).all()
    contents = _contents({item.question_version_id: item.content_hash for item in items})
    grade = grade_attempt([(contents[item.question_version_id], item.response) for item in items],
                          attempt.pass_percent)
    # The guarded transition is what makes submit idempotent, whatever Python did before it.
    moved = execute_dml(db.session,
        update(Attempt).where(Attempt.id == attempt.id, Attempt.state == OPEN)
        .values(state=SUBMITTED, submitted_dt=submitted_dt, submitted_by=submitted_by,
                score_percent=grade.score_percent, passed=grade.passed, missed_critical=grade.missed_critical)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        return False
    # One executemany on the connection (an ORM bulk update would want objects or primary keys only).
    db.session.connection().execute(_SET_FRACTION, [{"b_id": item.id, "b_fraction": fraction}
                                                     for item, fraction in zip(items, grade.fractions, strict=True)])
    db.session.expire(attempt)  # its row changed in SQL: read it again on next use
    if grade.passed:
        issue_certificate_if_complete(attempt.user, attempt.module.course)
    return True


#: A page's countdown may reach zero this much before the server's deadline (clock skew, rounding).
TIME_UP_TOLERANCE = timedelta(seconds=5)


def submit_attempt(user, attempt_id: int, grace_seconds: int | None = None, time_up: bool = False) -> Attempt:
    """Grade and close the attempt once; every later or concurrent call returns the same result.

    `time_up` is the page's countdown submitting by itself: near the deadline that is recorded
    as closed by the deadline, at the deadline, like an attempt the server closes.
    """
    attempt = _locked_attempt_for(user, attempt_id)
    if attempt.state == OPEN:
        deadline = attempt.deadline_dt
        if time_up and deadline is not None and clock.now() >= deadline - TIME_UP_TOLERANCE:
            _grade_and_close(attempt, submitted_by="deadline", submitted_dt=min(clock.now(), deadline))
        elif not close_if_expired(attempt, grace_seconds):
            _grade_and_close(attempt, submitted_by="learner", submitted_dt=clock.now())
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
    db.session.refresh(attempt)
    return attempt


#: How many question versions each process keeps parsed (the shipped course has about 150).
VERSION_CACHE_SIZE = 4096
_contents_by_hash: OrderedDict[str, dict] = OrderedDict()
_contents_lock = threading.Lock()


def _contents(hashes: dict[int, str]) -> dict[int, dict]:
    """version id -> content, each parsed once per process. A version never changes, and its content_hash
    (SHA-256 of the content) names the content itself, so the cache needs no invalidation, across processes
    or even when a database is emptied and ids come round again. The dicts are shared: never change them."""
    with _contents_lock:
        found = {vid: _contents_by_hash[h] for vid, h in hashes.items() if h in _contents_by_hash}
    missing = [vid for vid in hashes if vid not in found]
    if missing:
        rows = db.session.execute(select(QuestionVersion.id, QuestionVersion.content_hash, QuestionVersion.content)
                                  .where(QuestionVersion.id.in_(missing))).all()
        with _contents_lock:
            for vid, content_hash, content in rows:
                found[vid] = _contents_by_hash[content_hash] = content
            while len(_contents_by_hash) > VERSION_CACHE_SIZE:
                _contents_by_hash.popitem(last=False)
    return found


@dataclass(frozen=True)
class PaperItem:
    """One question of an attempt as the quiz page shows it."""

    position: int
    version_id: int
    display_order: object
    response: object
    response_seq: int
    content: dict


_PAPER = (select(AttemptQuestion.position, AttemptQuestion.question_version_id, AttemptQuestion.display_order,
                 AttemptQuestion.response, AttemptQuestion.response_seq, QuestionVersion.content_hash)
          .join(QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id)
          .where(AttemptQuestion.attempt_id == bindparam("attempt_id")).order_by(AttemptQuestion.position))


def attempt_paper(attempt: Attempt) -> list[PaperItem]:
    """The attempt's questions with their saved answers in one statement; the versions' content from the cache."""
    rows = db.session.execute(_PAPER, {"attempt_id": attempt.id}).all()
    contents = _contents({row.question_version_id: row.content_hash for row in rows})
    return [PaperItem(row.position, row.question_version_id, row.display_order, row.response, row.response_seq,
                      contents[row.question_version_id]) for row in rows]


@dataclass(frozen=True)
class GradedItem:
    """One question of a submitted attempt as its review shows it."""

    position: int
    display_order: object
    response: object
    fraction: float | None
    shown: dict  # the version the person answered
    graded: dict  # the version graded against: after a regrade, the corrected one
    regraded_version: int | None


_GradedVersion = aliased(QuestionVersion)
_GRADED_PAPER = (select(AttemptQuestion.position, AttemptQuestion.display_order, AttemptQuestion.response,
                        AttemptQuestion.fraction, AttemptQuestion.question_version_id, QuestionVersion.content_hash,
                        _GradedVersion.id.label("graded_id"), _GradedVersion.content_hash.label("graded_hash"),
                        _GradedVersion.number.label("graded_number"))
                 .join(QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id)
                 .outerjoin(_GradedVersion, _GradedVersion.id == AttemptQuestion.graded_version_id)
                 .where(AttemptQuestion.attempt_id == bindparam("attempt_id")).order_by(AttemptQuestion.position))


def graded_paper(attempt: Attempt) -> list[GradedItem]:
    """The attempt's questions with answers and credit in one statement; the versions' content from the cache."""
    rows = db.session.execute(_GRADED_PAPER, {"attempt_id": attempt.id}).all()
    hashes = {row.question_version_id: row.content_hash for row in rows}
    hashes.update({row.graded_id: row.graded_hash for row in rows if row.graded_id is not None})
    contents = _contents(hashes)
    return [GradedItem(row.position, row.display_order, row.response, row.fraction,
                       contents[row.question_version_id], contents[row.graded_id or row.question_version_id],
                       row.graded_number) for row in rows]


_ATTEMPT_WITH_MODULE = (select(Attempt).where(Attempt.id == bindparam("attempt_id"))
                        .options(joinedload(Attempt.module).joinedload(Module.course)))


def find_attempt(attempt_id: int) -> Attempt | None:
    """An attempt with its module and course, in one statement."""
    return db.session.scalar(_ATTEMPT_WITH_MODULE, {"attempt_id": attempt_id})


def get_attempt_for_owner(user, attempt_id: int, grace_seconds: int | None = None) -> Attempt:
    """The person's own attempt with its module and course, closed first if its deadline has passed."""
    attempt = find_attempt(attempt_id)
    if attempt is None or not can_take_attempt(user, attempt):
        raise NotFound("There is no such attempt.")
    if (attempt.state == OPEN and attempt.deadline_dt is not None
            and clock.now() > attempt.deadline_dt + _grace(grace_seconds)):
        attempt = _locked_attempt_for(user, attempt_id)
        close_if_expired(attempt, grace_seconds)
        db.session.commit()
    return attempt


def close_expired_attempts(grace_seconds: int | None = None) -> int:
    """Close every open attempt past its deadline (for a scheduler); returns how many."""
    cutoff = clock.now() - _grace(grace_seconds)
    ids = list(db.session.scalars(select(Attempt.id).where(Attempt.state == OPEN, Attempt.deadline_dt < cutoff)))
    db.session.rollback()
    closed = 0
    for attempt_id in ids:
        attempt = db.session.scalar(select(Attempt).where(Attempt.id == attempt_id).with_for_update())
        if attempt is not None and close_if_expired(attempt, grace_seconds):
            closed += 1
        db.session.commit()
    return closed
