"""Figures of the public home page: totals raised, granted and held, and the money-flow (Sankey) diagram.

Every figure is read from aggregates of the books, never from journal lines one by one:

- revenue, expense and net-asset movements from the period balance rows (`balances_as_of`), with the year-end
  closing entries taken back out (one grouped query over the closing entries' lines, as
  `fundapp.ledger.yearend.activity_excluding_close` does);
- what part of 5101 业务活动成本 is grants, and what part of the revenue is social enterprises' returns, from one
  grouped query over the lines of the entries the grants and enterprise services post (found through the index on
  `journal_entries.source_type`; reversals of those entries count with them);
- the money held from `fund_net_assets`.

Definitions (the page states them):

- raised = donation income (4101, without the enterprises' gifts) + social-enterprise returns (every revenue line
  of an "enterprise_share" entry, whichever income account its agreement uses, and any other revenue than 4101
  booked in a social-enterprise return fund, fund type "enterprise_return", e.g. a share posted by hand);
- granted = the 5101 lines of grant entries (awards, less what close-outs released or grantees returned);
- held = net assets (assets - liabilities) of every fund, public or not.

The Sankey runs sources -> funds -> uses. Its invariant, for every fund and so for the whole: what flows in equals
what flows out. Sources are the fund's income by kind plus direct postings to net assets (opening balances); uses
are its expenses by kind. The difference is the change of the fund's net assets over the period (double entry:
every entry balances within each fund), shown as "Still held" when the fund grew and as "Drawn from earlier
balances" (a source) when it spent more than came in. Flows keep their sign; a negative flow (a reversal of an
earlier period's income) is listed in the table but cannot be drawn.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from fundapp.disclosure.scope import other_funds_label
from fundapp.grants.models import Award, GrantReport, Organisation, ReportStatus
from fundapp.ledger.models import Account, AccountType, Fund, FundType, JournalEntry, JournalLine
from fundapp.ledger.queries import ZERO, BalanceKey, balances_as_of, fund_net_assets

# The licence of the open data (pages, CSV, API). Not a setting on purpose: the foundation publishes open data under
# CC BY 4.0 by default; a foundation that must use another licence changes this constant (and says so publicly).
DATA_LICENCE = "CC BY 4.0"
DATA_LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"

PERIODS = ("year", "all")
TOP_FUNDS = 8
LATEST = 5

DONATION_INCOME, PROGRAMME_COSTS, MANAGEMENT, FUNDRAISING = "4101", "5101", "5201", "5301"
GRANT_SOURCES = ("grant_award", "grant_close")
ENTERPRISE_SOURCES = ("enterprise_share",)
YEAR_CLOSE, REVERSAL = "year_close", "reversal"
ENTERPRISE_FUND = FundType.enterprise_return.value
REVENUE, EXPENSE, NET_ASSETS = AccountType.revenue.value, AccountType.expense.value, AccountType.net_assets.value

# Sources (left), uses (right): key -> label. Keys are stable (tests, CSS); labels are translated.
SOURCES = {
    "donations_restricted": _l("Restricted donations"),
    "donations_unrestricted": _l("Unrestricted donations"),
    "enterprise": _l("Social-enterprise returns"),
    "other_income": _l("Other income"),
    "net_asset_entries": _l("Opening balances and other net-asset entries"),
    "from_balance": _l("Drawn from earlier balances"),
}
USES = {
    "grants": _l("Grants"),
    "programme": _l("Programme costs"),
    "management": _l("Management"),
    "fundraising": _l("Fundraising"),
    "other_expenses": _l("Other expenses"),
    "held": _l("Still held"),
}
RAISED_KEYS = ("donations_restricted", "donations_unrestricted", "enterprise")
EXPENSE_KEYS = {PROGRAMME_COSTS: "programme", MANAGEMENT: "management", FUNDRAISING: "fundraising"}


@dataclass
class FundFlow:
    """Signed flows of one fund over a period: into it by source, out of it by use (both sides are equal)."""

    fund_id: int
    inflows: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    outflows: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))

    @property
    def total_in(self) -> Decimal:
        return sum(self.inflows.values(), ZERO)

    @property
    def total_out(self) -> Decimal:
        return sum(self.outflows.values(), ZERO)

    @property
    def size(self) -> Decimal:
        """How big the fund looks in the diagram (what flows through it)."""
        return sum((v for v in self.inflows.values() if v > 0), ZERO)


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    amount: Decimal


@dataclass
class Sankey:
    nodes: list[str]
    links: list[Link]

    @property
    def has_negative(self) -> bool:
        return any(link.amount < 0 for link in self.links)

    def spec(self) -> dict | None:
        """The chart spec of fundapp/static/js/public-charts.js (money as strings); None when nothing moved."""
        drawn = [link for link in self.links if link.amount > 0]
        if not drawn:
            return None
        used = {link.source for link in drawn} | {link.target for link in drawn}
        return {"type": "sankey", "nodes": [node for node in self.nodes if node in used],
                "links": [{"source": link.source, "target": link.target, "value": f"{link.amount:.2f}"}
                          for link in drawn]}


@dataclass(frozen=True)
class Totals:
    raised_year: Decimal
    raised_all: Decimal
    granted_year: Decimal
    granted_all: Decimal
    held: Decimal
    held_change_year: Decimal


@dataclass(frozen=True)
class AwardItem:
    id: int
    number: str
    title: str
    organisation: str
    fund: str
    amount: Decimal
    awarded_on: dt.date


@dataclass(frozen=True)
class ReportItem:
    id: int
    kind: str
    period_start: dt.date | None
    period_end: dt.date | None
    beneficiaries_reached: int
    published_on: dt.date | None
    award_id: int
    award_number: str
    award_title: str


@dataclass
class HomeData:
    period: str
    start: dt.date | None
    end: dt.date
    totals: Totals
    sankey: Sankey
    awards: list[AwardItem]
    reports: list[ReportItem]


def period_arg(raw: str | None) -> str:
    """`?period=`: "year" (the default, also for anything unknown) or "all"."""
    return raw if raw in PERIODS else "year"


# --- reads ----------------------------------------------------------------------------------------------------------


def closing_moves(session: Session, end: dt.date) -> dict[tuple[int, BalanceKey], Decimal]:
    """The year-end closing entries up to `end`, per (year, (account, fund, class)): one grouped query."""
    year = func.extract("year", JournalLine.effective_date)
    stmt = (select(year, JournalLine.account_id, JournalLine.fund_id, JournalLine.net_asset_class,
                   func.sum(JournalLine.amount))
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(JournalEntry.source_type == YEAR_CLOSE, JournalEntry.effective_date <= end)
            .group_by(year, JournalLine.account_id, JournalLine.fund_id, JournalLine.net_asset_class))
    return {(int(y), (a, f, c)): total for y, a, f, c, total in session.execute(stmt)}


def sourced_moves(session: Session, start: dt.date, end: dt.date) -> dict[tuple[str, bool, BalanceKey], Decimal]:
    """Lines of grant and enterprise-share entries (and their reversals) up to `end`, grouped by
    (kind, dated on or after `start`, (account, fund, class)); kind is "grants" or "enterprise"."""
    known = GRANT_SOURCES + ENTERPRISE_SOURCES
    original = aliased(JournalEntry)
    source = func.coalesce(original.source_type, JournalEntry.source_type)
    entries = (select(JournalEntry.id.label("id"),
                      case((source.in_(GRANT_SOURCES), "grants"), else_="enterprise").label("kind"))
               .outerjoin(original, original.id == JournalEntry.reverses_id)
               .where(JournalEntry.source_type.in_((*known, REVERSAL)), JournalEntry.effective_date <= end,
                      or_(JournalEntry.source_type.in_(known),
                          and_(JournalEntry.source_type == REVERSAL, original.source_type.in_(known))))
               .subquery())
    recent = case((JournalLine.effective_date >= start, 1), else_=0)
    stmt = (select(entries.c.kind, recent, JournalLine.account_id, JournalLine.fund_id, JournalLine.net_asset_class,
                   func.sum(JournalLine.amount))
            .join(entries, entries.c.id == JournalLine.entry_id)
            .group_by(entries.c.kind, recent, JournalLine.account_id, JournalLine.fund_id,
                      JournalLine.net_asset_class))
    return {(kind, bool(is_recent), (a, f, c)): total for kind, is_recent, a, f, c, total in session.execute(stmt)}


# --- flows ----------------------------------------------------------------------------------------------------------


def _income_key(account: Account, klass: str, fund_type: str | None) -> str:
    if account.code == DONATION_INCOME:
        return "donations_restricted" if klass == "restricted" else "donations_unrestricted"
    return "enterprise" if fund_type == ENTERPRISE_FUND else "other_income"


def _add_activity(flows: dict[int, FundFlow], books: Books, moves: dict[BalanceKey, Decimal]) -> None:
    for (account_id, fund_id, klass), amount in moves.items():
        account, flow = books.accounts[account_id], flows.setdefault(fund_id, FundFlow(fund_id))
        if account.type == REVENUE:
            flow.inflows[_income_key(account, klass, books.fund_types.get(fund_id))] += -amount
        elif account.type == EXPENSE:
            flow.outflows[EXPENSE_KEYS.get(account.code, "other_expenses")] += amount
        elif account.type == NET_ASSETS:
            flow.inflows["net_asset_entries"] += -amount


def _add_sourced(flows: dict[int, FundFlow], books: Books, moves: dict[tuple[str, BalanceKey], Decimal]) -> None:
    """Move grants out of programme costs and enterprise returns out of donations / other income."""
    for (kind, (account_id, fund_id, klass)), amount in moves.items():
        account, flow = books.accounts[account_id], flows.setdefault(fund_id, FundFlow(fund_id))
        if kind == "grants" and account.type == EXPENSE and account.code == PROGRAMME_COSTS:
            flow.outflows["grants"] += amount
            flow.outflows["programme"] -= amount
        elif kind == "enterprise" and account.type == REVENUE:
            booked = _income_key(account, klass, books.fund_types.get(fund_id))
            if booked != "enterprise":
                flow.inflows["enterprise"] += -amount
                flow.inflows[booked] -= -amount


def _add_held(flows: dict[int, FundFlow], opening: dict[int, Decimal], closing: dict[int, Decimal]) -> None:
    for fund_id in set(opening) | set(closing):
        change = closing.get(fund_id, ZERO) - opening.get(fund_id, ZERO)
        flow = flows.setdefault(fund_id, FundFlow(fund_id))
        if change > 0:
            flow.outflows["held"] += change
        elif change < 0:
            flow.inflows["from_balance"] += -change


def _clean(flows: dict[int, FundFlow]) -> dict[int, FundFlow]:
    out = {}
    for fund_id, flow in flows.items():
        flow.inflows = {k: v for k, v in flow.inflows.items() if v != 0}
        flow.outflows = {k: v for k, v in flow.outflows.items() if v != 0}
        if flow.inflows or flow.outflows:
            out[fund_id] = flow
    return out


@dataclass
class Books:
    """The aggregates both periods are computed from (read once per page)."""

    accounts: dict[int, Account]
    fund_types: dict[int, str]
    closing: dict[BalanceKey, Decimal]  # balances on `end`
    opening: dict[BalanceKey, Decimal]  # balances on the day before the year starts
    closes: dict[tuple[int, BalanceKey], Decimal]
    sourced: dict[tuple[str, bool, BalanceKey], Decimal]
    held_now: dict[int, Decimal]
    held_at_start: dict[int, Decimal]
    start: dt.date
    end: dt.date


def read_books(session: Session, end: dt.date) -> Books:
    start = dt.date(end.year, 1, 1)
    before = start - dt.timedelta(days=1)
    return Books(accounts={a.id: a for a in session.scalars(select(Account))},
                 fund_types=dict(session.execute(select(Fund.id, Fund.fund_type)).all()),
                 closing=balances_as_of(session, end), opening=balances_as_of(session, before),
                 closes=closing_moves(session, end), sourced=sourced_moves(session, start, end),
                 held_now=fund_net_assets(session, end), held_at_start=fund_net_assets(session, before),
                 start=start, end=end)


def fund_flows(books: Books, period: str) -> dict[int, FundFlow]:
    """Every fund's flows over this year to date ("year") or since the books began ("all")."""
    year_only = period == "year"
    moves: dict[BalanceKey, Decimal] = defaultdict(lambda: ZERO)
    for key, amount in books.closing.items():
        moves[key] += amount
    if year_only:
        for key, amount in books.opening.items():
            moves[key] -= amount
    for (year, key), amount in books.closes.items():
        if not year_only or year == books.start.year:
            moves[key] -= amount
    sourced: dict[tuple[str, BalanceKey], Decimal] = defaultdict(lambda: ZERO)
    for (kind, recent, key), amount in books.sourced.items():
        if recent or not year_only:
            sourced[(kind, key)] += amount
    flows: dict[int, FundFlow] = {}
    _add_activity(flows, books, moves)
    _add_sourced(flows, books, sourced)
    _add_held(flows, books.held_at_start if year_only else {}, books.held_now)
    return _clean(flows)


def flow_total(flows: dict[int, FundFlow], keys: tuple[str, ...], *, outgoing: bool = False) -> Decimal:
    return sum(((flow.outflows if outgoing else flow.inflows).get(key, ZERO)
                for flow in flows.values() for key in keys), ZERO)


def totals(books: Books, year: dict[int, FundFlow], every: dict[int, FundFlow]) -> Totals:
    held = sum(books.held_now.values(), ZERO)
    return Totals(raised_year=flow_total(year, RAISED_KEYS), raised_all=flow_total(every, RAISED_KEYS),
                  granted_year=flow_total(year, ("grants",), outgoing=True),
                  granted_all=flow_total(every, ("grants",), outgoing=True),
                  held=held, held_change_year=held - sum(books.held_at_start.values(), ZERO))


# --- the diagram ----------------------------------------------------------------------------------------------------


def fund_nodes(session: Session, flows: dict[int, FundFlow]) -> dict[int, str]:
    """The node of each fund: the top public funds by name, every other fund (hidden ones too) in "other funds"."""
    if not flows:
        return {}
    funds = session.execute(select(Fund.id, Fund.code, Fund.name, Fund.is_public)
                            .where(Fund.id.in_(list(flows)))).all()
    public = sorted((f for f in funds if f.is_public), key=lambda f: (-flows[f.id].size, f.code))[:TOP_FUNDS]
    taken = {str(label) for label in (*SOURCES.values(), *USES.values())} | {other_funds_label()}
    names: dict[int, str] = {}
    for fund in public:
        name = fund.name if fund.name not in taken else f"{fund.name} ({fund.code})"
        taken.add(name)
        names[fund.id] = name
    other = other_funds_label()
    return {fund.id: names.get(fund.id, other) for fund in funds}


def _fund_order(flows: dict[int, FundFlow], nodes_of: dict[int, str]) -> list[str]:
    """The fund nodes, biggest first, "other funds" last."""
    other = other_funds_label()
    ranked = sorted(flows, key=lambda fund_id: (nodes_of[fund_id] == other, -flows[fund_id].size))
    return list(dict.fromkeys(nodes_of[fund_id] for fund_id in ranked))


def sankey(flows: dict[int, FundFlow], nodes_of: dict[int, str]) -> Sankey:
    """Links source -> fund node and fund node -> use, summed over the funds of each node, in a stable order."""
    ins: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    outs: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for fund_id, flow in flows.items():
        node = nodes_of[fund_id]
        for key, amount in flow.inflows.items():
            ins[(key, node)] += amount
        for key, amount in flow.outflows.items():
            outs[(node, key)] += amount
    funds = _fund_order(flows, nodes_of)
    rank = {name: n for n, name in enumerate((*SOURCES, *funds, *USES))}
    links = [Link(str(SOURCES[key]), node, amount)
             for (key, node), amount in sorted(ins.items(), key=lambda item: (rank[item[0][0]], rank[item[0][1]]))
             if amount != 0]
    links += [Link(node, str(USES[key]), amount)
              for (node, key), amount in sorted(outs.items(), key=lambda item: (rank[item[0][0]], rank[item[0][1]]))
              if amount != 0]
    used = {link.source for link in links} | {link.target for link in links}
    nodes = [str(SOURCES[key]) for key in SOURCES] + funds + [str(USES[key]) for key in USES]
    return Sankey([node for node in nodes if node in used], links)


# --- lists ----------------------------------------------------------------------------------------------------------


def latest_awards(session: Session, limit: int = LATEST) -> list[AwardItem]:
    """The newest awards from public funds."""
    stmt = (select(Award.id, Award.number, Award.title, Award.amount, Award.awarded_on, Fund.name,
                   Organisation.name.label("organisation"))
            .join(Fund, Fund.id == Award.fund_id).join(Organisation, Organisation.id == Award.organisation_id)
            .where(Fund.is_public.is_(True))
            .order_by(Award.awarded_on.desc(), Award.id.desc()).limit(limit))
    return [AwardItem(r.id, r.number, r.title, r.organisation, r.name, r.amount, r.awarded_on)
            for r in session.execute(stmt)]


def latest_reports(session: Session, limit: int = LATEST) -> list[ReportItem]:
    """The newest accepted, public progress and final reports of awards from public funds."""
    stmt = (select(GrantReport.id, GrantReport.kind, GrantReport.period_start, GrantReport.period_end,
                   GrantReport.beneficiaries_reached, GrantReport.reviewed_at, Award.id.label("award_id"),
                   Award.number, Award.title)
            .join(Award, Award.id == GrantReport.award_id).join(Fund, Fund.id == Award.fund_id)
            .where(GrantReport.is_public.is_(True), GrantReport.status == ReportStatus.accepted.value,
                   Fund.is_public.is_(True))
            .order_by(GrantReport.reviewed_at.desc(), GrantReport.id.desc()).limit(limit))
    return [ReportItem(r.id, r.kind, r.period_start, r.period_end, r.beneficiaries_reached,
                       r.reviewed_at.date() if r.reviewed_at else None, r.award_id, r.number, r.title)
            for r in session.execute(stmt)]


def home_data(session: Session, today: dt.date, period: str) -> HomeData:
    books = read_books(session, today)
    year, every = fund_flows(books, "year"), fund_flows(books, "all")
    shown = year if period == "year" else every
    return HomeData(period=period, start=books.start if period == "year" else None, end=today,
                    totals=totals(books, year, every), sankey=sankey(shown, fund_nodes(session, shown)),
                    awards=latest_awards(session), reports=latest_reports(session))
