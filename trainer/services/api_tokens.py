"""Managers' personal API tokens: shown once when created, stored only as a SHA-256 hash, revocable."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from trainer import clock
from trainer.database import begin_write, execute_dml
from trainer.extensions import db
from trainer.models import ApiToken, User
from trainer.security import can_use_manager_api
from trainer.services import Forbidden, NotFound, ServiceError
from trainer.services.audit import record_event

#: Marks a string as one of our tokens, so secret scanners and people can recognise a leaked one.
TOKEN_PREFIX = "trn_"
#: Characters kept in clear (ApiToken.prefix) so a person can tell their tokens apart.
SHOWN_PREFIX_LENGTH = 12
MAX_NAME_LENGTH = 100
#: last_used_dt is refreshed at most this often, so a busy API client does not cause a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def tokens_of(user: User) -> list[ApiToken]:
    """The person's tokens, newest first, revoked ones included."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_dt.desc(), ApiToken.id.desc())
    ))


def create_token(actor: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for the actor; return it with its plaintext, which is never stored nor shown again."""
    if not can_use_manager_api(actor):
        raise Forbidden("Only clinic managers can create API tokens.")
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError("Give the token a name, such as the system that will use it.")
    if len(name) > MAX_NAME_LENGTH:
        raise ServiceError(f"Use at most {MAX_NAME_LENGTH} characters for the token's name.")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name, token_hash=token_hash(plaintext),
                     prefix=plaintext[:SHOWN_PREFIX_LENGTH], created_dt=clock.now())
    db.session.add(token)
    db.session.flush()
    record_event(actor, "api_tokens.create", f"api_token:{token.id}", name=name, prefix=token.prefix)
    db.session.commit()
    return token, plaintext


def revoke_token(actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens; revoking a revoked token changes nothing."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound("You have no API token with this id.")
    # A conditional update, so two concurrent clicks record one revocation.
    revoked = execute_dml(db.session,
        update(ApiToken).where(ApiToken.id == token.id, ApiToken.revoked_dt.is_(None)).values(revoked_dt=clock.now())
    ).rowcount
    if revoked:
        record_event(actor, "api_tokens.revoke", f"api_token:{token.id}", name=token.name, prefix=token.prefix)
    db.session.commit()
    return token


def user_for_token(plaintext: str | None) -> User | None:
    """The enabled account a live token belongs to, or None; notes when the token was last used."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    # Looking up the hash, not the token, keeps this timing-safe: whoever varies the token
    # cannot steer the digest it is compared against, so response times reveal nothing usable.
    token = db.session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == token_hash(plaintext))
    )
    if token is None or token.revoked_dt is not None or not token.user.is_enabled:
        return None
    now = clock.now()
    if token.last_used_dt is None or now - token.last_used_dt >= LAST_USED_RESOLUTION:
        token_id = token.id
        begin_write(db.session)  # API calls are GETs: take SQLite's write lock before the update
        token = db.session.get(ApiToken, token_id)
        assert token is not None  # tokens are revoked, never deleted
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token.id,
                   or_(ApiToken.last_used_dt.is_(None), ApiToken.last_used_dt <= now - LAST_USED_RESOLUTION))
            .values(last_used_dt=now)
        )
        db.session.commit()
    return token.user
