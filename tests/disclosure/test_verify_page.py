"""/public/verify: the head hash and entry count equal /api/v1/ledger/head; the verifier script and the hash
format are served for offline checking."""

from __future__ import annotations

from pathlib import Path

from tests.factories import make_fund, post

ROOT = Path(__file__).resolve().parents[2]


def test_verify_page_shows_the_api_head(client, app_ctx):
    with app_ctx() as s:
        gen = make_fund(s, "GEN")
        for amount in ("10.00", "20.00", "30.00"):
            post(s, gen, amount)
        s.commit()
    head = client.get("/api/v1/ledger/head").get_json()
    page = client.get("/public/verify").get_data(as_text=True)
    assert head["seq"] == 3
    assert f'<code id="ledger-head">{head["hash"]}</code>' in page
    assert f'<span class="value" id="ledger-entries">{head["entries"]}</span>' in page
    assert "python3 verify_ledger.py http://localhost" in page and "--file ledger.json" in page
    assert "/public/verify_ledger.py" in page and "/public/ledger-hash.md" in page


def test_verify_page_of_an_empty_ledger(client, app_ctx):
    head = client.get("/api/v1/ledger/head").get_json()
    page = client.get("/public/verify").get_data(as_text=True)
    assert head["hash"] in page and head["seq"] == 0


def test_verifier_script_download(client):
    with client.get("/public/verify_ledger.py") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/x-python"
        assert "attachment" in response.headers["Content-Disposition"]
        assert "verify_ledger.py" in response.headers["Content-Disposition"]
        assert response.data == (ROOT / "tools" / "verify_ledger.py").read_bytes()


def test_hash_format_document(client):
    with client.get("/public/ledger-hash.md") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/markdown"
        assert response.data == (ROOT / "docs" / "ledger-hash.md").read_bytes()
