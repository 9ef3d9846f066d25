"""Outgoing notifications: every message is recorded once, whether mailed or kept in the outbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trainer import clock
from trainer.extensions import Model


class OutboxMessage(Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, nullable=True)
    recipient_email: Mapped[str] = mapped_column(String(254), nullable=False)
    #: e.g. "expiry-reminder", "overdue", "manager-digest".
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    #: Unique per message that must go out once (e.g. "expiry-reminder:cert:12:30d").
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)
    #: When SMTP accepted it; None while it only sits in the outbox.
    sent_dt: Mapped[datetime | None] = mapped_column(nullable=True)


class RateCounter(Model):
    """Requests counted per client and time window, shared by every app process."""

    __tablename__ = "rate_counters"

    #: e.g. "verify:203.0.113.9:2026-11-25T10:05".
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(nullable=False, default=0)
    #: When the window ends; rows past it can be deleted.
    expires_dt: Mapped[datetime] = mapped_column(nullable=False, index=True)
