"""Donor pages: create and edit with validation, search, CSV export, merge keeping history, role refusals."""

from __future__ import annotations

from sqlalchemy import select

from fundapp.donations.models import Donation, Donor
from fundapp.ledger.models import Fund
from tests.factories import make_user
from tests.unit.donations.factories import gift, make_donor
from tests.web.donations.conftest import counts, read_csv

FORM = {"kind": "person", "name": "李小红", "id_code": "", "contact_person": "", "phone": "13900000000",
        "email": "", "address": "上海市", "notes": "", "portal_email": ""}


def test_create_donor_then_edit_and_link_a_portal_user(client, login, app_ctx):
    login("finance")
    response = client.post("/donations/donors/new", data=FORM | {"anonymous_in_public": "y"})
    assert response.status_code == 302
    with app_ctx() as s:
        donor = s.scalar(select(Donor).where(Donor.name == "李小红"))
        assert donor.anonymous_in_public and donor.phone == "13900000000"
        portal = make_user(s, "donor", email="xiaohong@example.org")
        s.commit()
        donor_id, portal_id = donor.id, portal.id
    edit = client.post(f"/donations/donors/{donor_id}/edit",
                       data=FORM | {"name": "李小红（校友）", "portal_email": "XiaoHong@example.org"})
    assert edit.status_code == 302
    with app_ctx() as s:
        donor = s.get(Donor, donor_id)
        assert (donor.name, donor.user_id, donor.anonymous_in_public) == ("李小红（校友）", portal_id, False)
    page = client.get(f"/donations/donors/{donor_id}").get_data(as_text=True)
    assert "李小红（校友）" in page and "xiaohong@example.org" in page


def test_bad_donor_input_writes_nothing(client, login, app_ctx, setup):
    login("finance")
    before = counts(app_ctx)
    for changes, message in [({"name": ""}, "A donor needs a name."),
                             ({"id_code": "110105194912310021"}, "fails its check digit"),
                             ({"id_code": "11010519491231002X"}, "already has this ID"),
                             ({"portal_email": "nobody@example.org"}, "There is no user with the email")]:
        response = client.post("/donations/donors/new", data=FORM | changes)
        assert response.status_code == 200 and message in response.get_data(as_text=True), message
    assert counts(app_ctx) == before


def test_donor_list_searches_and_exports_csv_with_bom(client, login, app_ctx, setup):
    with app_ctx() as s:
        tricky = make_donor(s, "=HYPERLINK(1)", phone="021-1")
        gift(s, s.get(Fund, setup.gen), "88.80", donor=s.get(Donor, setup.zhang))
        s.commit()
        tricky_id = tricky.id
    login("admin")  # admin may read
    page = client.get("/donations/donors?q=张三").get_data(as_text=True)
    assert "张三丰" in page and "上海某某科技" not in page
    rows = read_csv(client.get("/donations/donors.csv?sort=name"))
    assert rows[0][:3] == ["Number", "Type", "Name"]
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[str(setup.zhang)][2:4] == ["张三丰", "11010519491231002X"]
    assert by_id[str(setup.zhang)][9:11] == ["88.80", "1"]
    assert by_id[str(setup.acme)][1] == "Organisation"
    assert by_id[str(tricky_id)][2] == "'=HYPERLINK(1)"  # no formula injection into spreadsheets
    assert client.get("/donations/donors/new").status_code == 403


def test_merge_is_confirmed_then_keeps_the_duplicate_with_its_history(client, login, app_ctx, setup):
    with app_ctx() as s:
        duplicate = make_donor(s, "张三丰(重复)", email="zsf@example.org")
        fund = s.get(Fund, setup.gen)
        moved = gift(s, fund, "66.00", donor=duplicate, issue=True)
        s.commit()
        duplicate_id, moved_id = duplicate.id, moved.id
    login("finance")
    compare = client.post(f"/donations/donors/{setup.zhang}/merge", data={"duplicate": str(duplicate_id)})
    html = compare.get_data(as_text=True)
    assert compare.status_code == 200 and "data-confirm" in html and "张三丰(重复)" in html
    with app_ctx() as s:
        assert s.get(Donor, duplicate_id).merged_into_id is None  # nothing merged before confirming
    done = client.post(f"/donations/donors/{setup.zhang}/merge", data={"duplicate": str(duplicate_id),
                                                                       "confirm": "yes"})
    assert done.status_code == 302
    with app_ctx() as s:
        assert s.get(Donor, duplicate_id).merged_into_id == setup.zhang
        assert s.get(Donation, moved_id).donor_id == setup.zhang
        assert s.get(Donor, setup.zhang).email == "zsf@example.org"
    survivor_page = client.get(f"/donations/donors/{setup.zhang}").get_data(as_text=True)
    assert "66.00" in survivor_page and "张三丰(重复)" in survivor_page  # listed under merged records
    dup_page = client.get(f"/donations/donors/{duplicate_id}").get_data(as_text=True)
    assert "This record was merged into" in dup_page
    listing = client.get("/donations/donors").get_data(as_text=True)
    assert "张三丰(重复)" not in listing
    assert "张三丰(重复)" in client.get("/donations/donors?merged=y").get_data(as_text=True)


def test_merge_refusals_show_the_reason(client, login, app_ctx, setup):
    login("finance")
    before = counts(app_ctx)
    same = client.post(f"/donations/donors/{setup.zhang}/merge", data={"duplicate": str(setup.zhang), "confirm": "yes"})
    assert "Choose two different donors to merge." in same.get_data(as_text=True)
    missing = client.post(f"/donations/donors/{setup.zhang}/merge", data={"duplicate": "99999", "confirm": "yes"})
    assert "There is no donor number 99999." in missing.get_data(as_text=True)
    assert counts(app_ctx) == before


def test_donor_and_board_cannot_see_donors(client, login, setup):
    login("donor", "board")
    for url in ("/donations/donors", f"/donations/donors/{setup.zhang}", "/donations/donors.csv",
                f"/donations/donors/{setup.zhang}/edit"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/donations/donors/{setup.zhang}/merge", data={"duplicate": str(setup.acme),
                                                                       "confirm": "yes"}).status_code == 403
