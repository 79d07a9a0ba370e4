"""Load bench of concurrent writes on PostgreSQL: N worker processes post at once, through the services.

    .venv/bin/python bench/load_writes.py                      # 8 workers x 25 rounds on a fresh database
    .venv/bin/python bench/load_writes.py --workers 16 --rounds 50

Each round of a worker is four transactions, each committed on its own:
    gift       record a donation and issue its receipt (record_donation(issue=True): entry + receipt number)
    posting    a manual two-line journal entry (post_entry)
    approval   a staff approval of a grant application (record_decision: award + payable entry); every
               application is tried by TWO workers at once: exactly one must win, the other is refused
    receipt    issue the receipt of a gift recorded without one (issue_receipt); every gift is tried by TWO
               workers: exactly one receipt per gift
Workers are separate processes (own app, own connection pool) released together once all are ready. Afterwards
the bench checks that nothing was lost or doubled (entries, donations, awards, receipts counted against the
successes), that receipt numbers are unique and gapless per year, and that `verify_ledger` and
`verify_donations` find nothing; then it prints throughput and latency per operation. Exits 1 on any failure.

The web layer is not in the loop (sign-in with two factors is being reworked); every service call here is the
one the form's view makes, in the same kind of transaction.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from ledger_db import empty_pg_database  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DATABASE = "fundapp_bench_load_writes"
KINDS = ("gift", "posting", "approval", "receipt")
MARK = "LOAD-JSON "


def make_app(url: str):
    from config import TestingConfig
    from fundapp import create_app

    values = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    return create_app({**values, "TESTING": False, "SQLALCHEMY_DATABASE_URI": url, "LANGUAGES": ("en", "zh_CN"),
                       "GRANT_STAFF_APPROVAL_LIMIT": "999999999",
                       "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 2}})


def fresh_database() -> str:
    return empty_pg_database(DATABASE, PG_SERVER)


# --- setup (parent) -------------------------------------------------------------------------------------------


def setup(url: str, workers: int, rounds: int) -> dict:
    """Migrate, seed, and create what the workers act on: funds, a donor, applications and unreceipted gifts."""
    from flask_migrate import upgrade

    from fundapp.dates import local_today
    from fundapp.donations.services import DonationInput, record_donation
    from fundapp.extensions import db
    from fundapp.ledger.chart import seed_chart
    from tests.factories import make_fund, make_user
    from tests.grants_builders import funded_fund, make_application, make_programme
    from tests.unit.donations.factories import make_donor

    app = make_app(url)
    shared = workers * rounds // 2  # each item is tried by two workers
    with app.test_request_context(headers={"Accept-Language": "en"}):
        upgrade()
        seed_chart(db.session)
        grants_fund = funded_fund(db.session, "100000000.00")
        programme = make_programme(db.session, grants_fund, budget="100000000.00")
        gifts_fund = make_fund(db.session, "LOAD", name="Load fund")
        donor = make_donor(db.session, "Load Donor", id_code="91350100M000100Y43")
        actor = make_user(db.session, "finance")
        applications = [make_application(db.session, programme, amount="1000.00", status="recommended").id
                        for _ in range(shared)]
        unreceipted = [record_donation(db.session, DonationInput(
            fund=gifts_fund, received_on=local_today(), amount=Decimal("50.00"), method="bank_transfer",
            donor=donor), actor).id for _ in range(shared)]
        db.session.commit()
        ids = {"fund": gifts_fund.id, "donor": donor.id, "actor": actor.id, "applications": applications,
               "unreceipted": unreceipted}
        db.session.remove()
    with app.app_context():
        db.engine.dispose()
    return ids


# --- a worker (child process) ---------------------------------------------------------------------------------


def worker(url: str, index: int, workers: int, rounds: int, ids: dict) -> None:
    from fundapp.dates import local_today
    from fundapp.donations.models import Donation, Donor
    from fundapp.donations.receipts import issue_receipt
    from fundapp.donations.services import DonationInput, record_donation
    from fundapp.errors import DomainError
    from fundapp.extensions import db
    from fundapp.grants.decisions import Count, record_decision
    from fundapp.grants.models import Application
    from fundapp.ledger.models import Fund
    from fundapp.ledger.services import LineSpec, post_entry
    from tests.factories import account

    app = make_app(url)
    mine = [item for n, item in enumerate(zip(ids["applications"], ids["unreceipted"], strict=True))
            if n % workers == index or (n + 1) % workers == index]  # item n: workers n and n-1 (mod N)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from fundapp.auth.models import User

        s = db.session
        actor = s.get(User, ids["actor"])
        s.commit()
        print("READY", flush=True)
        sys.stdin.readline()  # released together

        def gift() -> None:
            fund, donor = s.get(Fund, ids["fund"]), s.get(Donor, ids["donor"])
            record_donation(s, DonationInput(fund=fund, received_on=local_today(), amount=Decimal("10.00"),
                                             method="online", donor=donor), actor, issue=True)

        def posting() -> None:
            fund = s.get(Fund, ids["fund"])
            post_entry(s, effective_date=local_today(), memo="load bench posting", author=actor,
                       idempotency_key=f"load:{uuid.uuid4()}",
                       lines=[LineSpec(account(s, "1002"), fund, Decimal("3.00")),
                              LineSpec(account(s, "4901"), fund, Decimal("-3.00"))])

        def approval(application_id: int) -> None:
            record_decision(s, s.get(Application, application_id), kind="staff", outcome="approved",
                            amount=Decimal("1000.00"), actor=actor, count=Count())

        def receipt(donation_id: int) -> None:
            issue_receipt(s, s.get(Donation, donation_id), actor)

        results: dict[str, dict] = {k: {"ok": 0, "refused": 0, "errors": [], "ms": []} for k in KINDS}

        def timed(kind: str, call, *args) -> None:
            started = time.perf_counter()
            try:
                call(*args)
                s.commit()
                results[kind]["ok"] += 1
            except DomainError:
                s.rollback()
                results[kind]["refused"] += 1
            except Exception:  # noqa: BLE001 - reported: any such error fails the bench
                s.rollback()
                results[kind]["errors"].append(traceback.format_exc(limit=3)[-600:])
            results[kind]["ms"].append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        for n in range(rounds):
            timed("gift", gift)
            timed("posting", posting)
            if n < len(mine):
                timed("approval", approval, mine[n][0])
                timed("receipt", receipt, mine[n][1])
        results["seconds"] = time.perf_counter() - started
        s.remove()
    print(MARK + json.dumps(results), flush=True)


# --- checks and figures (parent) ------------------------------------------------------------------------------


def check(url: str, ids: dict, totals: dict, before: dict) -> list[str]:
    from sqlalchemy import func, select

    from fundapp.donations.checks import verify_donations
    from fundapp.donations.models import Receipt
    from fundapp.extensions import db
    from fundapp.ledger.invariants import verify_ledger

    app = make_app(url)
    failures: list[str] = []
    with app.test_request_context():
        s = db.session
        now = counts(s)
        expected = {
            "entries": before["entries"] + totals["gift"]["ok"] + totals["posting"]["ok"] + totals["approval"]["ok"],
            "donations": before["donations"] + totals["gift"]["ok"],
            "receipts": before["receipts"] + totals["gift"]["ok"] + totals["receipt"]["ok"],
            "awards": before["awards"] + totals["approval"]["ok"],
        }
        for name, value in expected.items():
            if now[name] != value:
                failures.append(f"{name}: {now[name]} in the database, {value} expected from the successes")
        shared = len(ids["applications"])
        for kind in ("approval", "receipt"):
            if totals[kind]["ok"] != shared:
                failures.append(f"{kind}: {totals[kind]['ok']} succeeded for {shared} items each tried twice")
        valid_per_gift = s.execute(select(Receipt.donation_id).where(Receipt.void_at.is_(None))
                                   .group_by(Receipt.donation_id).having(func.count() > 1)).all()
        if valid_per_gift:
            failures.append(f"gifts with two valid receipts: {valid_per_gift[:5]}")
        failures += [f"ledger: {p}" for p in verify_ledger(s)]
        # receipt numbers unique (a UNIQUE constraint) and gapless per year: verify_donations' receipt_problems
        failures += [f"donations: {p}" for p in verify_donations(s)]
        s.remove()
    with app.app_context():
        db.engine.dispose()
    return failures


def counts(s) -> dict[str, int]:
    from sqlalchemy import func, select

    from fundapp.donations.models import Donation, Receipt
    from fundapp.grants.models import Award
    from fundapp.ledger.models import JournalEntry

    return {name: s.scalar(select(func.count()).select_from(model)) for name, model in (
        ("entries", JournalEntry), ("donations", Donation), ("receipts", Receipt), ("awards", Award))}


def counts_now(url: str) -> dict[str, int]:
    from fundapp.extensions import db

    app = make_app(url)
    with app.app_context():
        found = counts(db.session)
        db.session.remove()
        db.engine.dispose()
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def figures(totals: dict, wall: float) -> str:
    rows = ["| operation | ok | refused | errors | ops/s | p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    every = []
    for kind in KINDS:
        t = totals[kind]
        every += t["ms"]
        if not t["ms"]:
            continue
        rows.append(f"| {kind} | {t['ok']} | {t['refused']} | {len(t['errors'])} | {len(t['ms']) / wall:.1f} | "
                    f"{statistics.median(t['ms']):.1f} | {percentile(t['ms'], .95):.1f} | "
                    f"{percentile(t['ms'], .99):.1f} | {max(t['ms']):.1f} |")
    rows.append(f"| all | {sum(totals[k]['ok'] for k in KINDS)} | {sum(totals[k]['refused'] for k in KINDS)} | "
                f"{sum(len(totals[k]['errors']) for k in KINDS)} | {len(every) / wall:.1f} | "
                f"{statistics.median(every):.1f} | {percentile(every, .95):.1f} | {percentile(every, .99):.1f} | "
                f"{max(every):.1f} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--worker", nargs=3, metavar=("URL", "INDEX", "IDS_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        url, index, ids_file = args.worker
        worker(url, int(index), args.workers, args.rounds, json.loads(Path(ids_file).read_text()))
        return 0

    url = fresh_database()
    print(f"setting up {DATABASE} ...", flush=True)
    ids = setup(url, args.workers, args.rounds)
    before = counts_now(url)
    with tempfile.TemporaryDirectory() as folder:
        ids_file = Path(folder) / "ids.json"
        ids_file.write_text(json.dumps(ids))
        env = {**os.environ, "HUEY_IMMEDIATE": "1", "MAIL_OUTBOX_DIR": str(Path(folder) / "outbox")}
        procs = [subprocess.Popen([sys.executable, __file__, "--workers", str(args.workers), "--rounds",
                                   str(args.rounds), "--worker", url, str(n), str(ids_file)], cwd=ROOT, env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for n in range(args.workers)]
        for proc in procs:
            line = proc.stdout.readline()
            if line.strip() != "READY":
                print(f"a worker did not start: {line}", file=sys.stderr)
                return 1
        started = time.perf_counter()
        for proc in procs:
            proc.stdin.write("GO\n")
            proc.stdin.flush()
        outputs = [proc.communicate()[0] for proc in procs]
        wall = time.perf_counter() - started
    totals = {k: {"ok": 0, "refused": 0, "errors": [], "ms": []} for k in KINDS}
    for output in outputs:
        data = json.loads(next(line for line in output.splitlines() if line.startswith(MARK))[len(MARK):])
        for kind in KINDS:
            for key in ("ok", "refused", "errors", "ms"):
                totals[kind][key] += data[kind][key]
    failures = check(url, ids, totals, before)
    failures += [f"{kind} error: {e}" for kind in KINDS for e in totals[kind]["errors"][:3]]
    print(f"\n{args.workers} worker processes x {args.rounds} rounds on PostgreSQL, {wall:.1f} s wall "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)\n")
    print(figures(totals, wall))
    if failures:
        print("\nFAILED:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    print("\nok: nothing lost or doubled, receipt numbers unique and gapless, ledger and donations verify")
    return 0


if __name__ == "__main__":
    sys.exit(main())
