"""Shared data and helpers for the donation page tests: two funds, two donors, form builders, counters."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.donations.models import Donation, Donor, Pledge, Receipt
from fundapp.ledger.models import JournalEntry
from tests.factories import make_fund
from tests.unit.donations.factories import make_donor


@dataclass(frozen=True)
class Setup:
    gen: int  # unrestricted general fund
    prj: int  # restricted project fund
    zhang: int  # a person with an ID number
    acme: int  # an organisation


@pytest.fixture()
def setup(app_ctx) -> Setup:
    with app_ctx() as s:
        gen = make_fund(s, "GEN", name="综合基金")
        prj = make_fund(s, "PRJ", restricted=True, fund_type="project", name="社区图书馆基金")
        zhang = make_donor(s, "张三丰", id_code="11010519491231002X", phone="13800000001")
        acme = make_donor(s, "上海某某科技有限公司", kind="organisation", id_code="91350100M000100Y43")
        s.commit()
        return Setup(gen.id, prj.id, zhang.id, acme.id)


def counts(app_ctx) -> tuple[int, ...]:
    """Everything a donation page may write."""
    with app_ctx() as s:
        return tuple(s.scalar(select(func.count()).select_from(model))
                     for model in (JournalEntry, Donation, Pledge, Receipt, Donor, AuditEvent))


def hidden_key(html: str) -> str:
    match = re.search(r'name="key" type="hidden" value="([^"]+)"', html)
    assert match, "no submission key on the form"
    return match.group(1)


def donation_form(key: str, fund_id: int, **values) -> dict[str, str]:
    data = {"key": key, "donor": "", "received_on": "2026-03-15", "amount": "1000.00", "method": "bank_transfer",
            "fund": str(fund_id), "restriction": "", "purpose": "", "reference": "", "item_description": "",
            "quantity": "", "unit": "", "valuation_basis": "", "issue_receipt": "y"}
    data.update({k: str(v) for k, v in values.items()})
    if data["issue_receipt"] == "":
        del data["issue_receipt"]
    return data


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV must start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
