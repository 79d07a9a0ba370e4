"""The demo's community social enterprises (`flask demo load`, inside `load_demo`, before the months are closed).

Two enterprises report quarterly to the 社会企业反哺基金:

- 邻里便民食堂 (the demo's enterprise portal user): the community's shareholding returns 3 % of gross revenue,
  5 % above 300,000 a quarter (投资收益 4601). Four quarters reported and confirmed; the oldest is amended later
  (group meals left out of the first filing), the difference confirmed and paid; the latest quarter is only half
  paid, so it shows in arrears.
- 幸福里社区便利店: gives 2 % of gross revenue under a gift agreement (捐赠收入 4101, receipted). Three quarters,
  each paid in full and receipted.

Everything goes through the enterprises services (save_enterprise, create_agreement, file_report, confirm_revision,
amend_report, record_payment) and issue_enterprise_receipt. The quarters are the latest ones that ended at least
`SETTLED_DAYS` before `today`, so every filing, confirmation and payment is dated in the past; keys are uuid5s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from fundapp.demo.donations import bank_reference, company_credit_code, demo_key
from fundapp.donations.receipts import issue_enterprise_receipt
from fundapp.enterprises.agreements import AgreementInput, create_agreement
from fundapp.enterprises.enterprises import save_enterprise
from fundapp.enterprises.models import Basis, Enterprise, Nature, Periodicity, RevenueReport
from fundapp.enterprises.payments import PaymentInput, record_payment
from fundapp.enterprises.periods import period_end, period_start
from fundapp.enterprises.reports import (
    AmendmentInput,
    Figures,
    ReportInput,
    amend_report,
    confirm_revision,
    file_report,
)
from fundapp.enterprises.share import Tier
from fundapp.ledger.models import Fund

QUARTERLY = Periodicity.quarterly.value
SETTLED_DAYS = 45  # a quarter is in the demo once it ended this many days before today
FILED, CONFIRMED, PAID, DUE_DAYS = 12, 18, 25, 30  # days after a quarter's end


@dataclass(frozen=True)
class DemoEnterprise:
    key: str
    name: str
    serial: str  # organisation code body of its credit code
    sector: str
    community: str
    contact: str
    phone: str
    email: str
    address: str
    nature: str
    tiers: tuple[tuple[str, str], ...]  # (lower bound, percent)
    quarters: tuple[tuple[str, str], ...]  # (revenue, costs), oldest first
    portal: bool = False  # linked to the demo's enterprise user


ENTERPRISES: tuple[DemoEnterprise, ...] = (
    DemoEnterprise("canteen", "邻里便民食堂", "MA2K6W8D", "社区餐饮、长者助餐", "和平社区", "店长 韩梅",
                   "13867104455", "canteen@linli.example.cn", "某区和平街道和平里社区服务中心一楼",
                   Nature.shareholding.value, (("0.00", "3"), ("300000.00", "5")),
                   (("268000.00", "241500.00"), ("312600.00", "276800.00"), ("298800.00", "265300.00"),
                    ("335200.00", "294100.00")), portal=True),
    DemoEnterprise("store", "幸福里社区便利店", "MA2F3N7Q", "社区零售、便民服务", "阳光社区", "负责人 秦峰",
                   "13957187766", "store@xingfuli.example.cn", "某区阳光街道幸福里12幢底商",
                   Nature.gift.value, (("0.00", "2"),),
                   (("186500.00", "171200.00"), ("203900.00", "185600.00"), ("214300.00", "192800.00"))),
)
# the canteen's oldest quarter, amended when the next one is filed
AMENDED_REVENUE, AMENDED_COSTS = "286400.00", "253900.00"
AMENDMENT_REASON = "首次报送漏记社区团餐收入18,400.00元（附团餐合同及银行流水），据此更正营业收入"
PARTLY_PAID = Decimal("0.5")  # share of the canteen's latest quarter paid so far


def quarters_before(today: dt.date, count: int) -> list[dt.date]:
    """The first days of the `count` latest quarters that ended at least SETTLED_DAYS before today, oldest first."""
    start = period_start(today, QUARTERLY)
    starts: list[dt.date] = []
    while len(starts) < count:
        start = period_start(start - dt.timedelta(days=1), QUARTERLY)
        if period_end(start, QUARTERLY) + dt.timedelta(days=SETTLED_DAYS) <= today:
            starts.append(start)
    return starts[::-1]


def after_end(start: dt.date, days: int) -> dt.date:
    return period_end(start, QUARTERLY) + dt.timedelta(days=days)


class EnterpriseStory:
    """Plays the enterprises' quarters in date order; counts what was written."""

    def __init__(self, session: Session, today: dt.date, funds: dict[str, Fund], users: dict[str, Any]):
        self.session = session
        self.today = today
        self.fund = funds["SE"]
        self.finance, self.admin = users["finance"], users["admin"]
        self.portal_user = users.get("enterprise")
        self.enterprises: dict[str, Enterprise] = {}
        self.reports: dict[tuple[str, int], RevenueReport] = {}
        self.payments = self.receipts = 0

    def create(self, e: DemoEnterprise, first: dt.date) -> None:
        values = {"name": e.name, "credit_code": company_credit_code(e.serial), "sector": e.sector,
                  "community": e.community, "contact_person": e.contact, "phone": e.phone, "email": e.email,
                  "address": e.address}
        members = [self.portal_user.email] if e.portal and self.portal_user is not None else []
        enterprise = save_enterprise(self.session, None, values, self.admin, member_emails=members)
        self.enterprises[e.key] = enterprise
        tiers = [Tier(Decimal(lower), Decimal(rate)) for lower, rate in e.tiers]
        create_agreement(self.session, AgreementInput(
            enterprise=enterprise, effective_from=first, basis=Basis.gross_revenue.value, nature=e.nature,
            fund=self.fund, periodicity=QUARTERLY, due_days=DUE_DAYS, tiers=tiers,
            reference=f"SQJJH-SQ-{first.year}-{e.serial[-3:]}", signed_on=first - dt.timedelta(days=20),
            note="按季度报送经营数据，季度结束后30日内支付。"), self.admin)

    def report(self, e: DemoEnterprise, n: int, start: dt.date) -> None:
        """File the quarter (the enterprise), confirm it (finance) and pay it (in full, or half for the latest
        quarter of the canteen)."""
        revenue, costs = e.quarters[n]
        revision = file_report(self.session, ReportInput(
            enterprise=self.enterprises[e.key], period_start=start, figures=Figures(Decimal(revenue), Decimal(costs)),
            note="季度经营数据（营业收入、营业成本）", key=demo_key(f"report:{e.key}:{n}")),
            self.portal_user if e.portal else self.finance, today=after_end(start, FILED))
        confirm_revision(self.session, revision, self.finance, on=after_end(start, CONFIRMED), today=self.today)
        report = revision.report
        self.reports[(e.key, n)] = report
        partial = e.portal and n == len(e.quarters) - 1
        amount = (report.share_due * PARTLY_PAID).quantize(Decimal("0.01")) if partial else report.share_due
        self.pay(e, report, amount, after_end(start, PAID), f"payment:{e.key}:{n}")

    def pay(self, e: DemoEnterprise, report: RevenueReport, amount: Decimal, day: dt.date, name: str) -> None:
        payment = record_payment(self.session, PaymentInput(
            report=report, received_on=day, amount=amount, reference=bank_reference(day, name), key=demo_key(name)),
            self.finance, today=self.today)
        self.payments += 1
        if e.nature == Nature.gift.value:
            issue_enterprise_receipt(self.session, payment, self.finance, issued_on=day + dt.timedelta(days=2))
            self.receipts += 1

    def amend(self, e: DemoEnterprise, start: dt.date) -> None:
        """The canteen's oldest quarter missed its group meals: amended, confirmed, the difference paid."""
        report = self.reports[(e.key, 0)]
        revision = amend_report(self.session, AmendmentInput(
            report=report, figures=Figures(Decimal(AMENDED_REVENUE), Decimal(AMENDED_COSTS)),
            reason=AMENDMENT_REASON, key=demo_key(f"amendment:{e.key}:0")),
            self.portal_user if e.portal else self.finance, today=after_end(start, FILED))
        confirm_revision(self.session, revision, self.finance, on=after_end(start, CONFIRMED), today=self.today)
        self.pay(e, report, report.outstanding, after_end(start, PAID + 1), f"payment:{e.key}:0:amended")

    def run(self) -> str:
        events = []
        for e in ENTERPRISES:
            starts = quarters_before(self.today, len(e.quarters))
            self.create(e, starts[0])
            events += [(after_end(start, FILED), len(events), lambda e=e, n=n, s=start: self.report(e, n, s))
                       for n, start in enumerate(starts)]
            if e.portal:  # amended when the second quarter is filed
                events.append((after_end(starts[1], FILED), len(events), lambda e=e, s=starts[1]: self.amend(e, s)))
        for _day, _order, action in sorted(events, key=lambda ev: (ev[0], ev[1])):
            action()
        return (f"enterprises: {len(self.enterprises)} enterprises, {len(self.reports)} quarterly reports "
                f"(1 amended), {self.payments} payments, {self.receipts} receipts")


def load_enterprises(session: Session, today: dt.date, funds: dict[str, Fund], users: dict[str, Any]) -> str:
    """Add the demo's social enterprises, their reports and payments (flush only; the caller commits)."""
    return EnterpriseStory(session, today, funds, users).run()
