"""Courses assigned to people with a due date."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer import clock
from trainer.extensions import Model


class Assignment(Model):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("user_id", "course_id", name="uq_assignments_user_course"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True, nullable=False)
    #: The person is overdue after this day without a valid certificate.
    due_date: Mapped[date] = mapped_column(nullable=False)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    assigned_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)

    user = relationship("User", foreign_keys=[user_id])
    assigned_by = relationship("User", foreign_keys=[assigned_by_id])
    course = relationship("Course")
