"""Every Beacon endpoint's responses validate against the official Beacon v2 schemas,
for anonymous and signed-in callers, GET and POST, answers and errors."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.network.beacon.schemas import MODEL, RESPONSES, assert_valid
from tests.network.beacon.test_beacon_cohorts import save_cohort
from tests.network.conftest import ALS

pytestmark = pytest.mark.django_db

INFORMATIONAL = {
    "info": "beaconInfoResponse.json",
    "configuration": "beaconConfigurationResponse.json",
    "map": "beaconMapResponse.json",
    "entry_types": "beaconEntryTypesResponse.json",
    "filtering_terms": "beaconFilteringTermsResponse.json",
}
RECORD_SCHEMAS = {
    "biosamples": MODEL + "biosamples/defaultSchema.json",
    "individuals": MODEL + "individuals/defaultSchema.json",
    "datasets": MODEL + "datasets/defaultSchema.json",
    "cohorts": MODEL + "cohorts/defaultSchema.json",
    "g_variants": "deref_schemas/genomicVariations/defaultSchema.json",
}


@pytest.mark.parametrize("endpoint", sorted(INFORMATIONAL))
def test_informational_endpoints_validate(bank, endpoint):
    response = Client().get(f"/api/beacon/v2/{endpoint}")
    assert response.status_code == 200
    assert_valid(response.json(), RESPONSES + INFORMATIONAL[endpoint])


def test_cohorts_are_announced_and_404_once_left_out_of_the_settings(bank, settings):
    entry_types = Client().get("/api/beacon/v2/entry_types").json()["response"]["entryTypes"]
    assert set(entry_types) == {"individual", "biosample", "genomicVariant", "dataset", "cohort"}
    settings.BEACON_ENTRY_TYPES = [m for m in settings.BEACON_ENTRY_TYPES if not m.endswith(".cohorts")]
    assert "cohort" not in Client().get("/api/beacon/v2/entry_types").json()["response"]["entryTypes"]
    response = Client().get("/api/beacon/v2/cohorts")
    assert response.status_code == 404
    assert_valid(response.json(), RESPONSES + "beaconErrorResponse.json")


@pytest.mark.parametrize("endpoint", ["biosamples", "individuals", "g_variants"])
def test_anonymous_count_answers_validate(bank, endpoint):
    response = Client().get(f"/api/beacon/v2/{endpoint}", {"filters": ALS, "requestedGranularity": "count"})
    assert response.status_code == 200
    document = response.json()
    schema = (
        "beaconCountResponse.json" if "numTotalResults" in document["responseSummary"] else "beaconBooleanResponse.json"
    )
    assert_valid(document, RESPONSES + schema)


@pytest.mark.parametrize("endpoint", sorted(RECORD_SCHEMAS))
def test_signed_in_record_answers_validate_with_their_records(bank, researcher, endpoint):
    if endpoint == "cohorts":
        save_cohort(researcher, bank)
    token = Token.objects.get_or_create(user=researcher)[0].key
    body = {"meta": {"apiVersion": "v2.0.0"}, "query": {"requestedGranularity": "record", "pagination": {"limit": 50}}}
    response = Client().post(
        f"/api/beacon/v2/{endpoint}", body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 200, response.content
    document = response.json()
    assert document["meta"]["returnedGranularity"] == "record"
    if endpoint in ("datasets", "cohorts"):
        assert_valid(document, RESPONSES + "beaconCollectionsResponse.json")
        records = document["response"]["collections"]
    else:
        assert_valid(document, RESPONSES + "beaconResultsetsResponse.json")
        records = document["response"]["resultSets"][0]["results"]
    assert records
    for record in records:
        assert_valid(record, RECORD_SCHEMAS[endpoint])


@pytest.mark.parametrize(
    ("method", "payload", "named"),
    [
        ("get", {"filters": "MONDO:0004976,XYZ:123"}, "XYZ:123"),
        ("get", {"limit": "many"}, "limit"),
        ("get", {"requestedGranularity": "everything"}, "requestedGranularity"),
        ("post", "{not json", "body"),
        ("post", '{"query": {"filters": [{"id": "age", "operator": "~", "value": "50"}]}}', "operator"),
        ("post", '{"query": {"filters": [{"id": "HGNC:99999999"}]}}', "HGNC:99999999"),
        ("post", '{"query": {"filters": ["MONDO:12"]}}', "MONDO:12"),
    ],
)
def test_a_malformed_request_or_unknown_filter_answers_a_beacon_error_naming_it(bank, method, payload, named):
    client = Client()
    if method == "get":
        response = client.get("/api/beacon/v2/biosamples", payload)
    else:
        response = client.post("/api/beacon/v2/biosamples", payload, content_type="application/json")
    assert response.status_code == 400
    document = response.json()
    assert_valid(document, RESPONSES + "beaconErrorResponse.json")
    assert named in document["error"]["errorMessage"]
