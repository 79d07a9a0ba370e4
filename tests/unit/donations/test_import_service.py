"""Importing donations (service level): the postings, all-or-nothing, idempotent re-import, every problem listed."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.donations.checks import verify_donations
from fundapp.donations.imports.batches import import_file
from fundapp.donations.models import Donation
from fundapp.donations.services import ledger_reference
from fundapp.ledger.batch import post_entry_batch
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import JournalEntry, LedgerHead
from fundapp.ledger.periods import close_period
from fundapp.ledger.services import EntryDraft, LineSpec
from tests.factories import account, make_fund, post
from tests.unit.donations.factories import gift, lines_of, make_donor

D = Decimal
HEADER = "date,donor,amount,fund,method,restricted,purpose,reference,anonymous"


@pytest.fixture()
def books(session):
    gen = make_fund(session, "GEN", name="综合基金")
    prj = make_fund(session, "PRJ", restricted=True, fund_type="project", name="社区图书馆基金")
    zhang = make_donor(session, "张三丰", id_code="11010519491231002X")
    li = make_donor(session, "李四")
    return {"gen": gen, "prj": prj, "zhang": zhang, "li": li}


def csv(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return "\n".join([header, *rows]).encode(encoding)


def counts(session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(model)) for model in (JournalEntry, Donation,
                                                                                       AuditEvent))


def run(session, data: bytes, **kwargs):
    return import_file(session, data, None, source="test", **kwargs)


def test_each_row_posts_the_entry_a_recorded_gift_posts(session, books):
    result = run(session, csv("2026-01-05,张三丰,\"1,234.50\",GEN,银行转账,,,TX-1,",
                              "2026/1/6,11010519491231002X,¥200,PRJ,网上支付,,图书,TX-2,",
                              "2026年1月7日,李四,５０,GEN,现金,是,助学,TX-3,"))
    assert result.posted == 3 and result.plan.problems == []
    by_key = {d.key: d for d in session.scalars(select(Donation))}
    first, second, third = by_key["import:TX-1"], by_key["import:TX-2"], by_key["import:TX-3"]
    assert lines_of(first.entry) == [("1002", "GEN", "unrestricted", D("1234.50")),
                                     ("4101", "GEN", "unrestricted", D("-1234.50"))]
    assert lines_of(second.entry) == [("1009", "PRJ", "restricted", D("200.00")),
                                      ("4101", "PRJ", "restricted", D("-200.00"))]
    assert lines_of(third.entry) == [("1001", "GEN", "restricted", D("50.00")),
                                     ("4101", "GEN", "restricted", D("-50.00"))]
    assert (first.donor, second.donor, third.donor) == (books["zhang"], books["zhang"], books["li"])
    assert (first.reference, first.received_on, third.purpose) == ("TX-1", dt.date(2026, 1, 5), "助学")
    assert first.entry.idempotency_key == f"donation:{ledger_reference('import:TX-1')}"
    assert first.entry.source_type == "donation"
    assert "TX-1" not in first.entry.idempotency_key + first.entry.memo + first.entry.source_id  # published ledger
    tags = list(session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))
    assert tags.count("donations:donation:recorded") == 3 and tags.count("ledger:entry:posted") == 3
    assert tags[-1] == "donations:import:posted"
    assert verify_ledger(session) == [] and verify_donations(session) == []


def test_a_broken_row_in_the_middle_writes_nothing(session, books):
    before = counts(session)
    rows = [f"2026-01-0{n},张三丰,100,GEN,cash,,,TX-{n}," for n in range(1, 6)]
    rows[2] = "2026-01-03,张三丰,12.345,GEN,cash,,,TX-3,"
    result = run(session, csv(*rows))
    assert result.posted is None
    assert [(p.row, p.column) for p in result.plan.problems] == [(4, "amount")]
    assert counts(session) == before


def test_importing_the_same_file_twice_posts_nothing_the_second_time(session, books):
    data = csv("2026-01-05,张三丰,100,GEN,cash,,,TX-1,", "2026-01-06,李四,200,PRJ,cash,,,TX-2,")
    assert run(session, data).posted == 2
    head, before = session.get(LedgerHead, 1).seq, counts(session)
    again = run(session, data)
    assert again.posted == 0 and again.plan.skipped and len(again.plan.skipped) == 2 and again.plan.new == []
    assert counts(session) == before and session.get(LedgerHead, 1).seq == head
    changed = run(session, csv("2026-01-05,张三丰,101,GEN,cash,,,TX-1,", "2026-01-07,李四,5,GEN,cash,,,TX-3,"))
    assert changed.posted is None and [(p.row, p.column) for p in changed.plan.problems] == [(2, "reference")]
    assert "imported before" in changed.plan.problems[0].message and counts(session) == before


def test_every_problem_is_listed_with_its_row_number(session, books):
    gift(session, books["gen"], "10.00", donor=books["li"], reference="BANK-9")
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    result = run(session, csv(
        "2026-01-05,张三丰,100,NOPE,cash,,,R2,",       # 2 unknown fund
        "2026-01-05,张三丰,abc,GEN,cash,,,R3,",        # 3 bad amount
        "05/01/2026,张三丰,100,GEN,cash,,,R4,",        # 4 ambiguous date
        "2026-01-05,,100,GEN,cash,,,R5,",              # 5 missing donor
        "2026-01-05,王五,100,GEN,cash,,,R6,",          # 6 unknown donor
        "2026-01-05,张三丰,100,GEN,cash,,,R2,",        # 7 reference also on row 2
        "2026-01-05,李四,10,GEN,cash,,,BANK-9,",       # 8 already recorded (same bank reference)
        f"{future},张三丰,100,GEN,cash,,,R9,",         # 9 in the future
        "2026-01-05,张三丰,100,PRJ,cash,否,,R10,",      # 10 unrestricted gift to a restricted fund
        "2026-13-01,张三丰,-5,GEN,cheque,,,R11,",      # 11 three problems in one row
        "2026-01-05,#999999,100,GEN,cash,,,R12,",      # 12 no such donor number
        "2026-01-05,张三丰,100,GEN,cash,,,,",          # 13 no reference
        "2026-01-05,张三丰,100,GEN,实物,,,R14,",        # 14 in kind
    ))
    assert result.posted is None and result.plan.new == []
    found = {(p.row, p.column) for p in result.plan.problems}
    assert found == {(2, "fund"), (3, "amount"), (4, "date"), (5, "donor"), (6, "donor"), (7, "reference"),
                     (8, "reference"), (9, ""), (10, ""), (11, "date"), (11, "amount"), (11, "method"), (12, "donor"),
                     (13, "reference"), (14, "method")}
    messages = {p.row: p.message for p in result.plan.problems}
    assert "There is no fund NOPE." == messages[2] and "row 2" in messages[7] and "#" in messages[8]
    assert "future" in messages[9] and "restricted" in messages[10] and "王五" in messages[6]


def test_anonymous_gifts_and_donors_who_ask_for_it(session, books):
    result = run(session, csv("2026-01-05,,100,GEN,cash,,,A-1,是", "2026-01-05,李四,100,GEN,cash,,,A-2,yes"))
    assert result.posted == 2
    anonymous = session.scalar(select(Donation).where(Donation.key == "import:A-1"))
    assert anonymous.donor is None
    session.refresh(books["li"])
    assert books["li"].anonymous_in_public is True


def test_rows_in_a_closed_period_are_problems(session, books):
    post(session, books["gen"], "1.00", date=dt.date(2026, 1, 10))
    close_period(session, 2026, 1, None)
    result = run(session, csv("2026-01-31,李四,5,GEN,cash,,,C-1,", "2026-02-01,李四,5,GEN,cash,,,C-2,"))
    assert [(p.row, p.column) for p in result.plan.problems] == [(2, "date")]


def test_gb18030_file_with_chinese_headers(session, books):
    data = csv("2026年1月5日,张三丰,\"１，０００．００\",PRJ,银行转账,是,图书,流水-1,否",
               header="日期,捐赠人,金额,基金编号,方式,是否限定,用途,流水号,匿名", encoding="gb18030")
    assert run(session, data).posted == 1
    donation = session.scalar(select(Donation).where(Donation.key == "import:流水-1"))
    assert (donation.amount, donation.donor.name, donation.purpose) == (D("1000.00"), "张三丰", "图书")


def test_xlsx_file_with_typed_cells(session, books):
    book = openpyxl.Workbook()
    book.active.append(HEADER.split(","))
    book.active.append([dt.datetime(2026, 1, 5), "李四", 88.8, "GEN", "cash", False, None, 2026010500001, None])
    book.active.append(["2026/1/6", "张三丰", "1,000", "gen", "现金", None, None, "X-2", None])
    buffer = io.BytesIO()
    book.save(buffer)
    assert run(session, buffer.getvalue()).posted == 2
    first = session.scalar(select(Donation).where(Donation.key == "import:2026010500001"))
    assert (first.amount, first.received_on, first.net_asset_class) == (D("88.80"), dt.date(2026, 1, 5), "unrestricted")


def test_check_only_writes_nothing(session, books):
    before = counts(session)
    result = run(session, csv("2026-01-05,李四,5,GEN,cash,,,K-1,"), check_only=True)
    assert result.posted is None and len(result.plan.new) == 1 and counts(session) == before


def test_bulk_posting_path_continues_the_chain_and_is_idempotent(session, books):
    gen, bank, income = books["gen"], account(session, "1002"), account(session, "4101")
    post(session, gen, "1.00")

    def draft(n: int) -> EntryDraft:
        return EntryDraft(effective_date=dt.date(2026, 2, 1), memo=f"bulk {n}", idempotency_key=f"bulk-test:{n}",
                          lines=[LineSpec(bank, gen, D("2.00")), LineSpec(income, gen, D("-2.00"))])

    ids = post_entry_batch(session, [draft(n) for n in range(3)])
    assert post_entry_batch(session, [draft(n) for n in range(3)]) == ids
    post(session, gen, "3.00")
    assert verify_ledger(session) == []
    audited = select(func.count()).select_from(AuditEvent).where(AuditEvent.subject_type == "journal_entry")
    assert session.scalar(audited) == 5
