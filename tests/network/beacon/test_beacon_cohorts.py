"""The Beacon `cohorts` entry type lists the saved cohorts the caller may see
(cohorts.selectors.visible_cohorts): anonymous callers the shared ones, without a
size that could single out a donor; owners their own; curators all. Members are
never listed."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from cohorts.models import CohortMember
from tests.factories import CohortFactory
from tests.network.beacon.schemas import MODEL, RESPONSES, assert_valid

pytestmark = pytest.mark.django_db

RECORD = {"meta": {"apiVersion": "v2.0.0"}, "query": {"requestedGranularity": "record"}}


def save_cohort(owner, bank, *, shared=False, lines=("NETD001", "NETD002", "control")):
    cohort = CohortFactory(owner=owner, shared=shared, name=f"{owner.username}'s screen")
    for position, key in enumerate(lines):
        CohortMember.objects.create(cohort=cohort, line=bank[key], arm="cases", role="case", position=position)
    return cohort


def listed(user=None, **query):
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Token {Token.objects.get_or_create(user=user)[0].key}"
    response = Client().post("/api/beacon/v2/cohorts", RECORD, content_type="application/json", **headers)
    assert response.status_code == 200, response.content
    document = response.json()
    assert_valid(document, RESPONSES + "beaconCollectionsResponse.json")
    for record in document["response"]["collections"]:
        assert_valid(record, MODEL + "cohorts/defaultSchema.json")
    return {record["name"]: record for record in document["response"]["collections"]}


def test_each_caller_lists_the_cohorts_it_may_see(bank, researcher, institution_researcher, curator):
    mine = save_cohort(researcher, bank)
    shared = save_cohort(institution_researcher, bank, shared=True)
    assert set(listed()) == {shared.name}
    assert set(listed(researcher)) == {mine.name, shared.name}
    assert set(listed(institution_researcher)) == {shared.name}
    assert set(listed(curator)) == {mine.name, shared.name}


def test_a_small_cohort_shows_its_size_to_signed_in_callers_only(bank, researcher, institution_researcher):
    shared = save_cohort(institution_researcher, bank, shared=True)
    assert "cohortSize" not in listed()[shared.name]  # 3 donors: below the threshold of 5
    assert listed(researcher)[shared.name]["cohortSize"] == 3


def test_a_cohort_record_names_its_version_and_never_its_lines(bank, researcher):
    cohort = save_cohort(researcher, bank)
    record = listed(researcher)[cohort.name]
    assert record["id"].endswith(f"{cohort.public_id}.v1")
    assert "UKBi001-A" not in str(record)


def test_filters_on_cohorts_are_a_beacon_error_naming_them(bank):
    response = Client().get("/api/beacon/v2/cohorts", {"filters": "MONDO:0004976"})
    assert response.status_code == 400
    assert_valid(response.json(), RESPONSES + "beaconErrorResponse.json")
    assert "filters" in response.json()["error"]["errorMessage"]
