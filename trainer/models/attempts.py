"""Quiz attempts: the questions shown (snapshotted versions) and the answers saved."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer import clock
from trainer.extensions import Model

OPEN = "open"
SUBMITTED = "submitted"


class Attempt(Model):
    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "module_id", "number", name="uq_attempts_user_module_number"),
        # At most one open attempt per person and module, enforced by the database.
        Index(
            "uq_attempts_one_open",
            "user_id",
            "module_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), index=True, nullable=False)
    #: 1 for a person's first attempt at the module, 2 for the next ...
    number: Mapped[int] = mapped_column(nullable=False)
    #: "open" while answers may be saved, then "submitted" exactly once.
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=OPEN)
    started_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)
    #: Fixed at start from the module's time limit; None when untimed. The page only shows it.
    deadline_dt: Mapped[datetime | None] = mapped_column(nullable=True)
    submitted_dt: Mapped[datetime | None] = mapped_column(nullable=True)
    #: "learner" (pressed submit) or "deadline" (closed by the server at its deadline).
    submitted_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    #: Copied from the module when the attempt starts, so later edits do not change it.
    pass_percent: Mapped[int] = mapped_column(nullable=False)
    score_percent: Mapped[float | None] = mapped_column(nullable=True)
    passed: Mapped[bool | None] = mapped_column(nullable=True)
    #: Keys of critical questions answered wrongly (an attempt missing one does not pass).
    missed_critical: Mapped[list] = mapped_column(JSON, nullable=False, default=list)

    user = relationship("User")
    module = relationship("Module")
    questions: Mapped[list[AttemptQuestion]] = relationship(
        back_populates="attempt", order_by="AttemptQuestion.position", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.state == OPEN


class AttemptQuestion(Model):
    """One question as shown in one attempt, with the person's saved answer."""

    __tablename__ = "attempt_questions"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position", name="uq_attempt_questions_attempt_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True, nullable=False)
    #: 1-based order on the page.
    position: Mapped[int] = mapped_column(nullable=False)
    #: The exact version shown; grading and review always use it.
    question_version_id: Mapped[int] = mapped_column(
        ForeignKey("question_versions.id"), index=True, nullable=False
    )
    #: How the options were shuffled for this person (indices into the version's lists).
    display_order: Mapped[object] = mapped_column(JSON, nullable=False, default=list)
    #: The saved answer in the type's canonical form (see trainer/quiz/types.py); None = unanswered.
    response: Mapped[object | None] = mapped_column(JSON, nullable=True)
    #: The client's sequence number of the save that wrote `response`; older saves are ignored.
    response_seq: Mapped[int] = mapped_column(nullable=False, default=0)
    answered_dt: Mapped[datetime | None] = mapped_column(nullable=True)
    #: Credit 0..1 after grading.
    fraction: Mapped[float | None] = mapped_column(nullable=True)
    #: Set by a regrade: the version the answer was last graded against (None = the one shown).
    graded_version_id: Mapped[int | None] = mapped_column(ForeignKey("question_versions.id"), nullable=True)

    attempt: Mapped[Attempt] = relationship(back_populates="questions")
    version = relationship("QuestionVersion", foreign_keys=[question_version_id])
    graded_version = relationship("QuestionVersion", foreign_keys=[graded_version_id])


class GradeHistory(Model):
    """A result an attempt had before a regrade replaced it; results are never overwritten silently."""

    __tablename__ = "grade_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True, nullable=False)
    score_percent: Mapped[float] = mapped_column(nullable=False)
    passed: Mapped[bool] = mapped_column(nullable=False)
    #: {position: fraction} as it was.
    fractions: Mapped[dict] = mapped_column(JSON, nullable=False)
    #: {position: version id} it had been graded against.
    version_ids: Mapped[dict] = mapped_column(JSON, nullable=False)
    replaced_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
