"""What the Beacon answers: descendant expansion, ranges for anonymous callers,
records for signed-in ones, visibility and disclosure as the catalog decides them."""

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.factories import CellLineFactory, DonorFactory
from tests.network.conftest import ALS, ALS1

pytestmark = pytest.mark.django_db

FEMALE = "NCIT:C16576"


def ask(endpoint, filters, user=None, granularity="count", **params):
    client = Client()
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Token {Token.objects.get_or_create(user=user)[0].key}"
    body = {"query": {"filters": filters, "requestedGranularity": granularity, "requestParameters": params}}
    return client.post(f"/api/beacon/v2/{endpoint}", body, content_type="application/json", **headers).json()


def test_als_includes_als1(bank, researcher):
    assert ask("biosamples", [ALS], researcher)["responseSummary"]["numTotalResults"] == 5
    assert ask("biosamples", [ALS1], researcher)["responseSummary"]["numTotalResults"] == 1


def test_anonymous_counts_below_the_threshold_are_a_range_never_exact(bank):
    answer = ask("biosamples", [ALS, FEMALE])
    assert answer["responseSummary"] == {"exists": True}
    assert answer["meta"]["returnedGranularity"] == "boolean"
    assert answer["info"]["countRange"] == {"from": 1, "to": 4}
    # At the threshold the count is exact.
    assert ask("biosamples", [ALS])["responseSummary"] == {"exists": True, "numTotalResults": 5}


@override_settings(BEACON_COUNT_THRESHOLD=2)
def test_the_threshold_is_a_setting(bank):
    assert ask("biosamples", [ALS, FEMALE])["responseSummary"]["numTotalResults"] == 3


def test_anonymous_callers_never_get_records(bank):
    answer = ask("biosamples", [ALS], granularity="record")
    assert answer["meta"]["returnedGranularity"] == "count"
    assert "response" not in answer


def test_signed_in_callers_get_records_with_lots_where_the_inventory_landed(bank, researcher):
    answer = ask("biosamples", [ALS1], researcher, granularity="record")
    (line,) = answer["response"]["resultSets"][0]["results"]
    assert line["id"] == "UKBi001-A" and line["sampleOriginType"]["label"] == "cell line"
    assert line["info"]["lots"] == [{"code": "P001", "accession": None}]


def test_the_question_of_the_issue_bulbar_female_commercial(bank, researcher):
    filters = [ALS, FEMALE, {"id": "onsetSite", "operator": "=", "value": "bulbar"}]
    assert ask("biosamples", filters, researcher)["responseSummary"]["numTotalResults"] == 2
    filters.append({"id": "commercialUse", "operator": "=", "value": "true"})
    assert ask("biosamples", filters, researcher)["responseSummary"]["numTotalResults"] == 2
    assert (
        ask("biosamples", [{"id": "age", "operator": ">=", "value": "P60Y"}], researcher)["responseSummary"][
            "numTotalResults"
        ]
        == 3
    )


def test_a_draft_line_counts_for_curators_only(bank, researcher, curator):
    assert ask("biosamples", [], researcher)["responseSummary"]["numTotalResults"] == 6
    assert ask("biosamples", [], curator)["responseSummary"]["numTotalResults"] == 7


@override_settings(BEACON_COUNT_THRESHOLD=1)
def test_germline_variants_count_only_where_consent_opens_them(bank, researcher, curator):
    # Four open consents carry a C9orf72 expansion; the fifth keeps genetic data to curators.
    assert ask("g_variants", [], researcher, geneId="C9orf72")["responseSummary"]["numTotalResults"] == 4
    assert ask("g_variants", [], curator, geneId="C9orf72")["responseSummary"]["numTotalResults"] == 5


def test_count_answers_hand_over_to_the_catalog_page_at_the_same_filters(bank):
    answer = ask("biosamples", [ALS, FEMALE])
    (handover,) = answer["beaconHandovers"]
    assert handover["url"] == "http://testserver/lines/?disease=MONDO%3A0004976&sex=female"
    page = Client().get(handover["url"])
    assert page.status_code == 200 and b"UKBi001-A" in page.content and b"UKBi004-A" not in page.content


def test_get_and_post_answer_alike(bank):
    got = Client().get("/api/beacon/v2/biosamples", {"filters": f"{ALS},{FEMALE}"}).json()
    assert got["responseSummary"] == ask("biosamples", [ALS, FEMALE])["responseSummary"]


@pytest.mark.parametrize(
    ("caller", "count"),
    [("researcher", 6), ("depositor", 6), ("other_depositor", 7), ("curator", 7)],
)
def test_each_caller_counts_the_lines_visible_to_them(bank, request, caller, count):
    # The draft line belongs to the other institution (UCSF): its depositors and curators count it.
    user = request.getfixturevalue(caller)
    assert ask("biosamples", [], user)["responseSummary"]["numTotalResults"] == count


def test_anonymous_callers_count_released_lines(bank):
    assert ask("biosamples", [])["responseSummary"]["numTotalResults"] == 6


def test_an_anonymous_count_is_kept_until_the_catalog_changes(bank, owner_institution, django_assert_max_num_queries):
    assert ask("individuals", [ALS])["responseSummary"]["numTotalResults"] == 5
    # Asked again: the shared cache answers; the one query reads the catalog version.
    with django_assert_max_num_queries(1):
        assert ask("individuals", [ALS])["responseSummary"]["numTotalResults"] == 5
    donor = DonorFactory(institution=owner_institution, code="NETD006", donor_number="006", disease=ALS)
    CellLineFactory(donor=donor, name="UKBi006-A", released_at=timezone.now())
    assert ask("individuals", [ALS])["responseSummary"]["numTotalResults"] == 6
    assert ask("biosamples", [ALS])["responseSummary"]["numTotalResults"] == 6


def test_individuals_count_donors_once_however_many_lines_they_have(bank, researcher):
    CellLineFactory(donor=bank["NETD002"].donor, name="UKBi002-B", released_at=timezone.now())
    assert ask("biosamples", [ALS], researcher)["responseSummary"]["numTotalResults"] == 6
    assert ask("individuals", [ALS], researcher)["responseSummary"]["numTotalResults"] == 5
    assert ask("individuals", [ALS])["responseSummary"]["numTotalResults"] == 5
