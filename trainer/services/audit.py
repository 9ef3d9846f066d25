"""Recording audit events in a keyed hash chain, and checking the chain.

Each entry's hash is an HMAC (key AUDIT_KEY, held outside the database) over the entry and the
hash before it, so no one with only database access can rewrite an entry and recompute the rest.
After each commit the new entries' ids and hashes are appended to AUDIT_HEAD_FILE, outside the
database, so entries cut off the end (or deleted and re-chained) are caught too.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from trainer import clock
from trainer.extensions import db
from trainer.models import AuditEvent, User

GENESIS_HASH = "0" * 64


def _entry_hash(prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(
        [prev_hash, event.occurred_dt.isoformat(), event.actor_id, event.action, event.subject, event.details],
        sort_keys=True, separators=(",", ":"), default=str,
    )
    return hmac.new(current_app.config["AUDIT_KEY"].encode(), body.encode(), hashlib.sha256).hexdigest()


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
    db.session.flush()  # the id, for the head file once the transaction commits
    session = db.session()
    session.info.setdefault("audit_heads", []).append((event.id, event.entry_hash))
    session.info["audit_head_file"] = current_app.config.get("AUDIT_HEAD_FILE")
    return event


@sa_event.listens_for(Session, "after_commit")
def _append_heads(session):
    heads, path = session.info.pop("audit_heads", None), session.info.pop("audit_head_file", None)
    if heads and path:
        # O_APPEND: lines from several processes never overwrite each other.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, "".join(f"{event_id} {entry_hash}\n" for event_id, entry_hash in heads).encode())
        finally:
            os.close(fd)


@sa_event.listens_for(Session, "after_rollback")
def _forget_heads(session):
    session.info.pop("audit_heads", None)
    session.info.pop("audit_head_file", None)


def missing_head(path: str | None) -> tuple[int, str] | None:
    """The first (id, hash) of the head file that the trail no longer holds, or None."""
    if not path or not Path(path).exists():
        return None
    stored = {event_id: entry_hash
              for event_id, entry_hash in db.session.execute(select(AuditEvent.id, AuditEvent.entry_hash))}
    for line in Path(path).read_text().splitlines():
        event_id, _, entry_hash = line.partition(" ")
        if event_id.isdigit() and stored.get(int(event_id)) != entry_hash.strip():
            return int(event_id), entry_hash.strip()
    return None


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


# --- reading the trail -------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50


@dataclass
class AuditFilters:
    action: str | None = None
    #: Part of the actor's email address.
    actor: str | None = None
    #: First and last day (UTC), both included.
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_args(cls, args) -> AuditFilters:
        return cls(action=args.get("action") or None, actor=(args.get("actor") or "").strip().lower() or None,
                   since=args.get("since", type=date.fromisoformat), until=args.get("until", type=date.fromisoformat))

    def query_args(self) -> dict:
        """The filters as URL parameters, so page links keep them."""
        return {key: str(value) for key, value in asdict(self).items() if value}


def audit_events_page(filters: AuditFilters, page: int, per_page: int = AUDIT_PAGE_SIZE):
    """Events newest first, one page, with their actors: a count, a page and one actor query."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(AuditEvent.actor_id.in_(
            select(User.id).where(User.email.contains(filters.actor, autoescape=True))))
    if filters.since:
        query = query.where(AuditEvent.occurred_dt >= datetime.combine(filters.since, time.min))
    if filters.until:
        query = query.where(AuditEvent.occurred_dt < datetime.combine(filters.until + timedelta(days=1), time.min))
    events = db.paginate(query, page=page, per_page=per_page, error_out=False)
    actor_ids = {e.actor_id for e in events.items if e.actor_id is not None}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    return events, actors


def audit_actions() -> list[str]:
    """Every action the trail holds, for the filter's choices."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
