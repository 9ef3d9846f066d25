"""Clinics, accounts, passwords and sign-in."""
from __future__ import annotations

import base64
import hashlib
import unicodedata

import bcrypt
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from zxcvbn import zxcvbn

from trainer import clock
from trainer.extensions import db
from trainer.models import ROLES, Clinic, PasswordReset, User, UserRole
from trainer.security import can_administer, is_operator, sign_in_refusal
from trainer.services import Forbidden, NotFound, ServiceError
from trainer.services.audit import record_event
from trainer.services.rate_limit import count_hits, delete_expired_counters, forget_hits, refund_hits
from trainer.time_zones import is_time_zone

#: Cost of new password hashes; tests lower it for speed, and one test checks the default.
BCRYPT_ROUNDS = 12
MIN_PASSWORD_LENGTH = 12
#: zxcvbn's score (0-4) a password must reach: 3 means no common password, word, name or simple pattern.
MIN_PASSWORD_SCORE = 3
# A real hash to compare against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def _prehash(password: str) -> bytes:
    # bcrypt reads only 72 bytes; hashing first makes every character of a long password count.
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password(password: str, rounds: int | None = None) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds or BCRYPT_ROUNDS)).decode()


def check_password(password: str, password_hash: str) -> bool:
    return bcrypt.checkpw(_prehash(password), password_hash.encode())


def password_problem(password: str, *about_the_person: str) -> str | None:
    """Why a password is not acceptable, or None.

    zxcvbn (a pinned dependency) holds the 30,000 most common passwords of breach corpora, common
    words and names, and recognises keyboard runs, repeats and dates; `about_the_person` (email,
    name) counts as guessable too.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters for the password."
    if len(password) > 1000:
        return "Use at most 1,000 characters for the password."
    # zxcvbn's cost grows with length; past 100 characters the first 100 decide.
    if zxcvbn(password[:100], user_inputs=[part for part in about_the_person if part])["score"] < MIN_PASSWORD_SCORE:
        return ("This password is too easy to guess: it is common, or made of a word, a name, a date or a simple "
                "pattern. Try a few unrelated words.")
    return None


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ServiceError(f"{email.strip() or 'The email'} is not a valid email address: {exc}") from None


#: Longest clinic name: a longer one is a paste accident, and would stretch every page that lists clinics.
MAX_CLINIC_NAME = 100
MAX_PERSON_NAME = 200


def clinic_name_key(name: str) -> str:
    """What makes two clinic names the same: spacing collapsed, NFKC-normalised, case-folded."""
    return unicodedata.normalize("NFKC", " ".join(name.split())).casefold()


def checked_clinic_name(name: str) -> str:
    name = unicodedata.normalize("NFC", " ".join((name or "").split()))
    if not name:
        raise ServiceError("Give the clinic a name.")
    if len(name) > MAX_CLINIC_NAME:
        raise ServiceError(f"A clinic name has at most {MAX_CLINIC_NAME} characters; this one has {len(name):,}.")
    if not name.isprintable():
        raise ServiceError("A clinic name cannot hold control characters.")
    return name


def checked_time_zone(name: str) -> str:
    name = (name or "").strip()
    if not is_time_zone(name):
        raise ServiceError(f"{name[:64]!r} is not a time zone; choose one from the list (for example Europe/London).")
    return name


def _require_admin(actor, action: str = "add or rename clinics") -> None:
    if not (is_operator(actor) or can_administer(actor)):
        raise Forbidden(f"Only an admin can {action}.")


def create_clinic(actor, name: str, time_zone: str = "UTC") -> Clinic:
    """Add a clinic; names are unique whatever their case or accents' encoding."""
    _require_admin(actor)
    name = checked_clinic_name(name)
    time_zone = checked_time_zone(time_zone)
    existing = find_clinic(name)
    if existing is not None:
        raise ServiceError(f"A clinic named {existing.name!r} already exists.")
    clinic = Clinic(name=name, name_key=clinic_name_key(name), time_zone=time_zone)
    db.session.add(clinic)
    try:
        db.session.flush()
    except IntegrityError:  # created by someone else at the same moment
        db.session.rollback()
        raise ServiceError(f"A clinic named {name!r} already exists.") from None
    record_event(actor, "clinics.create", f"clinic:{clinic.id}", name=name, time_zone=time_zone)
    db.session.commit()
    return clinic


def rename_clinic(actor, clinic: Clinic, name: str) -> Clinic:
    """Give a clinic a new name (unique as on creation); its people and records stay with it."""
    _require_admin(actor)
    if clinic is None:
        raise NotFound("There is no such clinic.")
    name = checked_clinic_name(name)
    existing = find_clinic(name)
    if existing is not None and existing.id != clinic.id:
        raise ServiceError(f"A clinic named {existing.name!r} already exists.")
    before = clinic.name
    clinic.name, clinic.name_key = name, clinic_name_key(name)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(f"A clinic named {name!r} already exists.") from None
    record_event(actor, "clinics.rename", f"clinic:{clinic.id}", before=before, after=name)
    db.session.commit()
    return clinic


def set_clinic_archived(actor, clinic: Clinic, archived: bool) -> Clinic:
    """Archive a clinic (no new accounts or invitations, its people shut out; records stay) or restore it. Audited."""
    _require_admin(actor)
    if clinic is None:
        raise NotFound("There is no such clinic.")
    if (clinic.archived_dt is not None) != archived:
        clinic.archived_dt = clock.now() if archived else None
        if archived:
            # Its people are shut out until it is restored (sign_in_refusal): end their open sessions too.
            # Admins stay in, so someone can always restore it.
            admins = select(UserRole.user_id).where(UserRole.role == "admin")
            db.session.execute(update(User).where(User.clinic_id == clinic.id, User.id.not_in(admins))
                               .values(session_generation=User.session_generation + 1)
                               .execution_options(synchronize_session=False))
        record_event(actor, "clinics.archive" if archived else "clinics.restore", f"clinic:{clinic.id}",
                     name=clinic.name)
        db.session.commit()
    return clinic


def require_open_clinic(clinic: Clinic | None) -> None:
    """New people join only clinics that are not archived."""
    if clinic is not None and clinic.archived_dt is not None:
        raise ServiceError(f"{clinic.name} is archived; restore it at /admin/ before adding people to it.")


def get_clinic(clinic_id: int) -> Clinic | None:
    return db.session.get(Clinic, clinic_id)


def clinics_with_headcount() -> list[tuple[Clinic, int]]:
    """Every clinic by name with how many accounts belong to it (one query)."""
    return [(clinic, count) for clinic, count in db.session.execute(
        select(Clinic, func.count(User.id)).outerjoin(User, User.clinic_id == Clinic.id)
        .group_by(Clinic.id).order_by(Clinic.name))]


def all_clinics() -> list[Clinic]:
    return list(db.session.scalars(select(Clinic).order_by(Clinic.name)))


def clinics_taking_people(keeping: int | None = None) -> list[Clinic]:
    """Clinics by name that take new people (not archived), and the clinic `keeping` even if archived:
    a person already in it keeps it on their form."""
    return list(db.session.scalars(select(Clinic).where(
        Clinic.archived_dt.is_(None) | (Clinic.id == (keeping if keeping is not None else -1))).order_by(Clinic.name)))


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def all_accounts() -> list[User]:
    """Every account by name, with its clinic."""
    return list(db.session.scalars(select(User).options(selectinload(User.clinic)).order_by(User.name)))


def find_clinic(name: str) -> Clinic | None:
    """The clinic with this name as a person would type it (any case, accents composed or not)."""
    return db.session.scalar(select(Clinic).where(Clinic.name_key == clinic_name_key(name or "")))


def create_user(actor, email: str, name: str, password: str, roles: list[str], clinic: Clinic | None) -> User:
    """Add an account with the given roles; learners and managers belong to a clinic."""
    _require_admin(actor, "create an account with any role")
    email = normalise_email(email)
    name = " ".join(name.split())
    if not name:
        raise ServiceError("Give the person a name.")
    if len(name) > MAX_PERSON_NAME:
        raise ServiceError(f"A name has at most {MAX_PERSON_NAME} characters; this one has {len(name):,}.")
    roles = sorted(set(roles or ["learner"]))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ServiceError(f"Unknown role {unknown[0]!r}; roles are {', '.join(ROLES)}.")
    if clinic is None and {"learner", "manager"} & set(roles):
        raise ServiceError("Learners and managers belong to a clinic: give --clinic.")
    require_open_clinic(clinic)
    problem = password_problem(password, email, name)
    if problem:
        raise ServiceError(problem)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise ServiceError(f"An account for {email} already exists.")
    user = User(email=email, name=name, password_hash=hash_password(password), clinic=clinic,
                role_rows=[UserRole(role=r) for r in roles])
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # created by someone else at the same moment
        db.session.rollback()
        raise ServiceError(f"An account for {email} already exists.") from None
    record_event(actor, "users.create", f"user:{user.id}", email=email, roles=roles,
                 clinic=clinic.name if clinic else None)
    db.session.commit()
    return user


def end_sessions(actor, user: User, reason: str) -> None:
    """End every session `user` has open, in every browser (sign-out, "sign out everywhere")."""
    user.session_generation = User.session_generation + 1
    record_event(actor, "auth.sessions_end", f"user:{user.id}", reason=reason)
    db.session.commit()


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Set a new password after checking the current one; every other session of the account ends."""
    if not check_password(current_password or "", user.password_hash):
        raise ServiceError("Your current password is not right.")
    problem = password_problem(new_password, user.email, user.name)
    if problem:
        raise ServiceError(problem)
    user.password_hash = hash_password(new_password)
    user.session_generation = User.session_generation + 1
    # A reset link sent before the change must not undo it.
    db.session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.closed_dt.is_(None))
                       .values(closed_dt=clock.now()).execution_options(synchronize_session=False))
    record_event(user, "auth.password_change", f"user:{user.id}")
    db.session.commit()


class SignInRefused(ServiceError):
    pass


#: Sign-in attempts allowed per (account, address) and per address in each window (seconds, attempts).
#: Each tier makes the wait longer; none stops the right password from another address, and a
#: successful sign-in gives its attempt back.
ACCOUNT_ADDRESS_TIERS = ((60, 5), (15 * 60, 10), (24 * 3600, 20))
ADDRESS_TIERS = ((60, 10), (15 * 60, 30), (24 * 3600, 100))


def _throttle_counters(email: str, address: str) -> tuple[list, list]:
    # Hashed, so the counters hold no email addresses and every key fits the column.
    pair = hashlib.sha256(f"{email}\n{address}".encode()).hexdigest()[:40]
    # The window length is part of the key: windows of different lengths can start together.
    return ([(f"signin:pair:{pair}:{seconds}", seconds) for seconds, _ in ACCOUNT_ADDRESS_TIERS],
            [(f"signin:addr:{address}:{seconds}", seconds) for seconds, _ in ADDRESS_TIERS])


def _wait_text(seconds: float) -> str:
    if seconds <= 90:
        return "a minute"
    if seconds <= 90 * 60:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


def authenticate(email: str, password: str, address: str) -> User:
    """Return the account for these credentials, or raise SignInRefused with a message to show.

    The attempt is counted before the password is checked, in a short transaction of its own,
    so parallel guesses cannot slip past the limit; bcrypt then runs with no transaction open,
    so a sign-in never holds SQLite's write lock while it hashes.
    """
    email = (email or "").strip().lower()[:254]
    address = (address or "unknown")[:64]
    pair_counters, address_counters = _throttle_counters(email, address)
    now = clock.now()
    delete_expired_counters(now)  # counters of unknown emails go too
    counts = count_hits(pair_counters + address_counters, now)
    limits = [limit for _, limit in ACCOUNT_ADDRESS_TIERS] + [limit for _, limit in ADDRESS_TIERS]
    waits = [(end - now).total_seconds() for (count, end), limit in zip(counts, limits, strict=True) if count > limit]
    db.session.commit()
    if waits:
        raise SignInRefused(f"Too many sign-in attempts from this address. Try again in {_wait_text(max(waits))}.")

    user = db.session.scalar(select(User).where(User.email == email))
    user_id, password_hash, enabled = ((user.id, user.password_hash, user.is_enabled) if user
                                       else (None, _DUMMY_HASH, False))
    refusal = sign_in_refusal(user) if user else None
    db.session.commit()  # nothing to write: ends the transaction before the slow part

    password_matches = check_password(password or "", password_hash)
    if user_id is None or not password_matches or refusal:
        reason = "wrong email or password"
        if user_id is not None and password_matches:
            reason = "deactivated" if not enabled else "clinic archived"
        record_event(None, "auth.sign_in_failed", f"user:{user_id}" if user_id else "user:unknown",
                     address=address, reason=reason)
        db.session.commit()
        if refusal and password_matches:
            raise SignInRefused(refusal)
        raise SignInRefused("That email and password do not match an account.")
    forget_hits(pair_counters, now)
    refund_hits(address_counters, now)
    user = db.session.get(User, user_id)
    assert user is not None  # the password matched this account's hash a moment ago
    record_event(user, "auth.sign_in", f"user:{user_id}", address=address)
    db.session.commit()
    return user
