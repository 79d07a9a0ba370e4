"""Volunteers and the point ledger.

Points are exact two-place decimals (the `Money` column type: integer hundredths on SQLite, NUMERIC(18,2) on
PostgreSQL), because hours are often halves and quarters. Every movement is a `PointEntry` whose `PointLine`s sum
to zero; holders' accounts (volunteers, and people given points such as an elderly neighbour) can never go below
zero; system accounts (issuance, redemption, expiry) are the other side of every credit and spend. Entries and
lines are immutable (database triggers); a correction is a reversal entry.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.db import Base, Money, enum_values, utcnow


class PointAccountKind(enum.StrEnum):
    volunteer = "volunteer"  # a volunteer's time account
    person = "person"  # someone given points who is not a volunteer (e.g. an elderly neighbour)
    issuance = "issuance"  # system: points created for verified hours (its balance is minus all points issued)
    redemption = "redemption"  # system: points spent on rewards
    expiry = "expiry"  # system: points that lapsed under the foundation's expiry rule


HOLDER_KINDS = (PointAccountKind.volunteer.value, PointAccountKind.person.value)
SYSTEM_KINDS = (PointAccountKind.issuance.value, PointAccountKind.redemption.value, PointAccountKind.expiry.value)


class PointEntryKind(enum.StrEnum):
    hours = "hours"  # verified service hours credited
    gift = "gift"  # points given by one holder to another
    redemption = "redemption"  # points exchanged for a reward
    expiry = "expiry"
    reversal = "reversal"


class Volunteer(Base):
    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    community: Mapped[str] = mapped_column(String(100), default="")
    skills: Mapped[str] = mapped_column(Text, default="")
    consent_public: Mapped[bool] = mapped_column(Boolean, default=False)  # may appear by name on the public site
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<Volunteer {self.id} {self.name}>"


class PointAccount(Base):
    __tablename__ = "point_accounts"
    __table_args__ = (
        CheckConstraint(f"kind IN ({enum_values(PointAccountKind)})", name="valid_kind"),
        CheckConstraint("kind NOT IN ('volunteer', 'person') OR balance >= 0", name="holder_not_negative"),
        CheckConstraint("(kind = 'volunteer') = (volunteer_id IS NOT NULL)", name="volunteer_account_has_volunteer"),
        CheckConstraint("kind <> 'person' OR holder_name <> ''", name="person_account_named"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"), unique=True)
    holder_name: Mapped[str] = mapped_column(String(100), default="")
    # The sum of the account's lines, kept by the posting service under a row lock (verify_points checks it).
    balance: Mapped[Money] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    volunteer: Mapped[Volunteer | None] = relationship()

    @property
    def is_holder(self) -> bool:
        return self.kind in HOLDER_KINDS

    @property
    def label(self) -> str:
        return self.volunteer.name if self.volunteer is not None else (self.holder_name or self.kind)


class PointEntry(Base):
    __tablename__ = "point_entries"
    __table_args__ = (
        CheckConstraint(f"kind IN ({enum_values(PointEntryKind)})", name="valid_kind"),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_names_its_entry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    memo: Mapped[str] = mapped_column(String(300), default="")
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("point_entries.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    lines: Mapped[list[PointLine]] = relationship(back_populates="entry", order_by="PointLine.id")


class PointLine(Base):
    __tablename__ = "point_lines"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="nonzero_amount"),
        Index("ix_point_lines_account_entry", "account_id", "entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("point_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("point_accounts.id"))
    amount: Mapped[Money]

    entry: Mapped[PointEntry] = relationship(back_populates="lines")
    account: Mapped[PointAccount] = relationship()


class ActivityStatus(enum.StrEnum):
    open = "open"
    closed = "closed"


class SignupStatus(enum.StrEnum):
    signed_up = "signed_up"
    checked_in = "checked_in"
    done = "done"  # checked out, or hours entered by the organiser: a service record exists
    cancelled = "cancelled"


class RecordStatus(enum.StrEnum):
    pending = "pending"  # waiting for the organiser's verification; counts for nothing yet
    verified = "verified"  # credited to the time account
    reversed = "reversed"  # disputed or corrected: its points were reversed (a new record may replace it)
    rejected = "rejected"  # refused before it was credited


class Activity(Base):
    """A volunteer activity, optionally part of a grant-funded project (an award)."""

    __tablename__ = "volunteer_activities"
    __table_args__ = (
        CheckConstraint(f"status IN ({enum_values(ActivityStatus)})", name="valid_status"),
        CheckConstraint("people_served >= 0", name="people_served_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    community: Mapped[str] = mapped_column(String(100), default="")
    award_id: Mapped[int | None] = mapped_column(ForeignKey("awards.id"), index=True)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ActivityStatus.open.value)
    people_served: Mapped[int] = mapped_column(default=0)  # residents served, as reported by the organiser
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    shifts: Mapped[list[Shift]] = relationship(back_populates="activity", order_by="Shift.starts_at")


class Shift(Base):
    __tablename__ = "volunteer_shifts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity > 0", name="positive_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("volunteer_activities.id"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int] = mapped_column(default=10)

    activity: Mapped[Activity] = relationship(back_populates="shifts")


class Signup(Base):
    __tablename__ = "volunteer_signups"
    __table_args__ = (
        UniqueConstraint("shift_id", "volunteer_id", name="uq_volunteer_signups_shift_volunteer"),
        CheckConstraint(f"status IN ({enum_values(SignupStatus)})", name="valid_status"),
        CheckConstraint("checked_out_at IS NULL OR (checked_in_at IS NOT NULL AND checked_out_at > checked_in_at)",
                        name="check_out_after_check_in"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("volunteer_shifts.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=SignupStatus.signed_up.value)
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    checked_out_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    shift: Mapped[Shift] = relationship()
    volunteer: Mapped[Volunteer] = relationship()


class ServiceRecord(Base):
    """Hours served on a signup, as checked out or entered by the organiser. Hours never change: a disputed record
    is reversed (its points too) and a new record replaces it (`replaces_id`)."""

    __tablename__ = "volunteer_service_records"
    __table_args__ = (
        CheckConstraint(f"status IN ({enum_values(RecordStatus)})", name="valid_status"),
        CheckConstraint("hours > 0", name="positive_hours"),  # at most 24: checked by the service (cents on SQLite)
        CheckConstraint("(status IN ('verified', 'reversed')) = (point_entry_id IS NOT NULL)",
                        name="credited_when_verified"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    signup_id: Mapped[int] = mapped_column(ForeignKey("volunteer_signups.id"), index=True)
    hours: Mapped[Money]
    status: Mapped[str] = mapped_column(String(20), default=RecordStatus.pending.value)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    point_entry_id: Mapped[int | None] = mapped_column(ForeignKey("point_entries.id"), unique=True)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(300), default="")  # why it was reversed or rejected
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_service_records.id"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    signup: Mapped[Signup] = relationship()


class RewardKind(enum.StrEnum):
    goods = "goods"  # items donated in kind (carried in 1201 存货 when they were valued)
    service = "service"  # a service offered by a volunteer or a business (no stock value in the books)


class Reward(Base):
    """An item of the points catalogue. Stock never goes below zero (CHECK, and a row lock when redeeming)."""

    __tablename__ = "volunteer_rewards"
    __table_args__ = (
        CheckConstraint(f"kind IN ({enum_values(RewardKind)})", name="valid_kind"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("points > 0", name="positive_points"),
        CheckConstraint("unit_value IS NULL OR (unit_value > 0 AND fund_id IS NOT NULL)", name="valued_in_a_fund"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=RewardKind.goods.value)
    points: Mapped[Money]  # the price of one, in points
    stock: Mapped[int] = mapped_column(default=0)
    donor_label: Mapped[str] = mapped_column(String(200), default="")  # who gave it, as shown publicly
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), index=True)  # the in-kind gift
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"))  # where its 1201 value sits
    unit_value: Mapped[Money | None]  # book value of one item in 1201; None: nothing to post when redeemed
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Redemption(Base):
    __tablename__ = "volunteer_redemptions"
    __table_args__ = (CheckConstraint("quantity > 0", name="positive_quantity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("volunteer_rewards.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("point_accounts.id"), index=True)
    quantity: Mapped[int] = mapped_column(default=1)
    points: Mapped[Money]
    point_entry_id: Mapped[int] = mapped_column(ForeignKey("point_entries.id"), unique=True)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    reward: Mapped[Reward] = relationship()
    account: Mapped[PointAccount] = relationship()


class Certificate(Base):
    """A volunteer-service certificate as issued: the printed figures are stored, and its code lets anyone check
    it on the public verification page."""

    __tablename__ = "volunteer_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    hours: Mapped[Money]
    activities: Mapped[int] = mapped_column(default=0)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
