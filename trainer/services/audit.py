"""Recording audit events in a hash chain, and checking the chain."""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select, text

from trainer import clock
from trainer.extensions import db
from trainer.models import AuditEvent

GENESIS_HASH = "0" * 64


def _entry_hash(prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(
        [prev_hash, event.occurred_dt.isoformat(), event.actor_id, event.action, event.subject, event.details],
        sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record_event(actor, action: str, subject: str, **details) -> AuditEvent:
    """Append an event to the trail in the caller's transaction (the caller commits)."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Serialise appends so two transactions never chain onto the same previous entry.
        db.session.execute(text("SELECT pg_advisory_xact_lock(727001)"))
    prev = db.session.scalar(select(AuditEvent.entry_hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(occurred_dt=clock.now(), actor_id=getattr(actor, "id", None), action=action,
                       subject=subject, details=details, prev_hash=prev or GENESIS_HASH)
    event.entry_hash = _entry_hash(event.prev_hash, event)
    db.session.add(event)
    return event


def first_broken_event() -> tuple[int, str] | None:
    """Walk the chain; return (event id, what is wrong) for the first altered or missing entry."""
    prev = GENESIS_HASH
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != prev:
            return event.id, "the entry before this one was removed or altered"
        if _entry_hash(prev, event) != event.entry_hash:
            return event.id, "this entry was altered"
        prev = event.entry_hash
    return None
