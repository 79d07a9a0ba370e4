"""The audit trail page: read-only, filterable, exportable; admin and finance read it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.audit.services import AuditTag, record_event
from fundapp.auth.services import update_user
from fundapp.funds.services import update_fund
from tests.factories import make_fund, make_user


def rows(client, url: str) -> str:
    """The table body of the audit page (the filter's datalist names every known tag)."""
    page = client.get(url).get_data(as_text=True)
    return page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else page


@pytest.fixture()
def history(app_ctx):
    """A fund renamed and a user updated by an actor, plus one old event from 2020."""
    with app_ctx() as s:
        actor = make_user(s, "admin", email="actor@example.org")
        fund = make_fund(s, "HIST", name="旧名称")
        update_fund(s, fund, {"name": "新名称"}, actor)
        user = make_user(s, "donor", email="someone@example.org")
        update_user(s, user, name="Someone", roles=["donor", "board"], enabled=True, actor=actor)
        old = record_event(s, AuditTag.period_closed, None, "period", "2020-01")
        old.created_at = dt.datetime(2020, 2, 1, 3, 0, tzinfo=dt.UTC)
        s.commit()
        return {"fund_id": fund.id, "user_id": user.id}


def test_audit_page_shows_actor_and_before_after(client, login, history):
    login("admin")
    page = rows(client, "/admin/audit")
    assert "funds:fund:updated" in page and "auth:user:updated" in page and "actor@example.org" in page
    assert "旧名称" in page and "新名称" in page  # before/after, readable (not \u escapes)
    assert "<code>roles</code>" in page and '["donor"] &rarr; ["board", "donor"]' in page.replace("&#34;", '"')


def test_audit_filters(client, login, history):
    login("finance")
    by_tag = rows(client, "/admin/audit?tag=funds:fund:updated")
    assert "funds:fund:updated" in by_tag and "auth:user:updated" not in by_tag
    family = rows(client, "/admin/audit?tag=auth:user")
    assert "auth:user:updated" in family and "auth:user:created" in family and "funds:fund" not in family
    by_subject = rows(client, f"/admin/audit?subject_type=user&subject_id={history['user_id']}")
    assert "auth:user:updated" in by_subject and "funds:" not in by_subject and "auth:login" not in by_subject
    old = rows(client, "/admin/audit?date_from=2020-02-01&date_to=2020-02-01")
    assert "ledger:period:closed" in old and "funds:" not in old
    # 2020-02-01 03:00 UTC is 11:00 on 1 February in Shanghai, not 31 January
    assert "No events match these filters." in client.get("/admin/audit?date_to=2020-01-31").get_data(as_text=True)
    bad = client.get("/admin/audit?date_from=yesterday&subject_type=nonsense")
    assert bad.status_code == 200 and "Enter a date as YYYY-MM-DD." in bad.get_data(as_text=True)


def test_audit_csv_export(client, login, history):
    login("admin")
    response = client.get("/admin/audit.csv?tag=funds:fund:updated")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    lines = text.strip().splitlines()
    assert lines[0].startswith("\ufeffTime (UTC),Actor,Event")
    assert len(lines) == 2 and "actor@example.org,funds:fund:updated,fund," in lines[1]
    assert "旧名称" in lines[1] and "新名称" in lines[1]


def test_audit_csv_neutralises_formulas(client, login, app_ctx):
    with app_ctx() as s:
        record_event(s, AuditTag.login_failed, None, "=HYPERLINK(1)", "@SUM(1)")
        s.commit()
    login("admin")
    text = client.get("/admin/audit.csv?tag=auth:login:failed").get_data(as_text=True)
    assert ",'=HYPERLINK(1),'@SUM(1)," in text


@pytest.mark.parametrize("role", ["board", "donor", "reviewer"])
def test_audit_is_for_admin_and_finance_only(client, login, role):
    login(role)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403


def test_audit_page_is_read_only(client, login, app_ctx):
    login("admin")
    with app_ctx() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    assert client.post("/admin/audit").status_code == 405
    client.get("/admin/audit")
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before
