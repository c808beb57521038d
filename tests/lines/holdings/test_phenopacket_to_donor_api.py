"""POST /api/v1/submissions/phenopacket-donor/: a phenopacket in, a protocol v3 donor
entry out; 400 naming each bad field; signed-in callers only."""

import pytest
from django.urls import reverse

from tests.conftest import client_for
from tests.donors.phenopackets.test_import import exported  # noqa: F401

pytestmark = pytest.mark.django_db
URL = "api-phenopacket-donor"


def test_a_phenopacket_becomes_a_donor_entry(exported, depositor):  # noqa: F811
    donor, packet = exported
    response = client_for(depositor).post(reverse(URL), packet, format="json")
    assert response.status_code == 200
    entry = response.json()["donor"]
    assert entry["local_id"] == donor.code
    assert [v["months_from_onset"] for v in entry["course"]["visits"]] == [4.5, 10.0, 16.2]


def test_a_bad_phenopacket_is_a_400_naming_the_field(exported, researcher):  # noqa: F811
    _, packet = exported
    packet["phenotypicFeatures"][1]["type"]["id"] = "dysphagia"
    response = client_for(researcher).post(reverse(URL), packet, format="json")
    assert response.status_code == 400
    assert "not an HPO id" in response.json()["phenotypicFeatures[1].type.id"][0]


@pytest.mark.parametrize("body", [[1, 2], {"subject": {"id": "D1", "sex": 9.5}}])
def test_json_that_is_no_phenopacket_is_a_400(body, researcher):
    response = client_for(researcher).post(reverse(URL), body, format="json")
    assert response.status_code == 400 and response.json()


def test_anonymous_callers_are_refused(api_client):
    assert api_client.post(reverse(URL), {}, format="json").status_code == 401
