"""Clinics, accounts, passwords and sign-in."""
from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import bcrypt
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select

from trainer import clock
from trainer.extensions import db
from trainer.models import ROLES, Clinic, LoginFailure, User, UserRole
from trainer.services import ServiceError
from trainer.services.audit import record_event

#: Cost of new password hashes; tests lower it for speed, and one test checks the default.
BCRYPT_ROUNDS = 12
MIN_PASSWORD_LENGTH = 10
LOGIN_WINDOW = timedelta(minutes=15)
# A real hash to compare against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def _prehash(password: str) -> bytes:
    # bcrypt reads only 72 bytes; hashing first makes every character of a long password count.
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password(password: str, rounds: int | None = None) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds or BCRYPT_ROUNDS)).decode()


def check_password(password: str, password_hash: str) -> bool:
    return bcrypt.checkpw(_prehash(password), password_hash.encode())


def password_problem(password: str) -> str | None:
    """Why a password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters for the password."
    if len(password) > 1000:
        return "Use at most 1,000 characters for the password."
    return None


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ServiceError(f"{email.strip() or 'The email'} is not a valid email address: {exc}") from None


def create_clinic(actor, name: str) -> Clinic:
    """Add a clinic; names are unique."""
    name = " ".join(name.split())
    if not name:
        raise ServiceError("Give the clinic a name.")
    if db.session.scalar(select(Clinic).where(func.lower(Clinic.name) == name.lower())):
        raise ServiceError(f"A clinic named {name!r} already exists.")
    clinic = Clinic(name=name)
    db.session.add(clinic)
    db.session.flush()
    record_event(actor, "clinics.create", f"clinic:{clinic.id}", name=name)
    db.session.commit()
    return clinic


def find_clinic(name: str) -> Clinic | None:
    return db.session.scalar(select(Clinic).where(func.lower(Clinic.name) == " ".join(name.split()).lower()))


def create_user(actor, email: str, name: str, password: str, roles: list[str], clinic: Clinic | None) -> User:
    """Add an account with the given roles; learners and managers belong to a clinic."""
    email = normalise_email(email)
    name = " ".join(name.split())
    if not name:
        raise ServiceError("Give the person a name.")
    roles = sorted(set(roles or ["learner"]))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ServiceError(f"Unknown role {unknown[0]!r}; roles are {', '.join(ROLES)}.")
    if clinic is None and {"learner", "manager"} & set(roles):
        raise ServiceError("Learners and managers belong to a clinic: give --clinic.")
    problem = password_problem(password)
    if problem:
        raise ServiceError(problem)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise ServiceError(f"An account for {email} already exists.")
    user = User(email=email, name=name, password_hash=hash_password(password), clinic=clinic,
                role_rows=[UserRole(role=r) for r in roles])
    db.session.add(user)
    db.session.flush()
    record_event(actor, "users.create", f"user:{user.id}", email=email, roles=roles,
                 clinic=clinic.name if clinic else None)
    db.session.commit()
    return user


class SignInRefused(ServiceError):
    pass


def authenticate(email: str, password: str, limit: int) -> User:
    """Return the account for these credentials, or raise SignInRefused with a message to show."""
    email = (email or "").strip().lower()
    since = clock.now() - LOGIN_WINDOW
    recent_failures = db.session.scalar(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.email == email, LoginFailure.failed_dt >= since)
    )
    if recent_failures >= limit:
        raise SignInRefused("Too many failed sign-ins for this email. Wait 15 minutes and try again.")
    user = db.session.scalar(select(User).where(User.email == email))
    password_matches = check_password(password or "", user.password_hash if user else _DUMMY_HASH)
    if user is None or not password_matches:
        db.session.add(LoginFailure(email=email[:254], failed_dt=clock.now()))
        db.session.commit()
        raise SignInRefused("That email and password do not match an account.")
    if not user.is_enabled:
        raise SignInRefused("This account has been deactivated. Ask your clinic manager.")
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    db.session.commit()
    return user
