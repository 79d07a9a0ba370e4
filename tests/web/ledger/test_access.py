"""Who may open which ledger page: anonymous users are sent to sign in, other roles get 403 and write nothing."""

from __future__ import annotations

import pytest

from fundapp.dates import local_today
from tests.factories import make_fund, post
from tests.web.ledger.conftest import entry_form, ledger_counts

READ = {"finance", "admin", "board"}
FINANCE = {"finance"}
CHART = {"finance", "admin"}


def routes(entry_id: int, account_id: int, fund_id: int) -> list[tuple[str, str, dict, set[str]]]:
    """(method, path, form data, roles allowed)."""
    lines = [(account_id, fund_id, "5", ""), (account_id, fund_id, "", "5")]
    return [
        ("GET", "/ledger/journal", {}, READ),
        ("GET", "/ledger/journal.csv", {}, READ),
        ("GET", f"/ledger/entries/{entry_id}", {}, READ),
        ("GET", "/ledger/entries/new", {}, FINANCE),
        ("POST", "/ledger/entries/new", entry_form(lines, date=local_today().isoformat()), FINANCE),
        ("GET", f"/ledger/entries/{entry_id}/reverse", {}, FINANCE),
        ("POST", f"/ledger/entries/{entry_id}/reverse", {"reason": "x", "effective_date": "2030-01-01"}, FINANCE),
        ("GET", "/ledger/trial-balance", {}, READ),
        ("GET", "/ledger/trial-balance.csv", {}, READ),
        ("GET", "/ledger/accounts", {}, READ),
        ("GET", "/ledger/accounts/new", {}, CHART),
        ("POST", "/ledger/accounts/new", {"code": "9999", "name": "测试", "type": "asset"}, CHART),
        ("GET", f"/ledger/accounts/{account_id}/edit", {}, CHART),
        ("POST", f"/ledger/accounts/{account_id}/edit", {"code": "1002", "name": "改名", "type": "asset"}, CHART),
        ("GET", "/ledger/periods", {}, READ),
        ("POST", "/ledger/periods/close", {"month": "2024-01"}, FINANCE),
    ]


@pytest.fixture()
def targets(app_ctx):
    with app_ctx() as s:
        fund = make_fund(s)
        entry = post(s, fund, "10.00")
        s.commit()
        return routes(entry.id, entry.lines[0].account_id, fund.id)


def test_anonymous_users_are_sent_to_sign_in(client, app_ctx, targets):
    before = ledger_counts(app_ctx)
    for method, path, data, _allowed in targets:
        response = client.open(path, method=method, data=data)
        assert response.status_code == 302, (method, path)
        assert "/auth/login" in response.headers["Location"], (method, path)
    assert ledger_counts(app_ctx) == before


@pytest.mark.parametrize("role", ["donor", "applicant", "reviewer", "enterprise", "board", "admin"])
def test_roles_are_refused_what_they_may_not_do(client, login, app_ctx, targets, role):
    login(role)
    before = ledger_counts(app_ctx)
    for method, path, data, allowed in targets:
        response = client.open(path, method=method, data=data)
        if role in allowed:
            assert response.status_code in (200, 302), (role, method, path)
        else:
            assert response.status_code == 403, (role, method, path)
    if role not in CHART:
        assert ledger_counts(app_ctx) == before  # admin may save accounts (audited), nothing else is written


def test_board_reads_the_journal_but_cannot_post(client, login, app_ctx, targets):
    login("board")
    assert client.get("/ledger/journal").status_code == 200
    html = client.get("/ledger/journal").get_data(as_text=True)
    assert "/ledger/entries/new" not in html  # no "New entry" button either
    before = ledger_counts(app_ctx)
    post_new = next(t for t in targets if t[0] == "POST" and t[1] == "/ledger/entries/new")
    assert client.post(post_new[1], data=post_new[2]).status_code == 403
    assert ledger_counts(app_ctx) == before


def test_finance_opens_every_page(client, login, targets):
    login("finance")
    for method, path, _data, _allowed in targets:
        if method == "GET":
            assert client.get(path).status_code == 200, path


def test_every_ledger_view_has_one_access_rule(app):
    views = {name: view for name, view in app.view_functions.items() if name.startswith("ledger.")}
    expected = {"journal", "journal_csv", "entry", "new_entry", "reverse", "trial_balance", "trial_balance_csv",
                "accounts", "account_new", "account_edit", "periods", "close_period"}
    assert {f"ledger.{name}" for name in expected} <= set(views)
    for name, view in views.items():
        assert getattr(view, "access_rule", None), name
