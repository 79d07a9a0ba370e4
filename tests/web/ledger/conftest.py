"""Shared data and helpers for the ledger page tests: two funds, the seeded chart, and form builders."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.ledger.models import JournalEntry, JournalLine, Period, PeriodBalance
from tests.factories import account, make_fund


@dataclass(frozen=True)
class Books:
    gen: int  # unrestricted general fund
    prj: int  # restricted project fund
    cash: int  # 1002 银行存款
    donations: int  # 4101 捐赠收入
    programme: int  # 5101 业务活动成本


@pytest.fixture()
def books(app_ctx) -> Books:
    with app_ctx() as s:
        gen = make_fund(s, "GEN", name="综合基金")
        prj = make_fund(s, "PRJ", restricted=True, fund_type="project", name="社区项目基金")
        result = Books(gen.id, prj.id, account(s, "1002").id, account(s, "4101").id, account(s, "5101").id)
        s.commit()
    return result


def counts(s) -> tuple[int, ...]:
    """Everything a posting, reversal or close writes."""
    return tuple(
        s.scalar(select(func.count()).select_from(model))
        for model in (JournalEntry, JournalLine, PeriodBalance, Period, AuditEvent)
    )


def ledger_counts(app_ctx) -> tuple[int, ...]:
    with app_ctx() as s:
        return counts(s)


def entry_form(lines, *, date: str, memo: str = "Office rent", key: str | None = None) -> dict[str, str]:
    """Form data for /ledger/entries/new. Each line: (account_id, fund_id, debit, credit[, class[, memo]])."""
    data = {"effective_date": date, "memo": memo, "idempotency_key": key or f"manual:{uuid.uuid4()}"}
    for index, line in enumerate(lines):
        account_id, fund_id, debit, credit, *rest = line
        klass, line_memo = (list(rest) + ["", ""])[:2]
        data |= {
            f"lines-{index}-account": str(account_id or ""),
            f"lines-{index}-fund": str(fund_id or ""),
            f"lines-{index}-net_asset_class": klass,
            f"lines-{index}-debit": debit,
            f"lines-{index}-credit": credit,
            f"lines-{index}-memo": line_memo,
        }
    return data


def hidden_key(html: str) -> str:
    match = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', html) or re.search(
        r'type="hidden" name="idempotency_key" value="([^"]+)"', html
    )
    assert match, "no idempotency key on the form"
    return match.group(1)


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV must start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
