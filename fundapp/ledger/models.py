"""Ledger models: accounts, funds, periods, journal entries and lines, balance rows.

Posted entries and lines are immutable; the database refuses UPDATE and DELETE on them
(see the migration that installs the triggers). Amounts: positive = debit, negative = credit.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.db import Base, Money, MoneyType, enum_values, utcnow


class AccountType(str, enum.Enum):
    asset = "asset"
    liability = "liability"
    net_assets = "net_assets"
    revenue = "revenue"
    expense = "expense"


class NetAssetClass(str, enum.Enum):
    unrestricted = "unrestricted"
    restricted = "restricted"


class FundType(str, enum.Enum):
    general = "general"
    project = "project"  # donor-restricted project fund
    named = "named"  # 专项基金
    endowment = "endowment"  # 留本基金
    micro = "micro"  # 社区微基金
    enterprise_return = "enterprise_return"  # social-enterprise return fund


class FundStatus(str, enum.Enum):
    active = "active"
    closed = "closed"



class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(f"type IN ({enum_values(AccountType)})", name="valid_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    type: Mapped[str] = mapped_column(String(20))
    # A contra account (累计折旧) carries the opposite of its type's normal balance.
    is_contra: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(Text, default="")

    @property
    def normal_sign(self) -> int:
        """+1 where a debit balance is normal (assets, expenses), -1 otherwise; flipped for contra accounts."""
        sign = 1 if self.type in (AccountType.asset.value, AccountType.expense.value) else -1
        return -sign if self.is_contra else sign

    def __repr__(self) -> str:
        return f"<Account {self.code} {self.name}>"


class Fund(Base):
    __tablename__ = "funds"
    __table_args__ = (
        CheckConstraint(f"fund_type IN ({enum_values(FundType)})", name="valid_fund_type"),
        CheckConstraint(f"restriction IN ({enum_values(NetAssetClass)})", name="valid_restriction"),
        CheckConstraint(f"status IN ({enum_values(FundStatus)})", name="valid_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    fund_type: Mapped[str] = mapped_column(String(30))
    restriction: Mapped[str] = mapped_column(String(20), default=NetAssetClass.unrestricted.value)
    purpose: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=FundStatus.active.value)
    is_public: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<Fund {self.code} {self.name}>"


class Period(Base):
    """A closed accounting month. Closing is in order; the latest closed month is the lock date."""

    __tablename__ = "periods"
    __table_args__ = (
        UniqueConstraint("year", "month", name="uq_periods_year_month"),
        CheckConstraint("month BETWEEN 1 AND 12", name="valid_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    end_date: Mapped[dt.date] = mapped_column(Date, unique=True)
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def label(self) -> str:
        return f"{self.year}-{self.month:02d}"


class LedgerHead(Base):
    """One row: the chain head. Posting locks it, so entries are appended strictly one after another."""

    __tablename__ = "ledger_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class JournalEntry(Base):
    __tablename__ = "journal_entries"
    __table_args__ = (
        Index("ix_journal_entries_effective_date_id", "effective_date", "id"),
        Index("ix_journal_entries_source", "source_type", "source_id"),
        CheckConstraint("seq > 0", name="positive_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    memo: Mapped[str] = mapped_column(String(500))
    source_type: Mapped[str] = mapped_column(String(40), default="manual")
    source_id: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    lines: Mapped[list[JournalLine]] = relationship(
        back_populates="entry", order_by="JournalLine.line_no", lazy="selectin"
    )
    reverses: Mapped[JournalEntry | None] = relationship(remote_side=[id], foreign_keys=[reverses_id])
    author = relationship("User", foreign_keys=[author_id])

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.amount > 0), Decimal("0.00"))


class JournalLine(Base):
    __tablename__ = "journal_lines"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="nonzero_amount"),
        CheckConstraint(f"net_asset_class IN ({enum_values(NetAssetClass)})", name="valid_class"),
        UniqueConstraint("entry_id", "line_no", name="uq_journal_lines_entry_line_no"),
        Index("ix_journal_lines_account_fund_date", "account_id", "fund_id", "effective_date"),
        Index("ix_journal_lines_fund_date", "fund_id", "effective_date"),
        Index("ix_journal_lines_effective_date", "effective_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    # Denormalised from the entry so balance queries as of a date need no join.
    effective_date: Mapped[dt.date] = mapped_column(Date)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"))
    net_asset_class: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Money]
    memo: Mapped[str] = mapped_column(String(500), default="")

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")
    account: Mapped[Account] = relationship(lazy="joined")
    fund: Mapped[Fund] = relationship(lazy="joined")


class BalanceGrain(str, enum.Enum):
    year = "y"  # period = yyyy
    month = "m"  # period = yyyymm
    day = "d"  # period = yyyymmdd


class PeriodBalance(Base):
    """Sum of lines per account, fund and class over one year, one month and one day, maintained by the posting
    service in the posting transaction.

    A balance as of date D = the year rows before D's year + the month rows of D's year before D's month + the
    day rows of D's month up to D. That reads at most (years + 11 + 31) rows per account/fund/class, however many
    lines the ledger holds. `flask ledger verify` proves every row equals the lines.
    """

    __tablename__ = "period_balances"
    __table_args__ = (
        UniqueConstraint("grain", "period", "account_id", "fund_id", "net_asset_class", name="uq_period_balances_key"),
        CheckConstraint("grain IN ('y', 'm', 'd')", name="valid_grain"),
        CheckConstraint("line_count >= 0", name="nonnegative_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"))
    net_asset_class: Mapped[str] = mapped_column(String(20))
    grain: Mapped[str] = mapped_column(String(1))
    period: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(MoneyType(24))  # sums of lines: wider than one line
    line_count: Mapped[int] = mapped_column(Integer, default=0)
