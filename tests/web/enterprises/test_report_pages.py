"""Finance through the pages: file with an attachment, see the arithmetic, confirm, pay in part, refuse an
overpayment, amend, reject, reverse a payment; bad input is refused with its message and nothing written."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from fundapp.enterprises.models import EnterprisePayment, ReportRevision, RevenueReport
from fundapp.ledger.models import JournalEntry
from tests.unit.enterprises.factories import lines_of
from tests.web.enterprises.conftest import PDF, counts, hidden_key, report_form, report_id

D = Decimal


def _file(client, enterprise_id: int, **values):
    key = hidden_key(client.get(f"/enterprises/{enterprise_id}/reports/new").get_data(as_text=True))
    return client.post(f"/enterprises/{enterprise_id}/reports/new", data=report_form(key, **values),
                       content_type="multipart/form-data")


def _pay(client, rid: int, amount: str, key: str | None = None):
    key = key or hidden_key(client.get(f"/enterprises/reports/{rid}/pay").get_data(as_text=True))
    return client.post(f"/enterprises/reports/{rid}/pay", data={"key": key, "received_on": "2025-05-06",
                                                                 "amount": amount, "reference": "工行回单"})


def _pending(app_ctx, rid: int) -> int:
    with app_ctx() as s:
        return s.scalar(select(ReportRevision.id).where(ReportRevision.report_id == rid,
                                                        ReportRevision.status == "pending"))


def test_file_confirm_pay_in_part_and_refuse_an_overpayment(client, login, app_ctx, setup, uploads):
    login("finance")
    filed = _file(client, setup.canteen, attachment=(io.BytesIO(PDF), "一季度报表.pdf"))
    assert filed.status_code == 302
    rid = report_id(app_ctx, setup.canteen)
    page = client.get(f"/enterprises/reports/{rid}").get_data(as_text=True)
    for text in ("100,000.00 × 5%", "50,000.00 × 8%", "9,000.00", "Rounded half up to the fen", "一季度报表.pdf",
                 "Confirm and book the share", "data-confirm"):
        assert text in page, text
    assert len(list(uploads.iterdir())) == 1
    confirmed = client.post(f"/enterprises/revisions/{_pending(app_ctx, rid)}/confirm",
                            data={"effective_date": "2025-04-20"})
    assert confirmed.status_code == 302
    with app_ctx() as s:
        report = s.get(RevenueReport, rid)
        assert (report.status, report.share_due) == ("confirmed", D("9000.00"))
        assert lines_of(report.current_revision.entry) == [("1121", "COMM", "unrestricted", D("9000.00")),
                                                           ("4101", "COMM", "unrestricted", D("-9000.00"))]
    assert _pay(client, rid, "4,000.00").status_code == 302
    before = counts(app_ctx)
    refused = _pay(client, rid, "5000.01")
    assert refused.status_code == 200
    assert "The payment is more than the 5,000.00 still outstanding on this report." in refused.get_data(as_text=True)
    assert counts(app_ctx) == before
    assert _pay(client, rid, "5000").status_code == 302
    page = client.get(f"/enterprises/reports/{rid}").get_data(as_text=True)
    assert "Paid in full" in page and "Record a payment" not in page
    assert "Nothing is outstanding on this report." in client.get(f"/enterprises/reports/{rid}/pay").get_data(True)


def test_a_double_submitted_payment_is_recorded_once(client, login, app_ctx, setup):
    login("finance")
    _file(client, setup.canteen, revenue="10000")
    rid = report_id(app_ctx, setup.canteen)
    client.post(f"/enterprises/revisions/{_pending(app_ctx, rid)}/confirm", data={"effective_date": "2025-04-20"})
    key = hidden_key(client.get(f"/enterprises/reports/{rid}/pay").get_data(as_text=True))
    assert _pay(client, rid, "100", key).status_code == 302
    again = _pay(client, rid, "100", key)
    assert again.status_code == 302
    assert "already recorded" in client.get(again.headers["Location"]).get_data(as_text=True)
    with app_ctx() as s:
        assert s.get(RevenueReport, rid).paid_amount == D("100.00")
        assert len(s.scalars(select(EnterprisePayment)).all()) == 1


@pytest.mark.parametrize("values, message", [
    ({"revenue": "-100.00"}, "Revenue cannot be negative."),
    ({"costs": "-1"}, "Costs cannot be negative."),
    ({"revenue": "abc"}, "Enter a number such as 1234.56."),
    ({"period": "2024-10-01"}, "outside the agreement, in force from 2025-01-01."),
    ({"period": "2025-02-01"}, "does not start a reporting period"),
    ({"period": "not-a-date"}, "Choose the period to report."),
    ({"attachment": (b"MZ\x90\x00 an executable", "statement.pdf")}, "Attach a PDF, JPEG, PNG or XLSX file."),
])
def test_bad_filings_show_their_message_and_write_nothing(client, login, app_ctx, setup, uploads, values, message):
    login("finance")
    if "attachment" in values:  # a fresh stream per run (parameters are shared by both databases)
        data, name = values["attachment"]
        values = values | {"attachment": (io.BytesIO(data), name)}
    before = counts(app_ctx)
    response = _file(client, setup.canteen, **values)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert counts(app_ctx) == before
    assert not uploads.exists() or not any(uploads.iterdir())


def test_a_period_already_reported_is_refused_on_the_page(client, login, app_ctx, setup):
    login("finance")
    assert _file(client, setup.canteen).status_code == 302
    page = client.get(f"/enterprises/{setup.canteen}/reports/new").get_data(as_text=True)
    assert 'value="2025-01-01"' not in page  # no longer offered
    before = counts(app_ctx)
    again = _file(client, setup.canteen, revenue="1")
    assert "Period 2025-Q1 is already reported and waits for confirmation." in again.get_data(as_text=True)
    assert counts(app_ctx) == before


def test_amend_through_the_pages_posts_the_difference(client, login, app_ctx, setup):
    login("finance")
    _file(client, setup.laundry, revenue="80000", costs="60000")  # profit 20,000 × 20 % = 4,000
    rid = report_id(app_ctx, setup.laundry)
    client.post(f"/enterprises/revisions/{_pending(app_ctx, rid)}/confirm", data={"effective_date": "2025-04-20"})
    form = client.get(f"/enterprises/reports/{rid}/amend").get_data(as_text=True)
    assert 'value="80000.00"' in form
    data = {"key": hidden_key(form), "revenue": "80000", "costs": "55000", "profit": "", "reason": "成本多记了5000"}
    assert client.post(f"/enterprises/reports/{rid}/amend", data=data).status_code == 302
    page = client.get(f"/enterprises/reports/{rid}").get_data(as_text=True)
    assert "Amendment 1" in page and "成本多记了5000" in page and "5,000.00" in page
    client.post(f"/enterprises/revisions/{_pending(app_ctx, rid)}/confirm", data={"effective_date": "2025-05-01"})
    with app_ctx() as s:
        report = s.get(RevenueReport, rid)
        assert report.share_due == D("5000.00")
        entry = s.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == f"enterprise-share:{rid}:2"))
        assert lines_of(entry) == [("1121", "COMM", "unrestricted", D("1000.00")),
                                   ("4601", "COMM", "unrestricted", D("-1000.00"))]


def test_reject_needs_a_reason_and_frees_the_period(client, login, app_ctx, setup):
    login("finance")
    _file(client, setup.canteen)
    rid = report_id(app_ctx, setup.canteen)
    revision = _pending(app_ctx, rid)
    before = counts(app_ctx)
    empty = client.post(f"/enterprises/revisions/{revision}/reject", data={"reason": ""})
    assert empty.status_code == 200 and "Say why the report is rejected." in empty.get_data(as_text=True)
    assert counts(app_ctx) == before
    assert client.post(f"/enterprises/revisions/{revision}/reject", data={"reason": "缺少报表"}).status_code == 302
    page = client.get(f"/enterprises/reports/{rid}").get_data(as_text=True)
    assert "Rejected: 缺少报表" in page and "File again" in page
    assert _file(client, setup.canteen, revenue="1000").status_code == 302
    with app_ctx() as s:
        assert [r.status for r in s.get(RevenueReport, rid).revisions] == ["rejected", "pending"]


def test_confirming_twice_or_too_early_shows_the_reason(client, login, app_ctx, setup):
    login("finance")
    _file(client, setup.canteen)
    rid = report_id(app_ctx, setup.canteen)
    revision = _pending(app_ctx, rid)
    early = client.post(f"/enterprises/revisions/{revision}/confirm", data={"effective_date": "2025-03-01"})
    assert early.status_code == 200 and "before the period ends (2025-03-31)" in early.get_data(as_text=True)
    client.post(f"/enterprises/revisions/{revision}/confirm", data={"effective_date": "2025-04-20"})
    before = counts(app_ctx)
    twice = client.post(f"/enterprises/revisions/{revision}/confirm", data={"effective_date": "2025-04-20"})
    assert "This report was already confirmed." in twice.get_data(as_text=True)
    assert counts(app_ctx) == before


def test_reverse_a_payment_after_a_confirmation_step(client, login, app_ctx, setup):
    login("finance")
    _file(client, setup.canteen, revenue="10000")
    rid = report_id(app_ctx, setup.canteen)
    client.post(f"/enterprises/revisions/{_pending(app_ctx, rid)}/confirm", data={"effective_date": "2025-04-20"})
    _pay(client, rid, "500")
    with app_ctx() as s:
        payment_id = s.scalar(select(EnterprisePayment.id))
    page = client.get(f"/enterprises/payments/{payment_id}/reverse").get_data(as_text=True)
    assert "data-confirm" in page
    response = client.post(f"/enterprises/payments/{payment_id}/reverse",
                           data={"reason": "银行退回", "effective_date": dt.date.today().isoformat()})
    assert response.status_code == 302
    with app_ctx() as s:
        report = s.get(RevenueReport, rid)
        assert (report.paid_amount, report.outstanding) == (D("0.00"), D("500.00"))
    timeline = client.get(f"/enterprises/{setup.canteen}").get_data(as_text=True)
    assert "Payment reversed: 银行退回" in timeline
