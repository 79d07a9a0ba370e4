"""Users and their roles, their second factor (TOTP, recovery codes) and the failed sign-in counters."""

from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.auth.sealed import SealedString
from fundapp.db import Base, utcnow


class Role(str, enum.Enum):
    admin = "admin"
    finance = "finance"
    board = "board"
    reviewer = "reviewer"
    donor = "donor"
    applicant = "applicant"
    enterprise = "enterprise"
    volunteer = "volunteer"  # their own time account, sign-ups, certificates and the points catalogue
    organiser = "organiser"  # social workers and organisations running volunteer activities


ROLE_VALUES = tuple(role.value for role in Role)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    two_factor: Mapped[TwoFactor | None] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                        passive_deletes=True)

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_active(self) -> bool:  # Flask-Login refuses disabled users
        return self.is_enabled

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role", name="uq_user_roles_user_role"),
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in ROLE_VALUES) + ")", name="valid_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="role_rows")


class TwoFactor(Base):
    """A user's TOTP (RFC 6238) secret. `pending_secret` is one shown for enrolment and not yet confirmed with a
    code; `last_step` is the time step of the last code accepted, so a code is never accepted twice."""

    __tablename__ = "user_two_factor"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str | None] = mapped_column(SealedString())  # stored encrypted (fundapp.auth.sealed)
    pending_secret: Mapped[str | None] = mapped_column(SealedString())
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_step: Mapped[int | None] = mapped_column(BigInteger)

    user: Mapped[User] = relationship(back_populates="two_factor")
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    @property
    def enrolled(self) -> bool:
        return self.secret is not None and self.confirmed_at is not None


class RecoveryCode(Base):
    """A single-use recovery code, stored as an argon2 hash like a password."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_two_factor.user_id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SignInThrottle(Base):
    """Failed sign-ins per email address, known or not (keyed by a hash of the address, so an unknown address
    locks exactly like a known one and the lockout reveals nothing)."""

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
