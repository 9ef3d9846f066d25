"""Certificate lookups (/verify/<code>, /api/v1/certificates/<code>) are limited per client IP, in the database."""
import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select

from tests.conftest import TINY_COURSE
from tests.factories import import_course, make_user, take_attempt
from trainer import clock
from trainer.extensions import db
from trainer.models import Certificate, RateCounter
from trainer.services import rate_limit
from trainer.services.rate_limit import hit

LIMIT = 3


@pytest.fixture
def code(app):
    app.config["VERIFY_LOOKUPS_PER_MINUTE"] = LIMIT
    course = import_course(TINY_COURSE)
    holder = make_user("learner")
    for module in course.modules:
        take_attempt(holder, module)
    return db.session.scalar(select(Certificate.code))


def lookup(client, path, ip):
    return client.get(path, environ_base={"REMOTE_ADDR": ip})


def test_lookups_past_the_limit_get_429_and_other_ips_are_unaffected(app, client, code):
    ip, other_ip = "203.0.113.9", "2001:db8::7"
    # Both paths share one allowance per IP, and unknown codes count as lookups too.
    for path in (f"/verify/{code}", f"/api/v1/certificates/{code}", "/api/v1/certificates/no-such-code"):
        assert lookup(client, path, ip).status_code in (200, 404)

    refused = lookup(client, f"/api/v1/certificates/{code}", ip)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert refused.get_json() == {"status": 429, "error": "Too many certificate checks from your network in the "
                                                          "last minute. Wait a minute and try again."}
    page = lookup(client, f"/verify/{code}", ip)
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert "Too many certificate checks" in page.get_data(as_text=True)

    assert lookup(client, f"/api/v1/certificates/{code}", other_ip).get_json()["code"] == code
    assert lookup(client, f"/verify/{code}", other_ip).status_code == 200
    assert lookup(client, "/healthz", ip).status_code == 200  # only certificate lookups are limited


def test_the_allowance_comes_back_in_the_next_minute(app, client, code):
    clock.freeze(datetime(2026, 3, 2, 9, 0, 30))
    for _ in range(LIMIT):
        assert lookup(client, f"/api/v1/certificates/{code}", "198.51.100.1").status_code == 200
    assert lookup(client, f"/api/v1/certificates/{code}", "198.51.100.1").status_code == 429
    clock.freeze(datetime(2026, 3, 2, 9, 1, 0))
    assert lookup(client, f"/api/v1/certificates/{code}", "198.51.100.1").status_code == 200


def test_one_row_counts_each_key_and_window(app):
    clock.freeze(datetime(2026, 3, 2, 9, 0, 10))
    assert [hit("test:a", 2, 60) for _ in range(3)] == [True, True, False]
    assert hit("test:b", 2, 60)
    counters = db.session.scalars(select(RateCounter).order_by(RateCounter.key)).all()
    assert [(c.key, c.count, c.expires_dt) for c in counters] == [
        ("test:a:2026-03-02T09:00:00", 3, datetime(2026, 3, 2, 9, 1)),
        ("test:b:2026-03-02T09:00:00", 1, datetime(2026, 3, 2, 9, 1))]


def test_counters_of_past_windows_are_deleted_now_and_then(app, monkeypatch):
    clock.freeze(datetime(2026, 3, 2, 9, 0, 10))
    hit("test:old", 5, 60)
    clock.freeze(datetime(2026, 3, 2, 9, 2, 0))
    monkeypatch.setattr(rate_limit, "CLEANUP_CHANCE", 1.0)
    hit("test:new", 5, 60)
    assert db.session.scalars(select(RateCounter.key)).all() == ["test:new:2026-03-02T09:02:00"]


def test_concurrent_hits_are_all_counted(app):
    threads, hits_each = 4, 10
    errors = []

    def hammer():
        try:
            with app.app_context():
                for _ in range(hits_each):
                    hit("test:busy", 1000, 3600)
                db.session.remove()
        except Exception as exc:  # reported below: an exception in a thread would otherwise vanish
            errors.append(exc)

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(RateCounter.count))) == threads * hits_each
