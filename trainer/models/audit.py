"""Append-only audit trail; each entry carries the hash of the one before it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from trainer import clock
from trainer.extensions import Model


class AuditEvent(Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now, index=True)
    #: Who did it; None for the command line or the system itself.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, nullable=True)
    #: What happened, e.g. "banks.import", "users.create", "certificates.issue".
    action: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    #: What it happened to, e.g. "user:12", "course:microneedling-practitioner".
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    details: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
