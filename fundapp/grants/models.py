"""Grant-making: programmes (calls), organisations, applications, reviews, board decisions, awards, tranches,
payments, progress reports.

The life of a grant:

    Programme (call, fund, budget, rubric)
      └ Application (organisation) ── versions: a draft version is edited; submitting freezes it; a request for
          │                             revision lets the applicant start the next version from a copy
          ├ ReviewAssignment (reviewer) ── conflict declared → out; else ReviewScore per criterion
          ├ AgendaItem (on a BoardAgenda) ── BoardVote per member, BoardRecusal for conflicts
          └ GrantDecision (board or staff; immutable) ── approved → Award
                Award (payable posted: Dr 5101 / Cr 2209 in the fund) ── Tranche (milestone, due date)
                  ├ TranchePayment (maker; above a limit a second approver) → Dr 2209 / Cr 1002
                  ├ ProgressReport (before the next tranche; final at close-out)
                  └ close-out: unpaid payable released, money returned by the grantee posted back

Decisions, votes, recusals and frozen application versions never change once written: the database refuses it
(triggers in the grants migration), as it does for journal entries.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.db import Base, Money, MoneyType, enum_values, utcnow


class ProgrammeKind(enum.StrEnum):
    call = "call"  # an open call for proposals
    venture = "venture"  # 公益创投 competition
    purchase = "purchase"  # 政府购买服务
    directed = "directed"  # a programme without an open call (invited applications)


class ProgrammeStatus(enum.StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"  # no more submissions; review and decisions continue
    archived = "archived"


class ApplicationStatus(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"
    in_review = "in_review"
    revision_requested = "revision_requested"
    recommended = "recommended"
    on_agenda = "on_agenda"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class AssignmentStatus(enum.StrEnum):
    assigned = "assigned"
    conflicted = "conflicted"  # the reviewer declared a conflict of interest: out of this application
    submitted = "submitted"


class AgendaStatus(enum.StrEnum):
    draft = "draft"
    open = "open"  # members may vote
    closed = "closed"


class ItemStatus(enum.StrEnum):
    pending = "pending"
    decided = "decided"
    withdrawn = "withdrawn"


class VoteChoice(enum.StrEnum):
    approve = "approve"
    reject = "reject"
    abstain = "abstain"


class DecisionKind(enum.StrEnum):
    board = "board"
    staff = "staff"  # under the staff approval limit


class DecisionOutcome(enum.StrEnum):
    approved = "approved"
    rejected = "rejected"
    no_quorum = "no_quorum"


class AwardStatus(enum.StrEnum):
    active = "active"
    closed = "closed"


class TrancheStatus(enum.StrEnum):
    scheduled = "scheduled"
    awaiting_approval = "awaiting_approval"  # a payment was requested and waits for the second approver
    paid = "paid"
    cancelled = "cancelled"  # released at close-out


class PaymentStatus(enum.StrEnum):
    awaiting_approval = "awaiting_approval"
    paid = "paid"
    rejected = "rejected"  # the second approver refused it; nothing was posted


class ReportKind(enum.StrEnum):
    progress = "progress"
    final = "final"


class ReportStatus(enum.StrEnum):
    submitted = "submitted"
    accepted = "accepted"
    returned = "returned"  # sent back for changes; the grantee files again


class Organisation(Base):
    """A social organisation (社会组织) that applies for grants; its users have role `applicant`."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    reg_no: Mapped[str] = mapped_column(String(30), unique=True)  # 统一社会信用代码
    org_type: Mapped[str] = mapped_column(String(50), default="")  # 社会团体 / 民办非企业单位 / 基金会 ...
    community: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    bank_name: Mapped[str] = mapped_column(String(200), default="")
    bank_account_name: Mapped[str] = mapped_column(String(200), default="")
    bank_account_no: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    members: Mapped[list[OrganisationMember]] = relationship(back_populates="organisation")


class OrganisationMember(Base):
    """A user (role `applicant`) acting for one organisation."""

    __tablename__ = "organisation_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)

    organisation: Mapped[Organisation] = relationship(back_populates="members")
    user = relationship("User", lazy="joined")


class Programme(Base):
    """A programme or call for proposals drawing on one fund, with a budget and a rubric."""

    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint("budget > 0", name="positive_budget"),
        CheckConstraint(f"kind IN ({enum_values(ProgrammeKind)})", name="valid_kind"),
        CheckConstraint(f"status IN ({enum_values(ProgrammeStatus)})", name="valid_status"),
        CheckConstraint("closes_on >= opens_on", name="closes_after_opening"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=ProgrammeKind.call.value)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    budget: Mapped[Money]
    description: Mapped[str] = mapped_column(Text, default="")
    eligibility: Mapped[str] = mapped_column(Text, default="")
    opens_on: Mapped[dt.date] = mapped_column(Date)
    closes_on: Mapped[dt.date] = mapped_column(Date)
    max_request: Mapped[Decimal | None] = mapped_column(MoneyType())
    status: Mapped[str] = mapped_column(String(20), default=ProgrammeStatus.draft.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    fund = relationship("Fund", lazy="joined")
    criteria: Mapped[list[RubricCriterion]] = relationship(back_populates="programme",
                                                           order_by="RubricCriterion.position")


class RubricCriterion(Base):
    """One criterion of a programme's rubric; scores run 0..max_score, weighted by `weight` (percent)."""

    __tablename__ = "rubric_criteria"
    __table_args__ = (
        UniqueConstraint("programme_id", "position", name="uq_rubric_criteria_position"),
        CheckConstraint("weight > 0 AND weight <= 100", name="valid_weight"),
        CheckConstraint("max_score > 0 AND max_score <= 100", name="valid_max_score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    max_score: Mapped[int] = mapped_column(Integer, default=10)

    programme: Mapped[Programme] = relationship(back_populates="criteria")


class Application(Base):
    """An organisation's application to a programme. The content lives in versions."""

    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint(f"status IN ({enum_values(ApplicationStatus)})", name="valid_status"),
        Index("ix_applications_programme_status", "programme_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)  # e.g. A2026-0001
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(String(30), default=ApplicationStatus.draft.value)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # first submission
    revision_note: Mapped[str] = mapped_column(String(1000), default="")  # what staff asked to revise
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    programme: Mapped[Programme] = relationship(lazy="joined")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    versions: Mapped[list[ApplicationVersion]] = relationship(back_populates="application",
                                                              order_by="ApplicationVersion.version")

    @property
    def current(self) -> ApplicationVersion:
        return self.versions[-1]

    @property
    def latest_submitted(self) -> ApplicationVersion | None:
        frozen = [v for v in self.versions if v.submitted_at is not None]
        return frozen[-1] if frozen else None


class ApplicationVersion(Base):
    """The content of an application. Editable while `submitted_at` is NULL; frozen (by trigger) after."""

    __tablename__ = "application_versions"
    __table_args__ = (
        UniqueConstraint("application_id", "version", name="uq_application_versions_version"),
        CheckConstraint("version > 0", name="positive_version"),
        CheckConstraint("requested_amount >= 0", name="nonnegative_request"),
        CheckConstraint("beneficiaries_count >= 0", name="nonnegative_beneficiaries"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), default="")
    community: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    beneficiaries: Mapped[str] = mapped_column(Text, default="")
    beneficiaries_count: Mapped[int] = mapped_column(Integer, default=0)
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    requested_amount: Mapped[Money] = mapped_column(default=Decimal("0"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="versions")
    budget_lines: Mapped[list[BudgetLine]] = relationship(back_populates="version", order_by="BudgetLine.position",
                                                          cascade="all, delete-orphan")
    attachments: Mapped[list[ApplicationAttachment]] = relationship(back_populates="version",
                                                                    order_by="ApplicationAttachment.id")

    @property
    def is_frozen(self) -> bool:
        return self.submitted_at is not None

    @property
    def budget_total(self) -> Decimal:
        return sum((line.amount for line in self.budget_lines), Decimal("0.00"))


class BudgetLine(Base):
    """One line of an application's budget; the lines must add up to the requested amount on submission."""

    __tablename__ = "application_budget_lines"
    __table_args__ = (
        UniqueConstraint("version_id", "position", name="uq_application_budget_lines_position"),
        CheckConstraint("amount > 0", name="positive_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("application_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(50), default="")  # 人员 / 活动 / 物资 / 管理 ...
    item: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Money]

    version: Mapped[ApplicationVersion] = relationship(back_populates="budget_lines")


class ApplicationAttachment(Base):
    """A file attached to an application version (or a progress report), stored outside the web root."""

    __tablename__ = "grant_attachments"
    __table_args__ = (
        CheckConstraint("kind IN ('pdf', 'jpeg', 'png', 'xlsx')", name="valid_kind"),
        CheckConstraint("size > 0", name="positive_size"),
        CheckConstraint("(version_id IS NULL) <> (report_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("application_versions.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("grant_reports.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    version: Mapped[ApplicationVersion | None] = relationship(back_populates="attachments")
    report: Mapped[GrantReport | None] = relationship(back_populates="attachments")


class ReviewAssignment(Base):
    """A reviewer assigned to an application. A declared conflict takes the reviewer off it."""

    __tablename__ = "review_assignments"
    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id", name="uq_review_assignments_pair"),
        CheckConstraint(f"status IN ({enum_values(AssignmentStatus)})", name="valid_status"),
        CheckConstraint("status <> 'conflicted' OR conflict_note <> ''", name="conflict_explained"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=AssignmentStatus.assigned.value)
    conflict_declared_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    no_conflict: Mapped[bool] = mapped_column(Boolean, default=False)  # declared "no conflict" before scoring
    conflict_note: Mapped[str] = mapped_column(String(500), default="")
    comment: Mapped[str] = mapped_column(Text, default="")  # overall comment
    version: Mapped[int | None] = mapped_column(Integer)  # the application version scored
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application: Mapped[Application] = relationship()
    reviewer = relationship("User", foreign_keys=[reviewer_id], lazy="joined")
    scores: Mapped[list[ReviewScore]] = relationship(back_populates="assignment", cascade="all, delete-orphan")


class ReviewScore(Base):
    __tablename__ = "review_scores"
    __table_args__ = (
        UniqueConstraint("assignment_id", "criterion_id", name="uq_review_scores_pair"),
        CheckConstraint("score >= 0", name="nonnegative_score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("review_assignments.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("rubric_criteria.id"))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    comment: Mapped[str] = mapped_column(String(2000), default="")

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="scores")
    criterion: Mapped[RubricCriterion] = relationship()


class BoardAgenda(Base):
    """A board meeting held online: items are voted while it is open."""

    __tablename__ = "board_agendas"
    __table_args__ = (CheckConstraint(f"status IN ({enum_values(AgendaStatus)})", name="valid_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    meeting_on: Mapped[dt.date] = mapped_column(Date)
    vote_deadline: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default=AgendaStatus.draft.value)
    opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    items: Mapped[list[AgendaItem]] = relationship(back_populates="agenda", order_by="AgendaItem.position")


class AgendaItem(Base):
    """An application put before the board with the amount recommended."""

    __tablename__ = "agenda_items"
    __table_args__ = (
        UniqueConstraint("agenda_id", "position", name="uq_agenda_items_position"),
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint(f"status IN ({enum_values(ItemStatus)})", name="valid_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_id: Mapped[int] = mapped_column(ForeignKey("board_agendas.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    amount: Mapped[Money]
    recommendation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=ItemStatus.pending.value)

    agenda: Mapped[BoardAgenda] = relationship(back_populates="items")
    application: Mapped[Application] = relationship(lazy="joined")
    votes: Mapped[list[BoardVote]] = relationship(back_populates="item", order_by="BoardVote.id")
    recusals: Mapped[list[BoardRecusal]] = relationship(back_populates="item", order_by="BoardRecusal.id")


class BoardVote(Base):
    """One member's vote on one item. Written once; never changed (trigger)."""

    __tablename__ = "board_votes"
    __table_args__ = (
        UniqueConstraint("item_id", "member_id", name="uq_board_votes_pair"),
        CheckConstraint(f"choice IN ({enum_values(VoteChoice)})", name="valid_choice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    choice: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(String(1000), default="")
    cast_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    item: Mapped[AgendaItem] = relationship(back_populates="votes")
    member = relationship("User", lazy="joined")


class BoardRecusal(Base):
    """A member's declared conflict on one item: they cannot vote on it. Written once; never changed."""

    __tablename__ = "board_recusals"
    __table_args__ = (
        UniqueConstraint("item_id", "member_id", name="uq_board_recusals_pair"),
        CheckConstraint("reason <> ''", name="reason_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    declared_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    item: Mapped[AgendaItem] = relationship(back_populates="recusals")
    member = relationship("User", lazy="joined")


class GrantDecision(Base):
    """The decision on an application, by the board (an agenda item) or by staff under the limit.
    Records the count and the rule it was taken under; never changed (trigger)."""

    __tablename__ = "grant_decisions"
    __table_args__ = (
        CheckConstraint(f"kind IN ({enum_values(DecisionKind)})", name="valid_kind"),
        CheckConstraint(f"outcome IN ({enum_values(DecisionOutcome)})", name="valid_outcome"),
        CheckConstraint("amount >= 0", name="nonnegative_amount"),
        CheckConstraint("kind = 'staff' OR item_id IS NOT NULL", name="board_has_item"),
        CheckConstraint("votes_for >= 0 AND votes_against >= 0 AND abstentions >= 0 AND recused >= 0 "
                        "AND eligible >= 0", name="nonnegative_counts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Money]
    votes_for: Mapped[int] = mapped_column(Integer, default=0)
    votes_against: Mapped[int] = mapped_column(Integer, default=0)
    abstentions: Mapped[int] = mapped_column(Integer, default=0)
    recused: Mapped[int] = mapped_column(Integer, default=0)
    eligible: Mapped[int] = mapped_column(Integer, default=0)  # board members entitled to vote (not recused)
    quorum_rule: Mapped[str] = mapped_column(String(20), default="")  # e.g. "2/3"
    majority_rule: Mapped[str] = mapped_column(String(20), default="")  # e.g. "1/2"
    note: Mapped[str] = mapped_column(Text, default="")
    public_summary: Mapped[str] = mapped_column(Text, default="")  # for the disclosure site
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_on: Mapped[dt.date] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    application: Mapped[Application] = relationship()
    item: Mapped[AgendaItem | None] = relationship()
    decided_by = relationship("User")


class Award(Base):
    """An approved grant: the payable posted in the fund, paid out in tranches."""

    __tablename__ = "awards"
    __table_args__ = (
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint("paid_amount >= 0 AND paid_amount <= amount", name="paid_within_amount"),
        CheckConstraint("returned_amount >= 0", name="nonnegative_returned"),
        CheckConstraint(f"status IN ({enum_values(AwardStatus)})", name="valid_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)  # e.g. G2026-0001
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("grant_decisions.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Money]
    paid_amount: Mapped[Money] = mapped_column(default=Decimal("0"))
    released_amount: Mapped[Money] = mapped_column(default=Decimal("0"))  # unpaid payable released at close-out
    returned_amount: Mapped[Money] = mapped_column(default=Decimal("0"))  # paid money returned by the grantee
    awarded_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=AwardStatus.active.value)
    payable_entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    close_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application: Mapped[Application] = relationship()
    decision: Mapped[GrantDecision] = relationship()
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    programme: Mapped[Programme] = relationship()
    fund = relationship("Fund", lazy="joined")
    payable_entry = relationship("JournalEntry", foreign_keys=[payable_entry_id])
    tranches: Mapped[list[Tranche]] = relationship(back_populates="award", order_by="Tranche.seq")
    reports: Mapped[list[GrantReport]] = relationship(back_populates="award", order_by="GrantReport.id")

    @property
    def outstanding(self) -> Decimal:
        """Payable still owed to the grantee."""
        return self.amount - self.paid_amount - self.released_amount


class Tranche(Base):
    """One instalment of an award, tied to a milestone. From the second on, the report due before it must be
    accepted before it is paid."""

    __tablename__ = "tranches"
    __table_args__ = (
        UniqueConstraint("award_id", "seq", name="uq_tranches_seq"),
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint("seq > 0", name="positive_seq"),
        CheckConstraint(f"status IN ({enum_values(TrancheStatus)})", name="valid_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Money]
    due_on: Mapped[dt.date] = mapped_column(Date)
    milestone: Mapped[str] = mapped_column(String(500), default="")
    requires_report: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=TrancheStatus.scheduled.value)

    award: Mapped[Award] = relationship(back_populates="tranches")
    payments: Mapped[list[TranchePayment]] = relationship(back_populates="tranche", order_by="TranchePayment.id")


class TranchePayment(Base):
    """A disbursement of a tranche: requested by one finance user (maker), approved by another above the limit
    (checker). Posts Dr 2209 / Cr 1002 only when paid."""

    __tablename__ = "tranche_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint(f"status IN ({enum_values(PaymentStatus)})", name="valid_status"),
        CheckConstraint("(status = 'paid') = (entry_id IS NOT NULL)", name="posted_iff_paid"),
        CheckConstraint("approved_by_id IS NULL OR approved_by_id <> requested_by_id", name="four_eyes"),
        Index("uq_tranche_payments_live", "tranche_id", unique=True,
              sqlite_where=text("status <> 'rejected'"), postgresql_where=text("status <> 'rejected'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # the form's hidden key: journal "grant-payment:<key>"
    tranche_id: Mapped[int] = mapped_column(ForeignKey("tranches.id"), index=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    amount: Mapped[Money]
    paid_on: Mapped[dt.date] = mapped_column(Date)
    bank_reference: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str] = mapped_column(String(300), default="")
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)

    tranche: Mapped[Tranche] = relationship(back_populates="payments")
    award: Mapped[Award] = relationship()
    entry = relationship("JournalEntry", foreign_keys=[entry_id])
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])


class GrantReport(Base):
    """A grantee's progress (or final) report: narrative, outputs, reach, spending against budget lines."""

    __tablename__ = "grant_reports"
    __table_args__ = (
        CheckConstraint(f"kind IN ({enum_values(ReportKind)})", name="valid_kind"),
        CheckConstraint(f"status IN ({enum_values(ReportStatus)})", name="valid_status"),
        CheckConstraint("beneficiaries_reached >= 0", name="nonnegative_reach"),
        CheckConstraint("status <> 'returned' OR review_note <> ''", name="returned_with_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    tranche_id: Mapped[int | None] = mapped_column(ForeignKey("tranches.id"), index=True)  # the tranche it unlocks
    kind: Mapped[str] = mapped_column(String(20), default=ReportKind.progress.value)
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    narrative: Mapped[str] = mapped_column(Text, default="")
    outputs: Mapped[str] = mapped_column(Text, default="")
    beneficiaries_reached: Mapped[int] = mapped_column(Integer, default=0)
    unspent_amount: Mapped[Decimal | None] = mapped_column(MoneyType())  # final report: money not spent
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.submitted.value)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    review_note: Mapped[str] = mapped_column(String(1000), default="")

    award: Mapped[Award] = relationship(back_populates="reports")
    tranche: Mapped[Tranche | None] = relationship()
    spending: Mapped[list[ReportSpending]] = relationship(back_populates="report", cascade="all, delete-orphan",
                                                          order_by="ReportSpending.id")
    attachments: Mapped[list[ApplicationAttachment]] = relationship(back_populates="report",
                                                                    order_by="ApplicationAttachment.id")


class ReportSpending(Base):
    """Money spent against one budget line of the awarded application version, as reported."""

    __tablename__ = "grant_report_spending"
    __table_args__ = (
        UniqueConstraint("report_id", "budget_line_id", name="uq_grant_report_spending_pair"),
        CheckConstraint("amount >= 0", name="nonnegative_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("grant_reports.id", ondelete="CASCADE"), index=True)
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("application_budget_lines.id"))
    amount: Mapped[Money]

    report: Mapped[GrantReport] = relationship(back_populates="spending")
    budget_line: Mapped[BudgetLine] = relationship()
