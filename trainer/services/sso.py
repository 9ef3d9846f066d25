"""Single sign-on: which account a validated ID token signs in, linking or creating it when the rules allow.

The caller has already validated the token (signature, issuer, audience, expiry, nonce); this
module decides who it is. In order: an account already linked to the token's (issuer, subject);
else the account whose email equals the token's verified email, which gets linked; else, when
OIDC_CREATE_ACCOUNTS is on, a new account with roles and clinic from the configured claims.
Whoever it is, `sign_in_refusal` (deactivated, archived clinic) has the last word.
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from trainer import clock
from trainer.database import begin_write
from trainer.extensions import db
from trainer.models import Clinic, ExternalIdentity, User, UserRole
from trainer.security import sign_in_refusal
from trainer.services import ServiceError
from trainer.services.accounts import MAX_PERSON_NAME, find_clinic, hash_password, normalise_email
from trainer.services.audit import record_event


class SsoRefused(ServiceError):
    """The provider vouched for someone this site does not let in; the message says why and what to do."""


@dataclass(frozen=True)
class SsoRules:
    """What the deployment allows (from OIDC_* settings)."""

    issuer: str
    create_accounts: bool = False
    role_claim: str = "groups"
    role_map: Mapping[str, list[str]] = field(default_factory=dict)
    clinic_claim: str = "clinic"
    email_verified_claim: str = "email_verified"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SsoRules:
        return cls(issuer=config["OIDC_ISSUER"], create_accounts=bool(config.get("OIDC_CREATE_ACCOUNTS")),
                   role_claim=config.get("OIDC_ROLE_CLAIM") or "groups", role_map=config.get("OIDC_ROLE_MAP") or {},
                   clinic_claim=config.get("OIDC_CLINIC_CLAIM") or "clinic",
                   email_verified_claim=config.get("OIDC_EMAIL_VERIFIED_CLAIM") or "email_verified")


def _claim_values(claims: Mapping[str, Any], name: str) -> list[str]:
    value = claims.get(name)
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]


def _email_is_verified(claims: Mapping[str, Any], rules: SsoRules) -> bool:
    # Some providers send the boolean as a string.
    return claims.get(rules.email_verified_claim) in (True, "true")


def roles_from_claims(claims: Mapping[str, Any], rules: SsoRules) -> list[str]:
    """The roles the mapped claim values give; a learner when none is mapped (admin only when mapped explicitly)."""
    roles: set[str] = set()
    for value in _claim_values(claims, rules.role_claim):
        roles.update(rules.role_map.get(value, []))
    return sorted(roles or {"learner"})


def clinic_from_claims(claims: Mapping[str, Any], rules: SsoRules) -> Clinic | None:
    """The clinic named by the clinic claim (any case or spacing), or None when the claim is absent."""
    values = _claim_values(claims, rules.clinic_claim)
    if not values:
        return None
    clinic = find_clinic(values[0])
    if clinic is None:
        raise SsoRefused(f"Your organisation says you work at {values[0][:100]!r}, which is not a clinic here. "
                         "Ask an admin to add the clinic or correct the name.")
    if clinic.archived_dt is not None:
        raise SsoRefused(f"{clinic.name} is archived, so no new accounts can join it. Ask an admin.")
    return clinic


def _display_name(claims: Mapping[str, Any], email: str) -> str:
    name = " ".join(str(claims.get("name") or "").split()) or " ".join(
        " ".join(str(claims.get(part) or "") for part in ("given_name", "family_name")).split())
    return (name or email.split("@")[0])[:MAX_PERSON_NAME]


def _refuse(user_id: int | None, address: str, reason: str, message: str) -> SsoRefused:
    record_event(None, "auth.sign_in_failed", f"user:{user_id}" if user_id else "user:unknown",
                 address=address, method="sso", reason=reason)
    db.session.commit()
    return SsoRefused(message)


def _account_by_email(claims: Mapping[str, Any]) -> tuple[str | None, User | None]:
    try:
        email = normalise_email(str(claims.get("email") or ""))
    except ServiceError:
        return None, None
    return email, db.session.scalar(select(User).where(User.email == email))


def _new_account(claims: Mapping[str, Any], email: str, rules: SsoRules) -> User:
    roles = roles_from_claims(claims, rules)
    clinic = clinic_from_claims(claims, rules)
    if clinic is None and {"learner", "manager"} & set(roles):
        raise SsoRefused(f"Your organisation did not say which clinic you work at (the {rules.clinic_claim!r} "
                         "claim), so no account could be made. Ask an admin.")
    # A password no one knows: the person signs in through the provider (or chooses one with "Forgot your password?").
    user = User(email=email, name=_display_name(claims, email), password_hash=hash_password(secrets.token_urlsafe(32)),
                clinic=clinic, role_rows=[UserRole(role=role) for role in roles])
    db.session.add(user)
    db.session.flush()
    record_event(None, "users.create", f"user:{user.id}", email=email, roles=roles,
                 clinic=clinic.name if clinic else None, via="sso")
    return user


def sign_in_with_provider(claims: Mapping[str, Any], address: str, rules: SsoRules | None = None) -> User:
    """Return the account a validated ID token's claims sign in, or raise SsoRefused (audited either way)."""
    rules = rules or SsoRules.from_config(current_app.config)
    address = (address or "unknown")[:64]
    issuer, subject = str(claims.get("iss") or ""), str(claims.get("sub") or "")
    if issuer.rstrip("/") != rules.issuer.rstrip("/") or not subject:
        raise SsoRefused("The sign-in came from an identity provider this site does not use.")
    begin_write(db.session)  # the callback is a page view (GET) that writes
    try:
        return _sign_in(claims, issuer, subject, address, rules)
    except IntegrityError:
        # Two first sign-ins of one person at the same moment: the other made the link; use it.
        db.session.rollback()
        return _sign_in(claims, issuer, subject, address, rules)


def _sign_in(claims: Mapping[str, Any], issuer: str, subject: str, address: str, rules: SsoRules) -> User:
    link = db.session.scalar(select(ExternalIdentity).where(ExternalIdentity.issuer == issuer,
                                                            ExternalIdentity.subject == subject))
    user = link.user if link is not None else None
    how = "linked"
    if user is None:
        email, user = _account_by_email(claims)
        how = "email"
        if user is not None and not _email_is_verified(claims, rules):
            raise _refuse(user.id, address, "email not verified",
                          f"Your organisation has not verified the email {email}, so it cannot be linked to the "
                          "account with that email. Sign in with your password, or ask your organisation to verify it.")
        if user is None:
            if not rules.create_accounts:
                raise _refuse(None, address, "no account",
                              "There is no account here for you yet. Ask your clinic manager to add you.")
            if email is None or not _email_is_verified(claims, rules):
                raise _refuse(None, address, "email not verified",
                              "Your organisation did not give a verified email address, so no account could be made.")
            try:
                user = _new_account(claims, email, rules)
            except SsoRefused as exc:
                db.session.rollback()
                raise _refuse(None, address, "account not created", str(exc)) from None
            how = "created"
    refusal = sign_in_refusal(user)
    if refusal:
        db.session.rollback()  # nothing made or linked for someone who may not come in
        raise _refuse(user.id, address, "deactivated" if not user.is_enabled else "clinic archived", refusal)
    now = clock.now()
    if link is None:
        link = ExternalIdentity(issuer=issuer, subject=subject, user=user, created_dt=now)
        db.session.add(link)
        db.session.flush()
        record_event(None, "auth.sso_link", f"user:{user.id}", issuer=issuer, sub=subject, matched_by=how)
    link.last_sign_in_dt = now
    record_event(user, "auth.sign_in", f"user:{user.id}", address=address, method="sso")
    db.session.commit()
    return user
