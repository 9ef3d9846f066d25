"""The admin's audit trail and outbox pages: filters, pagination, who may see them, statement counts."""
from datetime import datetime

import pytest

from tests.factories import PASSWORD, make_user
from trainer import clock
from trainer.extensions import db
from trainer.services.audit import record_event
from trainer.services.mail import deliver


def signed_in(app, user):
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def record(actor, action, subject, at):
    clock.freeze(at)
    record_event(actor, action, subject)
    db.session.commit()
    clock.freeze(None)


@pytest.fixture
def admin(app):
    return make_user("admin", name="Ada Admin", email="ada@example.org")


def test_admin_pages_are_linked_from_the_admin_home(app, admin):
    html = signed_in(app, admin).get("/admin/").get_data(as_text=True)
    assert 'href="/admin/audit"' in html and 'href="/admin/outbox"' in html


@pytest.mark.parametrize("path", ["/admin/audit", "/admin/outbox"])
@pytest.mark.parametrize("roles, status", [(("admin",), 200), (("manager",), 403), (("trainer",), 403),
                                           (("learner",), 403), (("manager", "trainer", "learner"), 403)])
def test_only_admins_may_open_the_records_pages(app, path, roles, status):
    assert signed_in(app, make_user(*roles)).get(path).status_code == status


@pytest.mark.parametrize("path", ["/admin/audit", "/admin/outbox"])
def test_anonymous_visitors_are_sent_to_sign_in(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_audit_trail_newest_first_with_actor_names(app, admin):
    trainer = make_user("trainer", name="Tess Trainer", email="tess@example.org")
    record(trainer, "banks.import", "course:first-import", datetime(2026, 1, 5, 10))
    record(None, "banks.import", "course:second-import", datetime(2026, 1, 6, 10))
    html = signed_in(app, admin).get("/admin/audit").get_data(as_text=True)
    assert html.index("course:second-import") < html.index("course:first-import")
    assert "Tess Trainer" in html and "tess@example.org" in html and "system or command line" in html
    assert '<th scope="col">Action</th>' in html


def test_audit_trail_filters_by_action_actor_and_date_range(app, admin):
    trainer = make_user("trainer", name="Tess Trainer", email="tess@example.org")
    record(trainer, "banks.import", "course:january", datetime(2026, 1, 5, 10))
    record(admin, "certificates.revoke", "certificate:february", datetime(2026, 2, 10, 23, 59))
    record(trainer, "certificates.revoke", "certificate:march", datetime(2026, 3, 15, 8))
    client = signed_in(app, admin)

    page = client.get("/admin/audit").get_data(as_text=True)
    assert '<option value="banks.import">' in page and '<option value="certificates.revoke">' in page

    by_action = client.get("/admin/audit?action=certificates.revoke").get_data(as_text=True)
    assert "certificate:february" in by_action and "certificate:march" in by_action
    assert "course:january" not in by_action and "users.create</code>" not in by_action

    by_actor = client.get("/admin/audit?actor=TESS@example").get_data(as_text=True)
    assert "course:january" in by_actor and "certificate:march" in by_actor and "certificate:february" not in by_actor

    by_dates = client.get("/admin/audit?since=2026-02-01&until=2026-02-10").get_data(as_text=True)
    assert "certificate:february" in by_dates  # the last day counts whole
    assert "course:january" not in by_dates and "certificate:march" not in by_dates

    combined = client.get("/admin/audit?action=certificates.revoke&actor=tess&since=2026-03-01").get_data(as_text=True)
    assert "certificate:march" in combined and "certificate:february" not in combined

    nonsense = client.get("/admin/audit?since=yesterday&page=-4")
    assert nonsense.status_code == 200 and "certificate:march" in nonsense.get_data(as_text=True)


def test_audit_trail_pages_by_fifty_and_keeps_the_filters(app, admin):
    for n in range(60):
        record_event(admin, "demo.step", f"step:{n:03d}")
    db.session.commit()
    client = signed_in(app, admin)
    first = client.get("/admin/audit?action=demo.step").get_data(as_text=True)
    assert first.count("demo.step</code>") == 50 and "step:059" in first and "step:009" not in first
    assert "60 entries, page 1 of 2" in first
    assert 'href="/admin/audit?page=2&amp;action=demo.step"' in first
    second = client.get("/admin/audit?page=2&action=demo.step").get_data(as_text=True)
    assert second.count("demo.step</code>") == 10 and "step:009" in second and "step:010" not in second


def test_audit_page_statement_count_does_not_grow_with_events_or_actors(app, admin, count_queries):
    client = signed_in(app, admin)

    def statements(url="/admin/audit"):
        db.session.expire_all()  # the test shares the app's session: start every request from the same state
        with count_queries() as seen:
            assert client.get(url).status_code == 200
        return len(seen)

    record_event(make_user("trainer"), "banks.import", "course:first")
    db.session.commit()
    small = statements()
    for n in range(30):
        record_event(make_user("trainer"), "banks.import", f"course:{n}")
    db.session.commit()
    assert statements() == small
    assert statements("/admin/audit?actor=example&action=banks.import") == small


def _message(kind, n, smtp_sent=False):
    message = deliver(recipient_email=f"person{n}@example.org", subject=f"{kind} number {n}", body="Sign in.",
                      kind=kind, dedupe_key=f"{kind}:{n}")
    if smtp_sent:
        message.sent_dt = datetime(2026, 3, 4, 9, 0)
        db.session.commit()
    return message


def test_outbox_lists_messages_newest_first_and_filters_by_kind(app, admin):
    _message("overdue", 1)
    _message("manager-digest", 2, smtp_sent=True)
    _message("overdue", 3)
    client = signed_in(app, admin)
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert html.index("overdue number 3") < html.index("manager-digest number 2") < html.index("overdue number 1")
    assert "not mailed" in html and "2026-03-04 09:00 UTC" in html
    assert '<option value="manager-digest">' in html
    filtered = client.get("/admin/outbox?kind=overdue").get_data(as_text=True)
    assert "overdue number 1" in filtered and "overdue number 3" in filtered
    assert "manager-digest number 2" not in filtered


def test_outbox_pages_by_fifty(app, admin):
    for n in range(55):
        _message("overdue", n)
    client = signed_in(app, admin)
    first = client.get("/admin/outbox?kind=overdue").get_data(as_text=True)
    assert first.count("<details>") == 50 and "55 messages, page 1 of 2" in first
    assert 'href="/admin/outbox?page=2&amp;kind=overdue"' in first
    second = client.get("/admin/outbox?kind=overdue&page=2").get_data(as_text=True)
    assert second.count("<details>") == 5 and "overdue number 0<" in second
