"""A researcher may pick the released lot to be sent, per line, in the basket and in
POST /api/v1/requests/; approval then reserves vials of that lot. A lot of another
line, one not released or one without vials in stock is a 400 naming line and lot."""

import datetime

import pytest

from distribution.models import DistributionRequest, ReservedVial
from stock import actions as stock_actions
from tests.conftest import client_for
from tests.distribution.test_distribution_pages import ADDRESS, signed_in
from tests.distribution.workflow import GRU, HMB, IRB, advance, create_body, line_with
from tests.factories import LotFactory
from tests.stock.helpers import a_box, a_curator, released_lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked_line(db):
    """A line with an older released lot P001 (2 vials) and a newer P002 (3 vials)."""
    line = line_with([GRU, IRB])
    released_lot(line, code="P001", frozen_on=datetime.date(2024, 1, 1), vials=2, box=a_box(code="box-old"))
    released_lot(line, code="P002", frozen_on=datetime.date(2025, 6, 1), vials=3, box=a_box(code="box-new"))
    return line


def _reserved_lots(request):
    return sorted(ReservedVial.objects.filter(item__request=request).values_list("vial__lot__code", flat=True))


def test_the_api_records_the_lot_asked_for_and_approval_reserves_it(researcher, curator, stocked_line):
    body = create_body(stocked_line, vials={stocked_line.name: 2}, lots={stocked_line.name: "P002"})
    response = client_for(researcher).post("/api/v1/requests/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["lot"] == "P002"
    request = DistributionRequest.objects.get()
    advance(request, researcher, curator, "approved")
    assert _reserved_lots(request) == ["P002", "P002"]


def test_without_a_lot_the_oldest_released_lot_is_reserved(researcher, curator, stocked_line):
    response = client_for(researcher).post("/api/v1/requests/", create_body(stocked_line), format="json")
    assert response.json()["lines"][0]["lot"] is None
    request = DistributionRequest.objects.get()
    advance(request, researcher, curator, "approved")
    assert _reserved_lots(request) == ["P001"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        ("unknown", "has no lot x999"),
        ("other_line", "has no lot x999"),
        ("pending", "is awaiting qc release, not released"),
        ("empty", "has no vials in stock"),
        ("recalled", "is recalled, not released"),
    ],
)
def test_a_lot_that_cannot_be_asked_for_is_a_400_naming_line_and_lot(researcher, stocked_line, make, message):
    if make == "other_line":
        released_lot(line_with([GRU]), code="X999", vials=1)
    elif make == "pending":
        LotFactory(line=stocked_line, code="X999")
    elif make == "empty":
        released_lot(stocked_line, code="X999", vials=0)
    elif make == "recalled":
        lot = released_lot(stocked_line, code="X999", vials=1)
        stock_actions.withhold_lot(lot, "recalled", by=a_curator(), reason="Mycoplasma re-test failed")
    body = create_body(stocked_line, lots={stocked_line.name: "X999"})
    response = client_for(researcher).post("/api/v1/requests/", body, format="json")
    assert response.status_code == 400, response.json()
    problem = response.json()["problems"]["lots"][stocked_line.name]
    assert stocked_line.name in problem and "X999" in problem and message in problem.lower()
    assert not DistributionRequest.objects.exists()


def test_a_lot_for_a_line_not_requested_is_a_400(researcher, stocked_line):
    body = create_body(stocked_line, lots={"NOPEi001-A": "P001"})
    response = client_for(researcher).post("/api/v1/requests/", body, format="json")
    assert response.status_code == 400
    assert response.json()["lots"] == ["Not a requested line: NOPEi001-A"]


def test_the_basket_offers_the_released_lots_in_stock_and_submits_the_choice(researcher, curator, stocked_line):
    LotFactory(line=stocked_line, code="P009")  # pending: not offered
    client = signed_in(researcher)
    client.post("/distribution/basket/add/", {"line": stocked_line.name})
    page = client.get("/distribution/basket/").content.decode()
    assert "Oldest released lot first" in page
    assert 'value="P001"' in page and 'value="P002"' in page and 'value="P009"' not in page
    purpose = {"codes": [HMB], "organisation_type": "academic", "shipping_address": ADDRESS}
    checked = client.post("/distribution/basket/", {**purpose, "action": "check", f"lot-{stocked_line.name}": "P002"})
    assert 'value="P002" selected' in checked.content.decode()
    client.post("/distribution/basket/", {**purpose, "action": "submit", f"lot-{stocked_line.name}": "P002"})
    request = DistributionRequest.objects.get()
    assert request.items.get().lot.code == "P002"
    advance(request, researcher, curator, "approved")
    assert _reserved_lots(request) == ["P002"]
