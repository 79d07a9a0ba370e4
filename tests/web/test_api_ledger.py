"""The public ledger API: keyset pages with next links, limits, 400 on bad parameters, cache headers, the public
form (no personal data, private funds still verifiable), and tools/verify_ledger.py run on an export built from
the API — passing, then failing at the entry whose stored line was tampered with."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from fundapp.ledger.chain import GENESIS_HASH
from fundapp.ledger.services import reverse_entry
from tests.factories import make_fund, make_user, post

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "tools" / "verify_ledger.py"
AUTHOR_EMAIL = "zhang.sanfeng.private@example.org"


def ledger(app_ctx, count: int = 5) -> dict:
    """`count` entries by a named author in a public fund, one line pair in a non-public fund, one reversal."""
    with app_ctx() as s:
        author = make_user(s, "finance", email=AUTHOR_EMAIL)
        author.name = "Zhang Sanfeng Secret"
        fund = make_fund(s, "GEN")
        hidden = make_fund(s, "HIDDEN")
        hidden.is_public = False
        entries = [post(s, fund, f"{n}.25", date=dt.date(2025, 3, 1 + n % 28), author=author, memo=f"捐赠 {n}")
                   for n in range(1, count)]
        entries.append(post(s, hidden, "7.00", date=dt.date(2025, 4, 1), author=author))
        reversal = reverse_entry(s, entries[0], reason="wrong amount", actor=author, effective_date=dt.date(2025, 4, 2))
        s.commit()
        return {"first": entries[0].seq, "hidden": entries[-1].seq, "reversal": reversal.seq,
                "total": reversal.seq, "name": author.name}


def export(client, limit: int = 2) -> dict:
    head = client.get("/api/v1/ledger/head").get_json()
    entries, url, pages = [], f"/api/v1/ledger/entries?limit={limit}", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_json()
        entries.extend(page["entries"])
        url = page["next"] and urlsplit(page["next"])._replace(scheme="", netloc="").geturl()
        pages += 1
        assert pages < 100
    return {"head": head, "entries": entries}


def run_verifier(tmp_path, data: dict) -> subprocess.CompletedProcess:
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return subprocess.run([sys.executable, str(VERIFIER), "--file", str(saved)], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)


def test_empty_ledger(client):
    head = client.get("/api/v1/ledger/head")
    assert head.status_code == 200 and head.headers["Cache-Control"] == "no-cache"
    body = head.get_json()
    assert (body["seq"], body["hash"], body["entries"]) == (0, GENESIS_HASH, 0)
    assert dt.datetime.fromisoformat(body["as_of"]).tzinfo is not None
    page = client.get("/api/v1/ledger/entries")
    assert page.status_code == 200 and page.get_json() == {"entries": [], "next": None}


def test_pages_through_every_entry_with_keyset_next_links(client, app_ctx):
    facts = ledger(app_ctx, 6)
    head = client.get("/api/v1/ledger/head").get_json()
    assert head["seq"] == head["entries"] == facts["total"] == 7
    first = client.get("/api/v1/ledger/entries?limit=3")
    body = first.get_json()
    assert [e["seq"] for e in body["entries"]] == [1, 2, 3]
    assert urlsplit(body["next"]).path == "/api/v1/ledger/entries"
    assert "after=3" in body["next"] and "limit=3" in body["next"] and "offset" not in body["next"]
    assert first.headers["Cache-Control"] == "public, max-age=3600"  # full page, more after it: immutable
    second = client.get("/api/v1/ledger/entries?after=3&limit=3").get_json()
    assert [e["seq"] for e in second["entries"]] == [4, 5, 6]
    last = client.get("/api/v1/ledger/entries?after=6&limit=3")
    assert [e["seq"] for e in last.get_json()["entries"]] == [7] and last.get_json()["next"] is None
    assert last.headers["Cache-Control"] == "public, max-age=60"
    beyond = client.get("/api/v1/ledger/entries?after=7").get_json()
    assert beyond == {"entries": [], "next": None}
    everything = client.get("/api/v1/ledger/entries").get_json()  # default limit 500 holds them all
    assert [e["seq"] for e in everything["entries"]] == list(range(1, 8)) and everything["next"] is None
    assert export(client, limit=1)["entries"] == everything["entries"] == export(client, limit=1000)["entries"]
    assert everything["entries"][-1]["hash"] == head["hash"]


def test_public_form_is_exactly_the_hashed_fields(client, app_ctx):
    facts = ledger(app_ctx)
    entries = {e["seq"]: e for e in client.get("/api/v1/ledger/entries").get_json()["entries"]}
    first = entries[facts["first"]]
    assert set(first) == {"seq", "date", "memo", "source", "key", "reverses", "lines", "prev_hash", "hash"}
    assert first["prev_hash"] == GENESIS_HASH and first["reverses"] is None and first["memo"] == "捐赠 1"
    assert first["date"] == "2025-03-02" and first["source"] == "manual"
    assert first["lines"] == [{"account": "1002", "fund": "GEN", "class": "unrestricted", "amount": "1.25"},
                              {"account": "4101", "fund": "GEN", "class": "unrestricted", "amount": "-1.25"}]
    # a correction shows as one: the reversal names the seq it reverses
    reversal = entries[facts["reversal"]]
    assert reversal["reverses"] == facts["first"] and reversal["source"] == "reversal"
    assert "wrong amount" in reversal["memo"]
    # a non-public fund's lines keep the fund code, so they stay verifiable
    assert {line["fund"] for line in entries[facts["hidden"]]["lines"]} == {"HIDDEN"}


def test_no_author_or_approver_data_in_the_public_form(client, app_ctx):
    facts = ledger(app_ctx)
    text = json.dumps(export(client), ensure_ascii=False) + client.get("/api/v1/ledger/head").get_data(as_text=True)
    for secret in (AUTHOR_EMAIL, "zhang.sanfeng.private", facts["name"], "Zhang Sanfeng", "example.org"):
        assert secret not in text
    for word in ("author", "approver", "email", "created_at", "user"):
        assert f'"{word}' not in text


def test_a_donation_entry_does_not_name_its_donor(client, app_ctx):
    from tests.unit.donations.factories import gift, make_donor

    with app_ctx() as s:
        fund = make_fund(s, "EDU")
        donor = make_donor(s, "欧阳娜娜", email="ouyang.nana@example.org", phone="13912345678")
        gift(s, fund, "500.00", donor=donor, reference="OUYANG-NANA-BANK-REF")
        s.commit()
    entries = export(client)["entries"]
    assert [e["source"] for e in entries] == ["donation"] and "EDU" in entries[0]["memo"]
    text = json.dumps(entries, ensure_ascii=False)
    for secret in ("欧阳娜娜", "欧阳", "ouyang", "OUYANG", "13912345678"):
        assert secret not in text


@pytest.mark.parametrize("query", [
    "limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=1.5", "limit=", "after=-1", "after=x", "after=1e3",
    "after=99999999999999999999", "offset=10", "page=2", "limit=%EF%BC%91",
])
def test_bad_parameters_answer_400_json(client, query):
    response = client.get(f"/api/v1/ledger/entries?{query}")
    assert response.status_code == 400, (query, response.status_code)
    body = response.get_json()
    assert body["error"] == "bad_request" and body["message"]


def test_limit_bounds_are_accepted(client, app_ctx):
    ledger(app_ctx, 3)
    assert len(client.get("/api/v1/ledger/entries?limit=1").get_json()["entries"]) == 1
    assert len(client.get("/api/v1/ledger/entries?limit=1000&after=0").get_json()["entries"]) == 4


def bypass_guards(session) -> None:
    """As tests/unit/ledger/test_chain.py: the immutability triggers off for this test's outer transaction."""
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        session.execute(sa.text("DROP TRIGGER journal_lines_no_update"))


def test_verifier_passes_on_the_export_and_names_the_tampered_entry(client, app_ctx, tmp_path):
    ledger(app_ctx, 6)
    good = run_verifier(tmp_path, export(client))
    assert good.returncode == 0, good.stdout + good.stderr
    head = client.get("/api/v1/ledger/head").get_json()
    assert good.stdout.strip() == f"OK: 7 entries, head {head['hash']}"
    with app_ctx() as s:
        bypass_guards(s)
        sqlite = s.get_bind().dialect.name == "sqlite"
        victim = s.execute(sa.text("SELECT id FROM journal_entries WHERE seq = 4")).scalar_one()
        changed = s.execute(sa.text("UPDATE journal_lines SET amount = :a WHERE entry_id = :id AND line_no = 1"),
                            {"a": 99999 if sqlite else "999.99", "id": victim})
        assert changed.rowcount == 1
        s.commit()
    tampered = export(client)
    assert tampered["entries"][3]["lines"][0]["amount"] == "999.99"
    bad = run_verifier(tmp_path, tampered)
    assert bad.returncode == 1
    assert bad.stdout.startswith("entry seq 4: hash mismatch"), bad.stdout
