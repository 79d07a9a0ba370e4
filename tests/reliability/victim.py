"""The process the crash tests kill: it runs a real import or a real batch posting against a database file or a
PostgreSQL database and, half-way, prints what its open transaction has written and waits to be killed.

    python -m tests.reliability.victim import URL IMPORT_FOLDER BATCH_ID
    python -m tests.reliability.victim post URL FUND_CODE COUNT

"import" runs the donation import task (`fundapp.donations.tasks._import`) on a batch the test created, checked
and started as the upload page does, posting in chunks of CHUNK rows; after the second chunk it stops. "post"
posts COUNT entries with `post_entry_batch` and stops after the entries and lines are written, before the balance
rows and the chain head are. Stopping means printing one line

    FLUSHED entries=<n> donations=<n> balances=<n>

counted inside the open transaction (so the test can prove the kill came mid-way) and sleeping until SIGKILL.
"""

from __future__ import annotations

import sys
import time
import uuid
from decimal import Decimal

from sqlalchemy import func, select

CHUNK = 500
WAIT_SECONDS = 60


def _stop_here() -> None:
    from fundapp.donations.models import Donation
    from fundapp.extensions import db
    from fundapp.ledger.models import JournalEntry, PeriodBalance

    s = db.session
    counts = [s.scalar(select(func.count()).select_from(model)) for model in (JournalEntry, Donation, PeriodBalance)]
    print("FLUSHED entries={} donations={} balances={}".format(*counts), flush=True)
    time.sleep(WAIT_SECONDS)
    print("NOT KILLED", flush=True)
    sys.exit(3)


def run_import(batch_id: int) -> None:
    from fundapp.donations import tasks
    from fundapp.donations.imports import posting

    posting.CHUNK = CHUNK

    def reporter(_batch_id: int):
        def report(phase: str, done: int, total: int) -> None:
            if phase == "importing" and done >= 2 * CHUNK and done < total:
                _stop_here()

        return report

    tasks._reporter = reporter
    tasks._import(batch_id, None)


def run_post(fund_code: str, count: int) -> None:
    from fundapp.dates import local_today
    from fundapp.extensions import db
    from fundapp.ledger import batch
    from fundapp.ledger.models import Fund
    from fundapp.ledger.services import EntryDraft, LineSpec
    from tests.factories import account

    real_upsert = batch.upsert_balances

    def upsert_then_stop(connection, rows):
        _stop_here()
        real_upsert(connection, rows)

    batch.upsert_balances = upsert_then_stop
    fund = db.session.scalar(select(Fund).where(Fund.code == fund_code))
    bank, income = account(db.session, "1002"), account(db.session, "4101")
    run = uuid.uuid4().hex[:8]
    drafts = [EntryDraft(effective_date=local_today(), memo=f"crash test {n}", idempotency_key=f"crash:{run}:{n}",
                         lines=[LineSpec(bank, fund, Decimal("1.00")), LineSpec(income, fund, Decimal("-1.00"))])
              for n in range(count)]
    batch.post_entry_batch(db.session, drafts)
    db.session.commit()


def main(argv: list[str]) -> None:
    from tests.reliability.helpers import bare_app

    mode, url = argv[0], argv[1]
    overrides = {"IMPORT_FOLDER": argv[2]} if mode == "import" else {}
    app = bare_app(url, **overrides)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        if mode == "import":
            run_import(int(argv[3]))
        else:
            run_post(argv[2], int(argv[3]))
    print("FINISHED", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
