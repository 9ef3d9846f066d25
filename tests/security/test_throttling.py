"""Sign-in throttling: per (account, address) and per address, growing waits, no lockout of the real user."""
import sqlite3
import threading
from datetime import datetime, timedelta

from sqlalchemy import func, inspect, select, text

from tests.factories import PASSWORD, make_user
from trainer import clock
from trainer.extensions import db
from trainer.models import AuditEvent
from trainer.services import accounts

ATTACKER, VICTIM_DESK = "203.0.113.66", "198.51.100.7"
START = datetime(2026, 12, 1, 9, 0, 0)
WRONG = "That email and password do not match an account."
REFUSED = "Too many sign-in attempts"


def sign_in(client, email, password, address):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def outcome(response) -> str:
    body = response.get_data(as_text=True)
    if response.status_code == 302:
        return "in"
    return "refused" if REFUSED in body else "wrong" if WRONG in body else f"other {response.status_code}"


def test_guesses_from_one_address_never_lock_out_the_right_password_from_another(app):
    clock.freeze(START)
    user = make_user("learner")
    attacker = app.test_client()
    results = [outcome(sign_in(attacker, user.email, f"guess {n}", ATTACKER)) for n in range(12)]
    assert results.count("wrong") == 5 and results[5:] == ["refused"] * 7
    assert outcome(sign_in(app.test_client(), user.email, PASSWORD, VICTIM_DESK)) == "in"


def test_one_address_spraying_many_accounts_is_slowed_down(app):
    clock.freeze(START)
    people = [make_user("learner") for _ in range(12)]
    attacker = app.test_client()
    results = [outcome(sign_in(attacker, person.email, f"guess {n}", ATTACKER)) for n in range(2) for person in people]
    assert results.count("wrong") == accounts.ADDRESS_TIERS[0][1]
    assert set(results[accounts.ADDRESS_TIERS[0][1]:]) == {"refused"}
    assert outcome(sign_in(app.test_client(), people[0].email, PASSWORD, VICTIM_DESK)) == "in"


def test_the_wait_grows_with_each_tier_and_ends(app):
    clock.freeze(START)
    user = make_user("learner")
    client = app.test_client()
    assert [outcome(sign_in(client, user.email, "nope", ATTACKER)) for _ in range(6)] == ["wrong"] * 5 + ["refused"]
    assert "Try again in a minute." in sign_in(client, user.email, PASSWORD, ATTACKER).get_data(as_text=True)
    clock.freeze(START + timedelta(minutes=1))
    # Refused attempts count too: 7 of the 15 minutes' 10 are spent.
    assert [outcome(sign_in(client, user.email, "nope", ATTACKER)) for _ in range(4)] == ["wrong"] * 3 + ["refused"]
    page = sign_in(client, user.email, PASSWORD, ATTACKER).get_data(as_text=True)
    assert "Try again in 14 minutes." in page  # the 15-minute allowance of 10 is spent
    clock.freeze(START + timedelta(minutes=15))
    assert outcome(sign_in(client, user.email, PASSWORD, ATTACKER)) == "in"


def test_a_successful_sign_in_gives_the_pairs_attempts_back(app):
    clock.freeze(START)
    user = make_user("learner")
    for _ in range(2):  # without the refund the pair's fifth attempt of the minute would be refused
        for _ in range(4):
            assert outcome(sign_in(app.test_client(), user.email, "typo", VICTIM_DESK)) == "wrong"
        assert outcome(sign_in(app.test_client(), user.email, PASSWORD, VICTIM_DESK)) == "in"


def test_parallel_guesses_are_counted_atomically(app):
    """40 guesses at once from one address: exactly the first tier's allowance reaches the password check."""
    clock.freeze(START)
    email = make_user("learner").email
    db.session.commit()  # reading the email began a transaction (with SQLite's write lock): end it
    results, errors = [], []

    def guess(n):
        try:
            with app.app_context():
                results.append(outcome(sign_in(app.test_client(), email, f"parallel {n}", ATTACKER)))
                db.session.remove()
        except Exception as exc:  # reported below: an exception in a thread would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 40
    assert results.count("wrong") == accounts.ACCOUNT_ADDRESS_TIERS[0][1]
    assert results.count("refused") == 40 - accounts.ACCOUNT_ADDRESS_TIERS[0][1]


def test_the_password_is_hashed_with_no_transaction_and_no_write_lock_held(app, monkeypatch):
    """A sign-in must not hold SQLite's write lock through bcrypt: every writer would wait for it."""
    user = make_user("learner")
    seen = []
    real_check = accounts.check_password

    def check_while_probing(password, password_hash):
        seen.append(db.session().in_transaction())
        if db.engine.dialect.name == "sqlite":
            other = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")  # fails at once with "database is locked" if a writer holds it
                other.execute("ROLLBACK")
                seen.append("write lock free")
            except sqlite3.OperationalError as exc:
                seen.append(str(exc))
            finally:
                other.close()
        return real_check(password, password_hash)

    monkeypatch.setattr(accounts, "check_password", check_while_probing)
    assert outcome(sign_in(app.test_client(), user.email, "wrong password", VICTIM_DESK)) == "wrong"
    assert outcome(sign_in(app.test_client(), user.email, PASSWORD, VICTIM_DESK)) == "in"
    expected = [False, "write lock free"] if db.engine.dialect.name == "sqlite" else [False]
    assert seen == expected * 2


def test_counters_of_unknown_emails_are_cleaned_up(app):
    clock.freeze(START)
    for n in range(3):
        sign_in(app.test_client(), f"nobody{n}@example.org", "guess", ATTACKER)
    user = make_user("learner")
    clock.freeze(START + timedelta(days=1, minutes=1))
    assert outcome(sign_in(app.test_client(), user.email, PASSWORD, VICTIM_DESK)) == "in"
    tables = set(inspect(db.session.connection()).get_table_names())
    if "login_failures" in tables:
        assert db.session.scalar(text("SELECT count(*) FROM login_failures")) == 0
    # Only today's counters of the address that just signed in remain.
    assert all(VICTIM_DESK in key for key in db.session.scalars(text("SELECT key FROM rate_counters")))


def test_sign_ins_and_failures_are_in_the_audit_trail(app):
    user = make_user("learner")
    sign_in(app.test_client(), user.email, "wrong", VICTIM_DESK)
    sign_in(app.test_client(), "nobody@example.org", "wrong", VICTIM_DESK)
    sign_in(app.test_client(), user.email, PASSWORD, VICTIM_DESK)
    events = db.session.execute(select(AuditEvent.action, AuditEvent.subject, AuditEvent.details)
                                .where(AuditEvent.action.like("auth.%")).order_by(AuditEvent.id)).all()
    assert [(a, s, d["address"]) for a, s, d in events] == [
        ("auth.sign_in_failed", f"user:{user.id}", VICTIM_DESK),
        ("auth.sign_in_failed", "user:unknown", VICTIM_DESK),
        ("auth.sign_in", f"user:{user.id}", VICTIM_DESK)]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) >= 4
