"""The audit trail is keyed (HMAC, AUDIT_KEY outside the database), its heads are kept outside the
database, and sign-ins, sign-outs and every export of personal data are recorded."""
import hashlib
import json

import pytest
from sqlalchemy import JSON, bindparam, select, text

from tests.conftest import TINY_COURSE
from tests.factories import PASSWORD, import_course, make_clinic, make_user, take_attempt
from trainer.config import ConfigError
from trainer.extensions import db
from trainer.models import AuditEvent
from trainer.services.api_tokens import create_token


def _rechain_with_sha256(from_id: int) -> None:
    """What someone with database access could do: edit an entry and recompute every later hash."""
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    prev = None
    for event in events:
        if event.id >= from_id:
            event.prev_hash = prev
            body = json.dumps([prev, event.occurred_dt.isoformat(), event.actor_id, event.action, event.subject,
                               event.details], sort_keys=True, separators=(",", ":"), default=str)
            event.entry_hash = hashlib.sha256(body.encode()).hexdigest()
        prev = event.entry_hash
    db.session.commit()


def test_an_edited_entry_with_every_later_hash_recomputed_is_caught(app, runner):
    make_clinic("North Clinic")
    make_user("manager")
    ids = list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
    db.session.execute(text("UPDATE audit_events SET details = :details WHERE id = :id")
                       .bindparams(bindparam("details", type_=JSON)), {"details": {"name": "Forged"}, "id": ids[1]})
    db.session.commit()
    db.session.expire_all()
    _rechain_with_sha256(ids[1])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.output.strip() == f"Audit entry {ids[1]}: this entry was altered."


def test_cutting_off_the_newest_entries_is_caught_without_a_kept_head(app, runner):
    make_clinic("North Clinic")
    make_user("manager")
    ids = list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
    db.session.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": ids[-2]})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"Audit entry {ids[-2]} " in result.output
    assert "entries were cut off or removed" in result.output


def test_the_head_file_gets_each_committed_entry_and_none_rolled_back(app):
    make_clinic("North Clinic")
    from trainer.services.audit import record_event

    record_event(None, "test.rolled_back", "nothing")
    db.session.rollback()
    with open(app.config["AUDIT_HEAD_FILE"]) as head:
        lines = head.read().splitlines()
    events = db.session.execute(select(AuditEvent.id, AuditEvent.entry_hash).order_by(AuditEvent.id)).all()
    assert lines == [f"{event_id} {entry_hash}" for event_id, entry_hash in events] and len(lines) == 1


def test_production_needs_an_audit_key(monkeypatch, tmp_path):
    from trainer.config import settings_from_environment

    monkeypatch.setenv("TRAINER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("TRAINER_BASE_URL", "https://trainer.example")
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    with pytest.raises(ConfigError, match="AUDIT_KEY"):
        settings_from_environment(str(tmp_path))


def _actions(prefix: str):
    return db.session.execute(select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.subject, AuditEvent.details)
                              .where(AuditEvent.action.like(prefix + "%")).order_by(AuditEvent.id)).all()


def test_sign_in_failure_and_sign_out_are_recorded(app):
    user = make_user("learner")
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": "wrong"})
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post("/logout")
    assert [(a, actor, s) for a, actor, s, _ in _actions("auth.")] == [
        ("auth.sign_in_failed", None, f"user:{user.id}"),
        ("auth.sign_in", user.id, f"user:{user.id}"),
        ("auth.sessions_end", user.id, f"user:{user.id}")]


def test_every_export_of_personal_data_is_recorded(app):
    course = import_course(TINY_COURSE)
    manager = make_user("manager")
    learner = make_user("learner", clinic=manager.clinic)
    for module in course.modules:
        take_attempt(learner, module)
    token, plaintext = create_token(manager, "HR")
    clinic_id = manager.clinic_id
    client = app.test_client()
    client.post("/login", data={"email": manager.email, "password": PASSWORD})
    for path in ("/manage/register.csv", "/manage/register.xlsx", "/manage/certificates.zip"):
        assert client.get(path).status_code == 200, path
    assert app.test_client().get("/api/v1/register",
                                 headers={"Authorization": f"Bearer {plaintext}"}).status_code == 200
    assert [(a, actor, s, d["rows"]) for a, actor, s, d in _actions("exports.")] == [
        ("exports.register_csv", manager.id, f"clinic:{clinic_id}", 2),
        ("exports.register_xlsx", manager.id, f"clinic:{clinic_id}", 2),
        ("exports.certificates_zip", manager.id, f"clinic:{clinic_id}", 1),
        ("exports.register_api", manager.id, f"clinic:{clinic_id}", 2)]
