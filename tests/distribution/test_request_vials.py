"""The request page and the request API record list the vials reserved or shipped
for each line: vial id, lot, status. Storage positions are for curators only."""

import datetime

import pytest

from distribution.actions import requests as actions
from distribution.models import DistributionRequest
from tests.conftest import client_for
from tests.distribution.test_distribution_pages import signed_in
from tests.distribution.workflow import GRU, IRB, TODAY, advance, create_body, line_with
from tests.stock.helpers import a_box, released_lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(researcher, curator):
    line = line_with([GRU, IRB])
    lot = released_lot(line, code="P001", frozen_on=datetime.date(2024, 1, 1), vials=3, box=a_box(code="box-7"))
    client_for(researcher).post("/api/v1/requests/", create_body(line, vials={line.name: 2}), format="json")
    request = DistributionRequest.objects.get()
    advance(request, researcher, curator, "approved")
    return request, lot


def _vials(user, request):
    return client_for(user).get(f"/api/v1/requests/{request.pk}/").json()["lines"][0]["vials_reserved"]


def test_the_requester_sees_the_reserved_vials_without_their_positions(researcher, approved):
    request, lot = approved
    vials = _vials(researcher, request)
    ids = sorted(lot.vials.filter(status="reserved").values_list("identifier", flat=True))
    assert sorted(v["vial"] for v in vials) == ids
    assert {(v["lot"], v["status"]) for v in vials} == {("P001", "reserved")}
    assert all("position" not in v and "location" not in v for v in vials)
    page = signed_in(researcher).get(f"/distribution/requests/{request.pk}/").content.decode()
    assert all(identifier in page for identifier in ids)
    assert "box-7" not in page


def test_the_curator_sees_where_each_reserved_vial_is(curator, approved):
    request, lot = approved
    vials = _vials(curator, request)
    assert {v["location"] for v in vials} == {"box-7"}
    assert sorted(v["position"] for v in vials) == ["A1", "A2"]
    page = signed_in(curator).get(f"/distribution/requests/{request.pk}/").content.decode()
    assert "box-7 A1" in page


def test_after_shipping_the_vials_read_shipped_with_the_date(researcher, curator, approved):
    request, _lot = approved
    actions.record_agreement(request, curator, "MTA-1", TODAY)
    actions.ship(request, curator, [{"line": request.items.get().line, "shipped_on": TODAY, "vials": 2}])
    vials = _vials(researcher, request)
    assert {(v["status"], v["shipped_on"]) for v in vials} == {("shipped", TODAY.isoformat())}
    assert "Shipped" in signed_in(researcher).get(f"/distribution/requests/{request.pk}/").content.decode()


def test_a_draft_says_no_vials_are_reserved_yet(researcher):
    line = line_with([GRU, IRB])
    released_lot(line, vials=1)
    client_for(researcher).post("/api/v1/requests/", create_body(line), format="json")
    request = DistributionRequest.objects.get()
    assert _vials(researcher, request) == []
    page = signed_in(researcher).get(f"/distribution/requests/{request.pk}/").content.decode()
    assert "No vials are reserved yet" in page
