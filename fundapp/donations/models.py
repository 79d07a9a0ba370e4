"""Donors, donations, pledges and official receipts.

A donation's money fields never change once recorded (the database refuses it): a wrong donation is
reversed and a new one recorded. A pledge payment is a donation row with `pledge_id` set: it moves the
receivable (1122) into cash, and it is what gets a receipt (a pledge itself never does). A receipt keeps
the values it was issued with; only its void fields may be filled in, once. A receipt is for exactly one
donation or one payment of a social enterprise's gift (an `EnterprisePayment`, which owns its own entry).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    JSON,
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

from fundapp.db import Base, Money, MoneyType, enum_values, utcnow
from fundapp.enterprises.models import EnterprisePayment
from fundapp.ledger.models import NetAssetClass


class DonorKind(enum.StrEnum):
    person = "person"
    organisation = "organisation"


class DonationMethod(enum.StrEnum):
    cash = "cash"
    bank_transfer = "bank_transfer"
    online = "online"
    in_kind = "in_kind"


# The asset account a gift lands in, by method (民间非营利组织会计制度 codes).
METHOD_ACCOUNTS = {
    DonationMethod.cash.value: "1001",
    DonationMethod.bank_transfer.value: "1002",
    DonationMethod.online.value: "1009",
    DonationMethod.in_kind.value: "1201",
}
DONATION_INCOME = "4101"
PLEDGES_RECEIVABLE = "1122"


class ValuationBasis(enum.StrEnum):
    invoice = "invoice"
    customs = "customs"
    agreement = "agreement"
    fair_value = "fair_value"


class DonationStatus(enum.StrEnum):
    recorded = "recorded"
    reversed = "reversed"


class PledgeStatus(enum.StrEnum):
    open = "open"
    fulfilled = "fulfilled"
    reversed = "reversed"


class Donor(Base):
    __tablename__ = "donors"
    __table_args__ = (
        CheckConstraint(f"kind IN ({enum_values(DonorKind)})", name="valid_kind"),
        CheckConstraint("merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_self"),
        Index("ix_donors_name", "name"),
        # One live donor per ID / credit code; a merged record keeps its code without blocking the survivor.
        Index(
            "uq_donors_live_id_code",
            "id_code",
            unique=True,
            sqlite_where=text("merged_into_id IS NULL AND id_code <> ''"),
            postgresql_where=text("merged_into_id IS NULL AND id_code <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default=DonorKind.person.value)
    name: Mapped[str] = mapped_column(String(200))
    # Resident ID number for people, unified social credit code (统一社会信用代码) for organisations.
    id_code: Mapped[str] = mapped_column(String(50), default="")
    contact_person: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    anonymous_in_public: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"), index=True)
    merged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    user = relationship("User")
    merged_into: Mapped[Donor | None] = relationship(remote_side=[id], foreign_keys=[merged_into_id])

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    def __repr__(self) -> str:
        return f"<Donor {self.id} {self.name}>"


class Pledge(Base):
    """A promise to give: a receivable (1122 Dr / 4101 Cr) settled by later payments."""

    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint("paid_amount >= 0 AND paid_amount <= amount", name="paid_within_amount"),
        CheckConstraint(f"status IN ({enum_values(PledgeStatus)})", name="valid_status"),
        CheckConstraint(f"net_asset_class IN ({enum_values(NetAssetClass)})", name="valid_class"),
        CheckConstraint(
            "(status = 'reversed') = (reversal_entry_id IS NOT NULL AND reversal_reason IS NOT NULL)",
            name="reversal_complete",
        ),
        Index("ix_pledges_status_pledged_on", "status", "pledged_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    pledged_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    amount: Mapped[Money]
    paid_amount: Mapped[Money] = mapped_column(default=Decimal("0.00"))
    net_asset_class: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default=PledgeStatus.open.value)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    reversal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    reversal_reason: Mapped[str | None] = mapped_column(String(300))
    reversed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reversed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    donor: Mapped[Donor] = relationship(lazy="joined")
    fund = relationship("Fund", lazy="joined")
    entry = relationship("JournalEntry", foreign_keys=[entry_id])
    reversal_entry = relationship("JournalEntry", foreign_keys=[reversal_entry_id])

    @property
    def outstanding(self) -> Decimal:
        if self.status == PledgeStatus.reversed.value:
            return Decimal("0.00")
        return self.amount - self.paid_amount


class Donation(Base):
    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint(f"method IN ({enum_values(DonationMethod)})", name="valid_method"),
        CheckConstraint(f"net_asset_class IN ({enum_values(NetAssetClass)})", name="valid_class"),
        CheckConstraint(f"status IN ({enum_values(DonationStatus)})", name="valid_status"),
        CheckConstraint(
            f"valuation_basis IS NULL OR valuation_basis IN ({enum_values(ValuationBasis)})", name="valid_basis"
        ),
        CheckConstraint(
            "(method = 'in_kind' AND valuation_basis IS NOT NULL AND item_description <> '' AND quantity <> '') "
            "OR (method <> 'in_kind' AND valuation_basis IS NULL AND quantity = '')",
            name="in_kind_details",
        ),
        CheckConstraint("pledge_id IS NULL OR method <> 'in_kind'", name="pledge_paid_in_money"),
        CheckConstraint(
            "(status = 'reversed') = (reversal_entry_id IS NOT NULL AND reversal_reason IS NOT NULL)",
            name="reversal_complete",
        ),
        CheckConstraint("corrects_id IS NULL OR corrects_id <> id", name="not_correcting_self"),
        Index("ix_donations_received_on_id", "received_on", "id"),
        Index("ix_donations_reference", "reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # the journal entry's key is "donation:<key>"
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"), index=True)  # None: an anonymous gift
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Money]  # for in-kind gifts: the valuation
    method: Mapped[str] = mapped_column(String(20))
    net_asset_class: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(500), default="")
    reference: Mapped[str] = mapped_column(String(100), default="")  # payer's or bank's transaction id
    item_description: Mapped[str] = mapped_column(String(500), default="")
    quantity: Mapped[str] = mapped_column(String(30), default="")  # a positive decimal, as text
    unit: Mapped[str] = mapped_column(String(20), default="")
    valuation_basis: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=DonationStatus.recorded.value)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    reversal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    reversal_reason: Mapped[str | None] = mapped_column(String(300))
    reversed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reversed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    donor: Mapped[Donor | None] = relationship(lazy="joined")
    pledge: Mapped[Pledge | None] = relationship()
    fund = relationship("Fund", lazy="joined")
    entry = relationship("JournalEntry", foreign_keys=[entry_id])
    reversal_entry = relationship("JournalEntry", foreign_keys=[reversal_entry_id])
    corrects: Mapped[Donation | None] = relationship(remote_side=[id], foreign_keys=[corrects_id])
    receipts: Mapped[list[Receipt]] = relationship(back_populates="donation", order_by="Receipt.id")

    @property
    def is_reversed(self) -> bool:
        return self.status == DonationStatus.reversed.value

    @property
    def is_in_kind(self) -> bool:
        return self.method == DonationMethod.in_kind.value

    @property
    def active_receipt(self) -> Receipt | None:
        return next((r for r in self.receipts if not r.is_void), None)


class ReceiptCounter(Base):
    """The last receipt number issued in a year. Issuing increments it in the issuing transaction."""

    __tablename__ = "receipt_counters"
    __table_args__ = (
        CheckConstraint("last_number >= 0", name="nonnegative_number"),
        CheckConstraint("year BETWEEN 1900 AND 9999", name="valid_year"),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Receipt(Base):
    """An official receipt (公益事业捐赠票据) as issued: the printed values are stored, never recomputed."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("year", "number", name="uq_receipts_year_number"),
        CheckConstraint("number > 0", name="positive_number"),
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint(
            "(void_at IS NULL AND void_reason IS NULL AND void_by_id IS NULL) "
            "OR (void_at IS NOT NULL AND void_reason IS NOT NULL AND void_reason <> '')",
            name="void_complete",
        ),
        # A receipt is for a donation or for an enterprise's gift payment, never both, never neither.
        CheckConstraint(
            "(donation_id IS NOT NULL AND enterprise_payment_id IS NULL) "
            "OR (donation_id IS NULL AND enterprise_payment_id IS NOT NULL)",
            name="one_source",
        ),
        # At most one valid receipt per donation and per enterprise payment; void ones stay beside it.
        Index(
            "uq_receipts_valid_donation",
            "donation_id",
            unique=True,
            sqlite_where=text("void_at IS NULL"),
            postgresql_where=text("void_at IS NULL"),
        ),
        Index("ix_receipts_donation_id", "donation_id"),
        # The corrections page lists voided receipts: a small partial index instead of a scan of every receipt.
        Index("ix_receipts_void_at", "void_at", sqlite_where=text("void_at IS NOT NULL"),
              postgresql_where=text("void_at IS NOT NULL")),
        Index(
            "uq_receipts_valid_enterprise_payment",
            "enterprise_payment_id",
            unique=True,
            sqlite_where=text("void_at IS NULL"),
            postgresql_where=text("void_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"))
    enterprise_payment_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise_payments.id"), index=True)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issuer_name: Mapped[str] = mapped_column(String(100), default="")
    foundation_name: Mapped[str] = mapped_column(String(200))
    foundation_reg_no: Mapped[str] = mapped_column(String(100), default="")
    payer_name: Mapped[str] = mapped_column(String(200))
    payer_id_code: Mapped[str] = mapped_column(String(50), default="")
    amount: Mapped[Money]
    donation_date: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    item: Mapped[str] = mapped_column(String(500))  # fund and purpose as printed
    in_kind_details: Mapped[str] = mapped_column(String(600), default="")
    check_code: Mapped[str] = mapped_column(String(16))
    void_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(String(300))
    void_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    donation: Mapped[Donation | None] = relationship(back_populates="receipts")
    enterprise_payment: Mapped[EnterprisePayment | None] = relationship()

    @property
    def is_void(self) -> bool:
        return self.void_at is not None

    @property
    def label(self) -> str:
        return receipt_label(self.year, self.number)


def receipt_label(year: int, number: int) -> str:
    return f"{year}-{number:06d}"


class ImportStatus(enum.StrEnum):
    checking = "checking"  # queued or being read and checked
    checked = "checked"  # no problems: ready to import
    invalid = "invalid"  # the file or some rows have problems: nothing can be imported
    importing = "importing"  # queued or being posted
    imported = "imported"
    failed = "failed"  # the import stopped with an error; nothing was written, it may be tried again


class ImportBatch(Base):
    """One uploaded donation file: its check (the preview) and its import. The file itself is kept under a random
    name outside the web root until it is imported; the rows it posts are donations keyed "import:<reference>"."""

    __tablename__ = "import_batches"
    __table_args__ = (
        CheckConstraint(f"status IN ({enum_values(ImportStatus)})", name="valid_status"),
        CheckConstraint("size >= 0", name="nonnegative_size"),
        Index("ix_import_batches_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))  # as uploaded, for display only
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    locale: Mapped[str] = mapped_column(String(10), default="")
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.checking.value)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    new_rows: Mapped[int] = mapped_column(Integer, default=0)  # rows to post
    skipped_rows: Mapped[int] = mapped_column(Integer, default=0)  # imported before: posted again never
    problem_count: Mapped[int] = mapped_column(Integer, default=0)
    posted_rows: Mapped[int] = mapped_column(Integer, default=0)
    total_amount: Mapped[Decimal | None] = mapped_column(MoneyType(24))  # of the rows to post
    message: Mapped[str] = mapped_column(Text, default="")  # a problem with the whole file, or the failure
    sample: Mapped[list | None] = mapped_column(JSON)  # the first rows as read, to confirm the columns
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    imported_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    created_by = relationship("User")

    @property
    def busy(self) -> bool:
        return self.status in (ImportStatus.checking.value, ImportStatus.importing.value)


class ImportProblem(Base):
    """A problem with one row (or with the file, row 0) of an import batch."""

    __tablename__ = "import_problems"
    __table_args__ = (Index("ix_import_problems_batch_row", "batch_id", "row_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(30), default="")
    message: Mapped[str] = mapped_column(String(500))
