"""Clinics, people and their roles."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer import clock
from trainer.extensions import db

#: Every role an account may hold; one account may hold several.
ROLES = ("learner", "manager", "trainer", "admin")


class Clinic(db.Model):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Shown to people and used by the CLI (`--clinic NAME`); unique.
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    created_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)

    staff: Mapped[list["User"]] = relationship(back_populates="clinic", order_by="User.name")


class User(UserMixin, db.Model):
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
    created_dt: Mapped[datetime] = mapped_column(nullable=False, default=clock.now)

    clinic: Mapped[Clinic | None] = relationship(back_populates="staff")
    role_rows: Mapped[list["UserRole"]] = relationship(
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


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_user_roles_user_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    #: One of ROLES.
    role: Mapped[str] = mapped_column(String(20), nullable=False)

    user: Mapped[User] = relationship(back_populates="role_rows")


class LoginFailure(db.Model):
    """A failed sign-in, kept in the database so throttling holds across gunicorn workers."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True, nullable=False)
    failed_dt: Mapped[datetime] = mapped_column(index=True, nullable=False, default=clock.now)
