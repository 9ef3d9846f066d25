"""Password reset: a single-use link that expires in 30 minutes, sent by e-mail or printed for an operator.

The secret in the link is never stored, only its HMAC under SECRET_KEY. Asking for a link gives the
same answer whether or not the email has an account; requests are throttled per address and per
email. Using a link sets the password, ends every session of the account and voids its other links.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from trainer import clock
from trainer.database import execute_dml
from trainer.extensions import db
from trainer.links import external_url
from trainer.models import PasswordReset, User
from trainer.security import can_manage_clinic, can_send_password_reset
from trainer.services import Forbidden, NotFound, ServiceError
from trainer.services.accounts import hash_password, normalise_email, password_problem
from trainer.services.audit import record_event
from trainer.services.mail import compose_email, deliver
from trainer.services.rate_limit import count_hits, delete_expired_counters

RESET_MINUTES = 30
#: Requests allowed per address and per email in each window (seconds, requests).
ADDRESS_TIERS = ((15 * 60, 10), (24 * 3600, 50))
EMAIL_TIERS = ((15 * 60, 3), (24 * 3600, 10))


class ResetThrottled(ServiceError):
    """Too many requests from one address (shown; it says nothing about any account)."""


def _token_hash(token: str) -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), (token or "").encode(), hashlib.sha256).hexdigest()


def _close_open_resets(user_id: int, now) -> None:
    db.session.execute(update(PasswordReset).where(PasswordReset.user_id == user_id, PasswordReset.closed_dt.is_(None))
                       .values(closed_dt=now).execution_options(synchronize_session=False))


def _new_reset(actor, user: User, how: str, minutes: int = RESET_MINUTES) -> str:
    """Store a new link for `user` (earlier open links stop working) in the caller's transaction; return the secret."""
    now = clock.now()
    _close_open_resets(user.id, now)
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(user_id=user.id, token_hash=_token_hash(token), requested_by_id=getattr(actor, "id", None),
                          created_dt=now, expires_dt=now + timedelta(minutes=minutes))
    db.session.add(reset)
    db.session.flush()
    record_event(actor, "auth.password_reset_link", f"user:{user.id}", reset=reset.id, how=how)
    return token


#: A new account's first link, to choose a password, lasts as long as an invitation.
WELCOME_MINUTES = 7 * 24 * 60


def new_welcome_link(actor, user: User) -> str:
    """A 7-day link for a new account to choose its password, in the caller's transaction; the secret."""
    return _new_reset(actor, user, "account created", minutes=WELCOME_MINUTES)


def mail_welcome_link(actor, user: User, token: str) -> None:
    """Tell a person created by a manager, an admin or an operator (actor None) that their account exists,
    with the link to choose their password (after the caller committed the link)."""
    subject, body = compose_email("account_created", user=user, link=reset_link(token),
                                  creator=actor.name if actor is not None else "An administrator")
    deliver(recipient_email=user.email, recipient_id=user.id, kind="account-created",
            dedupe_key=f"account-created:{_token_hash(token)[:40]}", subject=subject, body=body,
            smtp_url=current_app.config.get("SMTP_URL"))


def reset_link(token: str) -> str:
    return external_url("auth.reset_password", token=token)


def _mail_reset(user: User, token: str, sent_by: User | None) -> None:
    subject, body = compose_email("password_reset", user=user, minutes=RESET_MINUTES, link=reset_link(token),
                                  who=f"{sent_by.name} sent you" if sent_by else "Someone (we hope you) asked for")
    deliver(recipient_email=user.email, recipient_id=user.id, kind="password-reset",
            dedupe_key=f"password-reset:{_token_hash(token)[:40]}", subject=subject, body=body,
            smtp_url=current_app.config.get("SMTP_URL"))


def _wait_text(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes > 1 else ''}" if minutes < 90 else f"{round(minutes / 60)} hours"


def request_password_reset(email: str, address: str) -> None:
    """Mail a link if `email` belongs to an active account; return the same way whether or not it does.

    Raises ResetThrottled only for too many requests from this address. Past the per-email limit the
    request is answered the same as any other but nothing is sent, so no one can flood a mailbox.
    """
    address = (address or "unknown")[:64]
    try:
        email = normalise_email(email)
    except ServiceError:
        email = (email or "").strip().lower()[:254]
    # Hashed, so the counters hold no email addresses; counted whether or not the account exists.
    email_key = hashlib.sha256(email.encode()).hexdigest()[:40]
    address_counters = [(f"reset:addr:{address}:{s}", s) for s, _ in ADDRESS_TIERS]
    email_counters = [(f"reset:email:{email_key}:{s}", s) for s, _ in EMAIL_TIERS]
    now = clock.now()
    delete_expired_counters(now)
    counts = count_hits(address_counters + email_counters, now)
    db.session.commit()
    # counts holds the address tiers first, then the e-mail tiers: zip stops after the address ones.
    address_waits = [(end - now).total_seconds()
                     for (count, end), (_, limit) in zip(counts, ADDRESS_TIERS, strict=False)
                     if count > limit]
    if address_waits:
        raise ResetThrottled(f"Too many password reset requests from this address. Try again in "
                             f"{_wait_text(max(address_waits))}.")
    email_over = any(count > limit
                     for (count, _), (_, limit) in zip(counts[len(ADDRESS_TIERS):], EMAIL_TIERS, strict=True))
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_enabled or email_over:
        reason = "throttled" if email_over else "no account" if user is None else "deactivated"
        record_event(None, "auth.password_reset_refused", f"user:{user.id}" if user else "user:unknown",
                     address=address, reason=reason)
        db.session.commit()
        return
    token = _new_reset(None, user, f"asked from {address}")
    db.session.commit()
    _mail_reset(user, token, None)


def send_password_reset(actor, person: User) -> None:
    """A manager (own clinic, no higher role) or an admin mails a person a reset link."""
    if person is None or not can_manage_clinic(actor, person.clinic_id):
        raise NotFound("There is no such person in your clinic.")
    if not can_send_password_reset(actor, person):
        raise Forbidden("You cannot send a reset link to yourself or to an account with a higher role than yours; "
                        "use 'Forgot your password?' on the sign-in page for your own.")
    if not person.is_enabled:
        raise ServiceError(f"{person.name}'s account is deactivated; reactivate it first.")
    token = _new_reset(actor, person, "sent by a manager or admin")
    db.session.commit()
    _mail_reset(person, token, actor)


def operator_reset_link(email: str) -> str:
    """A reset link for the command line (`flask users reset-password`), audited as the operator's."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"There is no account for {email.strip()}.")
    if not user.is_enabled:
        raise ServiceError(f"The account {user.email} is deactivated; reactivate it first.")
    token = _new_reset(None, user, "printed on the command line")
    db.session.commit()
    return reset_link(token)


def open_password_reset(token: str) -> PasswordReset:
    """The reset this link stands for, if it can still be used."""
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token)))
    if reset is None:
        raise NotFound("This password reset link is not valid. Ask for a new one on the sign-in page.")
    if reset.closed_dt is not None:
        raise ServiceError("This password reset link has already been used, or a newer one was sent. "
                           "Use the newest e-mail or ask for a new link.")
    if clock.now() > reset.expires_dt:
        raise ServiceError(f"This password reset link has expired (links work for {RESET_MINUTES} minutes). "
                           "Ask for a new one on the sign-in page.")
    if not reset.user.is_enabled:
        raise ServiceError("This account has been deactivated. Ask your clinic manager.")
    return reset


def complete_password_reset(token: str, password: str) -> User:
    """Set the new password; the link works once, and every session of the account ends."""
    reset = open_password_reset(token)
    user = reset.user
    problem = password_problem(password or "", user.email, user.name)
    if problem:
        raise ServiceError(problem)
    now = clock.now()
    # The conditional update makes the link single-use even when two requests race.
    used = execute_dml(db.session,
        update(PasswordReset).where(PasswordReset.id == reset.id, PasswordReset.closed_dt.is_(None),
                                    PasswordReset.expires_dt >= now)
        .values(closed_dt=now).execution_options(synchronize_session=False)).rowcount
    if not used:
        db.session.rollback()
        raise ServiceError("This password reset link has already been used. Ask for a new one if you need it.")
    _close_open_resets(user.id, now)
    user.password_hash = hash_password(password)
    user.session_generation = User.session_generation + 1
    record_event(user, "auth.password_reset", f"user:{user.id}", reset=reset.id)
    db.session.commit()
    return user
