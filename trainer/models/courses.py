"""Courses, their modules, and questions with immutable versions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer import clock
from trainer.extensions import Model


class Course(Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable identifier from course.yaml; URLs and certificates refer to it.
    slug: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: A certificate expires this many days after issue.
    valid_for_days: Mapped[int] = mapped_column(nullable=False)
    #: A certificate counts as "expiring" from this many days before its expiry.
    renewal_window_days: Mapped[int] = mapped_column(nullable=False)
    #: {key: {"citation": str, "tier": "A"|"B"|"C"}} as listed in course.yaml.
    sources: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    #: The checked `practical` section of course.yaml (competencies, logbook, renewal); None when
    #: the course certifies on its quizzes alone.
    practical: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    imported_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)

    modules: Mapped[list[Module]] = relationship(
        order_by="Module.position",
        primaryjoin="and_(Course.id == Module.course_id, Module.retired == False)", viewonly=True,
    )


class Module(Model):
    __tablename__ = "modules"
    __table_args__ = (UniqueConstraint("course_id", "slug", name="uq_modules_course_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True, nullable=False)
    slug: Mapped[str] = mapped_column(String(100), nullable=False)
    #: Order within the course, from 1.
    position: Mapped[int] = mapped_column(nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    #: Trainer-written Markdown; rendered through the sanitiser only.
    content_md: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: Questions per attempt.
    draw: Mapped[int] = mapped_column(nullable=False)
    #: {tag: minimum questions with that tag per attempt}.
    draw_by_tag: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    pass_percent: Mapped[int] = mapped_column(nullable=False)
    #: None means untimed.
    time_limit_minutes: Mapped[int | None] = mapped_column(nullable=True)
    attempts_before_cooldown: Mapped[int] = mapped_column(nullable=False, default=2)
    cooldown_hours: Mapped[int] = mapped_column(nullable=False, default=24)
    #: When the review shows correct answers and per-choice feedback: "after_pass" or "always".
    show_answers: Mapped[str] = mapped_column(String(20), nullable=False, default="after_pass",
                                              server_default="after_pass")
    #: A module dropped from course.yaml stays (attempts point at it) but no longer counts.
    retired: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: content_hash of the Markdown / the quiz settings as the course folder last gave them (None:
    #: not yet imported from a folder); a folder import never overwrites a newer edit in the studio.
    content_file_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    quiz_file_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    course: Mapped[Course] = relationship()
    questions: Mapped[list[Question]] = relationship(
        back_populates="module", order_by="Question.position"
    )


class Question(Model):
    """A question's identity; its text lives in versions, which are never changed."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("course_id", "key", name="uq_questions_course_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True, nullable=False)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), index=True, nullable=False)
    #: The bank's `id`, stable across edits.
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    position: Mapped[int] = mapped_column(nullable=False)
    #: Retired questions are no longer drawn; answered ones are never deleted.
    retired: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: content_hash of the question as its course folder last gave it; None when no course folder
    #: holds it (made in the browser, uploaded, or removed from the folder). A folder import compares
    #: against it to tell a changed file from a newer edit made elsewhere.
    file_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    module: Mapped[Module] = relationship(back_populates="questions")
    versions: Mapped[list[QuestionVersion]] = relationship(
        back_populates="question", order_by="QuestionVersion.number"
    )


class QuestionVersion(Model):
    __tablename__ = "question_versions"
    __table_args__ = (
        UniqueConstraint("question_id", "number", name="uq_question_versions_question_number"),
        CheckConstraint("origin IN ('folder', 'browser', 'upload')", name="origin"),  # ck_question_versions_origin
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True, nullable=False)
    #: 1, 2, 3 ... per question.
    number: Mapped[int] = mapped_column(nullable=False)
    #: The question dict exactly as the bank defines it (see trainer/banks/records.py).
    content: Mapped[dict] = mapped_column(JSON, nullable=False)
    #: SHA-256 of the canonical JSON of `content`; an unchanged re-import adds no version.
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)
    #: When this version became the one new attempts draw; None while it is a draft.
    published_dt: Mapped[datetime | None] = mapped_column(nullable=True)
    #: Who saved it (None for imports from files).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: Where it came from: "folder" (a course folder import), "browser" (the studio's editor) or
    #: "upload" (a bank file or course ZIP uploaded in the studio).
    origin: Mapped[str] = mapped_column(String(10), nullable=False, default="folder", server_default="folder")

    question: Mapped[Question] = relationship(back_populates="versions")


class CourseMedia(Model):
    """An image a course's Markdown refers to, stored so any app server can serve it."""

    __tablename__ = "course_media"
    __table_args__ = (UniqueConstraint("course_id", "name", name="uq_course_media_course_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True, nullable=False)
    #: File name inside the course's media/ folder.
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
