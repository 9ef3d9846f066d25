"""Course certificates."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer import clock
from trainer.extensions import Model

#: A certificate is current until a renewal supersedes it or it is revoked.
CURRENT = text("superseded_dt IS NULL AND revoked_dt IS NULL")


class Certificate(Model):
    __tablename__ = "certificates"
    __table_args__ = (
        # At most one current certificate per person and course, whatever code path issues it.
        Index("uq_certificates_one_current", "user_id", "course_id", unique=True,
              sqlite_where=CURRENT, postgresql_where=CURRENT),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public verification code, unguessable, never reused: grouped Crockford base32 (100 random bits)
    #: since December 2026; older certificates keep their 32 letters and digits.
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True, nullable=False)
    issued_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)
    expires_dt: Mapped[datetime] = mapped_column(nullable=False)
    #: Mean of the best passing score of each module when issued.
    score_percent: Mapped[float] = mapped_column(nullable=False)
    #: Set when a renewal issued a newer certificate for the same person and course.
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), nullable=True)
    #: When the renewal superseded it. Set before the renewal is inserted, so that the unique
    #: index on current certificates never sees two at once.
    superseded_dt: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_dt: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    user = relationship("User", foreign_keys=[user_id])
    course = relationship("Course")


class CertificationLock(Model):
    """One row per person and course, locked (SELECT ... FOR UPDATE) while deciding whether to issue.

    Two submits finishing a course at the same moment take turns here, so the second one sees
    the first one's committed attempt or certificate.
    """
    __tablename__ = "certification_locks"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), primary_key=True, index=True)
