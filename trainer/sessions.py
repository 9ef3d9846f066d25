"""Server-side control over signed-cookie sessions: revocation by generation, and an idle timeout.

A session cookie carries the account's session generation from when it was opened and the time
it was last used. A cookie from an older generation (the person signed out, changed their
password or was deactivated) or one idle longer than the timeout no longer signs anyone in.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from flask import Flask, current_app, g, session
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from trainer import clock
from trainer.extensions import db, login_manager

if TYPE_CHECKING:
    from trainer.models import User

#: Rewrite the last-used time at most this often, so not every response sets a new cookie.
_SEEN_RESOLUTION = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1)
_SESSION_KEYS = ("_user_id", "_fresh", "_id", "_remember", "gen", "seen")


def _timestamp() -> int:
    return int((clock.now() - _EPOCH).total_seconds())


def idle_timeout(user) -> timedelta:
    """How long a session of `user` may sit unused; shorter for admins."""
    minutes = current_app.config["IDLE_TIMEOUT_MINUTES"]
    if "admin" in user.roles:
        minutes = min(minutes, current_app.config["ADMIN_IDLE_TIMEOUT_MINUTES"])
    return timedelta(minutes=minutes)


def open_session(user) -> None:
    """Start a fresh session for `user` (call after the password check)."""
    from flask_login import login_user

    # A new session shares nothing with what came before it, not even the CSRF secret.
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF's per-request copy of the old secret
    login_user(user)
    session["gen"] = user.session_generation
    session["seen"] = _timestamp()


def close_session() -> None:
    """Forget the signed-in person in this browser (the caller revokes server-side)."""
    from flask_login import logout_user

    logout_user()
    for key in _SESSION_KEYS:
        session.pop(key, None)


def session_user(user_id: str):
    """The account this request's session still signs in, or None (revoked, idle, disabled)."""
    if not user_id.isdigit():
        return None
    user = _user_with_roles(int(user_id))
    if user is None or not user.is_enabled or session.get("gen") != user.session_generation:
        return _forget()
    now, seen = _timestamp(), session.get("seen")
    if not isinstance(seen, int) or now - seen > idle_timeout(user).total_seconds():
        return _forget()
    if now - seen >= _SEEN_RESOLUTION.total_seconds():
        session["seen"] = now
    return user


@cache
def _user_with_roles_query():
    from trainer.models import User

    # populate_existing: deactivation or a new session generation counts even when this session
    # (shared by the requests of a test or CLI app context) already holds the account.
    return (select(User).where(User.id == bindparam("user_id"))
            .options(joinedload(User.role_rows), joinedload(User.clinic))
            .execution_options(populate_existing=True))


def _user_with_roles(user_id: int) -> User | None:
    """The account with its roles and clinic in one statement: this runs on every signed-in request, so the
    statement is built once (building a SELECT costs more CPU than running this one)."""
    return db.session.scalars(_user_with_roles_query(), {"user_id": user_id}).unique().first()


def _forget():
    for key in _SESSION_KEYS:
        session.pop(key, None)
    return None


def init_app(app: Flask) -> None:
    login_manager.user_loader(session_user)

    @app.before_request
    def _check_the_session_on_every_request():
        # Flask-Login caches the user in `g`, which outlives a request when an app context is
        # shared (tests, the CLI); the session must be checked afresh for each request.
        g.pop("_login_user", None)
