"""Community social enterprises (社区社会企业), their agreements, revenue reports and payments.

- An agreement is versioned: a change is a new row with a higher `version` and a later `effective_from`; a
  version never changes once written (the database refuses it). A report keeps the version it was filed under.
- A revenue report is one (enterprise, period). Its figures live in revisions: the first filing is revision 1,
  each amendment adds the next one. A revision never changes once decided; confirming it posts the difference
  between its share and the share confirmed before (Dr 1121 / Cr income, or the reverse when it is lower).
- A payment settles (part of) one report's share: Dr 1002 / Cr 1121; it is reversed, never edited.
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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from fundapp.db import Base, Money, MoneyType, enum_values, utcnow


class PercentType(TypeDecorator):
    """A percentage with up to four decimals (`5.25` = 5.25 %), stored on every database as an exact integer
    number of ten-thousandths of a percent (52500), so CHECKs read the same everywhere. Python sees a Decimal."""

    impl = Integer
    cache_ok = True
    SCALE = Decimal("0.0001")

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("a percentage must not be a float")
        value = Decimal(value)
        if value != value.quantize(self.SCALE):
            raise ValueError(f"percentage {value} has more than four decimals")
        return int(value * 10000)

    def process_result_value(self, value, dialect):
        return None if value is None else (Decimal(int(value)) / 10000).quantize(self.SCALE)


class EnterpriseStatus(enum.StrEnum):
    active = "active"
    suspended = "suspended"
    closed = "closed"


class Basis(enum.StrEnum):
    gross_revenue = "gross_revenue"
    net_profit = "net_profit"


class Nature(enum.StrEnum):
    """What the money is: it decides the income account and whether a donation receipt may be issued."""

    gift = "gift"  # 4101 捐赠收入, receipted
    shareholding = "shareholding"  # 4601 投资收益: a return on the community's shareholding
    services = "services"  # 4301 提供服务收入


class Periodicity(enum.StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"


class ReportStatus(enum.StrEnum):
    filed = "filed"  # first revision waiting for finance
    confirmed = "confirmed"  # a revision was confirmed (an amendment may be waiting)
    rejected = "rejected"  # every revision was rejected: the period may be filed again


class RevisionStatus(enum.StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    rejected = "rejected"


class PaymentStatus(enum.StrEnum):
    recorded = "recorded"
    reversed = "reversed"


# 民间非营利组织会计制度 codes.
NATURE_ACCOUNTS = {Nature.gift.value: "4101", Nature.shareholding.value: "4601", Nature.services.value: "4301"}
RECEIVABLE = "1121"  # 应收账款
BANK = "1002"  # 银行存款


class Enterprise(Base):
    __tablename__ = "enterprises"
    __table_args__ = (
        CheckConstraint(f"status IN ({enum_values(EnterpriseStatus)})", name="valid_status"),
        Index("ix_enterprises_name", "name"),
        Index("uq_enterprises_credit_code", "credit_code", unique=True,
              sqlite_where=text("credit_code <> ''"), postgresql_where=text("credit_code <> ''")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(50), default="")  # 统一社会信用代码
    sector: Mapped[str] = mapped_column(String(100), default="")
    community: Mapped[str] = mapped_column(String(200), default="")  # the community it serves
    contact_person: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default=EnterpriseStatus.active.value)
    related_party_note: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    members: Mapped[list[EnterpriseMember]] = relationship(back_populates="enterprise", cascade="all, delete-orphan",
                                                           order_by="EnterpriseMember.id")
    related_parties: Mapped[list[RelatedParty]] = relationship(cascade="all, delete-orphan", order_by="RelatedParty.id")
    agreements: Mapped[list[Agreement]] = relationship(back_populates="enterprise", order_by="Agreement.version")

    @property
    def is_related_party(self) -> bool:
        return bool(self.related_parties)

    def __repr__(self) -> str:
        return f"<Enterprise {self.id} {self.name}>"


class EnterpriseMember(Base):
    """A user with role `enterprise` who files for (and sees only) this enterprise."""

    __tablename__ = "enterprise_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    enterprise: Mapped[Enterprise] = relationship(back_populates="members")
    user = relationship("User", lazy="joined")


class RelatedParty(Base):
    """A board member (user with role `board`) to whom the enterprise is a related party (关联方)."""

    __tablename__ = "enterprise_related_parties"
    __table_args__ = (UniqueConstraint("enterprise_id", "user_id", name="uq_enterprise_related_parties_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user = relationship("User", lazy="joined")


class Agreement(Base):
    """One version of an enterprise's agreement. Immutable: a change is a new version."""

    __tablename__ = "enterprise_agreements"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "version", name="uq_enterprise_agreements_version"),
        UniqueConstraint("enterprise_id", "effective_from", name="uq_enterprise_agreements_effective_from"),
        CheckConstraint("version > 0", name="positive_version"),
        CheckConstraint(f"basis IN ({enum_values(Basis)})", name="valid_basis"),
        CheckConstraint(f"nature IN ({enum_values(Nature)})", name="valid_nature"),
        CheckConstraint(f"periodicity IN ({enum_values(Periodicity)})", name="valid_periodicity"),
        CheckConstraint("due_days BETWEEN 0 AND 366", name="valid_due_days"),
        CheckConstraint("minimum >= 0", name="nonnegative_minimum"),
        CheckConstraint("ends_on IS NULL OR ends_on >= effective_from", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(100), default="")  # the contract's number
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(20))
    nature: Mapped[str] = mapped_column(String(20))
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    periodicity: Mapped[str] = mapped_column(String(20))
    due_days: Mapped[int] = mapped_column(Integer)  # report and share due this many days after the period ends
    minimum: Mapped[Money] = mapped_column(default=Decimal("0.00"))  # per period
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    enterprise: Mapped[Enterprise] = relationship(back_populates="agreements")
    fund = relationship("Fund", lazy="joined")
    tiers: Mapped[list[AgreementTier]] = relationship(order_by="AgreementTier.position", lazy="selectin",
                                                      cascade="all")

    @property
    def income_account_code(self) -> str:
        return NATURE_ACCOUNTS[self.nature]

    @property
    def receipt_allowed(self) -> bool:
        """Only a gift gets a donation receipt: money for which the giver gets something back is not a gift."""
        return self.nature == Nature.gift.value


class AgreementTier(Base):
    """A marginal tier: `rate` percent of the part of the base from `lower_bound` up to the next tier's bound."""

    __tablename__ = "enterprise_agreement_tiers"
    __table_args__ = (
        UniqueConstraint("agreement_id", "position", name="uq_enterprise_agreement_tiers_position"),
        UniqueConstraint("agreement_id", "lower_bound", name="uq_enterprise_agreement_tiers_lower_bound"),
        CheckConstraint("position > 0", name="positive_position"),
        CheckConstraint("lower_bound >= 0", name="nonnegative_lower_bound"),
        CheckConstraint("rate BETWEEN 0 AND 1000000", name="valid_rate"),  # 0 to 100 %, in 1/10000 %
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("enterprise_agreements.id"))
    position: Mapped[int] = mapped_column(Integer)
    lower_bound: Mapped[Money]
    rate: Mapped[Decimal] = mapped_column(PercentType())


class RevenueReport(Base):
    """One enterprise's report for one period. Its figures are in its revisions."""

    __tablename__ = "enterprise_reports"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "period_start", name="uq_enterprise_reports_period"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
        CheckConstraint(f"status IN ({enum_values(ReportStatus)})", name="valid_status"),
        CheckConstraint("share_due >= 0", name="nonnegative_share"),
        CheckConstraint("paid_amount >= 0 AND paid_amount <= share_due", name="paid_within_share"),
        Index("ix_enterprise_reports_status_due_on", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("enterprise_agreements.id"), index=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.filed.value)
    share_due: Mapped[Money] = mapped_column(default=Decimal("0.00"))  # the share of the latest confirmed revision
    paid_amount: Mapped[Money] = mapped_column(default=Decimal("0.00"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")
    agreement: Mapped[Agreement] = relationship(lazy="joined")
    revisions: Mapped[list[ReportRevision]] = relationship(back_populates="report", order_by="ReportRevision.revision")

    @property
    def outstanding(self) -> Decimal:
        return self.share_due - self.paid_amount

    @property
    def pending_revision(self) -> ReportRevision | None:
        return next((r for r in self.revisions if r.status == RevisionStatus.pending.value), None)

    @property
    def current_revision(self) -> ReportRevision | None:
        """The latest confirmed revision: the figures the share due comes from."""
        confirmed = [r for r in self.revisions if r.status == RevisionStatus.confirmed.value]
        return confirmed[-1] if confirmed else None


class ReportRevision(Base):
    """The figures of one filing or amendment and the share computed from them. Immutable once decided."""

    __tablename__ = "enterprise_report_revisions"
    __table_args__ = (
        UniqueConstraint("report_id", "revision", name="uq_enterprise_report_revisions_revision"),
        CheckConstraint("revision > 0", name="positive_revision"),
        CheckConstraint("revenue >= 0", name="nonnegative_revenue"),
        CheckConstraint("costs >= 0", name="nonnegative_costs"),
        CheckConstraint("base >= 0", name="nonnegative_base"),
        CheckConstraint("share >= 0", name="nonnegative_share"),
        CheckConstraint(f"status IN ({enum_values(RevisionStatus)})", name="valid_status"),
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_unless_pending"),
        CheckConstraint("status = 'confirmed' OR (entry_id IS NULL AND difference IS NULL)",
                        name="posted_if_confirmed"),
        CheckConstraint("status <> 'confirmed' OR difference IS NOT NULL", name="confirmed_difference"),
        CheckConstraint("status <> 'rejected' OR decision_note <> ''", name="rejected_with_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # the form's hidden key: a double submit files once
    report_id: Mapped[int] = mapped_column(ForeignKey("enterprise_reports.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[Money]
    costs: Mapped[Money]
    profit: Mapped[Money]  # may be a loss
    base: Mapped[Money]  # what the share is computed on
    share: Mapped[Money]
    note: Mapped[str] = mapped_column(String(500), default="")  # for an amendment: why
    status: Mapped[str] = mapped_column(String(20), default=RevisionStatus.pending.value)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    filed_on: Mapped[dt.date] = mapped_column(Date)  # the foundation's date of filing (late or on time)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    difference: Mapped[Decimal | None] = mapped_column(MoneyType())  # share minus the share confirmed before
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)

    report: Mapped[RevenueReport] = relationship(back_populates="revisions")
    entry = relationship("JournalEntry", foreign_keys=[entry_id])
    filed_by = relationship("User", foreign_keys=[filed_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    attachments: Mapped[list[ReportAttachment]] = relationship(back_populates="revision",
                                                               order_by="ReportAttachment.id")

    @property
    def is_amendment(self) -> bool:
        return self.revision > 1


class ReportAttachment(Base):
    """A file filed with a report (statement, invoice scans), stored outside the web root under a random name."""

    __tablename__ = "enterprise_attachments"
    __table_args__ = (
        CheckConstraint("kind IN ('pdf', 'jpeg', 'png', 'xlsx')", name="valid_kind"),
        CheckConstraint("size > 0", name="positive_size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("enterprise_reports.id"), index=True)
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise_report_revisions.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    revision: Mapped[ReportRevision | None] = relationship(back_populates="attachments")
    report: Mapped[RevenueReport] = relationship()


class EnterprisePayment(Base):
    """Money received against one report's share: Dr 1002 / Cr 1121 in the agreement's fund."""

    __tablename__ = "enterprise_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint(f"status IN ({enum_values(PaymentStatus)})", name="valid_status"),
        CheckConstraint(
            "(status = 'reversed') = (reversal_entry_id IS NOT NULL AND reversal_reason IS NOT NULL)",
            name="reversal_complete",
        ),
        Index("ix_enterprise_payments_received_on", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # journal key "enterprise-payment:<key>"
    report_id: Mapped[int] = mapped_column(ForeignKey("enterprise_reports.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Money]
    reference: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20), default=PaymentStatus.recorded.value)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    reversal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    reversal_reason: Mapped[str | None] = mapped_column(String(300))
    reversed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reversed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    report: Mapped[RevenueReport] = relationship()
    fund = relationship("Fund", lazy="joined")
    entry = relationship("JournalEntry", foreign_keys=[entry_id])
    reversal_entry = relationship("JournalEntry", foreign_keys=[reversal_entry_id])

    @property
    def is_reversed(self) -> bool:
        return self.status == PaymentStatus.reversed.value
