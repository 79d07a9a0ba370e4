"""Benchmark the donation import: a generated file of N rows into a fresh database, checked and posted.

    .venv/bin/python bench/import_donations.py                         # PostgreSQL, 100,000 rows
    .venv/bin/python bench/import_donations.py --rows 10000 --backend sqlite
    .venv/bin/python bench/import_donations.py --format xlsx --rows 20000

The target (issue 4): 100,000 rows in under 30 seconds on PostgreSQL, from reading the file to the commit. The
file mixes the messy spellings the importer accepts (1,234.50, ¥1234.5, full-width digits, 2026/1/5, 2026年1月5日,
Chinese headers, GB18030 with --encoding gb18030). Then the same file is imported a second time (it must post
nothing) and `flask ledger verify`'s checks run. Prints the figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import random
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HEADER = ["日期", "捐赠人", "金额", "基金编号", "方式", "是否限定", "用途", "流水号", "匿名"]
FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def fresh_url(backend: str, folder: Path) -> str:
    if backend == "sqlite":
        path = folder / "bench_import.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text('DROP DATABASE IF EXISTS "fundapp_bench_import" WITH (FORCE)'))
        conn.execute(sa.text('CREATE DATABASE "fundapp_bench_import"'))
    admin.dispose()
    return sa.make_url(PG_SERVER).set(database="fundapp_bench_import").render_as_string(hide_password=False)


def messy_amount(rng: random.Random, cents: int) -> str:
    text = f"{cents // 100}.{cents % 100:02d}"
    style = rng.randrange(4)
    if style == 1:
        return f"{cents // 100:,}.{cents % 100:02d}"
    if style == 2:
        return "¥" + text.rstrip("0").rstrip(".")
    if style == 3:
        return text.translate(FULL_WIDTH)
    return text


def messy_date(rng: random.Random, day: dt.date) -> str:
    spellings = (day.isoformat(), f"{day.year}/{day.month}/{day.day}", f"{day.year}年{day.month}月{day.day}日")
    return spellings[rng.randrange(3)]


def make_rows(count: int, donors: list[str], seed: int = 1) -> list[list[str]]:
    rng = random.Random(seed)
    start = dt.date(2026, 1, 1)
    rows = []
    for number in range(count):
        day = start + dt.timedelta(days=number * 300 // count)
        fund = ("GEN", "PRJ", "EDU")[number % 3]
        restricted = "" if fund != "GEN" else ("否" if number % 2 else "")
        amount = messy_amount(rng, rng.randrange(100, 5_000_000))
        rows.append([messy_date(rng, day), donors[number % len(donors)], amount, fund,
                     ("银行转账", "网上支付", "现金")[number % 3], restricted, "", f"BANK-{seed}-{number:08d}", ""])
    return rows


def write_file(rows: list[list[str]], kind: str, encoding: str) -> bytes:
    if kind == "xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def setup_books(session, donor_count: int) -> list[str]:
    from fundapp.donations.models import Donor
    from fundapp.funds.services import create_fund
    from fundapp.ledger.batch import insert_rows
    from fundapp.ledger.chart import seed_chart

    seed_chart(session)
    create_fund(session, {"code": "GEN", "name": "综合基金", "fund_type": "general"}, None)
    create_fund(session, {"code": "PRJ", "name": "社区图书馆基金", "fund_type": "project", "restriction": "restricted"},
                None)
    create_fund(session, {"code": "EDU", "name": "助学专项基金", "fund_type": "named", "restriction": "restricted"},
                None)
    now = dt.datetime.now(dt.UTC)
    names = [f"捐赠人{number:05d}" for number in range(donor_count)]
    insert_rows(session, Donor.__table__, [
        {"kind": "person", "name": name, "id_code": "", "contact_person": "", "phone": "", "email": "", "address": "",
         "anonymous_in_public": False, "notes": "", "created_at": now, "updated_at": now} for name in names])
    session.commit()
    return names


def timed(label: str, figures: dict, function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    figures[label] = time.perf_counter() - started
    return result


def run_import(session, data: bytes, figures: dict) -> tuple[int, int, int]:
    from flask import current_app

    from fundapp.donations.imports.checking import check_sheet
    from fundapp.donations.imports.posting import post_plan
    from fundapp.donations.imports.reading import open_sheet

    sheet = timed("read", figures, open_sheet, data, current_app.config["IMPORT_MAX_ROWS"])
    plan = timed("check", figures, check_sheet, session, sheet)
    if plan.problems:
        raise SystemExit(f"{len(plan.problems)} problems, first: {plan.problems[:3]}")
    posted = timed("post", figures, post_plan, session, plan, None, source="bench") if plan.new else 0
    timed("commit", figures, session.commit)
    return posted, len(plan.skipped), plan.total_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--encoding", choices=("utf-8", "utf-8-sig", "gb18030"), default="utf-8-sig")
    parser.add_argument("--donors", type=int, default=5000)
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HUEY_IMMEDIATE", "1")

    from flask_migrate import upgrade

    from fundapp import create_app
    from fundapp.extensions import db
    from fundapp.ledger.invariants import verify_ledger

    url = fresh_url(args.backend, args.dir)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "IMPORT_MAX_ROWS": max(args.rows, 200_000)})
    with app.app_context():
        upgrade()
        donors = setup_books(db.session, args.donors)
    data = write_file(make_rows(args.rows, donors), args.format, args.encoding)
    print(f"{args.backend}, {args.rows:,} rows, {args.format} {'' if args.format == 'xlsx' else args.encoding} "
          f"({len(data) / 2**20:.1f} MB)")
    for attempt in ("first import", "second import"):
        figures: dict[str, float] = {}
        with app.app_context():
            started = time.perf_counter()
            posted, skipped, total = run_import(db.session, data, figures)
            elapsed = time.perf_counter() - started
        steps = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in figures.items())
        print(f"  {attempt}: {elapsed:.2f} s for {total:,} rows ({total / elapsed:,.0f} rows/s): posted {posted:,}, "
              f"skipped {skipped:,} [{steps}]")
    with app.app_context():
        started = time.perf_counter()
        problems = verify_ledger(db.session)
        print(f"  ledger verify: {len(problems)} problems ({time.perf_counter() - started:.2f} s)")
        db.engine.dispose()


if __name__ == "__main__":
    main()
