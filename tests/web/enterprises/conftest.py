"""Shared data for the enterprise page tests: a community fund, two enterprises with agreements (quarterly, 5 %
then 8 % above 100,000, due 15 days after the quarter), an upload folder of the test's own, helpers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.enterprises.models import (
    EnterpriseMember,
    EnterprisePayment,
    ReportAttachment,
    ReportRevision,
    RevenueReport,
)
from fundapp.ledger.models import JournalEntry
from tests.factories import make_fund
from tests.unit.enterprises.factories import make_agreement, make_enterprise

Q1 = dt.date(2025, 1, 1)
PDF = b"%PDF-1.4\n% test statement\n%%EOF\n"


@dataclass(frozen=True)
class Setup:
    fund: int
    canteen: int  # 幸福食堂: gift agreement
    laundry: int  # 邻里洗衣: shareholding agreement


@pytest.fixture()
def uploads(app, tmp_path, monkeypatch):
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "ENTERPRISE_UPLOAD_DIR", str(folder))
    return folder


@pytest.fixture()
def setup(app_ctx, uploads) -> Setup:
    with app_ctx() as s:
        fund = make_fund(s, "COMM", fund_type="micro", name="幸福社区微基金")
        canteen, laundry = make_enterprise(s, "幸福食堂", community="幸福社区"), make_enterprise(s, "邻里洗衣")
        make_agreement(s, canteen, fund, rate="5", more_tiers=[("100000", "8")])
        make_agreement(s, laundry, fund, nature="shareholding", basis="net_profit", rate="20")
        s.commit()
        return Setup(fund.id, canteen.id, laundry.id)


def link(app_ctx, user_id: int, enterprise_id: int) -> None:
    with app_ctx() as s:
        s.add(EnterpriseMember(enterprise_id=enterprise_id, user_id=user_id))
        s.commit()


def counts(app_ctx) -> tuple[int, ...]:
    """Everything an enterprise page may write."""
    with app_ctx() as s:
        return tuple(s.scalar(select(func.count()).select_from(model)) for model in (
            JournalEntry, RevenueReport, ReportRevision, EnterprisePayment, ReportAttachment, AuditEvent))


def hidden_key(html: str) -> str:
    match = re.search(r'name="key" type="hidden" value="([^"]+)"', html)
    assert match, "no submission key on the form"
    return match.group(1)


def report_form(key: str, period: dt.date | str = Q1, **values) -> dict:
    period = period if isinstance(period, str) else period.isoformat()
    base = {"key": key, "period": period, "revenue": "150000.00", "costs": "90000.00", "profit": "", "note": ""}
    return base | values


def report_id(app_ctx, enterprise_id: int, period: dt.date = Q1) -> int:
    with app_ctx() as s:
        return s.scalar(select(RevenueReport.id).where(RevenueReport.enterprise_id == enterprise_id,
                                                       RevenueReport.period_start == period))
