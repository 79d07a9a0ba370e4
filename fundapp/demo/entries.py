"""A year of demo books, posted month by month through post_entry / reverse_entry.

`DemoBooks` plays each month's events in date order with a seeded random generator and keeps a running
balance per fund and account, so every outflow is sized from what the fund holds at that moment: no fund's
cash ever goes below zero, and a grant is never awarded beyond what its fund can pay.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.ledger.models import Account, Fund, JournalEntry, NetAssetClass
from fundapp.ledger.services import LineSpec, post_entry, reverse_entry
from fundapp.money import CENT, ZERO

CASH_CODES = ("1001", "1002", "1009")
GRANT_FUNDS = ("GEN", "MF-YG", "MF-HP", "ELD", "ELD", "VEN", "SE")
DONATION_FUNDS = ("GEN", "GEN", "GEN", "MF-YG", "MF-HP", "ELD", "ELD", "VEN", "AID")
ONLINE_GIFTS = ("20.00", "50.00", "66.66", "88.88", "100.00", "200.00", "520.00", "1000.00")
PEOPLE = ("张女士", "李先生", "王女士", "刘先生", "陈女士", "杨先生", "赵女士", "黄先生", "周女士", "吴先生")
COMPANIES = ("某科技有限公司", "某置业有限公司", "某银行支行", "某餐饮管理有限公司", "某物业服务有限公司")
# enterprise, revenue account, what the share is
ENTERPRISES = (
    ("邻里便民食堂", "4601", "股权收益分成"),
    ("幸福里托育中心", "4301", "场地及品牌服务费"),
)
# fund code -> (grantee, project) choices
PROJECTS: dict[str, tuple[tuple[str, str], ...]] = {
    "GEN": (("区社会组织孵化中心", "社区社会组织能力建设"), ("邻里守望志愿者协会", "社区志愿服务站")),
    "MF-YG": (("阳光社区居委会", "楼道微更新"), ("阳光志愿服务队", "邻里互助日"), ("阳光社区议事会", "口袋花园")),
    "MF-HP": (("和平社区居委会", "老旧小区加装扶手"), ("和平青少年之家", "四点半课堂"),
              ("和平社区议事会", "停车秩序共治")),
    "ELD": (("银龄互助会", "独居老人每周探访"), ("颐康社工服务中心", "社区长者助餐点"),
            ("安居适老改造服务社", "适老化改造")),
    "VEN": (("阳光社工服务中心", "社区心理支持"), ("绿色家园环保协会", "垃圾分类积分"),
            ("同心残障服务中心", "融合就业培训")),
    "SE": (("和平社区议事会", "居民自治提案"), ("阳光社区居委会", "社区治理骨干培训")),
}


def months_back(today: dt.date, n: int) -> tuple[int, int]:
    """(year, month) of the month `n` months before today's month."""
    index = today.year * 12 + today.month - 1 - n
    return index // 12, index % 12 + 1


def yuan(value: int | str) -> Decimal:
    return Decimal(value).quantize(CENT)


@dataclass
class Award:
    fund: str
    grantee: str
    project: str
    amount: Decimal
    paid: Decimal = ZERO
    tranches: int = 0

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.paid


class DemoBooks:
    """Posts the demo year; `posted` and `reversals` count what was written."""

    def __init__(self, session: Session, funds: dict[str, Fund], users: dict[str, Any], seed: int):
        self.session = session
        self.funds = funds
        self.finance, self.board = users["finance"], users["board"]
        self.accounts = {a.code: a for a in session.scalars(select(Account))}
        self.rng = random.Random(seed)
        self.balance: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        self.reserved: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.receivable: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.awards: list[Award] = []
        self.pending: dict[str, JournalEntry | None] = {}
        self.month_index = 0
        self.posted = self.reversals = 0

    # --- state --------------------------------------------------------------------------------

    def cash(self, fund: str) -> Decimal:
        return sum((self.balance[(fund, code)] for code in CASH_CODES), ZERO)

    def available(self, fund: str) -> Decimal:
        """Cash not yet promised: minus grants awarded but unpaid, minus money about to be reversed."""
        return self.cash(fund) + self.balance[(fund, "2209")] - self.reserved[fund]

    def _apply(self, entry: JournalEntry) -> None:
        for line in entry.lines:
            self.balance[(line.fund.code, line.account.code)] += line.amount

    # --- posting ------------------------------------------------------------------------------

    def line(self, code: str, fund: str, amount: Decimal, klass: str | None = None) -> LineSpec:
        return LineSpec(self.accounts[code], self.funds[fund], amount, net_asset_class=klass)

    def post(self, day: dt.date, memo: str, lines: list[LineSpec], approver: Any | None = None) -> JournalEntry:
        entry = post_entry(self.session, effective_date=day, memo=memo, lines=lines,
                           idempotency_key=f"demo:{self.posted + 1}", author=self.finance, approver=approver)
        self._apply(entry)
        self.posted += 1
        return entry

    def move(self, day: dt.date, memo: str, fund: str, debit: str, credit: str, amount: Decimal,
             klass: str | None = None, approver: Any | None = None) -> JournalEntry:
        lines = [self.line(debit, fund, amount, klass), self.line(credit, fund, -amount, klass)]
        return self.post(day, memo, lines, approver)

    def reverse(self, day: dt.date, entry: JournalEntry, reason: str) -> JournalEntry:
        reversal = reverse_entry(self.session, entry, reason=reason, actor=self.finance, effective_date=day)
        self._apply(reversal)
        self.posted += 1
        self.reversals += 1
        return reversal

    def spend(self, day: dt.date, memo: str, fund: str, expense: str, amount: Decimal) -> JournalEntry | None:
        """Pay an expense from the fund's bank account, if the fund can afford it."""
        if amount <= 0 or amount > self.available(fund):
            return None
        return self.move(day, memo, fund, expense, "1002", amount)

    # --- a month ------------------------------------------------------------------------------

    def run_month(self, month: tuple[int, int]) -> None:
        """Schedule the month's events on random days, then play them in date order."""
        year, number = month
        last_day = calendar.monthrange(year, number)[1]
        events: list[tuple[int, int, Callable[[dt.date], object]]] = []

        def at(day: int, action: Callable[[dt.date], object]) -> None:
            events.append((min(day, last_day), len(events), action))

        for scheduler in (self._once, self._donations, self._enterprises, self._operations, self._grants):
            scheduler(at)
        for day, _order, action in sorted(events, key=lambda e: (e[0], e[1])):
            action(dt.date(year, number, day))
        self.month_index += 1

    def _once(self, at) -> None:
        """Events that happen on a given month of the demo year."""
        i = self.month_index
        if i == 0:
            at(3, lambda d: self.move(d, "某实业集团定向捐赠社区发展留本基金本金（银行转账）", "END", "1002", "4101",
                                      yuan(500000)))
            at(8, lambda d: self.move(d, "区民政局公益创投大赛配套资金", "VEN", "1002", "4401", yuan(200000)))
        if i == 1:
            at(12, lambda d: self.move(d, "留本基金本金购买三年期国债（债权投资）", "END", "1402", "1002",
                                       yuan(400000)))
        if i in (0, 6):
            at(10, lambda d: self.move(d, "区财政社区基金会运营补贴（半年度）", "GEN", "1002", "4401", yuan(150000)))
        if i in (3, 6, 9, 11):
            at(25, lambda d: self.move(d, "留本基金国债利息收入", "END", "1002", "4601", yuan(3500),
                                       NetAssetClass.unrestricted.value))
        if i == 3:
            at(6, lambda d: self.move(d, "某连锁超市捐赠米面粮油200份（按捐赠发票金额计价）", "ELD", "1201", "4101",
                                      yuan(36000)))
            at(20, lambda d: self._distribute_goods(d, yuan(21600), "向辖区高龄独居老人发放慰问物资"))
        if i == 4:
            at(22, lambda d: self._distribute_goods(d, yuan(14400), "向辖区困难老人发放米面粮油"))
            at(14, self._duplicate_donation)
            at(16, lambda d: self._reverse_pending(d, "duplicate", "重复录入：同一批线上捐赠已入账一次"))
        if i == 7:
            at(9, lambda d: self.pending.update(wrong=self.spend(d, "购买办公用品", "GEN", "5201", yuan(3860))))
            at(10, self._correct_wrong_amount)

    def _donations(self, at) -> None:
        for _ in range(11):
            fund = self.rng.choice(DONATION_FUNDS)
            at(self.rng.randint(1, 28), lambda d, fund=fund: self._donation(d, fund))

    def _donation(self, day: dt.date, fund: str) -> JournalEntry:
        name = self.funds[fund].name
        if self.rng.random() < 0.55:
            count = self.rng.randint(3, 60)
            amount = sum((yuan(self.rng.choice(ONLINE_GIFTS)) for _ in range(count)), ZERO)
            memo = f"线上募捐平台“{name}”捐赠到账（{count}笔）"
            return self.move(day, memo, fund, "1009", "4101", amount)
        if self.rng.random() < 0.4 and not fund.startswith("MF-"):
            donor, amount = self.rng.choice(COMPANIES), yuan(self.rng.randrange(10000, 80001, 1000))
        else:
            donor, amount = self.rng.choice(PEOPLE), yuan(self.rng.randrange(500, 10001, 100))
        return self.move(day, f"{donor}捐赠{name}（银行转账）", fund, "1002", "4101", amount)

    def _enterprises(self, at) -> None:
        for name, account, what in ENTERPRISES:
            at(self.rng.randint(3, 8), lambda d, n=name, a=account, w=what: self._accrue_share(d, n, a, w))
            late = name == ENTERPRISES[0][0] and self.month_index >= 10  # two months in arrears at the end
            if not late:
                at(self.rng.randint(15, 28), lambda d, n=name: self._settle_share(d, n))

    def _accrue_share(self, day: dt.date, enterprise: str, account: str, what: str) -> JournalEntry:
        amount = yuan(self.rng.randrange(3000, 12001, 10))
        self.receivable[enterprise] += amount
        last_month = day.replace(day=1) - dt.timedelta(days=1)
        month = f"{last_month.year}年{last_month.month}月"
        return self.move(day, f"{enterprise}{month}{what}（应收）", "SE", "1121", account, amount)

    def _settle_share(self, day: dt.date, enterprise: str) -> JournalEntry | None:
        owed = self.receivable[enterprise]
        if owed <= 0:
            return None
        self.receivable[enterprise] = ZERO
        return self.move(day, f"收到{enterprise}反哺款（结清应收）", "SE", "1002", "1121", owed)

    def _operations(self, at) -> None:
        at(5, lambda d: self.spend(d, "支付办公场地租金", "GEN", "5201", yuan(6000)))
        at(15, lambda d: self.spend(d, "发放工作人员薪酬及社保", "GEN", "5201",
                                    yuan(self.rng.randrange(17000, 19001, 100))))
        if self.month_index % 2 == 1:
            at(self.rng.randint(10, 26), lambda d: self.spend(
                d, "线上募捐活动宣传物料及平台服务费", "GEN", "5301",
                yuan(self.rng.randrange(1500, 6001, 50))))
        at(self.rng.randint(5, 26), lambda d: self.spend(
            d, "困境家庭临时救助金发放", "AID", "5101", yuan(self.rng.randrange(1000, 5001, 100))))

    def _grants(self, at) -> None:
        for _ in range(3):
            fund = self.rng.choice(GRANT_FUNDS)
            at(self.rng.randint(1, 20), lambda d, fund=fund: self._award(d, fund))
        for _ in range(5):
            at(self.rng.randint(8, 28), self._pay_tranche)

    def _award(self, day: dt.date, fund: str) -> JournalEntry | None:
        share = Decimal(self.rng.randint(30, 60)) / 100
        amount = (self.available(fund) * share / 100).quantize(Decimal(1)) * 100
        amount = min(amount, yuan(80000))
        if amount < 2000:
            return None
        grantee, project = self.rng.choice(PROJECTS[fund])
        award = Award(fund, grantee, project, amount.quantize(CENT))
        self.awards.append(award)
        memo = f"{self.funds[fund].name}：资助{grantee}“{project}”项目（理事会决议）"
        return self.move(day, memo, fund, "5101", "2209", award.amount, approver=self.board)

    def _pay_tranche(self, day: dt.date) -> JournalEntry | None:
        award = next((a for a in self.awards if a.remaining > 0), None)
        if award is None:
            return None
        first_of_two = award.tranches == 0 and award.amount >= 20000
        amount = (award.amount * Decimal("0.6")).quantize(CENT) if first_of_two else award.remaining
        award.paid += amount
        award.tranches += 1
        memo = f"支付{award.grantee}“{award.project}”项目资助款（第{award.tranches}期）"
        return self.move(day, memo, award.fund, "2209", "1002", amount, approver=self.board)

    # --- special events -----------------------------------------------------------------------

    def _distribute_goods(self, day: dt.date, amount: Decimal, memo: str) -> JournalEntry | None:
        if self.balance[("ELD", "1201")] < amount:
            return None
        return self.move(day, memo, "ELD", "5101", "1201", amount)

    def _duplicate_donation(self, day: dt.date) -> None:
        """An online batch booked twice; the copy is reversed two days later (its money is held back till then)."""
        amount = yuan(2888)
        memo = "线上募捐平台“非限定性基金”捐赠到账（月度汇总）"
        self.move(day, memo, "GEN", "1009", "4101", amount)
        self.pending["duplicate"] = self.move(day, memo + "（重复）", "GEN", "1009", "4101", amount)
        self.reserved["GEN"] += amount

    def _reverse_pending(self, day: dt.date, name: str, reason: str) -> JournalEntry | None:
        entry = self.pending.pop(name, None)
        if entry is None:
            return None
        if name == "duplicate":
            self.reserved["GEN"] -= entry.total
        return self.reverse(day, entry, reason)

    def _correct_wrong_amount(self, day: dt.date) -> None:
        """Office supplies booked at ten times the invoice: reversed, then booked again at the right amount."""
        if self._reverse_pending(day, "wrong", "金额录入错误：发票金额应为386.00元") is not None:
            self.spend(day, "购买办公用品（更正后重新入账）", "GEN", "5201", yuan(386))
