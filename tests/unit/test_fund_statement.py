"""Fund statements: a hand-computed fixture (gifts, an income, a grant award, costs), reconciliation, the year-end
close left out, anonymous donors never named."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fundapp.dates import local_today
from fundapp.donations.services import reverse_donation
from fundapp.ledger.yearend import close_year
from fundapp.reports.fund_statement import AccountLine, fund_statement, has_given_to
from tests.factories import make_fund, post
from tests.grants_builders import make_award, make_organisation
from tests.unit.donations.factories import gift, make_donor

D = Decimal


def build_fixture(s) -> dict:
    """Fund 社区助老基金, period = the 60 days up to today. Written out by hand:

    before the period   gift 10,000.00 (王芳)                          -> opening 10,000.00
    in the period       gifts 2,000.00 (王芳), 500.00 (no donor), 1,500.00 (李雷, anonymous in public),
                        300.00 (韩梅, reversed: not a gift)
                                                                       -> gifts 4,000.00: 3 gifts, 2 donors, 2 anonymous
                        investment income 4601 250.00                  -> income 4,250.00
                        grant award G… 3,000.00 (Dr 5101 / Cr 2209)    -> grants awarded 3,000.00
                        programme cost 5101 400.00                     -> other programme costs 400.00
                        management 5201 120.00, fundraising 5301 80.00 -> spending 3,600.00
                                                                       -> closing 10,650.00
    Another fund's gift in the period does not count.
    """
    today = local_today()
    start = today - dt.timedelta(days=60)
    fund = make_fund(s, name="社区助老基金")
    other = make_fund(s)
    wang, li, han = make_donor(s, "王芳"), make_donor(s, "李雷", anonymous_in_public=True), make_donor(s, "韩梅")
    gift(s, fund, "10000.00", donor=wang, on=today - dt.timedelta(days=100))
    gift(s, fund, "2000.00", donor=wang, on=today - dt.timedelta(days=50))
    gift(s, fund, "500.00", on=today - dt.timedelta(days=40))
    gift(s, fund, "1500.00", donor=li, on=today - dt.timedelta(days=30))
    wrong = gift(s, fund, "300.00", donor=han, on=today - dt.timedelta(days=20))
    reverse_donation(s, wrong, "录入错误", None, on=today - dt.timedelta(days=20))
    gift(s, other, "999.00", donor=wang, on=today - dt.timedelta(days=20))
    post(s, fund, "250.00", debit="1002", credit="4601", date=today - dt.timedelta(days=35))
    post(s, fund, "400.00", debit="5101", credit="1002", date=today - dt.timedelta(days=10))
    post(s, fund, "120.00", debit="5201", credit="1002", date=today - dt.timedelta(days=5))
    post(s, fund, "80.00", debit="5301", credit="1002", date=today - dt.timedelta(days=5))
    award = make_award(s, "3000.00", fund=fund, organisation=make_organisation(s, name="阳光社工服务中心"))
    return {"fund": fund, "other": other, "start": start, "end": today, "award": award,
            "wang": wang, "li": li, "han": han}


def test_hand_computed_statement(session):
    f = build_fixture(session)
    st = fund_statement(session, f["fund"], f["start"], f["end"])
    assert st.opening == D("10000.00")
    assert st.gifts == D("4000.00")
    assert st.other_income == [AccountLine("4601", "投资收益", "Investment income", D("250.00"))]
    assert st.total_income == D("4250.00")
    assert st.grants_awarded == D("3000.00")
    assert st.other_programme == D("400.00")
    assert [(c.code, c.amount) for c in st.costs] == [("5201", D("120.00")), ("5301", D("80.00"))]
    assert st.total_spending == D("3600.00")
    assert st.closing == D("10650.00")
    assert st.reconciles and st.other_changes == D("0.00")
    assert st.opening + st.total_income - st.total_spending == st.closing
    assert (st.gift_count, st.donor_count, st.anonymous_gifts) == (3, 2, 2)
    assert [(d.name, d.gifts, d.amount) for d in st.donors] == [("王芳", 1, D("2000.00"))]  # 李雷 is anonymous
    award = f["award"]
    assert [(g.number, g.organisation, g.title, g.amount, g.paid) for g in st.grants] == [
        (award.number, "阳光社工服务中心", award.title, D("3000.00"), D("0.00"))]


def test_public_copy_names_no_donor(session):
    f = build_fixture(session)
    st = fund_statement(session, f["fund"], f["start"], f["end"], public=True)
    assert st.donors == [] and (st.gift_count, st.donor_count, st.anonymous_gifts) == (3, 2, 2)
    assert st.closing == D("10650.00")


def test_period_before_the_activity_carries_the_opening_balance(session):
    f = build_fixture(session)
    day = f["start"] - dt.timedelta(days=1)
    st = fund_statement(session, f["fund"], day, day)
    assert st.opening == st.closing == D("10000.00")
    assert st.total_income == st.total_spending == D("0.00") and st.grants == [] and st.gift_count == 0


def test_direct_posting_to_net_assets_is_shown_not_hidden(session):
    f = build_fixture(session)
    day = f["end"] - dt.timedelta(days=1)
    post(session, f["fund"], "50.00", debit="3102", credit="3101", date=day)  # a release: nets to zero in the fund
    assert fund_statement(session, f["fund"], f["start"], f["end"]).reconciles
    post(session, f["fund"], "1000.00", debit="1002", credit="3101", date=day)  # money booked straight to net assets
    st = fund_statement(session, f["fund"], f["start"], f["end"])
    assert not st.reconciles
    assert st.closing == D("11650.00") and st.other_changes == D("1000.00") == st.net_asset_postings
    assert st.opening + st.total_income - st.total_spending + st.other_changes == st.closing


def test_year_end_close_is_neither_income_nor_spending(session):
    fund = make_fund(session)
    year = local_today().year - 1
    gift(session, fund, "1000.00", donor=make_donor(session), on=dt.date(year, 3, 1))
    post(session, fund, "100.00", debit="5201", credit="1002", date=dt.date(year, 6, 1))
    close_year(session, year, None)
    st = fund_statement(session, fund, dt.date(year, 1, 1), dt.date(year, 12, 31))
    assert (st.opening, st.gifts, st.total_spending, st.closing) == (D("0.00"), D("1000.00"), D("100.00"), D("900.00"))
    assert st.reconciles and st.net_asset_postings == D("0.00")
    after = fund_statement(session, fund, dt.date(year + 1, 1, 1), local_today())
    assert (after.opening, after.total_income, after.total_spending, after.closing) == (
        D("900.00"), D("0.00"), D("0.00"), D("900.00"))


def test_has_given_to(session):
    f = build_fixture(session)
    assert has_given_to(session, f["wang"], f["fund"])
    assert not has_given_to(session, f["han"], f["fund"])  # only a reversed gift
    assert not has_given_to(session, f["li"], f["other"])
