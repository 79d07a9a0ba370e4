"""Concurrent writes THROUGH HTTP: gunicorn with several workers on PostgreSQL, N client processes signing in
with two factors and posting the real forms at once (issue 9, last item).

    .venv/bin/python bench/load_http.py --seconds 20 --clients 8     # about 2 minutes with the setup
    .venv/bin/python bench/load_http.py --seconds 60 --clients 12 --keep --no-write

A fresh database fundapp_bench_load_http (dropped first, and at the end unless --keep) is migrated, gets the chart
and the demo foundation (`flask demo load`), then, through the services: one user per client (finance, and two
board members: the demo's board members are disabled so that these two are the whole board), each with an
authenticator enrolled (pyotp computes the codes), a donor and a fund to give to, an open board agenda whose items
both board clients vote on, and grant payments above the second-approval limit waiting for a checker.

gunicorn (gunicorn.conf.py: gthread, reuse_port; `--workers 4` here; FUNDAPP_ENV=production) serves it on a free
port. Each client process (multiprocessing, a requests session with its own cookie jar) signs in through the login
page and the two-factor page, then for --seconds, released together with the others:
    finance   record a donation through /donations/new (the form's own submission key) with its receipt; record
              one without a receipt and issue the receipt from the donation's page; post a two-line manual entry
              through /ledger/entries/new (the form's idempotency key); approve a grant payment. Every fourth
              donation, receipt and entry is submitted TWICE AT ONCE (a double click: two connections, same
              session); every payment is approved by two finance clients at once.
    board     vote on every agenda item (the choice, then the confirmation page's confirmed POST) at the same time
              as the other board member; the last vote decides the item; every third vote is double-submitted.
Every form is fetched first (its CSRF token and keys are read from the HTML) and every redirect is followed, as a
browser does. Afterwards, over SQL: every write answered with a redirect exists exactly once (donations and
entries by their keys, one valid receipt per donation, one posting per payment), nothing was written for a refused
one, receipt numbers are unique and gapless per year, each item got one vote per member and exactly one decision,
`verify_ledger` and `verify_donations` find nothing. Any 5xx answer or client exception fails the run (exit 1).

Prints requests/s and p50/p99 latency per kind (each POST on its own; the GETs of forms and redirect targets
together as "page") and appends the table to bench/results/<date>.md. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import contextlib
import html.parser
import multiprocessing
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ledger_db  # noqa: E402
from common import PG_SERVER, ROOT, Report, child_env, command_line, percentile, run_child  # noqa: E402
from ledger_db import empty_pg_database, pg_url  # noqa: E402
from public_pages import APP_SPEC, GUNICORN, START_TIMEOUT, fetch, free_port  # noqa: E402

DATABASE = "fundapp_bench_load_http"
PASSWORD = "load-http-bench-2026!"
BOARD_CLIENTS = 2
WORKERS = 4
THREADS = 4
KINDS = ("sign-in", "page", "donation", "receipt", "entry", "payment approval", "vote step 1", "vote")
TIMEOUT = 60  # seconds for one request


# --- forms in HTML ----------------------------------------------------------------------------------------------


class _Forms(html.parser.HTMLParser):
    """Every <form>: its action, method and the values a browser would send (submit buttons left out)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                          "fields": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form["fields"][a["name"]] = a.get("value") or ("y" if kind == "checkbox" else "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select:
            fields = self._form["fields"]
            if self._select not in fields or "selected" in a:
                fields[self._select] = a.get("value") or ""
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(page: str) -> list[dict]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def form_for(page: str, action: str, here: str = "") -> dict:
    """The fields of the form posting to a path ending with `action` (a form without an action posts to `here`,
    the page's own path); KeyError if the page has none."""
    for form in forms_of(page):
        if form["method"] == "post" and (form["action"] or here).split("?")[0].endswith(action):
            return dict(form["fields"])
    raise KeyError(f"no form posting to {action} on the page:\n{page[:1500]}")


def messages(page: str) -> list[str]:
    """The error messages a page shows (form errors, field errors, error flashes)."""
    found = re.findall(r'<div class="(?:error|flash flash-error)"[^>]*>(.*?)</div>', page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for text in found]


def option_value(page: str, select_name: str, label_part: str) -> str:
    """The value of the <option> of `select_name` whose label contains `label_part`."""
    block = re.search(rf'<select[^>]*name="{re.escape(select_name)}"[^>]*>(.*?)</select>', page, re.S)
    if block:
        for value, label in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>(.*?)</option>', block.group(1), re.S):
            if label_part in html.unescape(label):
                return value
    raise KeyError(f"no option '{label_part}' in select {select_name}")


# --- setup (parent) ----------------------------------------------------------------------------------------------


def fresh_database() -> str:
    return empty_pg_database(DATABASE)


def drop_database() -> None:
    ledger_db.drop_database(pg_url(PG_SERVER, DATABASE))


def make_app(url: str):
    """The app the setup and the checks use: the bench's SECRET_KEY (receipts' check codes are keyed with it)."""
    from config import TestingConfig
    from fundapp import create_app

    values = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    return create_app({**values, "TESTING": False, "SQLALCHEMY_DATABASE_URI": url, "LANGUAGES": ("en", "zh_CN"),
                       "SECRET_KEY": os.environ["SECRET_KEY"], "GRANT_STAFF_APPROVAL_LIMIT": "999999999",
                       "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 2}})


@contextlib.contextmanager
def gunicorn(url: str, workers: int, threads: int) -> Iterator[str]:
    """gunicorn (gunicorn.conf.py, FUNDAPP_ENV=production) serving the app on a free port; its base URL."""
    port = free_port()
    args = [str(GUNICORN), "--workers", str(workers), "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
            "--log-level", "warning", APP_SPEC]
    log = tempfile.NamedTemporaryFile("w+", prefix="fundapp-load-http-", suffix=".log", delete=False)  # noqa: SIM115
    env = child_env(FUNDAPP_ENV="production", SESSION_COOKIE_SECURE="0", DATABASE_URL=url)
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                log.seek(0)
                sys.exit(f"gunicorn exited ({process.returncode}):\n{log.read()[-4000:]}")
            with contextlib.suppress(OSError):
                if fetch(base + "/auth/login", timeout=5)[0] == 200:
                    break
            if time.monotonic() > deadline:
                sys.exit(f"gunicorn did not answer within {START_TIMEOUT} s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.seek(0)
        tail = [line for line in log.read().splitlines() if "Traceback" in line or "Error" in line]
        if tail:
            print("gunicorn log (errors):\n" + "\n".join(tail[-20:]), file=sys.stderr)
        log.close()
        os.unlink(log.name)


def setup(url: str, clients: int, items: int) -> dict:
    """Migrate, seed the chart, load the demo, then create the users, the agenda and the payments."""
    import datetime as dt
    from decimal import Decimal

    import pyotp
    from flask_migrate import upgrade
    from sqlalchemy import select

    from fundapp.auth.models import User, UserRole
    from fundapp.auth.services import create_user, update_user
    from fundapp.auth.two_factor import confirm_enrolment, start_enrolment
    from fundapp.dates import local_today
    from fundapp.extensions import db
    from fundapp.grants import board
    from fundapp.grants.models import AgendaItem
    from fundapp.ledger.chart import seed_chart
    from tests.factories import account, make_fund
    from tests.grants_award_builders import award_for, pay, schedule
    from tests.grants_builders import funded_fund, make_applicant, make_application, make_programme
    from tests.unit.donations.factories import make_donor

    app = make_app(url)
    with app.app_context():
        upgrade()
        seed_chart(db.session)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    run_child([sys.executable, "-m", "flask", "demo", "load"], env=child_env(DATABASE_URL=url))

    import itertools

    import tests.grants_builders

    tests.grants_builders._counter = itertools.count(90000)  # past the demo's application references
    finance_clients = clients - BOARD_CLIENTS
    with app.test_request_context(headers={"Accept-Language": "en"}):
        s = db.session
        admin = s.scalar(select(User).join(UserRole).where(UserRole.role == "admin").order_by(User.id).limit(1))
        for member in s.scalars(select(User).join(UserRole).where(UserRole.role == "board")).all():
            update_user(s, member, name=member.name, roles=[r.role for r in member.role_rows], enabled=False,
                        actor=admin)  # the bench's two board members are the whole board
        users = []
        for n in range(clients):
            role = "board" if n >= finance_clients else "finance"
            email = f"load-{role}-{n}@bench.example.org"
            user = create_user(s, email, PASSWORD, [role], name=f"Load {role} {n}", actor=admin)
            secret = start_enrolment(s, user).pending_secret
            confirm_enrolment(s, user, pyotp.TOTP(secret).now())
            users.append({"email": email, "secret": secret, "role": role, "id": user.id})
        maker = create_user(s, "load-maker@bench.example.org", PASSWORD, ["finance"], name="Load maker", actor=admin)

        fund = make_fund(s, "LOADHTTP", name="Load over HTTP fund")
        donor = make_donor(s, "Load HTTP Donor", id_code="91350100M000100Y43")
        grants_fund = funded_fund(s, "100000000.00")
        programme = make_programme(s, grants_fund, budget="100000000.00")
        organisation, _grantee = make_applicant(s)
        agenda = board.create_agenda(s, "Load bench agenda", local_today() + dt.timedelta(days=7), None, admin)
        for n in range(items):
            application = make_application(s, programme, organisation, amount="1000.00", status="recommended",
                                           reference=f"LOADHTTP-{n:05d}")
            board.add_item(s, agenda, application, Decimal("1000.00"), "", admin)
        board.open_agenda(s, agenda, admin)
        payments = []
        for _n in range(items):
            award = award_for(s, _CastLike(maker, organisation), "60000.00", fund_amount="200000.00")
            schedule(s, award, "60000.00", reports=False)
            payment = pay(s, award, 1, maker)
            assert payment.status == "awaiting_approval", payment.status
            payments.append({"id": payment.id, "key": payment.key})
        ids = {"users": users, "fund": fund.id, "fund_code": fund.code, "donor": f"#{donor.id}",
               "bank": account(s, "1002").id, "income": account(s, "4901").id, "agenda": agenda.id,
               "items": list(s.scalars(select(AgendaItem.id).where(AgendaItem.agenda_id == agenda.id)
                                       .order_by(AgendaItem.position))), "payments": payments}
        s.commit()
        s.remove()
    with app.app_context():
        db.engine.dispose()
    return ids


class _CastLike:
    def __init__(self, maker, organisation) -> None:
        self.maker, self.checker, self.organisation = maker, None, organisation


def high_water(url: str) -> dict:
    """The last ids before the run: what the clients write comes after."""
    from sqlalchemy import func, select

    from fundapp.donations.models import Donation, Receipt
    from fundapp.extensions import db
    from fundapp.ledger.models import JournalEntry

    app = make_app(url)
    with app.app_context():
        marks = {name: db.session.scalar(select(func.coalesce(func.max(model.id), 0)))
                 for name, model in (("donation", Donation), ("entry", JournalEntry), ("receipt", Receipt))}
        db.session.remove()
        db.engine.dispose()
    return marks


# --- a client (child process) ------------------------------------------------------------------------------------


class Client:
    def __init__(self, base: str, user: dict) -> None:
        import requests

        self.base, self.user = base, user
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "en"
        self.samples: list[tuple[str, int, float]] = []  # (kind, status, ms)
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def _note(self, kind: str, status: int, started: float, what: str) -> None:
        with self.lock:
            self.samples.append((kind, status, (time.perf_counter() - started) * 1000))
            if status >= 500:
                self.errors.append(f"{kind} {what}: HTTP {status}")

    def get(self, path: str, kind: str = "page", http=None):
        started = time.perf_counter()
        response = (http or self.http).get(self.base + path, timeout=TIMEOUT)
        self._note(kind, response.status_code, started, f"GET {path}")
        return response

    def post(self, path: str, data: dict, kind: str, http=None, follow: bool = True):
        """POST; the redirect it answers with is followed as a browser does (timed as a page)."""
        session = http or self.http
        started = time.perf_counter()
        response = session.post(self.base + path, data=data, timeout=TIMEOUT, allow_redirects=False)
        self._note(kind, response.status_code, started, f"POST {path}")
        location = response.headers.get("Location", "")
        if follow and response.status_code in (301, 302, 303) and location:
            target = location.removeprefix(self.base)
            page = self.get(target, http=session)
            return response, location, page
        return response, location, None

    def twice(self, path: str, data: dict, kind: str) -> list:
        """The same POST on two connections at once (a double click): the second on a copy of the session."""
        import requests

        twin = requests.Session()
        twin.headers.update(self.http.headers)
        twin.cookies.update(self.http.cookies)
        results: list = [None, None]

        def run(slot: int, session) -> None:
            try:
                results[slot] = self.post(path, data, kind, http=session)
            except Exception:  # noqa: BLE001 - reported: fails the run
                with self.lock:
                    self.errors.append(f"{kind} double submit: {traceback.format_exc(limit=2)[-400:]}")

        threads = [threading.Thread(target=run, args=(n, session)) for n, session in enumerate((self.http, twin))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [r for r in results if r is not None]

    def sign_in(self) -> None:
        import pyotp

        page = self.get("/auth/login", "sign-in")
        fields = form_for(page.text, "/auth/login", here="/auth/login")
        fields.update(email=self.user["email"], password=PASSWORD)
        response, _location, page = self.post("/auth/login", fields, "sign-in")
        if page is None or "/auth/login/code" not in page.text:
            raise RuntimeError(f"{self.user['email']}: no two-factor step after the password "
                               f"(HTTP {response.status_code}):\n{(page or response).text[:800]}")
        fields = form_for(page.text, "/auth/login/code")
        fields["code"] = pyotp.TOTP(self.user["secret"]).at(time.time() + 30)  # the next step: never used yet
        response, location, _page = self.post("/auth/login/code", fields, "sign-in")
        if response.status_code != 302 or "/auth/login" in location:
            raise RuntimeError(f"{self.user['email']}: the code was refused (HTTP {response.status_code})")


def _id_after(location: str, prefix: str) -> int | None:
    match = re.search(rf"{re.escape(prefix)}(\d+)", location)
    return int(match.group(1)) if match else None


def finance_round(c: Client, ids: dict, n: int, out: dict) -> None:
    """One round of a finance client: a gift with its receipt, a gift then its receipt, an entry."""
    double = n % 4 == 3
    # a donation with its receipt, through the form (its own submission key)
    page = c.get("/donations/new")
    fields = form_for(page.text, "/donations/new", here="/donations/new")
    fields.update(donor=ids["donor"], amount="10.00", method="bank_transfer", issue_receipt="y",
                  fund=option_value(page.text, "fund", ids["fund_code"]), submit="Record donation")
    _record(c, fields, double, out, receipt=True)
    # a donation without a receipt, then its receipt from the donation's page
    page = c.get("/donations/new")
    fields = form_for(page.text, "/donations/new", here="/donations/new")
    fields.update(donor=ids["donor"], amount="20.00", method="online",
                  fund=option_value(page.text, "fund", ids["fund_code"]), submit="Record donation")
    fields.pop("issue_receipt", None)
    donation_id, detail = _record(c, fields, False, out, receipt=False)
    if donation_id is not None and detail is not None:
        action = f"/donations/{donation_id}/receipt"
        form = form_for(detail.text, action)
        answers = c.twice(action, form, "receipt") if n % 4 == 1 else [c.post(action, form, "receipt")]
        if all(a[0].status_code == 302 for a in answers):
            out["receipts"].append(donation_id)
    # a manual journal entry (its idempotency key is the form's)
    page = c.get("/ledger/entries/new")
    fields = form_for(page.text, "/ledger/entries/new", here="/ledger/entries/new")
    fields.update({"memo": f"load over HTTP {uuid.uuid4().hex[:8]}", "lines-0-account": str(ids["bank"]),
                   "lines-0-fund": str(ids["fund"]), "lines-0-debit": "3.00", "lines-1-account": str(ids["income"]),
                   "lines-1-fund": str(ids["fund"]), "lines-1-credit": "3.00", "submit": "Post entry"})
    key = fields["idempotency_key"]
    answers = c.twice("/ledger/entries/new", fields, "entry") if double else [
        c.post("/ledger/entries/new", fields, "entry")]
    for response, location, _page in answers:
        if response.status_code == 302 and "/ledger/entries/" in location:
            out["entries"].append((key, _id_after(location, "/ledger/entries/")))
        else:
            out["refused"].append(f"entry: HTTP {response.status_code} {messages(response.text)}")


def _record(c: Client, fields: dict, double: bool, out: dict, *, receipt: bool):
    key = fields["key"]
    answers = c.twice("/donations/new", fields, "donation") if double else [c.post("/donations/new", fields,
                                                                                   "donation")]
    found, detail = None, None
    for response, location, page in answers:
        donation_id = _id_after(location, "/donations/") if response.status_code == 302 else None
        if donation_id is None:
            out["refused"].append(f"donation: HTTP {response.status_code} {messages(response.text)}")
            continue
        out["donations"].append((key, donation_id, receipt))
        found, detail = donation_id, page
    return found, detail


def approve(c: Client, payment: dict, out: dict) -> None:
    path = f"/grants/payments/{payment['id']}"
    page = c.get(path)
    try:
        fields = form_for(page.text, path + "/approve")
    except KeyError:  # the other checker approved it before this page was read: no approve form any more
        out["approvals"].append((payment["id"], "gone"))
        return
    response, _location, _page = c.post(path + "/approve", fields, "payment approval")
    out["approvals"].append((payment["id"], "ok" if response.status_code == 302 else "refused"))


def vote(c: Client, item_id: int, n: int, out: dict) -> None:
    path = f"/grants/items/{item_id}"
    page = c.get(path)
    try:
        fields = form_for(page.text, path + "/vote")
    except KeyError:
        out["votes"].append((item_id, "no form", c.user["id"]))
        return
    fields.update(choice="approve", comment="")
    response, _location, confirm = c.post(path + "/vote", fields, "vote step 1")
    try:
        fields = form_for(response.text, path + "/vote")
    except KeyError:
        out["votes"].append((item_id, f"no confirmation page (HTTP {response.status_code})", c.user["id"]))
        return
    fields.update(choice="approve", confirmed="1")
    answers = c.twice(path + "/vote", fields, "vote") if n % 3 == 2 else [c.post(path + "/vote", fields, "vote")]
    for response, _location, _page in answers:
        out["votes"].append((item_id, "ok" if response.status_code == 302 else "refused", c.user["id"]))


def client_main(base: str, index: int, ids: dict, seconds: float, barrier, queue) -> None:
    user = ids["users"][index]
    out: dict = {"index": index, "role": user["role"], "donations": [], "receipts": [], "entries": [],
                 "approvals": [], "votes": [], "refused": [], "errors": [], "samples": [], "seconds": 0.0}
    c = Client(base, user)
    try:
        c.sign_in()
    except Exception:  # noqa: BLE001 - reported: fails the run
        out["errors"].append(f"sign-in: {traceback.format_exc(limit=3)[-800:]}")
    barrier.wait()
    started = time.perf_counter()
    deadline = started + seconds
    finance = [u for u in ids["users"] if u["role"] == "finance"]
    try:
        if out["errors"]:
            pass
        elif user["role"] == "board":
            for n, item_id in enumerate(ids["items"]):
                if time.perf_counter() > deadline:
                    break
                vote(c, item_id, n, out)
        else:
            me = finance.index(user)
            mine = [p for k, p in enumerate(ids["payments"])  # payment k: finance clients k and k+1 (mod F)
                    if k % len(finance) == me or (k + 1) % len(finance) == me]
            n = 0
            while time.perf_counter() < deadline:
                finance_round(c, ids, n, out)
                if n < len(mine):
                    approve(c, mine[n], out)
                n += 1
    except Exception:  # noqa: BLE001 - reported: fails the run
        out["errors"].append(traceback.format_exc(limit=4)[-1200:])
    out["seconds"] = time.perf_counter() - started
    out["errors"] += c.errors
    out["samples"] = c.samples
    queue.put(out)


# --- checks (parent) ---------------------------------------------------------------------------------------------


def check(url: str, ids: dict, results: list[dict], marks: dict) -> list[str]:
    from sqlalchemy import func, select

    from fundapp.donations.checks import verify_donations
    from fundapp.donations.models import Donation, Receipt
    from fundapp.extensions import db
    from fundapp.grants.models import AgendaItem, Award, BoardVote, GrantDecision, TranchePayment
    from fundapp.ledger.invariants import verify_ledger
    from fundapp.ledger.models import JournalEntry

    failures: list[str] = []
    app = make_app(url)
    with app.app_context():
        s = db.session
        # donations: every acknowledged key once, at the id the redirect named; nothing else written
        acked: dict[str, set[int]] = defaultdict(set)
        with_receipt: set[int] = set()
        for r in results:
            for key, donation_id, receipt in r["donations"]:
                acked[key].add(donation_id)
                if receipt:
                    with_receipt.add(donation_id)
        rows = s.execute(select(Donation.key, Donation.id).where(Donation.id > marks["donation"])).all()
        by_key = Counter(key for key, _id in rows)
        for key, donation_ids in acked.items():
            if by_key.get(key) != 1 or len(donation_ids) != 1:
                failures.append(f"donation {key}: {by_key.get(key, 0)} rows, redirected to {sorted(donation_ids)}")
        if len(rows) != len(acked):
            failures.append(f"donations: {len(rows)} written, {len(acked)} acknowledged")
        # receipts: one valid receipt per donation given one, none for the others; numbers unique and gapless
        valid = Counter(s.scalars(select(Receipt.donation_id).where(Receipt.void_at.is_(None),
                                                                    Receipt.donation_id > marks["donation"])))
        asked = with_receipt | {d for r in results for d in r["receipts"]}
        for donation_id in asked:
            if valid.get(donation_id) != 1:
                failures.append(f"donation {donation_id}: {valid.get(donation_id, 0)} valid receipts, 1 expected")
        extra = set(valid) - asked
        if extra:
            failures.append(f"receipts nobody was told about, donations {sorted(extra)[:5]}")
        # manual entries: each acknowledged key once
        entry_keys: dict[str, set[int]] = defaultdict(set)
        for r in results:
            for key, entry_id in r["entries"]:
                entry_keys[key].add(entry_id)
        found = Counter(s.scalars(select(JournalEntry.idempotency_key).where(
            JournalEntry.idempotency_key.in_(list(entry_keys))))) if entry_keys else Counter()
        for key, entry_ids in entry_keys.items():
            if found.get(key) != 1 or len(entry_ids) != 1:
                failures.append(f"entry {key}: {found.get(key, 0)} rows, redirected to {sorted(entry_ids)}")
        manual = s.scalar(select(func.count()).select_from(JournalEntry).where(
            JournalEntry.id > marks["entry"], JournalEntry.memo.like("load over HTTP %")))
        if manual != len(entry_keys):
            failures.append(f"manual entries: {manual} written, {len(entry_keys)} acknowledged")
        # payments: each tried one is paid once, by exactly one successful approval
        tried: dict[int, list[str]] = defaultdict(list)
        for r in results:
            for payment_id, outcome in r["approvals"]:
                tried[payment_id].append(outcome)
        keys = {p["id"]: p["key"] for p in ids["payments"]}
        for payment_id, outcomes in tried.items():
            payment = s.get(TranchePayment, payment_id)
            postings = s.scalar(select(func.count()).select_from(JournalEntry).where(
                JournalEntry.idempotency_key == f"grant-payment:{keys[payment_id]}"))
            if outcomes.count("ok") != 1 or payment.status != "paid" or postings != 1:
                failures.append(f"payment {payment_id}: approvals {outcomes}, status {payment.status}, "
                                f"{postings} postings")
        # board items: one vote per member, one decision, one award when approved
        board_ids = {u["id"] for u in ids["users"] if u["role"] == "board"}
        voted: dict[int, list[str]] = defaultdict(list)
        voters: dict[int, set[int]] = defaultdict(set)  # members told their vote was recorded
        for r in results:
            for item_id, outcome, member_id in r["votes"]:
                voted[item_id].append(outcome)
                if outcome == "ok":
                    voters[item_id].add(member_id)
        for item_id, outcomes in voted.items():
            item = s.get(AgendaItem, item_id)
            votes = s.scalar(select(func.count()).select_from(BoardVote).where(BoardVote.item_id == item_id))
            decisions = s.scalars(select(GrantDecision).where(GrantDecision.application_id == item.application_id)
                                  ).all()
            awards = s.scalar(select(func.count()).select_from(Award).where(
                Award.application_id == item.application_id))
            complete = voters[item_id] == board_ids
            if votes != len(voters[item_id]) or any(o not in ("ok", "refused") for o in outcomes):
                failures.append(f"item {item_id}: {votes} votes stored, answers {outcomes}")
            if complete and (len(decisions) != 1 or item.status == "pending"
                             or awards != (1 if decisions[0].outcome == "approved" else 0)):
                failures.append(f"item {item_id}: status {item.status}, {len(decisions)} decisions, {awards} awards")
            if not complete and decisions:
                failures.append(f"item {item_id}: decided after {outcomes}")
        failures += [f"ledger: {p}" for p in verify_ledger(s)]
        # receipt numbers unique (a UNIQUE constraint) and gapless per year: verify_donations' receipt_problems
        failures += [f"donations: {p}" for p in verify_donations(s)]
        s.remove()
        db.engine.dispose()
    return failures


# --- figures (parent) --------------------------------------------------------------------------------------------


def figures(results: list[dict], wall: float) -> list[list[str]]:
    rows = []
    samples = [sample for r in results for sample in r["samples"]]
    for kind in KINDS:
        mine = [(status, ms) for k, status, ms in samples if k == kind]
        if not mine:
            continue
        ms = [m for _s, m in mine]
        redirects = sum(1 for status, _m in mine if 300 <= status < 400)
        fives = sum(1 for status, _m in mine if status >= 500)
        rate = "" if kind == "sign-in" else f"{len(ms) / wall:.1f}"
        rows.append([kind, str(len(ms)), str(redirects), str(fives), rate, f"{percentile(ms, .5):.0f}",
                     f"{percentile(ms, .99):.0f}", f"{max(ms):.0f}"])
    timed = [ms for k, _s, ms in samples if k != "sign-in"]
    if timed:
        rows.append(["all but sign-in", str(len(timed)), "", "", f"{len(timed) / wall:.1f}",
                     f"{percentile(timed, .5):.0f}", f"{percentile(timed, .99):.0f}", f"{max(timed):.0f}"])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="client processes (two are the board; default 8)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the clients write (default 20)")
    parser.add_argument("--workers", type=int, default=WORKERS, help=f"gunicorn workers (default {WORKERS})")
    parser.add_argument("--threads", type=int, default=THREADS, help=f"threads per worker (default {THREADS})")
    parser.add_argument("--items", type=int, help="agenda items and payments to contest (default 4 per second)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--no-write", action="store_true", help="do not append to bench/results/<date>.md")
    args = parser.parse_args()
    if args.clients < BOARD_CLIENTS + 2:
        parser.error(f"--clients must be at least {BOARD_CLIENTS + 2} (two finance clients per payment)")
    items = args.items or max(20, int(args.seconds * 4))

    with tempfile.TemporaryDirectory() as folder:
        os.environ.update({  # for gunicorn (child_env copies the environment) and the demo loader
            "HUEY_SQLITE_PATH": str(Path(folder) / "huey.sqlite3"),  # this run's own task queue, no consumer
            "MAIL_OUTBOX_DIR": str(Path(folder) / "outbox"),
            "IMPORT_FOLDER": str(Path(folder) / "imports"),
            "LOGIN_RATE_LIMIT": "10000 per minute",  # all the clients sign in from 127.0.0.1 at once
            "SECRET_KEY": secrets.token_hex(32),  # one key for the demo, the server and the checks
        })
        url = fresh_database()
        try:
            started = time.perf_counter()
            print(f"setting up {DATABASE} (demo, {args.clients} users, {items} agenda items and payments) ...",
                  flush=True)
            ids = setup(url, args.clients, items)
            marks = high_water(url)
            print(f"    ready in {time.perf_counter() - started:.0f} s", flush=True)
            with gunicorn(url, args.workers, args.threads) as base:
                ctx = multiprocessing.get_context("spawn")
                barrier, queue = ctx.Barrier(args.clients + 1), ctx.Queue()
                procs = [ctx.Process(target=client_main, args=(base, n, ids, args.seconds, barrier, queue))
                         for n in range(args.clients)]
                for proc in procs:
                    proc.start()
                barrier.wait(timeout=300)  # every client signed in
                started = time.perf_counter()
                results = [queue.get(timeout=args.seconds + 600) for _proc in procs]
                wall = time.perf_counter() - started
                for proc in procs:
                    proc.join()
            failures = check(url, ids, results, marks)
        finally:
            if not args.keep:
                drop_database()
    for r in results:
        failures += [f"client {r['index']} ({r['role']}): {e}" for e in r["errors"][:3]]
    payments_tried = len({p for r in results for p, _o in r["approvals"]})
    items_voted = len({i for r in results for i, _o, _m in r["votes"]})
    lost_approvals = sum(1 for r in results for _p, o in r["approvals"] if o != "ok")
    lost_votes = sum(1 for r in results for _i, o, _m in r["votes"] if o != "ok")
    refused = Counter(x.split(":")[0] for r in results for x in r["refused"])
    for detail in sorted({x for r in results for x in r["refused"]})[:10]:
        print(f"refused: {detail[:300]}", file=sys.stderr)
    report = Report(write=not args.no_write)
    report.heading("Concurrent writes over HTTP (bench/load_http.py)", command_line())
    report.table(
        f"{args.clients} clients ({args.clients - BOARD_CLIENTS} finance, {BOARD_CLIENTS} board), gunicorn "
        f"gthread -w {args.workers} --threads {args.threads}, {wall:.1f} s of writing",
        ["kind", "requests", "redirected", "5xx", "requests/s", "p50 ms", "p99 ms", "max ms"],
        figures(results, wall),
        [f"donations acknowledged: {len({k for r in results for k, _i, _x in r['donations']})}; receipts issued "
         f"from the page: {len({d for r in results for d in r['receipts']})}; manual entries: "
         f"{len({k for r in results for k, _i in r['entries']})}; payments contested: {payments_tried}; "
         f"agenda items voted: {items_voted}; approvals lost to the other checker (refused, or no form left "
         f"on the page): {lost_approvals}; "
         f"second votes of a double submit refused: {lost_votes}; other refusals: {dict(refused) or 'none'}",
         "redirected: the POSTs answered with a redirect (done, or a double submit pointed at the first); "
         "page: every GET (forms and redirect targets); vote step 1 shows the confirmation page",
         "checks: " + ("FAILED, see below" if failures else
                       "every acknowledged write exists exactly once, receipt numbers unique and gapless, one "
                       "approval per payment, one decision per item, verify_ledger and verify_donations clean")])
    if failures:
        print("\nFAILED:\n" + "\n".join(failures[:40]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
