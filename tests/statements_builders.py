"""A small ledger for the statement tests, written out entry by entry, and the statements it must give.

Two funds: GEN (general, unrestricted) and PRJ (a donor-restricted project fund). One gift in 2024 gives the
prior-year column and the opening balances; the rest happens in 2025. The expected figures below were worked
out by hand from these entries (not by the code under test):

    2024-12-20  GEN  Dr 1002 银行存款 100,000.00 / Cr 4101 捐赠收入 (U)            unrestricted gift, 2024
    2025-01-10  GEN  Dr 1009 其他货币资金 50,000.00 / Cr 4101 (U)                 online unrestricted gift
    2025-02-05  PRJ  Dr 1002 80,000.00 / Cr 4101 (R)                              restricted gift
    2025-03-01  GEN  Dr 1121 应收账款 12,000.00 / Cr 4301 提供服务收入 (U)          service income due
    2025-03-20  GEN  Dr 1002 12,000.00 / Cr 1121                                  ... and received
    2025-04-15  PRJ  Dr 5101 业务活动成本 30,000.00 (U) / Cr 2209 其他应付款         grant awarded,
                     Dr 3102 限定性净资产 30,000.00 (R) / Cr 3101 非限定性净资产 (U)  restriction released
    2025-05-10  PRJ  Dr 2209 18,000.00 / Cr 1002                                  first tranche paid
    2025-06-30  GEN  Dr 5201 管理费用 6,500.00 / Cr 1002                           staff pay
    2025-06-30  GEN  Dr 5201 25.00 / Cr 1002                                      bank fee
    2025-07-01  GEN  Dr 1402 长期债权投资 40,000.00 / Cr 1002                      bonds bought
    2025-08-01  GEN  Dr 1002 50,000.00 / Cr 1009                                  platform withdrawal (cash to cash)
    2025-09-30  GEN  Dr 1002 600.00 / Cr 4601 投资收益 (U)                         bond interest
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal

from fundapp.ledger.models import Fund
from fundapp.ledger.services import LineSpec, post_entry
from tests.factories import account, make_fund

U, R = "unrestricted", "restricted"
_keys = itertools.count(1)


@dataclass
class FixtureBooks:
    gen: Fund
    prj: Fund


def entry(session, day: dt.date, memo: str, *lines: tuple[str, Fund, str, str | None]) -> None:
    """Post lines given as (account code, fund, amount with + debit / - credit, class or None)."""
    specs = [LineSpec(account(session, code), fund, Decimal(amount), klass) for code, fund, amount, klass in lines]
    post_entry(session, effective_date=day, memo=memo, lines=specs, idempotency_key=f"stmt-fixture:{next(_keys)}")


def fixture_books(session) -> FixtureBooks:
    gen = make_fund(session, "GEN", name="非限定性基金")
    prj = make_fund(session, "PRJ", restricted=True, fund_type="project", name="社区助老项目基金")
    d = dt.date
    entry(session, d(2024, 12, 20), "非限定性捐赠", ("1002", gen, "100000.00", U), ("4101", gen, "-100000.00", U))
    entry(session, d(2025, 1, 10), "线上非限定性捐赠", ("1009", gen, "50000.00", U), ("4101", gen, "-50000.00", U))
    entry(session, d(2025, 2, 5), "定向捐赠助老项目", ("1002", prj, "80000.00", R), ("4101", prj, "-80000.00", R))
    entry(session, d(2025, 3, 1), "社区食堂场地服务费（应收）", ("1121", gen, "12000.00", U),
          ("4301", gen, "-12000.00", U))
    entry(session, d(2025, 3, 20), "收到服务费", ("1002", gen, "12000.00", U), ("1121", gen, "-12000.00", U))
    entry(session, d(2025, 4, 15), "资助独居老人探访项目（释放限定）", ("5101", prj, "30000.00", U),
          ("2209", prj, "-30000.00", None), ("3102", prj, "30000.00", R), ("3101", prj, "-30000.00", U))
    entry(session, d(2025, 5, 10), "支付资助款第一期", ("2209", prj, "18000.00", None),
          ("1002", prj, "-18000.00", None))
    entry(session, d(2025, 6, 30), "工作人员薪酬", ("5201", gen, "6500.00", U), ("1002", gen, "-6500.00", U))
    entry(session, d(2025, 6, 30), "银行手续费", ("5201", gen, "25.00", U), ("1002", gen, "-25.00", U))
    entry(session, d(2025, 7, 1), "购买国债", ("1402", gen, "40000.00", U), ("1002", gen, "-40000.00", U))
    entry(session, d(2025, 8, 1), "线上平台提现", ("1002", gen, "50000.00", U), ("1009", gen, "-50000.00", U))
    entry(session, d(2025, 9, 30), "国债利息", ("1002", gen, "600.00", U), ("4601", gen, "-600.00", U))
    return FixtureBooks(gen, prj)


def D(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


# --- what the statements must say (by hand) ---------------------------------------------------------------------

# Balance sheet 2025 (as of 2025-12-31), whole foundation: (年初数 = 2024-12-31, 期末数 = 2025-12-31).
# Cash 2025-12-31: 1002 = 100,000 + 80,000 + 12,000 - 18,000 - 6,500 - 25 - 40,000 + 50,000 + 600 = 178,075;
# 1009 = 50,000 - 50,000 = 0. Net assets: unrestricted = 3101 30,000 + revenue (100,000 + 50,000 + 12,000 +
# 600) - expenses (30,000 + 6,525) = 156,075; restricted = 80,000 - 30,000 = 50,000.
BALANCE_SHEET_2025 = {
    "cash": ("100,000.00", "178,075.00"),
    "receivables": ("0.00", "0.00"),
    "current_total": ("100,000.00", "178,075.00"),
    "bond_inv": ("0.00", "40,000.00"),
    "long_inv_total": ("0.00", "40,000.00"),
    "fixed_total": ("0.00", "0.00"),
    "assets_total": ("100,000.00", "218,075.00"),
    "payables": ("0.00", "12,000.00"),
    "current_liab_total": ("0.00", "12,000.00"),
    "liabilities_total": ("0.00", "12,000.00"),
    "na_unrestricted": ("100,000.00", "156,075.00"),
    "na_restricted": ("0.00", "50,000.00"),
    "net_assets_total": ("100,000.00", "206,075.00"),
    "liab_na_total": ("100,000.00", "218,075.00"),
}

# Statement of activities 2025, whole foundation: (非限定性, 限定性, 合计) this year, then the same for 2024.
ACTIVITIES_2025 = {
    "gifts": ("50,000.00", "80,000.00", "130,000.00", "100,000.00", "0.00", "100,000.00"),
    "services": ("12,000.00", "0.00", "12,000.00", "0.00", "0.00", "0.00"),
    "subsidies": ("0.00", "0.00", "0.00", "0.00", "0.00", "0.00"),
    "investment": ("600.00", "0.00", "600.00", "0.00", "0.00", "0.00"),
    "revenue_total": ("62,600.00", "80,000.00", "142,600.00", "100,000.00", "0.00", "100,000.00"),
    "programme": ("30,000.00", "0.00", "30,000.00", "0.00", "0.00", "0.00"),
    "admin": ("6,525.00", "0.00", "6,525.00", "0.00", "0.00", "0.00"),
    "fundraising": ("0.00", "0.00", "0.00", "0.00", "0.00", "0.00"),
    "expenses_total": ("36,525.00", "0.00", "36,525.00", "0.00", "0.00", "0.00"),
    "release": ("30,000.00", "-30,000.00", "0.00", "0.00", "0.00", "0.00"),
    "change": ("56,075.00", "50,000.00", "106,075.00", "100,000.00", "0.00", "100,000.00"),
}

# Cash flows 2025, whole foundation: (本期数, 上年同期数). Gifts: 50,000 online + 80,000 bank; services: the
# 12,000 receivable settled; grants paid 18,000; staff and admin 6,500 + 25; bonds 40,000 out, interest 600 in.
# The 50,000 platform withdrawal moves cash between cash accounts: no flow.
CASH_FLOWS_2025 = {
    "op_gifts": ("130,000.00", "100,000.00"),
    "op_services": ("12,000.00", "0.00"),
    "op_in": ("142,000.00", "100,000.00"),
    "op_grants": ("18,000.00", "0.00"),
    "op_staff": ("6,525.00", "0.00"),
    "op_out": ("24,525.00", "0.00"),
    "op_net": ("117,475.00", "100,000.00"),
    "inv_income": ("600.00", "0.00"),
    "inv_in": ("600.00", "0.00"),
    "inv_paid": ("40,000.00", "0.00"),
    "inv_out": ("40,000.00", "0.00"),
    "inv_net": ("-39,400.00", "0.00"),
    "fin_net": ("0.00", "0.00"),
    "net_change": ("78,075.00", "100,000.00"),
    "cash_opening": ("100,000.00", "0.00"),
    "cash_closing": ("178,075.00", "100,000.00"),
}
