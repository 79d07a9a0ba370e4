"""No N+1 queries: the enterprise list, an enterprise's page, the arrears page and the dashboard cost the same
number of statements with few or many enterprises, reports and payments."""

from __future__ import annotations

import datetime as dt

from fundapp.ledger.models import Fund
from tests.factories import make_user
from tests.unit.enterprises.factories import confirm, file, make_agreement, make_enterprise, pay

QUARTERS = [dt.date(2025, 1, 1), dt.date(2025, 4, 1), dt.date(2025, 7, 1)]




def _add(app_ctx, fund_id: int, enterprises: int, quarters: int) -> int:
    """Enterprises with a portal user and a related board member, reports (confirmed, paid in part, one waiting)."""
    with app_ctx() as s:
        fund = s.get(Fund, fund_id)
        for _ in range(enterprises):
            portal, board = make_user(s, "enterprise"), make_user(s, "board")
            enterprise = make_enterprise(s, member_emails=[portal.email], related_user_ids=[board.id])
            make_agreement(s, enterprise, fund, rate="10")
            for start in QUARTERS[:quarters]:
                due = start.replace(month=start.month + 3)
                report = confirm(s, file(s, enterprise, start, "1000.00"), on=due).report
                pay(s, report, "10.00", on=due)
            file(s, enterprise, dt.date(2025, 10, 1), "5.00")
        s.commit()
        return enterprise.id


def test_enterprise_pages_run_a_fixed_number_of_queries(client, login, app_ctx, setup, count_queries):
    login("finance")

    def cost(url: str) -> int:
        with count_queries() as counter:
            assert client.get(url).status_code == 200, url
        return counter[0]

    urls = ["/enterprises/", "/enterprises/arrears", "/enterprises/dashboard?grain=quarter&year=2025"]
    small_id = _add(app_ctx, setup.fund, 1, 1)
    small = [cost(url) for url in urls] + [cost(f"/enterprises/{small_id}")]
    large_id = _add(app_ctx, setup.fund, 4, 3)
    assert [cost(url) for url in urls] + [cost(f"/enterprises/{large_id}")] == small
