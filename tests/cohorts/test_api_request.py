"""POST /api/v1/cohorts/<id>/request/ makes ONE draft distribution request for all
the cohort's lines, through distribution's create_request; only the owner may."""

import pytest

from cohorts.models import Cohort
from distribution.models import DistributionRequest
from tests.cohorts.helpers import definition, three_arm_catalog
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved(researcher):
    three_arm_catalog()
    body = {"name": "screen", "definition": definition(), "shared": True}
    return client_for(researcher).post("/api/v1/cohorts/", body, format="json").json()


def test_the_owner_gets_one_request_for_every_line(researcher, saved):
    url = f"/api/v1/cohorts/{saved['public_id']}/request/"
    response = client_for(researcher).post(url, {"shipping_address": "Lab 3, Bonn"}, format="json")
    assert response.status_code == 201, response.content
    request = DistributionRequest.objects.get()
    assert request.requester == researcher and request.purpose_codes == ["DUO:0000042"]
    assert set(request.items.values_list("line__name", flat=True)) == {m["line"] for m in saved["members"]}
    assert Cohort.objects.get(public_id=saved["public_id"]).request == request
    again = client_for(researcher).post(url, {}, format="json")
    assert again.status_code == 200 and again.json()["id"] == request.pk
    assert DistributionRequest.objects.count() == 1


@pytest.mark.parametrize("caller", ["depositor", "other_depositor", "curator"])
def test_nobody_else_may_request_it(request, saved, caller):
    response = client_for(request.getfixturevalue(caller)).post(
        f"/api/v1/cohorts/{saved['public_id']}/request/", {}, format="json"
    )
    assert response.status_code == 403
    assert not DistributionRequest.objects.exists()


def test_anonymous_callers_cannot_request(saved):
    response = client_for(None).post(f"/api/v1/cohorts/{saved['public_id']}/request/", {}, format="json")
    assert response.status_code in (401, 403)
