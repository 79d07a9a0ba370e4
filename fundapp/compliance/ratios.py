"""Statutory ratios (2016 rules on charitable spending and management costs), see docs/ratios.md.

Pure functions on Decimal figures (`band_index`, `ratio`, `adjusted_income`, `evaluate`, `project`, ...), and
`year_figures` gathering a year's figures from the ledger's balance rows (`balances_as_of`), never from lines.

Figures of a year Y (all classes unless said):
- charitable spending = movement of 5101 业务活动成本; management costs = 5201 管理费用; total spending = all 5xxx;
- income = credit movement of all 4xxx; restricted income = the 4xxx movement in the restricted class;
- released = debit movement of 3102 限定性净资产 (the system's restriction releases Dr 3102 / Cr 3101);
- net assets at the end = assets - liabilities (balance of every asset and liability account).
Prior-year total income (the rule's 上年总收入) is approximated by `adjusted_income`: see its docstring.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.ledger.models import Account, AccountType, NetAssetClass
from fundapp.ledger.queries import balances_as_of

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")
PUBLIC = "public_fundraising"
NON_PUBLIC = "non_public"
FOUNDATION_TYPES = (PUBLIC, NON_PUBLIC)

PASS, WARN, FAIL, EXEMPT, UNKNOWN = "pass", "warn", "fail", "exempt", "unknown"
MIN, MAX = "min", "max"

CHARITABLE_CODE = "5101"
MANAGEMENT_CODE = "5201"
RESTRICTED_NET_ASSETS_CODE = "3102"


# --- settings ---------------------------------------------------------------------------------------------------


def _decimals(text: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(part.strip()) for part in str(text).split(",") if part.strip())


@dataclass(frozen=True)
class Thresholds:
    foundation_type: str = PUBLIC
    public_charitable_min: Decimal = Decimal("0.70")
    public_management_max: Decimal = Decimal("0.10")
    band_limits: tuple[Decimal, ...] = (Decimal("4000000"), Decimal("8000000"), Decimal("60000000"))
    band_charitable_min: tuple[Decimal, ...] = (Decimal("0.08"), Decimal("0.07"), Decimal("0.06"), Decimal("0.06"))
    band_management_max: tuple[Decimal, ...] = (Decimal("0.20"), Decimal("0.15"), Decimal("0.13"), Decimal("0.12"))
    exemption: Decimal = Decimal("200000")
    margin: Decimal = Decimal("0.02")

    def __post_init__(self) -> None:
        if self.foundation_type not in FOUNDATION_TYPES:
            raise ValueError(f"FOUNDATION_TYPE must be one of {FOUNDATION_TYPES}, not {self.foundation_type!r}")
        bands = len(self.band_limits) + 1
        if len(self.band_charitable_min) != bands or len(self.band_management_max) != bands:
            raise ValueError("RATIO_BAND_CHARITABLE_MIN and RATIO_BAND_MANAGEMENT_MAX need one value per band")
        if list(self.band_limits) != sorted(self.band_limits):
            raise ValueError("RATIO_BAND_LIMITS must be increasing")


def thresholds_from_config(config: Mapping) -> Thresholds:
    return Thresholds(
        foundation_type=config.get("FOUNDATION_TYPE", PUBLIC),
        public_charitable_min=Decimal(config.get("RATIO_PUBLIC_CHARITABLE_MIN", "0.70")),
        public_management_max=Decimal(config.get("RATIO_PUBLIC_MANAGEMENT_MAX", "0.10")),
        band_limits=_decimals(config.get("RATIO_BAND_LIMITS", "4000000,8000000,60000000")),
        band_charitable_min=_decimals(config.get("RATIO_BAND_CHARITABLE_MIN", "0.08,0.07,0.06,0.06")),
        band_management_max=_decimals(config.get("RATIO_BAND_MANAGEMENT_MAX", "0.20,0.15,0.13,0.12")),
        exemption=Decimal(config.get("RATIO_MANAGEMENT_EXEMPTION", "200000")),
        margin=Decimal(config.get("RATIO_WARNING_MARGIN", "0.02")),
    )


# --- pure arithmetic --------------------------------------------------------------------------------------------


def band_index(net_assets: Decimal, limits: Sequence[Decimal]) -> int:
    """The net-assets band: 0 below the first limit, ..., len(limits) at or above the last (limits exclusive)."""
    for index, limit in enumerate(limits):
        if net_assets < limit:
            return index
    return len(limits)


def ratio(numerator: Decimal, denominator: Decimal | None) -> Decimal | None:
    """numerator / denominator to 4 places (a share: 0.7012 = 70.12%); None when there is no positive base."""
    if denominator is None or denominator <= 0:
        return None
    return (numerator / denominator).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def average(values: Sequence[Decimal]) -> Decimal:
    """Arithmetic mean to the cent (the three-year-average option)."""
    if not values:
        return ZERO
    return (sum(values, ZERO) / len(values)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Income:
    """A year's total income as the rule counts it (上年总收入), with its parts."""

    income: Decimal  # all 4xxx revenue of the year
    restricted_income: Decimal  # the restricted-class part of it
    released: Decimal  # net assets released from restriction during the year
    unusable: Decimal  # restricted income that could not be used in the year (approximation)
    released_from_prior: Decimal  # releases of earlier years' restricted money (approximation)

    @property
    def total(self) -> Decimal:
        return self.income - self.unusable + self.released_from_prior


def adjusted_income(income: Decimal, restricted_income: Decimal, released: Decimal) -> Income:
    """The rule: that year's income − restricted income that could not be used that year + net assets released
    from time restrictions that year.

    The ledger does not say whether a restriction is one of time or of purpose, nor which year's gift a release
    uses. The approximation treats every restriction alike and lets the year's releases use the year's own
    restricted income first: unusable = max(restricted income − released, 0) (restricted income not released in
    the year), released from prior years = max(released − restricted income, 0). So a year's own gift released in
    the same year counts once, and nothing is counted twice.
    """
    released = max(released, ZERO)
    unusable = max(restricted_income - released, ZERO)
    from_prior = max(released - restricted_income, ZERO)
    return Income(income, restricted_income, released, unusable, from_prior)


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def project(year_to_date: Decimal, as_of: dt.date) -> Decimal:
    """Straight-line projection to the year end: year-to-date × days in the year / days elapsed (as_of counted)."""
    elapsed = (as_of - dt.date(as_of.year, 1, 1)).days + 1
    total = days_in_year(as_of.year)
    if elapsed >= total:
        return year_to_date
    return (year_to_date * total / elapsed).quantize(CENT, rounding=ROUND_HALF_UP)


def judge(numerator: Decimal, denominator: Decimal | None, threshold: Decimal, bound: str, margin: Decimal) -> str:
    """pass / warn (passes but within `margin` of the bound) / fail / unknown (no base to divide by).

    Compared exactly (numerator against threshold × denominator), not on the ratio rounded for display.
    """
    if denominator is None or denominator <= 0:
        return UNKNOWN
    if bound == MIN:
        if numerator < threshold * denominator:
            return FAIL
        return WARN if numerator < (threshold + margin) * denominator else PASS
    if numerator > threshold * denominator:
        return FAIL
    return WARN if numerator > (threshold - margin) * denominator else PASS


@dataclass(frozen=True)
class Check:
    numerator: Decimal
    denominator: Decimal | None
    ratio: Decimal | None
    threshold: Decimal
    bound: str  # MIN (at least) or MAX (at most)
    status: str
    exempt: bool = False

    @property
    def passes(self) -> bool:
        return self.status in (PASS, WARN, EXEMPT)


def charitable_check(th: Thresholds, spending: Decimal, income_base: Decimal, net_assets_base: Decimal) -> Check:
    """Charitable spending against prior-year total income (public fundraising) or prior-year net assets (band)."""
    if th.foundation_type == PUBLIC:
        base, threshold = income_base, th.public_charitable_min
    else:
        base, threshold = net_assets_base, th.band_charitable_min[band_index(net_assets_base, th.band_limits)]
    value = ratio(spending, base)
    return Check(spending, base, value, threshold, MIN, judge(spending, base, threshold, MIN, th.margin))


def management_check(th: Thresholds, management: Decimal, total_spending: Decimal, net_assets_base: Decimal) -> Check:
    """Management costs against the year's total spending; below the exemption amount there is no cap."""
    if th.foundation_type == PUBLIC:
        threshold = th.public_management_max
    else:
        threshold = th.band_management_max[band_index(net_assets_base, th.band_limits)]
    value = ratio(management, total_spending)
    exempt = management < th.exemption
    status = EXEMPT if exempt else judge(management, total_spending, threshold, MAX, th.margin)
    return Check(management, total_spending, value, threshold, MAX, status, exempt)


# --- the ledger's figures ---------------------------------------------------------------------------------------


@dataclass
class Part:
    """One account's share of a figure, for the link to the entries behind it."""

    account_id: int
    code: str
    name: str
    amount: Decimal


@dataclass
class Figure:
    value: Decimal = ZERO
    parts: list[Part] = field(default_factory=list)
    start: dt.date | None = None
    end: dt.date | None = None

    def add(self, account: Account, amount: Decimal) -> None:
        self.value += amount
        for part in self.parts:
            if part.account_id == account.id:
                part.amount += amount
                return
        self.parts.append(Part(account.id, account.code, account.name, amount))


@dataclass
class YearFigures:
    year: int
    start: dt.date
    end: dt.date  # the year end, or the as-of date for the year so far
    charitable: Figure
    management: Figure
    spending: Figure
    income: Figure
    restricted_income: Figure
    released: Figure
    net_assets_start: Decimal  # at the end of the prior year
    net_assets_end: Decimal

    @property
    def adjusted_income(self) -> Income:
        return adjusted_income(self.income.value, self.restricted_income.value, self.released.value)


def _accounts(session: Session) -> dict[int, Account]:
    return {a.id: a for a in session.scalars(select(Account))}


def year_figures(session: Session, year: int, as_of: dt.date | None = None,
                 accounts: dict[int, Account] | None = None) -> YearFigures:
    """A year's figures (to `as_of` when given: the year so far) from two reads of the balance rows."""
    accounts = accounts if accounts is not None else _accounts(session)
    start, end = dt.date(year, 1, 1), as_of or dt.date(year, 12, 31)
    opening = balances_as_of(session, start - dt.timedelta(days=1))
    closing = balances_as_of(session, end)
    figures = {name: Figure(start=start, end=end) for name in
               ("charitable", "management", "spending", "income", "restricted_income", "released")}
    net_start, net_end = ZERO, ZERO
    for key in set(opening) | set(closing):
        account_id, _fund, klass = key
        account = accounts[account_id]
        before, after = opening.get(key, ZERO), closing.get(key, ZERO)
        if account.type in (AccountType.asset.value, AccountType.liability.value):
            net_start += before
            net_end += after
        move = after - before
        if move == 0:
            continue
        if account.type == AccountType.expense.value:
            figures["spending"].add(account, move)
            if account.code == CHARITABLE_CODE:
                figures["charitable"].add(account, move)
            elif account.code == MANAGEMENT_CODE:
                figures["management"].add(account, move)
        elif account.type == AccountType.revenue.value:
            figures["income"].add(account, -move)
            if klass == NetAssetClass.restricted.value:
                figures["restricted_income"].add(account, -move)
        elif account.code == RESTRICTED_NET_ASSETS_CODE and klass == NetAssetClass.restricted.value:
            figures["released"].add(account, move)
    for figure in figures.values():
        figure.parts.sort(key=lambda p: p.code)
    return YearFigures(year, start, end, net_assets_start=net_start, net_assets_end=net_end, **figures)


# --- a year's ratios --------------------------------------------------------------------------------------------


@dataclass
class YearRatios:
    year: int
    projected: bool
    as_of: dt.date
    figures: YearFigures  # the year (so far, when projected)
    charitable_spending: Decimal  # projected to the year end when projected
    management: Decimal
    spending: Decimal
    prior: list[YearFigures]  # the prior years the bases come from (one, or three for the average)
    income_base: Decimal
    net_assets_base: Decimal
    band: int | None
    charitable: Check
    management_check: Check

    @property
    def warnings(self) -> list[Check]:
        return [c for c in (self.charitable, self.management_check) if c.status in (WARN, FAIL)]


def evaluate(th: Thresholds, figures: YearFigures, prior: list[YearFigures], *, projected: bool = False) -> YearRatios:
    """A year's two ratios; `prior` holds the year before (or the three before, for the average), newest first."""
    as_of = figures.end
    charitable, management, spending = figures.charitable.value, figures.management.value, figures.spending.value
    if projected:
        charitable, management, spending = (project(v, as_of) for v in (charitable, management, spending))
    incomes = [p.adjusted_income.total for p in prior]
    net_assets = [p.net_assets_end for p in prior]
    income_base = average(incomes) if len(prior) > 1 else (incomes[0] if incomes else ZERO)
    net_assets_base = average(net_assets) if len(prior) > 1 else (net_assets[0] if net_assets else ZERO)
    band = None if th.foundation_type == PUBLIC else band_index(net_assets_base, th.band_limits)
    return YearRatios(
        year=figures.year, projected=projected, as_of=as_of, figures=figures,
        charitable_spending=charitable, management=management, spending=spending, prior=prior,
        income_base=income_base, net_assets_base=net_assets_base, band=band,
        charitable=charitable_check(th, charitable, income_base, net_assets_base),
        management_check=_management(th, figures, management, spending, net_assets_base, projected),
    )


def _management(th: Thresholds, figures: YearFigures, management: Decimal, spending: Decimal,
                net_assets_base: Decimal, projected: bool) -> Check:
    """The management check; when projected, the share is the year-so-far share (a straight line scales both
    figures alike, and rounding each projection to the cent must not tip it), the exemption uses the projection."""
    check = management_check(th, management, spending, net_assets_base)
    if not projected or check.exempt:
        return check
    ytd_m, ytd_s = figures.management.value, figures.spending.value
    return Check(management, spending, ratio(ytd_m, ytd_s), check.threshold, MAX,
                 judge(ytd_m, ytd_s, check.threshold, MAX, th.margin))


def dashboard_years(session: Session, th: Thresholds, today: dt.date, *, previous: int = 3,
                    three_year: bool = False) -> list[YearRatios]:
    """This year (projected from the year so far) and the `previous` years before it (actual), newest first."""
    accounts = _accounts(session)
    depth = 3 if three_year else 1
    cache: dict[int, YearFigures] = {}

    def full(year: int) -> YearFigures:
        if year not in cache:
            cache[year] = year_figures(session, year, accounts=accounts)
        return cache[year]

    out = [evaluate(th, year_figures(session, today.year, today, accounts),
                    [full(today.year - k) for k in range(1, depth + 1)], projected=True)]
    for year in range(today.year - 1, today.year - 1 - previous, -1):
        out.append(evaluate(th, full(year), [full(year - k) for k in range(1, depth + 1)]))
    return out


def percent(value: Decimal | None) -> str:
    """A share as a percentage with two places ("70.12%"), or "—" when there is none."""
    if value is None:
        return "—"
    return f"{(value * 100).quantize(CENT, rounding=ROUND_HALF_UP)}%"
