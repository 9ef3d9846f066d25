"""key the existing audit trail: entries written with plain SHA-256 are re-chained with AUDIT_KEY

Releases before the keyed chain hashed each entry with SHA-256 alone. Once the chain is keyed
(HMAC with AUDIT_KEY), `flask audit verify` would report every old entry as altered. This
migration checks the old chain first and re-hashes with the key only the entries it proves
intact (from the first entry up to the first one that no longer matches), so an entry that was
already tampered with stays reported, by its id.

Revision ID: e5b2a9c4d1f0
Revises: c3a1f0d2b7e4
Create Date: 2026-12-01 04:10:00

"""
import hashlib
import hmac
import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = 'e5b2a9c4d1f0'
down_revision = 'c3a1f0d2b7e4'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def _body(prev_hash, row) -> bytes:
    occurred = (row.occurred_dt if isinstance(row.occurred_dt, datetime)
                else datetime.fromisoformat(str(row.occurred_dt)))
    details = row.details if not isinstance(row.details, str) else json.loads(row.details)
    return json.dumps([prev_hash, occurred.isoformat(), row.actor_id, row.action, row.subject, details],
                      sort_keys=True, separators=(",", ":"), default=str).encode()


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, occurred_dt, actor_id, action, subject, details, prev_hash, entry_hash "
                                "FROM audit_events ORDER BY id")).all()
    # The longest run from the start whose plain SHA-256 chain still holds: those entries are proven
    # as written. An entry after it (altered, or already keyed) keeps its hashes, so `flask audit
    # verify` names it.
    intact, prev = [], GENESIS_HASH
    for row in rows:
        if row.prev_hash != prev or hashlib.sha256(_body(prev, row)).hexdigest() != row.entry_hash:
            break
        intact.append(row)
        prev = row.entry_hash
    key = current_app.config["AUDIT_KEY"].encode()
    prev = GENESIS_HASH
    for row in intact:
        entry_hash = hmac.new(key, _body(prev, row), hashlib.sha256).hexdigest()
        conn.execute(sa.text("UPDATE audit_events SET prev_hash = :prev, entry_hash = :hash WHERE id = :id"),
                     {"prev": prev, "hash": entry_hash, "id": row.id})
        prev = entry_hash


def downgrade():
    # Keyed hashes cannot be turned back into plain ones without rewriting history; nothing to undo.
    pass
