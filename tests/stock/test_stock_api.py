"""The stock API for every caller: lots with counts and lot QC for whoever sees the
line, vials and positions for curators only; receiving, recall, CoA and labels; the
line record's stock block and the catalog's in_stock filter."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import client_for
from tests.factories import CellLineFactory, LotFactory
from tests.stock.helpers import a_box, released_lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(owner_institution):
    box = a_box(code="b1")
    released = released_lot(CellLineFactory(donor__institution=owner_institution), code="P001", vials=3, box=box)
    draft_line = CellLineFactory(status="draft", donor__institution=owner_institution)
    draft = LotFactory(line=draft_line, code="D001")
    return {"released": released, "draft": draft, "box": box}


@pytest.mark.parametrize(
    "caller, sees_draft_lot",
    [("anonymous", False), ("researcher", False), ("depositor", True), ("other_depositor", False), ("curator", True)],
)
def test_lots_are_listed_for_whoever_may_see_their_line(request, stock, caller, sees_draft_lot):
    user = None if caller == "anonymous" else request.getfixturevalue(caller)
    response = client_for(user).get("/api/v1/lots/")
    assert response.status_code == 200
    codes = {lot["code"] for lot in response.json()["results"]}
    assert codes == ({"P001", "D001"} if sees_draft_lot else {"P001"})
    released = next(lot for lot in response.json()["results"] if lot["code"] == "P001")
    assert released["vials_in_stock"] == 3 and released["qc_status"] == "passed"
    assert {q["test"] for q in released["qc"]} >= {"mycoplasma", "sterility"}
    assert "box" not in str(released) and "position" not in released


@pytest.mark.parametrize("caller, status, count", [("researcher", 200, 0), ("depositor", 200, 0), ("curator", 200, 3)])
def test_vials_and_their_positions_are_the_curators(request, stock, caller, status, count):
    response = client_for(request.getfixturevalue(caller)).get("/api/v1/vials/")
    assert response.status_code == status
    assert len(response.json()["results"]) == count


def test_anonymous_callers_get_401_for_vials(stock):
    assert client_for(None).get("/api/v1/vials/").status_code == 401


def test_a_vial_is_not_found_for_anyone_but_curators(researcher, depositor, curator, stock):
    identifier = stock["released"].vials.first().identifier
    assert client_for(researcher).get(f"/api/v1/vials/{identifier}/").status_code == 404
    assert client_for(depositor).get(f"/api/v1/vials/{identifier}/").status_code == 404
    assert client_for(curator).get(f"/api/v1/vials/{identifier}/").status_code == 200


def test_vials_filter_by_status_location_and_line(curator, stock):
    client = client_for(curator)
    site = stock["box"].parent.parent.parent.code
    body = client.get(f"/api/v1/vials/?location={site}&status=in_stock&line={stock['released'].line.name}").json()
    assert [(v["box"], v["position"]) for v in body["results"]] == [("b1", "A1"), ("b1", "A2"), ("b1", "A3")]
    assert "Site" in body["results"][0]["box_path"]
    assert client.get("/api/v1/vials/?status=shipped").json()["results"] == []
    assert client.get("/api/v1/vials/?colour=red").status_code == 400
    pages = client.get("/api/v1/vials/?page_size=2").json()
    assert len(pages["results"]) == 2 and pages["next"]
    identifier = body["results"][0]["identifier"]
    assert client.get(f"/api/v1/vials/{identifier}/").json()["position"] == "A1"


def test_receiving_by_upload_is_all_or_nothing(curator, researcher, stock):
    lot = stock["released"]
    good = f"vial,line,lot code,box,position\nSAMEA1,{lot.line.name},P001,b1,B1\n".encode()
    client = client_for(curator)
    response = client.post("/api/v1/vials/receive/", {"file": SimpleUploadedFile("v.csv", good)}, format="multipart")
    assert response.status_code == 201 and response.json()["vials"] == 1
    bad = f"vial,line,lot code,box,position\nSAMEA2,{lot.line.name},P001,b1,B1\nSAMEA3,{lot.line.name},P404,,\n"
    response = client.post(
        "/api/v1/vials/receive/", {"file": SimpleUploadedFile("v.csv", bad.encode())}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["rows"] == [
        "row 2, position: b1 B1 is already taken",
        f"row 3, lot: unknown lot P404 of {lot.line.name}",
    ]
    forbidden = client_for(researcher).post(
        "/api/v1/vials/receive/", {"file": SimpleUploadedFile("v.csv", good)}, format="multipart"
    )
    assert forbidden.status_code == 403


def test_the_certificate_is_downloadable_and_labels_are_for_curators(researcher, curator, stock):
    lot = stock["released"]
    response = client_for(researcher).get(f"/api/v1/lots/{lot.pk}/coa/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert client_for(researcher).get(f"/api/v1/lots/{stock['draft'].pk}/coa/").status_code == 404
    assert client_for(researcher).get(f"/api/v1/lots/{lot.pk}/labels/").status_code == 403
    assert client_for(curator).get(f"/api/v1/lots/{lot.pk}/labels/").content.startswith(b"%PDF-")


def test_recall_by_api_needs_a_curator_and_a_reason(researcher, curator, stock):
    lot = stock["released"]
    url = f"/api/v1/lots/{lot.pk}/recall/"
    assert client_for(researcher).post(url, {"reason": "x"}, format="json").status_code == 403
    assert client_for(curator).post(url, {}, format="json").status_code == 400
    response = client_for(curator).post(url, {"reason": "Mycoplasma positive"}, format="json")
    assert response.status_code == 200 and response.json()["quarantined_vials"] == 3
    line = client_for(researcher).get(f"/api/v1/lines/{lot.line.name}/").json()
    assert line["stock"]["availability"] == "out_of_stock"


def test_the_line_record_carries_stock_counts_and_the_catalog_filters_in_stock(researcher, stock):
    client = client_for(researcher)
    name = stock["released"].line.name
    line = client.get(f"/api/v1/lines/{name}/").json()
    assert line["stock"] == {
        "availability": "available",
        "label": "Available (3 vials in 1 lot)",
        "explanation": "Vials of a released lot are in stock and can be shipped.",
        "vials_in_stock": 3,
        "lots_in_stock": 1,
    }
    other = CellLineFactory()
    assert [r["name"] for r in client.get("/api/v1/lines/?in_stock=true").json()["results"]] == [name]
    assert other.name in [r["name"] for r in client.get("/api/v1/lines/?in_stock=false").json()["results"]]
