"""Statutory ratios: the pure arithmetic, each threshold band, the exemption, the three-year average, the projection,
and a hand-computed fixture ledger (entries and expected figures written out below)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from fundapp.compliance import ratios as R
from fundapp.ledger.services import LineSpec, post_entry
from tests.factories import account, make_fund

D = Decimal
U, RS = "unrestricted", "restricted"
NON_PUBLIC = R.Thresholds(foundation_type=R.NON_PUBLIC)
PUBLIC = R.Thresholds()
_keys = itertools.count(1)


# --- pure functions -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("net_assets,band", [
    ("0", 0), ("3999999.99", 0), ("4000000", 1), ("7999999.99", 1), ("8000000", 2), ("59999999.99", 2),
    ("60000000", 3), ("900000000", 3),
])
def test_band_index_limits_are_exclusive_upper_bounds(net_assets, band):
    assert R.band_index(D(net_assets), NON_PUBLIC.band_limits) == band


@pytest.mark.parametrize("net_assets,charitable_min,management_max", [
    ("3000000", "0.08", "0.20"), ("5000000", "0.07", "0.15"), ("10000000", "0.06", "0.13"),
    ("80000000", "0.06", "0.12"),
])
def test_each_band_threshold(net_assets, charitable_min, management_max):
    check = R.charitable_check(NON_PUBLIC, D("1"), D("0"), D(net_assets))
    assert check.threshold == D(charitable_min) and check.denominator == D(net_assets)
    management = R.management_check(NON_PUBLIC, D("300000"), D("1000000"), D(net_assets))
    assert management.threshold == D(management_max)


def test_band_pass_and_fail_at_the_bound():
    # 4M-8M band: at least 7% of 5,000,000 = 350,000.
    assert R.charitable_check(NON_PUBLIC, D("350000"), D("0"), D("5000000")).status == R.WARN  # 7.00% < 7% + 2%
    assert R.charitable_check(NON_PUBLIC, D("450000"), D("0"), D("5000000")).status == R.PASS  # 9%
    assert R.charitable_check(NON_PUBLIC, D("349999.99"), D("0"), D("5000000")).status == R.FAIL


def test_public_thresholds_ignore_net_assets():
    check = R.charitable_check(PUBLIC, D("700000"), D("1000000"), D("99999999"))
    assert (check.ratio, check.threshold, check.status) == (D("0.7000"), D("0.70"), R.WARN)
    assert R.charitable_check(PUBLIC, D("699999"), D("1000000"), D("0")).status == R.FAIL
    assert R.charitable_check(PUBLIC, D("800000"), D("1000000"), D("0")).status == R.PASS
    assert R.charitable_check(PUBLIC, D("1"), D("0"), D("0")).status == R.UNKNOWN  # no prior income


def test_management_cap_and_exemption():
    over = R.management_check(PUBLIC, D("300000"), D("2000000"), D("0"))  # 15% > 10%
    assert (over.ratio, over.status, over.exempt) == (D("0.1500"), R.FAIL, False)
    exempt = R.management_check(PUBLIC, D("199999.99"), D("1000000"), D("0"))  # 20% but under ¥200,000
    assert (exempt.status, exempt.exempt, exempt.passes) == (R.EXEMPT, True, True)
    at_limit = R.management_check(PUBLIC, D("200000"), D("1000000"), D("0"))  # not "under": capped
    assert (at_limit.status, at_limit.exempt) == (R.FAIL, False)
    close = R.management_check(PUBLIC, D("290000"), D("3000000"), D("0"))  # 9.67%: within 2 points of 10%
    assert close.status == R.WARN
    fine = R.management_check(PUBLIC, D("210000"), D("3000000"), D("0"))  # 7%
    assert fine.status == R.PASS


def test_adjusted_income_approximation():
    # Own restricted gifts released in the year count; the rest of them does not; releases beyond them add.
    a = R.adjusted_income(D("1200000"), D("200000"), D("50000"))
    assert (a.unusable, a.released_from_prior, a.total) == (D("150000"), D("0"), D("1050000"))
    b = R.adjusted_income(D("50000"), D("0"), D("100000"))
    assert (b.unusable, b.released_from_prior, b.total) == (D("0"), D("100000"), D("150000"))
    c = R.adjusted_income(D("300000"), D("100000"), D("100000"))
    assert c.total == D("300000")


def test_three_year_average_and_ratio_rounding():
    assert R.average([D("1050000"), D("0"), D("0")]) == D("350000.00")
    assert R.average([D("1"), D("1"), D("2")]) == D("1.33")
    assert R.ratio(D("2"), D("3")) == D("0.6667")
    assert R.ratio(D("1"), D("0")) is None and R.ratio(D("1"), None) is None


def test_projection_arithmetic():
    # 1 Mar 2025 is day 60 of 365: 100 × 365 / 60 = 608.333... → 608.33.
    assert R.project(D("100.00"), dt.date(2025, 3, 1)) == D("608.33")
    assert R.project(D("100.00"), dt.date(2024, 1, 1)) == D("36600.00")  # leap year, day 1 of 366
    assert R.project(D("100.00"), dt.date(2024, 12, 31)) == D("100.00")
    assert R.project(D("182.50"), dt.date(2025, 7, 2)) == D("364.00")  # day 183: 66,612.50 / 183 = 364.0027


def test_thresholds_come_from_settings():
    th = R.thresholds_from_config({"FOUNDATION_TYPE": "non_public", "RATIO_BAND_LIMITS": "100,200",
                                   "RATIO_BAND_CHARITABLE_MIN": "0.5,0.4,0.3",
                                   "RATIO_BAND_MANAGEMENT_MAX": "0.1,0.2,0.3", "RATIO_MANAGEMENT_EXEMPTION": "7",
                                   "RATIO_WARNING_MARGIN": "0"})
    assert th.band_limits == (D("100"), D("200")) and th.exemption == D("7")
    assert R.charitable_check(th, D("60"), D("0"), D("150")).threshold == D("0.4")
    with pytest.raises(ValueError):
        R.thresholds_from_config({"FOUNDATION_TYPE": "charity"})
    with pytest.raises(ValueError):
        R.thresholds_from_config({"RATIO_BAND_CHARITABLE_MIN": "0.1,0.2"})


def test_percent_display():
    assert R.percent(D("0.7619")) == "76.19%" and R.percent(None) == "—"


# --- the fixture ledger -------------------------------------------------------------------------------------------
#
#   2024-02-01  GEN  Dr 1002 1,000,000.00 / Cr 4101 (U)        unrestricted gift
#   2024-03-01  PRJ  Dr 1002   200,000.00 / Cr 4101 (R)        restricted gift
#   2024-06-01  PRJ  Dr 5101    50,000.00 (U) / Cr 1002;  Dr 3102 50,000.00 (R) / Cr 3101 (U)   spent and released
#   2024-07-01  GEN  Dr 5201    30,000.00 / Cr 1002          management
#   2025-03-01  GEN  Dr 5101   700,000.00 / Cr 1002
#   2025-04-01  PRJ  Dr 5101   100,000.00 (U) / Cr 1002;  Dr 3102 100,000.00 (R) / Cr 3101 (U)
#   2025-05-01  GEN  Dr 5201    90,000.00 / Cr 1002
#   2025-05-02  GEN  Dr 5301    10,000.00 / Cr 1002          fundraising costs
#   2025-06-01  GEN  Dr 1002    50,000.00 / Cr 4101 (U)
#
# 2024: income 1,200,000; restricted 200,000; released 50,000 → unusable 150,000, from prior 0 → total 1,050,000.
#       Net assets 31 Dec 2024 = cash 1,000,000 + 200,000 − 50,000 − 30,000 = 1,120,000.
# 2025: charitable 800,000; management 90,000; spending 900,000; income 50,000, released 100,000 → total 150,000.
#       Net assets 31 Dec 2025 = 1,120,000 − 900,000 + 50,000 = 270,000.
# Public foundation, 2025: 800,000 / 1,050,000 = 76.19% ≥ 70% (pass); management 90,000 / 900,000 = 10.00% but
#       under ¥200,000 → exempt. Non-public: 800,000 / 1,120,000 = 71.43% ≥ 8% (band < ¥4M; cap 20%).
# Three-year average (2024, 2023, 2022): income (1,050,000 + 0 + 0) / 3 = 350,000 → 228.57%;
#       net assets (1,120,000 + 0 + 0) / 3 = 373,333.33.


def _entry(session, day, *lines):
    specs = [LineSpec(account(session, code), fund, D(amount), klass) for code, fund, amount, klass in lines]
    post_entry(session, effective_date=day, memo="ratio fixture", lines=specs, idempotency_key=f"ratio:{next(_keys)}")


@pytest.fixture()
def books(session):
    gen = make_fund(session, "RGEN")
    prj = make_fund(session, "RPRJ", restricted=True, fund_type="project")
    d = dt.date
    _entry(session, d(2024, 2, 1), ("1002", gen, "1000000", U), ("4101", gen, "-1000000", U))
    _entry(session, d(2024, 3, 1), ("1002", prj, "200000", RS), ("4101", prj, "-200000", RS))
    _entry(session, d(2024, 6, 1), ("5101", prj, "50000", U), ("1002", prj, "-50000", RS),
           ("3102", prj, "50000", RS), ("3101", prj, "-50000", U))
    _entry(session, d(2024, 7, 1), ("5201", gen, "30000", U), ("1002", gen, "-30000", U))
    _entry(session, d(2025, 3, 1), ("5101", gen, "700000", U), ("1002", gen, "-700000", U))
    _entry(session, d(2025, 4, 1), ("5101", prj, "100000", U), ("1002", prj, "-100000", RS),
           ("3102", prj, "100000", RS), ("3101", prj, "-100000", U))
    _entry(session, d(2025, 5, 1), ("5201", gen, "90000", U), ("1002", gen, "-90000", U))
    _entry(session, d(2025, 5, 2), ("5301", gen, "10000", U), ("1002", gen, "-10000", U))
    _entry(session, d(2025, 6, 1), ("1002", gen, "50000", U), ("4101", gen, "-50000", U))
    return gen, prj


def test_year_figures_from_the_balance_rows(session, books):
    y24 = R.year_figures(session, 2024)
    assert (y24.income.value, y24.restricted_income.value, y24.released.value) == (
        D("1200000"), D("200000"), D("50000"))
    assert y24.adjusted_income.total == D("1050000")
    assert (y24.net_assets_start, y24.net_assets_end) == (D("0"), D("1120000"))
    assert (y24.charitable.value, y24.management.value, y24.spending.value) == (D("50000"), D("30000"), D("80000"))
    y25 = R.year_figures(session, 2025)
    assert (y25.charitable.value, y25.management.value, y25.spending.value) == (D("800000"), D("90000"), D("900000"))
    assert y25.adjusted_income.total == D("150000") and y25.net_assets_end == D("270000")
    assert [p.code for p in y25.spending.parts] == ["5101", "5201", "5301"]
    assert [p.amount for p in y25.spending.parts] == [D("800000"), D("90000"), D("10000")]
    assert (y25.charitable.start, y25.charitable.end) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def test_fixture_year_ratios_public_and_non_public(session, books):
    y25, y24 = R.year_figures(session, 2025), R.year_figures(session, 2024)
    public = R.evaluate(PUBLIC, y25, [y24])
    assert (public.charitable.numerator, public.charitable.denominator) == (D("800000"), D("1050000"))
    assert (public.charitable.ratio, public.charitable.status) == (D("0.7619"), R.PASS)
    assert (public.management_check.ratio, public.management_check.status) == (D("0.1000"), R.EXEMPT)
    non_public = R.evaluate(NON_PUBLIC, y25, [y24])
    assert non_public.band == 0
    assert (non_public.charitable.denominator, non_public.charitable.ratio) == (D("1120000"), D("0.7143"))
    assert (non_public.charitable.threshold, non_public.management_check.threshold) == (D("0.08"), D("0.20"))


def test_fixture_three_year_average(session, books):
    prior = [R.year_figures(session, y) for y in (2024, 2023, 2022)]
    result = R.evaluate(PUBLIC, R.year_figures(session, 2025), prior)
    assert (result.income_base, result.charitable.ratio) == (D("350000.00"), D("2.2857"))
    assert result.net_assets_base == D("373333.33")


def test_fixture_year_so_far_projected(session, books):
    # To 31 May 2025 (day 151 of 365): charitable 800,000 → 800,000 × 365 / 151 = 1,933,774.83;
    # management 90,000 → 217,549.67 (over ¥200,000: no exemption), spending 900,000 → 2,175,496.69;
    # the share stays the year-so-far 90,000 / 900,000 = 10.00%: within the 2-point margin of the 10% cap → warn.
    so_far = R.year_figures(session, 2025, dt.date(2025, 5, 31))
    assert so_far.spending.value == D("900000")
    result = R.evaluate(PUBLIC, so_far, [R.year_figures(session, 2024)], projected=True)
    assert (result.charitable_spending, result.management, result.spending) == (
        D("1933774.83"), D("217549.67"), D("2175496.69"))
    assert (result.management_check.ratio, result.management_check.status) == (D("0.1000"), R.WARN)
    assert not result.management_check.exempt and result.management_check in result.warnings
    # 1,933,774.83 / 1,050,000 = 184.17%
    assert (result.charitable.ratio, result.charitable.status) == (D("1.8417"), R.PASS)
    # Without the projection the same year-so-far management (90,000) would be exempt.
    assert R.evaluate(PUBLIC, so_far, [R.year_figures(session, 2024)]).management_check.status == R.EXEMPT


def test_dashboard_years(session, books):
    years = R.dashboard_years(session, PUBLIC, dt.date(2026, 2, 1))
    assert [(y.year, y.projected) for y in years] == [(2026, True), (2025, False), (2024, False), (2023, False)]
    assert years[1].charitable.ratio == D("0.7619")
    assert years[0].charitable.denominator == D("150000")  # 2025's income as counted
    assert years[3].charitable.status == R.UNKNOWN
