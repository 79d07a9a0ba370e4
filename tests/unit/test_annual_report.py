"""The annual report's content (fundapp.reports.annual) on a small fixture with hand-computed figures, its PDF
text, the charts, and the task storing it (idempotent per year, an empty year)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest

from fundapp.dates import local_today
from fundapp.donations.services import DonationInput, record_donation
from fundapp.reports import annual_tasks
from fundapp.reports.annual import gather, render_pdf
from fundapp.reports.charts import bar_chart, monthly_chart
from tests.factories import make_fund, post
from tests.grants_builders import make_award, make_organisation

D = Decimal


def build_fixture(session) -> dict:
    """Last year: a gift of 10,000.00 (the base of this year's ratio). This year: gifts of 12,345.67 (bank) and
    1,000.00 (cash), charitable spending 2,000.00, management 500.00 and an award of 3,000.00 (Dr 5101 / Cr
    payable) from fund AR-A. So: charitable 5,000.00 / prior income 10,000.00 = 50.00%; management 500.00 /
    spending 5,500.00 = 9.09%; AR-A 10,000.00 -> 16,845.67, AR-B 0.00 -> 1,000.00."""
    today = local_today()
    year = today.year
    a = make_fund(session, "AR-A", name="Annual A")
    b = make_fund(session, "AR-B", name="Annual B", fund_type="named")
    post(session, a, "10000.00", date=dt.date(year - 1, 6, 1))
    record_donation(session, DonationInput(fund=a, received_on=today, amount=D("12345.67"), method="bank_transfer"),
                    None)
    record_donation(session, DonationInput(fund=b, received_on=today, amount=D("1000.00"), method="cash"), None)
    post(session, a, "2000.00", debit="5101", credit="1002")
    post(session, a, "500.00", debit="5201", credit="1002")
    organisation = make_organisation(session, name="Sunrise Org")
    award = make_award(session, "3000.00", fund=a, organisation=organisation)
    session.flush()
    return {"year": year, "award": award}


def test_gather_fixture_figures(session):
    fx = build_fixture(session)
    report = gather(session, fx["year"])
    funds = {f.code: f for f in report.funds}
    assert (funds["AR-A"].opening, funds["AR-A"].closing) == (D("10000.00"), D("16845.67"))
    assert (funds["AR-B"].opening, funds["AR-B"].closing) == (D("0.00"), D("1000.00"))
    assert (report.donation_count, report.donation_total) == (2, D("13345.67"))
    assert {(t.label, t.count, t.total) for t in report.donations_by_method} == {
        ("bank_transfer", 1, D("12345.67")), ("cash", 1, D("1000.00"))}
    assert [(t.label, t.total) for t in report.donations_by_fund] == [
        ("AR-A Annual A", D("12345.67")), ("AR-B Annual B", D("1000.00"))]
    [award] = report.awards
    assert (award.number, award.organisation, award.amount, award.paid, award.reports_accepted) == (
        fx["award"].number, "Sunrise Org", D("3000.00"), D("0.00"), 0)
    assert [(p.awards, p.awarded) for p in report.programmes] == [(1, D("3000.00"))]
    r = report.ratios
    assert (r.charitable.numerator, r.charitable.denominator, r.charitable.ratio) == (
        D("5000.00"), D("10000.00"), D("0.5000"))
    assert (r.management_check.numerator, r.management_check.denominator) == (D("500.00"), D("5500.00"))
    month = local_today().month
    assert report.monthly.values[month - 1] == D("13345.67")
    assert report.monthly.second[month - 1] == D("5500.00")
    assert sum(report.income_by_source.values) == D("13345.67")
    assert sum(report.spending_by_category.values) == D("5500.00")
    assert [s.kind for s in report.statements] == ["balance-sheet", "activities", "cash-flows"]
    assert all(not s.problems for s in report.statements)
    assert report.enterprise_returns == [] and report.has_data


def test_gather_uses_aggregates_only(session, count_queries):
    """The number of queries does not grow with the data: a second year of the same data costs the same."""
    build_fixture(session)
    year = local_today().year
    session.flush()
    with count_queries() as small:
        gather(session, year)
    fund = make_fund(session, "AR-C")
    for _ in range(20):
        post(session, fund, "1.00")
        record_donation(session, DonationInput(fund=fund, received_on=local_today(), amount=D("1.00"),
                                               method="online"), None)
    session.flush()
    with count_queries() as large:
        gather(session, year)
    assert large[0] == small[0]


def pdf_text(pdf: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils")
    path = tmp_path / "annual.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_pdf_contains_key_figures(session, tmp_path, app):
    fx = build_fixture(session)
    app.config["FOUNDATION_NAME"] = "测试社区基金会"
    try:
        text = pdf_text(render_pdf(gather(session, fx["year"])), tmp_path)
    finally:
        app.config["FOUNDATION_NAME"] = ""
    for figure in ("测试社区基金会", f"{fx['year']}年度工作报告", "资产负债表", "业务活动表", "现金流量表",
                   "16,845.67", "1,000.00", "13,345.67", "12,345.67", fx["award"].number, "Sunrise Org",
                   "3,000.00", "50.00%", "9.09%", "70.00%", "具有公开募捐资格的基金会", "月度收支"):
        assert figure in text, figure


def test_empty_year_gives_an_empty_report(session, tmp_path):
    report = gather(session, 2003)
    assert not report.has_data and report.donation_count == 0 and report.awards == []
    assert report.ratios.charitable.ratio is None
    text = pdf_text(render_pdf(report), tmp_path)
    assert "2003年度工作报告" in text and "没有业务记录" in text and "本年度没有新的资助" in text


def test_charts_escape_labels_and_draw_each_value():
    svg = bar_chart("收入", ["<b>x</b>", "y"], [D("10.00"), D("-5.00")])
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert svg.count("<rect") == 2 and "10.00" in svg and "-5.00" in svg
    assert "—" in bar_chart("empty", [], [])
    months = monthly_chart("m", [f"{m}月" for m in range(1, 13)], [D(0)] * 12, [D(1)] * 12, ("收入", "支出"))
    assert months.count("<rect") == 2 + 24


def test_task_is_idempotent_per_year(session, app, tmp_path):
    app.config["ANNUAL_REPORT_DIR"] = str(tmp_path / "reports")
    try:
        fx = build_fixture(session)
        year = fx["year"]
        annual_tasks.request_generation(year)
        first = annual_tasks.pdf_path(year)
        assert first is not None and first.read_bytes().startswith(b"%PDF")
        assert annual_tasks.read_state(year)["status"] == annual_tasks.READY
        annual_tasks.request_generation(year)
        second = annual_tasks.pdf_path(year)
        assert second is not None and second != first and not first.exists()
        assert [p.name for p in (tmp_path / "reports").glob(f"annual-{year}-*.pdf")] == [second.name]
        assert annual_tasks.get_progress_for(year) is None  # cleared at the end
    finally:
        app.config.pop("ANNUAL_REPORT_DIR")


def test_task_failure_keeps_the_previous_pdf(session, app, tmp_path, monkeypatch):
    app.config["ANNUAL_REPORT_DIR"] = str(tmp_path / "reports")
    try:
        annual_tasks.request_generation(2004)
        before = annual_tasks.pdf_path(2004)

        def broken(*_args, **_kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr("fundapp.reports.annual.gather", broken)
        annual_tasks.request_generation(2004)
        state = annual_tasks.read_state(2004)
        assert state["status"] == annual_tasks.FAILED and state["message"] == "RuntimeError"
        assert annual_tasks.pdf_path(2004) == before and before.exists()
    finally:
        app.config.pop("ANNUAL_REPORT_DIR")
