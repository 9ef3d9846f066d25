"""flask audit verify: an intact hash chain passes; an altered or deleted entry is named."""
from sqlalchemy import JSON, bindparam, select, text

from tests.factories import make_clinic, make_user
from trainer.extensions import db
from trainer.models import AuditEvent


def _event_ids() -> list[int]:
    make_clinic("North Clinic")
    make_user("manager")  # its own clinic, then the account: three entries in all
    return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def test_an_intact_trail_passes(app, runner):
    ids = _event_ids()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    head = db.session.scalar(select(AuditEvent.entry_hash).order_by(AuditEvent.id.desc()).limit(1))
    assert result.output.strip() == (
        f"Audit trail intact: {len(ids)} entries; head {head} (keep it to check later runs).")


def test_an_empty_trail_is_intact(app, runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and result.output.strip().startswith("Audit trail intact: 0 entries; head none")


def test_an_entry_changed_behind_the_apps_back_is_reported(app, runner):
    ids = _event_ids()
    db.session.execute(text("UPDATE audit_events SET details = :details WHERE id = :id")
                       .bindparams(bindparam("details", type_=JSON)), {"details": {"name": "Forged"}, "id": ids[1]})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.output.strip() == f"Audit entry {ids[1]}: this entry was altered."


def test_a_deleted_entry_is_reported_at_the_entry_after_it(app, runner):
    ids = _event_ids()
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[1]})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.output.strip() == f"Audit entry {ids[2]}: the entry before this one was removed or altered."


def test_cutting_off_the_newest_entries_is_caught_with_a_kept_head(app, runner):
    ids = _event_ids()
    head = db.session.scalar(select(AuditEvent.entry_hash).where(AuditEvent.id == ids[-1]))
    assert runner.invoke(args=["audit", "verify", "--expect-head", head]).exit_code == 0
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[-1]})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])  # the head file outside the database tells
    assert result.exit_code == 1 and f"Audit entry {ids[-1]} (hash {head})" in result.output
    result = runner.invoke(args=["audit", "verify", "--expect-head", head])
    assert result.exit_code == 1 and "no longer in the audit trail" in result.output
