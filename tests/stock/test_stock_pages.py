"""The curator stock page and the lots section of the line page, for every caller."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from stock.models import Location, Lot, StockEvent, Vial
from tests.factories import CellLineFactory
from tests.stock.helpers import a_box, released_lot

pytestmark = pytest.mark.django_db


def client_of(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def stock(db):
    box = a_box(code="b1", name="Box 1", rows=2, columns=3)
    lot = released_lot(CellLineFactory(name="UKBi011-A"), code="P001", vials=2, box=box, accession="SAMEG7")
    return {"box": box, "lot": lot}


@pytest.mark.parametrize("caller, status", [("researcher", 403), ("depositor", 403), ("curator", 200)])
def test_the_stock_page_is_the_curators(request, stock, caller, status):
    assert client_of(request.getfixturevalue(caller)).get("/stock/").status_code == status


def test_anonymous_callers_are_sent_to_sign_in(stock):
    response = client_of(None).get("/stock/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_tree_and_the_box_grid_show_where_each_vial_is(curator, stock):
    client = client_of(curator)
    page = client.get("/stock/").content.decode()
    assert "Box 1" in page and "2 of 2×3" in page and "UKBi011-A" in page
    grid = client.get("/stock/boxes/b1/").content.decode()
    first = stock["lot"].vials.order_by("id").first()
    assert 'data-well="A1"' in grid and first.identifier in grid
    assert grid.count('class="vial-id"') == 2


def test_a_scanned_code_finds_its_vial_in_its_box(curator, stock):
    vial = stock["lot"].vials.order_by("id").last()
    response = client_of(curator).get(f"/stock/?scan={vial.identifier}", follow=True)
    assert response.redirect_chain[-1][0] == f"/stock/boxes/b1/?highlight={vial.identifier}"
    assert 'class="highlight" aria-current="true"' in response.content.decode()
    missing = client_of(curator).get("/stock/?scan=NOPE", follow=True).content.decode()
    assert "No vial NOPE" in missing


def test_receiving_a_box_by_page_and_a_refused_file_names_each_row(curator, stock):
    client = client_of(curator)
    good = b"vial,batch,box,position\nSAMEA1,SAMEG7,b1,B1\nSAMEA2,SAMEG7,b1,B2\n"
    response = client.post("/stock/receive/", {"file": SimpleUploadedFile("box.csv", good)}, follow=True)
    assert "Received 2 vial(s) of UKBi011-A P001." in response.content.decode()
    bad = b"vial,batch,box,position\nSAMEA3,SAMEG7,b1,B1\n"
    refused = client.post("/stock/receive/", {"file": SimpleUploadedFile("bad.csv", bad)})
    assert refused.status_code == 400
    assert "row 2, position: b1 B1 is already taken" in refused.content.decode()
    assert Vial.objects.count() == 4


def test_moving_and_destroying_vials_are_in_the_history(curator, stock):
    client = client_of(curator)
    vial = stock["lot"].vials.order_by("id").first()
    client.post(f"/stock/vials/{vial.identifier}/move/", {"box": "b1", "position": "B3"})
    vial.refresh_from_db()
    assert vial.position == "B3"
    client.post("/stock/vials/destroy/", {"vial": [vial.identifier], "reason": "Cracked"})
    vial.refresh_from_db()
    assert (vial.status, vial.location_id) == ("destroyed", None)
    history = client.get(f"/stock/lots/{stock['lot'].pk}/").content.decode()
    assert "vial_moved" in history
    assert list(vial.events.values_list("to_status", "reason")) == [("destroyed", "Cracked")]


def test_recall_from_the_lot_page_needs_a_reason(curator, stock):
    client = client_of(curator)
    url = f"/stock/lots/{stock['lot'].pk}/recall/"
    client.post(url, {"reason": ""})
    assert Lot.objects.get(pk=stock["lot"].pk).status == "released"
    page = client.post(url, {"reason": "Mycoplasma positive", "status": "recalled"}, follow=True).content.decode()
    assert "2 vial(s) quarantined" in page
    assert Lot.objects.get(pk=stock["lot"].pk).status == "recalled"


def test_researchers_cannot_recall(researcher, stock):
    response = client_of(researcher).post(f"/stock/lots/{stock['lot'].pk}/recall/", {"reason": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize("caller", ["anonymous", "researcher", "curator"])
def test_the_line_page_lists_lots_with_qc_and_stock_but_no_positions(request, stock, caller):
    user = None if caller == "anonymous" else request.getfixturevalue(caller)
    page = client_of(user).get("/lines/UKBi011-A/").content.decode()
    assert "Lots and stock" in page and "Available (2 vials in 1 lot)" in page
    assert "P001" in page and "QC passed" in page and f"/api/v1/lots/{stock['lot'].pk}/coa/" in page
    vial = stock["lot"].vials.first()
    assert "Box 1" not in page and vial.identifier not in page  # positions are on the stock page only


def test_a_curator_builds_the_location_tree_on_the_stock_page(curator, db):
    client = client_of(curator)
    client.post("/stock/locations/", {"kind": "site", "name": "Leiden", "code": "lei"})
    client.post("/stock/locations/", {"kind": "freezer", "name": "Tank A", "code": "lei-a", "parent": "lei"})
    client.post("/stock/locations/", {"kind": "rack", "name": "Rack 1", "code": "lei-a-1", "parent": "lei-a"})
    client.post(
        "/stock/locations/",
        {"kind": "box", "name": "Box 1", "code": "lei-a-1-1", "parent": "lei-a-1", "rows": 9, "columns": 9},
    )
    refused = client.post(
        "/stock/locations/", {"kind": "box", "name": "Loose", "code": "x", "parent": "lei"}, follow=True
    )
    assert "A box cannot go inside a site; expected a freezer" in refused.content.decode()
    assert Location.objects.get(code="lei-a-1-1").path() == "Leiden › Tank A › Rack 1 › Box 1"
    assert StockEvent.objects.filter(action="location_created").count() == 4
