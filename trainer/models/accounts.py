"""Clinics, people and their roles."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer import clock
from trainer.extensions import Model

#: Every role an account may hold; one account may hold several.
ROLES = ("learner", "manager", "trainer", "admin", "assessor")


class Clinic(Model):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Shown to people and used by the CLI (`--clinic NAME`); unique.
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    #: The name NFKC-normalised and case-folded ("clinique étoile" for "Clinique Étoile"): what makes two names
    #: the same clinic, for the uniqueness check and for finding a clinic by a name as typed.
    name_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    #: IANA time zone (e.g. Europe/London) in which its people see times, unless they have their own.
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC", server_default="UTC")
    created_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)
    #: Set when an admin archived the clinic (closed, sold): no new accounts or invitations; people and records stay.
    archived_dt: Mapped[datetime | None] = mapped_column(nullable=True)

    staff: Mapped[list[User]] = relationship(back_populates="clinic", order_by="User.name")


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-cased on the way in; the sign-in name.
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: bcrypt hash (cost 12) of the SHA-256 of the password, so long passwords are not truncated.
    password_hash: Mapped[str] = mapped_column(String(100), nullable=False)
    #: The clinic whose staff this person is; None for chain-wide trainers and admins.
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True, nullable=True)
    #: Deactivated people cannot sign in; their records stay.
    is_enabled: Mapped[bool] = mapped_column(nullable=False, default=True)
    #: Accommodation: the time limit of every quiz is multiplied by this (1, 1.5 or 2).
    time_multiplier: Mapped[float] = mapped_column(nullable=False, default=1.0, server_default="1")
    #: Accommodation: attempts allowed on top of a quiz's attempts_before_cooldown.
    extra_attempts: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    #: IANA time zone overriding the clinic's for this person; None: the clinic's (or UTC without one).
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: Sessions carry the generation they were opened in; bumping it (sign-out, password change,
    #: deactivation, "sign out everywhere") ends every session opened before.
    session_generation: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    created_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)

    clinic: Mapped[Clinic | None] = relationship(back_populates="staff")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="user"
    )

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.is_enabled


class UserRole(Model):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_user_roles_user_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    #: One of ROLES.
    role: Mapped[str] = mapped_column(String(20), nullable=False)

    user: Mapped[User] = relationship(back_populates="role_rows")


class Invitation(Model):
    """A signed, single-use link that lets a new staff member set their own password."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True, nullable=False)
    #: Roles the account gets when the invitation is accepted.
    roles: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: SHA-256 of the secret in the link; the secret itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)
    expires_dt: Mapped[datetime] = mapped_column(nullable=False)
    #: Set once, when the link is used; a used link never works again.
    accepted_dt: Mapped[datetime | None] = mapped_column(nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: Set when a manager revoked the link, or invited the same person again (only the newest link works).
    revoked_dt: Mapped[datetime | None] = mapped_column(nullable=True)

    clinic: Mapped[Clinic] = relationship()


class ApiToken(Model):
    """A manager's personal token for the JSON API; shown once, stored hashed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    #: SHA-256 of the token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: The first characters, so a person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    created_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)
    last_used_dt: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_dt: Mapped[datetime | None] = mapped_column(nullable=True)

    user: Mapped[User] = relationship()


class PasswordReset(Model):
    """A single-use link, valid for 30 minutes, that lets a person choose a new password."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    #: HMAC-SHA256 (key SECRET_KEY) of the secret in the link: the secret itself is never stored, and a
    #: row written straight into the database without the key opens nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: Who sent it: None when the person asked for it themself or an operator printed it.
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)
    expires_dt: Mapped[datetime] = mapped_column(nullable=False)
    #: Set once, when the link is used, or when a newer link or a password change makes it void.
    closed_dt: Mapped[datetime | None] = mapped_column(nullable=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ExternalIdentity(Model):
    """An account's identity at an OpenID Connect provider: single sign-on finds the account by it."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_external_identities_issuer_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The provider's issuer identifier (`iss`), exactly as in its ID tokens.
    issuer: Mapped[str] = mapped_column(String(255), nullable=False)
    #: The provider's stable identifier of the person (`sub`); unlike the email it never changes.
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    created_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)
    last_sign_in_dt: Mapped[datetime | None] = mapped_column(nullable=True)

    user: Mapped[User] = relationship()
